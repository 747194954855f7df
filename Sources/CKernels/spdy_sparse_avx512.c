// The sparse × dense tile kernel of SparseMatrix.multiplyTile in AVX-512F: 16 columns per
// vector (twice the AVX2 path's), the clamp fused, and the last partial vector done with a mask
// instead of an overlapping vector or a scalar loop. Compiled for any x86_64 through the
// function attribute; the caller dispatches on spdy_cpu_has_avx512().
#include "spdy_sparse_avx512.h"

#if defined(__x86_64__)
#include <immintrin.h>

typedef struct {
    int32_t offset;
    float value;
} spdy_entry;

int spdy_cpu_has_avx512(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") ? 1 : 0;
}

#define AVX512 __attribute__((target("avx512f")))

// erf as the rational function VectorMath.erf uses (Eigen's minimax fit on [-4, 4]).
static inline AVX512 __m512 erf16(__m512 v) {
    const __m512 x = _mm512_min_ps(_mm512_set1_ps(4.0f), _mm512_max_ps(_mm512_set1_ps(-4.0f), v));
    const __m512 x2 = _mm512_mul_ps(x, x);
    __m512 p = _mm512_fmadd_ps(x2, _mm512_set1_ps(-2.72614225801306e-10f), _mm512_set1_ps(2.77068142495902e-08f));
    p = _mm512_fmadd_ps(x2, p, _mm512_set1_ps(-2.10102402082508e-06f));
    p = _mm512_fmadd_ps(x2, p, _mm512_set1_ps(-5.69250639462346e-05f));
    p = _mm512_fmadd_ps(x2, p, _mm512_set1_ps(-7.34990630326855e-04f));
    p = _mm512_fmadd_ps(x2, p, _mm512_set1_ps(-2.95459980854025e-03f));
    p = _mm512_fmadd_ps(x2, p, _mm512_set1_ps(-1.60960333262415e-02f));
    __m512 q = _mm512_fmadd_ps(x2, _mm512_set1_ps(-1.45660718464996e-05f), _mm512_set1_ps(-2.13374055278905e-04f));
    q = _mm512_fmadd_ps(x2, q, _mm512_set1_ps(-1.68282697438203e-03f));
    q = _mm512_fmadd_ps(x2, q, _mm512_set1_ps(-7.37332916720468e-03f));
    q = _mm512_fmadd_ps(x2, q, _mm512_set1_ps(-1.42647390514189e-02f));
    return _mm512_div_ps(_mm512_mul_ps(x, p), q);
}

// The epilogue: bias and the residual (`res`, the residual values of these lanes, or NULL), then
// exact GELU (0.5·v·(1 + erf(v/√2))) or the clamp; max/min with the value second so that a NaN
// sum stays NaN, as in the Swift kernels.
static inline AVX512 __m512 finish_masked(__m512 sum, const float *res, __mmask16 mask, __m512 bias, __m512 lo, __m512 hi,
                                          int gelu) {
    __m512 v = _mm512_add_ps(sum, bias);
    if (res) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(mask, res));
    if (gelu) {
        const __m512 e = erf16(_mm512_mul_ps(v, _mm512_set1_ps(0.70710678118654752f)));
        return _mm512_mul_ps(_mm512_mul_ps(_mm512_set1_ps(0.5f), v), _mm512_add_ps(_mm512_set1_ps(1.0f), e));
    }
    return _mm512_min_ps(hi, _mm512_max_ps(lo, v));
}

#define finish(sum, res, bias, lo, hi, gelu) finish_masked(sum, res, (__mmask16)0xFFFF, bias, lo, hi, gelu)
#define RES(k) (res ? res + (k) : NULL)

#define LOAD(p) _mm512_loadu_ps(p)
#define FMA(v, p, acc) acc = _mm512_fmadd_ps(v, LOAD(p), acc)

