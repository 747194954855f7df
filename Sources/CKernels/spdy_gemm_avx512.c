// The dense packed micro-kernel (PackedMatrix) in AVX-512F. The packing is the AVX2 kernel's
// (6-row A panels, 16-column B panels); this kernel takes two B panels at once, so each step
// broadcasts six A values against two 16-lane vectors: twelve independent FMA chains of 16 lanes
// (the AVX2 kernel: twelve chains of 8).
#include "spdy_gemm_avx512.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define AVX512 __attribute__((target("avx512f")))

// Stores one row: bias, the residual row `res` (or NULL), then the clamp.
static inline AVX512 void store_row(float *row, const float *res, __m512 v0, __m512 v1, __m512 bias, __m512 lo, __m512 hi,
                                    __mmask16 m0, __mmask16 m1) {
    v0 = _mm512_add_ps(v0, bias);
    v1 = _mm512_add_ps(v1, bias);
    if (res) {
        v0 = _mm512_add_ps(v0, _mm512_maskz_loadu_ps(m0, res));
        if (m1) v1 = _mm512_add_ps(v1, _mm512_maskz_loadu_ps(m1, res + 16));
    }
    _mm512_mask_storeu_ps(row, m0, _mm512_min_ps(hi, _mm512_max_ps(lo, v0)));
    if (m1) _mm512_mask_storeu_ps(row + 16, m1, _mm512_min_ps(hi, _mm512_max_ps(lo, v1)));
}

AVX512 void spdy_gemm_panel_avx512(const float *a, int64_t depth, const float *b0, const float *b1, float *c, int64_t ldc,
                                   int64_t rows, int64_t width, const float *bias, const float *residual, float lo,
                                   float hi) {
    __m512 c00 = _mm512_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
    __m512 c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
    if (b1) {
        for (int64_t k = 0; k < depth; k++) {
            const __m512 x0 = _mm512_loadu_ps(b0 + k * 16), x1 = _mm512_loadu_ps(b1 + k * 16);
            const float *ak = a + k * 6;
            __m512 s = _mm512_set1_ps(ak[0]); c00 = _mm512_fmadd_ps(s, x0, c00); c01 = _mm512_fmadd_ps(s, x1, c01);
            s = _mm512_set1_ps(ak[1]); c10 = _mm512_fmadd_ps(s, x0, c10); c11 = _mm512_fmadd_ps(s, x1, c11);
            s = _mm512_set1_ps(ak[2]); c20 = _mm512_fmadd_ps(s, x0, c20); c21 = _mm512_fmadd_ps(s, x1, c21);
            s = _mm512_set1_ps(ak[3]); c30 = _mm512_fmadd_ps(s, x0, c30); c31 = _mm512_fmadd_ps(s, x1, c31);
            s = _mm512_set1_ps(ak[4]); c40 = _mm512_fmadd_ps(s, x0, c40); c41 = _mm512_fmadd_ps(s, x1, c41);
            s = _mm512_set1_ps(ak[5]); c50 = _mm512_fmadd_ps(s, x0, c50); c51 = _mm512_fmadd_ps(s, x1, c51);
        }
    } else {
        // One panel: split the depth over two accumulator sets so six chains become twelve.
        int64_t k = 0;
        for (; k + 2 <= depth; k += 2) {
            const __m512 x0 = _mm512_loadu_ps(b0 + k * 16), x1 = _mm512_loadu_ps(b0 + k * 16 + 16);
            const float *ak = a + k * 6;
            c00 = _mm512_fmadd_ps(_mm512_set1_ps(ak[0]), x0, c00); c01 = _mm512_fmadd_ps(_mm512_set1_ps(ak[6]), x1, c01);
            c10 = _mm512_fmadd_ps(_mm512_set1_ps(ak[1]), x0, c10); c11 = _mm512_fmadd_ps(_mm512_set1_ps(ak[7]), x1, c11);
            c20 = _mm512_fmadd_ps(_mm512_set1_ps(ak[2]), x0, c20); c21 = _mm512_fmadd_ps(_mm512_set1_ps(ak[8]), x1, c21);
            c30 = _mm512_fmadd_ps(_mm512_set1_ps(ak[3]), x0, c30); c31 = _mm512_fmadd_ps(_mm512_set1_ps(ak[9]), x1, c31);
            c40 = _mm512_fmadd_ps(_mm512_set1_ps(ak[4]), x0, c40); c41 = _mm512_fmadd_ps(_mm512_set1_ps(ak[10]), x1, c41);
            c50 = _mm512_fmadd_ps(_mm512_set1_ps(ak[5]), x0, c50); c51 = _mm512_fmadd_ps(_mm512_set1_ps(ak[11]), x1, c51);
        }
        if (k < depth) {
            const __m512 x0 = _mm512_loadu_ps(b0 + k * 16);
            const float *ak = a + k * 6;
            c00 = _mm512_fmadd_ps(_mm512_set1_ps(ak[0]), x0, c00); c10 = _mm512_fmadd_ps(_mm512_set1_ps(ak[1]), x0, c10);
            c20 = _mm512_fmadd_ps(_mm512_set1_ps(ak[2]), x0, c20); c30 = _mm512_fmadd_ps(_mm512_set1_ps(ak[3]), x0, c30);
            c40 = _mm512_fmadd_ps(_mm512_set1_ps(ak[4]), x0, c40); c50 = _mm512_fmadd_ps(_mm512_set1_ps(ak[5]), x0, c50);
        }
        c00 = _mm512_add_ps(c00, c01); c10 = _mm512_add_ps(c10, c11); c20 = _mm512_add_ps(c20, c21);
        c30 = _mm512_add_ps(c30, c31); c40 = _mm512_add_ps(c40, c41); c50 = _mm512_add_ps(c50, c51);
    }
    const __m512 vlo = _mm512_set1_ps(lo), vhi = _mm512_set1_ps(hi);
    const int64_t w0 = width < 16 ? width : 16, w1 = b1 && width > 16 ? width - 16 : 0;
    const __mmask16 m0 = (__mmask16)(w0 >= 16 ? 0xFFFF : (1u << w0) - 1);
    const __mmask16 m1 = (__mmask16)(w1 >= 16 ? 0xFFFF : (1u << w1) - 1);
#define ROW(r, v0, v1) if (rows > r) store_row(c + r * ldc, residual ? residual + r * ldc : NULL, v0, v1, _mm512_set1_ps(bias ? bias[r] : 0.0f), vlo, vhi, m0, m1)
    ROW(0, c00, c01); ROW(1, c10, c11); ROW(2, c20, c21); ROW(3, c30, c31); ROW(4, c40, c41); ROW(5, c50, c51);
#undef ROW
}

#else

void spdy_gemm_panel_avx512(const float *a, int64_t depth, const float *b0, const float *b1, float *c, int64_t ldc,
                            int64_t rows, int64_t width, const float *bias, const float *residual, float lo, float hi) {
    (void)residual; (void)a; (void)depth; (void)b0; (void)b1; (void)c; (void)ldc; (void)rows; (void)width; (void)bias; (void)lo; (void)hi;
}

#endif
