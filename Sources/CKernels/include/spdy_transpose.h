#ifndef SPDY_TRANSPOSE_H
#define SPDY_TRANSPOSE_H

#include <stdint.h>

/// dst[c · dst_ld + r] = src[r · ld + c] for r < rows, c < columns: 8×8 blocks transposed in
/// AVX registers (unpack, shuffle, lane permute), scalar edges. x86_64 with AVX2 (the package
/// targets Haswell or later there); a plain loop elsewhere.
void spdy_transpose_block(const float *src, int64_t ld, int64_t rows, int64_t columns, float *dst, int64_t dst_ld);

#endif
