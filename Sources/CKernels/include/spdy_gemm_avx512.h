#ifndef SPDY_GEMM_AVX512_H
#define SPDY_GEMM_AVX512_H

#include <stdint.h>

/// PackedMatrix's micro-kernel in AVX-512F: 6 rows × up to 32 columns.
/// c[r · ldc + x] = min(hi, max(lo, bias[r] + residual[r · ldc + x] + Σ_k a[k · 6 + r] · B[k][x]))
/// for r < rows, x < width,
/// where B's columns 0–15 are the packed panel b0[k · 16 + x] and columns 16–31 the panel
/// b1[k · 16 + x − 16] (b1 may be NULL when width ≤ 16). `a` is one packed 6-row panel (rows past
/// `rows` zero), `bias` and `residual` may be NULL. Call only when spdy_cpu_has_avx512() returned 1.
void spdy_gemm_panel_avx512(const float *a, int64_t depth, const float *b0, const float *b1, float *c, int64_t ldc,
                            int64_t rows, int64_t width, const float *bias, const float *residual, float lo, float hi);

#endif