// 128 columns: eight vectors per nonzero (eight FMA chains; the entry and its broadcast are
// loaded once for eight vectors).
static inline AVX512 void columns128(const spdy_entry *row, int64_t count, const float *x, float *out, const float *res,
                                     __m512 bias, __m512 lo, __m512 hi, int gelu) {
    __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
    for (int64_t i = 0; i < count; i++) {
        const float *p = x + row[i].offset;
        __m512 v = _mm512_set1_ps(row[i].value);
        FMA(v, p, a0); FMA(v, p + 16, a1); FMA(v, p + 32, a2); FMA(v, p + 48, a3);
        FMA(v, p + 64, a4); FMA(v, p + 80, a5); FMA(v, p + 96, a6); FMA(v, p + 112, a7);
    }
    _mm512_storeu_ps(out, finish(a0, RES(0), bias, lo, hi, gelu));
    _mm512_storeu_ps(out + 16, finish(a1, RES(16), bias, lo, hi, gelu));
    _mm512_storeu_ps(out + 32, finish(a2, RES(32), bias, lo, hi, gelu));
    _mm512_storeu_ps(out + 48, finish(a3, RES(48), bias, lo, hi, gelu));
    _mm512_storeu_ps(out + 64, finish(a4, RES(64), bias, lo, hi, gelu));
    _mm512_storeu_ps(out + 80, finish(a5, RES(80), bias, lo, hi, gelu));
    _mm512_storeu_ps(out + 96, finish(a6, RES(96), bias, lo, hi, gelu));
    _mm512_storeu_ps(out + 112, finish(a7, RES(112), bias, lo, hi, gelu));
}

// 64 columns: four vectors per nonzero, two nonzeros in flight (eight FMA chains).
static inline AVX512 void columns64(const spdy_entry *row, int64_t count, const float *x, float *out, const float *res,
                                    __m512 bias, __m512 lo, __m512 hi, int gelu) {
    __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
    int64_t i = 0;
    for (; i + 2 <= count; i += 2) {
        const float *p = x + row[i].offset, *q = x + row[i + 1].offset;
        __m512 v = _mm512_set1_ps(row[i].value), w = _mm512_set1_ps(row[i + 1].value);
        FMA(v, p, a0); FMA(v, p + 16, a1); FMA(v, p + 32, a2); FMA(v, p + 48, a3);
        FMA(w, q, b0); FMA(w, q + 16, b1); FMA(w, q + 32, b2); FMA(w, q + 48, b3);
    }
    if (i < count) {
        const float *p = x + row[i].offset;
        __m512 v = _mm512_set1_ps(row[i].value);
        FMA(v, p, a0); FMA(v, p + 16, a1); FMA(v, p + 32, a2); FMA(v, p + 48, a3);
    }
    _mm512_storeu_ps(out, finish(_mm512_add_ps(a0, b0), RES(0), bias, lo, hi, gelu));
    _mm512_storeu_ps(out + 16, finish(_mm512_add_ps(a1, b1), RES(16), bias, lo, hi, gelu));
    _mm512_storeu_ps(out + 32, finish(_mm512_add_ps(a2, b2), RES(32), bias, lo, hi, gelu));
    _mm512_storeu_ps(out + 48, finish(_mm512_add_ps(a3, b3), RES(48), bias, lo, hi, gelu));
}

// 32 columns: two vectors per nonzero, four nonzeros in flight.
static inline AVX512 void columns32(const spdy_entry *row, int64_t count, const float *x, float *out, const float *res,
                                    __m512 bias, __m512 lo, __m512 hi, int gelu) {
    __m512 a0 = _mm512_setzero_ps(), a1 = a0, b0 = a0, b1 = a0, c0 = a0, c1 = a0, d0 = a0, d1 = a0;
    int64_t i = 0;
    for (; i + 4 <= count; i += 4) {
        const float *p = x + row[i].offset, *q = x + row[i + 1].offset;
        const float *s = x + row[i + 2].offset, *t = x + row[i + 3].offset;
        __m512 v = _mm512_set1_ps(row[i].value), w = _mm512_set1_ps(row[i + 1].value);
        __m512 u = _mm512_set1_ps(row[i + 2].value), z = _mm512_set1_ps(row[i + 3].value);
        FMA(v, p, a0); FMA(v, p + 16, a1); FMA(w, q, b0); FMA(w, q + 16, b1);
        FMA(u, s, c0); FMA(u, s + 16, c1); FMA(z, t, d0); FMA(z, t + 16, d1);
    }
    for (; i < count; i++) {
        const float *p = x + row[i].offset;
        __m512 v = _mm512_set1_ps(row[i].value);
        FMA(v, p, a0); FMA(v, p + 16, a1);
    }
    __m512 s0 = _mm512_add_ps(_mm512_add_ps(a0, b0), _mm512_add_ps(c0, d0));
    __m512 s1 = _mm512_add_ps(_mm512_add_ps(a1, b1), _mm512_add_ps(c1, d1));
    _mm512_storeu_ps(out, finish(s0, RES(0), bias, lo, hi, gelu));
    _mm512_storeu_ps(out + 16, finish(s1, RES(16), bias, lo, hi, gelu));
}

