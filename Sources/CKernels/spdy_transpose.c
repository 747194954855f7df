// Out-of-place float transposes for the sparse Linear layers' tiles (tokens × features to
// features × tokens and back). Gathering columns lane by lane costs 64 inserts per 8×8 block;
// the register transpose below costs 24 shuffles.
#include "spdy_transpose.h"

static void transpose_scalar(const float *src, int64_t ld, int64_t r0, int64_t r1, int64_t c0, int64_t c1, float *dst,
                             int64_t dst_ld) {
    for (int64_t r = r0; r < r1; r++)
        for (int64_t c = c0; c < c1; c++) dst[c * dst_ld + r] = src[r * ld + c];
}

#if defined(__x86_64__)
#include <immintrin.h>

__attribute__((target("avx2"))) static inline void transpose8x8(const float *s, int64_t ld, float *d, int64_t dst_ld) {
    const __m256 r0 = _mm256_loadu_ps(s), r1 = _mm256_loadu_ps(s + ld);
    const __m256 r2 = _mm256_loadu_ps(s + 2 * ld), r3 = _mm256_loadu_ps(s + 3 * ld);
    const __m256 r4 = _mm256_loadu_ps(s + 4 * ld), r5 = _mm256_loadu_ps(s + 5 * ld);
    const __m256 r6 = _mm256_loadu_ps(s + 6 * ld), r7 = _mm256_loadu_ps(s + 7 * ld);
    const __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1);
    const __m256 t2 = _mm256_unpacklo_ps(r2, r3), t3 = _mm256_unpackhi_ps(r2, r3);
    const __m256 t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5);
    const __m256 t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);
    const __m256 u0 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(1, 0, 1, 0)), u1 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(3, 2, 3, 2));
    const __m256 u2 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(1, 0, 1, 0)), u3 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(3, 2, 3, 2));
    const __m256 u4 = _mm256_shuffle_ps(t4, t6, _MM_SHUFFLE(1, 0, 1, 0)), u5 = _mm256_shuffle_ps(t4, t6, _MM_SHUFFLE(3, 2, 3, 2));
    const __m256 u6 = _mm256_shuffle_ps(t5, t7, _MM_SHUFFLE(1, 0, 1, 0)), u7 = _mm256_shuffle_ps(t5, t7, _MM_SHUFFLE(3, 2, 3, 2));
    _mm256_storeu_ps(d, _mm256_permute2f128_ps(u0, u4, 0x20));
    _mm256_storeu_ps(d + dst_ld, _mm256_permute2f128_ps(u1, u5, 0x20));
    _mm256_storeu_ps(d + 2 * dst_ld, _mm256_permute2f128_ps(u2, u6, 0x20));
    _mm256_storeu_ps(d + 3 * dst_ld, _mm256_permute2f128_ps(u3, u7, 0x20));
    _mm256_storeu_ps(d + 4 * dst_ld, _mm256_permute2f128_ps(u0, u4, 0x31));
    _mm256_storeu_ps(d + 5 * dst_ld, _mm256_permute2f128_ps(u1, u5, 0x31));
    _mm256_storeu_ps(d + 6 * dst_ld, _mm256_permute2f128_ps(u2, u6, 0x31));
    _mm256_storeu_ps(d + 7 * dst_ld, _mm256_permute2f128_ps(u3, u7, 0x31));
}

__attribute__((target("avx2"))) void spdy_transpose_block(const float *src, int64_t ld, int64_t rows, int64_t columns,
                                                          float *dst, int64_t dst_ld) {
    const int64_t full_rows = rows / 8 * 8, full_columns = columns / 8 * 8;
    for (int64_t r = 0; r < full_rows; r += 8) {
        for (int64_t c = 0; c < full_columns; c += 8) transpose8x8(src + r * ld + c, ld, dst + c * dst_ld + r, dst_ld);
    }
    transpose_scalar(src, ld, 0, full_rows, full_columns, columns, dst, dst_ld);
    transpose_scalar(src, ld, full_rows, rows, 0, columns, dst, dst_ld);
}

#else

void spdy_transpose_block(const float *src, int64_t ld, int64_t rows, int64_t columns, float *dst, int64_t dst_ld) {
    transpose_scalar(src, ld, 0, rows, 0, columns, dst, dst_ld);
}

#endif
