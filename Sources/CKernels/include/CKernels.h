// The C kernels of swift-spdy (AVX-512 variants, dispatched at run time, and AVX2 helpers).
#include "spdy_attention_avx512.h"
#include "spdy_sparse_avx512.h"
#include "spdy_transpose.h"
#include "spdy_cpu.h"
#include "spdy_gemm_avx512.h"
#include "spdy_direct_conv.h"