// Up to 16 columns under `mask`: one vector per nonzero, four nonzeros in flight.
static inline AVX512 void columns16(const spdy_entry *row, int64_t count, const float *x, float *out, const float *res, __mmask16 mask,
                                    __m512 bias, __m512 lo, __m512 hi, int gelu) {
    __m512 a = _mm512_setzero_ps(), b = a, c = a, d = a;
    int64_t i = 0;
    for (; i + 4 <= count; i += 4) {
        a = _mm512_fmadd_ps(_mm512_set1_ps(row[i].value), _mm512_maskz_loadu_ps(mask, x + row[i].offset), a);
        b = _mm512_fmadd_ps(_mm512_set1_ps(row[i + 1].value), _mm512_maskz_loadu_ps(mask, x + row[i + 1].offset), b);
        c = _mm512_fmadd_ps(_mm512_set1_ps(row[i + 2].value), _mm512_maskz_loadu_ps(mask, x + row[i + 2].offset), c);
        d = _mm512_fmadd_ps(_mm512_set1_ps(row[i + 3].value), _mm512_maskz_loadu_ps(mask, x + row[i + 3].offset), d);
    }
    for (; i < count; i++) {
        a = _mm512_fmadd_ps(_mm512_set1_ps(row[i].value), _mm512_maskz_loadu_ps(mask, x + row[i].offset), a);
    }
    __m512 sum = _mm512_add_ps(_mm512_add_ps(a, b), _mm512_add_ps(c, d));
    _mm512_mask_storeu_ps(out, mask, finish_masked(sum, res, mask, bias, lo, hi, gelu));
}

AVX512 void spdy_sparse_rows_avx512(const int64_t *row_start, const void *entries, int64_t row_begin, int64_t row_end,
                                    const float *x, int64_t width, float *y, int64_t ldy, const float *bias,
                                    const float *residual, float lo, float hi, int gelu) {
    const spdy_entry *all = (const spdy_entry *)entries;
    const __m512 vlo = _mm512_set1_ps(lo), vhi = _mm512_set1_ps(hi);
    for (int64_t r = row_begin; r < row_end; r++) {
        const spdy_entry *row = all + row_start[r];
        const int64_t count = row_start[r + 1] - row_start[r];
        float *out = y + (r - row_begin) * ldy;
        const float *res = residual ? residual + (r - row_begin) * ldy : NULL;
        const __m512 vbias = _mm512_set1_ps(bias ? bias[r] : 0.0f);
        int64_t j = 0;
        for (; j + 128 <= width; j += 128) columns128(row, count, x + j, out + j, RES(j), vbias, vlo, vhi, gelu);
        for (; j + 64 <= width; j += 64) columns64(row, count, x + j, out + j, RES(j), vbias, vlo, vhi, gelu);
        if (j + 32 <= width) { columns32(row, count, x + j, out + j, RES(j), vbias, vlo, vhi, gelu); j += 32; }
        for (; j < width; j += 16) {
            const int64_t left = width - j;
            const __mmask16 mask = left >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << left) - 1);
            columns16(row, count, x + j, out + j, RES(j), mask, vbias, vlo, vhi, gelu);
        }
    }
}

#else

int spdy_cpu_has_avx512(void) { return 0; }

void spdy_sparse_rows_avx512(const int64_t *row_start, const void *entries, int64_t row_begin, int64_t row_end,
                             const float *x, int64_t width, float *y, int64_t ldy, const float *bias,
                             const float *residual, float lo, float hi, int gelu) {
    (void)gelu; (void)residual; (void)row_start; (void)entries; (void)row_begin; (void)row_end; (void)x; (void)width;
    (void)y; (void)ldy; (void)bias; (void)lo; (void)hi;
}

#endif
