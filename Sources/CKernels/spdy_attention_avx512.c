// Fused scaled-dot-product attention for one head in AVX-512F (FusedAttention's kernel on CPUs
// that have it; the Swift SIMD8 twin runs elsewhere). Per block of four query rows: scores
// against the packed, transposed keys (16 accumulators), scale + mask + softmax on the block
// while it is in L1, then the block times V (normalisation folded into the stores). Nothing of
// the [seq_q × seq_k] score matrix leaves the block.
#include "spdy_attention_avx512.h"
#include "spdy_transpose.h"
#include <string.h>

#define ROWS 8

static inline int64_t padded16(int64_t n) { return (n + 15) / 16 * 16; }

int64_t spdy_attention_scratch(int64_t seq_q, int64_t seq_k, int64_t depth) {
    return padded16(seq_k) * (depth + ROWS) + (seq_k + seq_q) * depth;
}

#if defined(__x86_64__)
#include <immintrin.h>
#include <math.h>

#define AVX512 __attribute__((target("avx512f")))
#define INLINE static inline __attribute__((always_inline))

static inline __mmask16 tail_mask(int64_t left) {
    return left >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << left) - 1);
}

// exp as VectorMath.exp (Cephes expf: reduction by ln 2, degree-6 polynomial), 2^n by scalef.
INLINE AVX512 __m512 exp16(__m512 x) {
    x = _mm512_max_ps(_mm512_set1_ps(-87.3f), _mm512_min_ps(_mm512_set1_ps(88.3f), x));
    const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                          _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
    __m512 p = _mm512_set1_ps(1.9875691500e-4f);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
    const __m512 y = _mm512_add_ps(_mm512_fmadd_ps(p, _mm512_mul_ps(r, r), r), _mm512_set1_ps(1.0f));
    return _mm512_scalef_ps(y, n);
}

// Scores of `rows` (≤ 4) query rows against all keys: s[r · skp + j] = q[r] · kt[:, j], 64 keys
// (four vectors) per pass, then 16. kt is [depth × skp], zero beyond seq_k.
INLINE AVX512 void scores(int rows, const float *q, int64_t q_ts, int64_t q_fs, const float *kt, int64_t skp, int64_t depth,
                          float *s) {
    int64_t j = 0;
    for (; j + 64 <= skp; j += 64) {
        __m512 acc[ROWS][4];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < 4; c++) acc[r][c] = _mm512_setzero_ps();
        for (int64_t d = 0; d < depth; d++) {
            const float *kr = kt + d * skp + j;
            const __m512 k0 = _mm512_loadu_ps(kr), k1 = _mm512_loadu_ps(kr + 16);
            const __m512 k2 = _mm512_loadu_ps(kr + 32), k3 = _mm512_loadu_ps(kr + 48);
            for (int r = 0; r < rows; r++) {
                const __m512 b = _mm512_set1_ps(q[r * q_ts + d * q_fs]);
                acc[r][0] = _mm512_fmadd_ps(b, k0, acc[r][0]);
                acc[r][1] = _mm512_fmadd_ps(b, k1, acc[r][1]);
                acc[r][2] = _mm512_fmadd_ps(b, k2, acc[r][2]);
                acc[r][3] = _mm512_fmadd_ps(b, k3, acc[r][3]);
            }
        }
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < 4; c++) _mm512_storeu_ps(s + r * skp + j + 16 * c, acc[r][c]);
    }
    for (; j < skp; j += 16) {
        __m512 acc[ROWS];
        for (int r = 0; r < rows; r++) acc[r] = _mm512_setzero_ps();
        for (int64_t d = 0; d < depth; d++) {
            const __m512 k0 = _mm512_loadu_ps(kt + d * skp + j);
            for (int r = 0; r < rows; r++) acc[r] = _mm512_fmadd_ps(_mm512_set1_ps(q[r * q_ts + d * q_fs]), k0, acc[r]);
        }
        for (int r = 0; r < rows; r++) _mm512_storeu_ps(s + r * skp + j, acc[r]);
    }
}

// In place: s[j] ← exp(scale · s[j] + mask[j] − max) for j < seq_k, 0 beyond; returns 1 / Σ.
// Scale then mask, in the order of the unfused graph (Mul, then Add).
INLINE AVX512 float softmax_row(float *s, int64_t seq_k, float scale, const float *mask) {
    const __m512 vscale = _mm512_set1_ps(scale);
    __m512 vmax = _mm512_set1_ps(-INFINITY);
    for (int64_t j = 0; j < seq_k; j += 16) {
        const __mmask16 m = tail_mask(seq_k - j);
        __m512 x = _mm512_mul_ps(_mm512_loadu_ps(s + j), vscale);
        if (mask) x = _mm512_add_ps(x, _mm512_maskz_loadu_ps(m, mask + j));
        _mm512_storeu_ps(s + j, x);
        vmax = _mm512_mask_max_ps(vmax, m, vmax, x);
    }
    const __m512 shift = _mm512_set1_ps(_mm512_reduce_max_ps(vmax));
    __m512 vsum = _mm512_setzero_ps();
    for (int64_t j = 0; j < seq_k; j += 16) {
        const __mmask16 m = tail_mask(seq_k - j);
        const __m512 e = _mm512_maskz_mov_ps(m, exp16(_mm512_sub_ps(_mm512_loadu_ps(s + j), shift)));
        _mm512_storeu_ps(s + j, e);
        vsum = _mm512_add_ps(vsum, e);
    }
    return 1.0f / _mm512_reduce_add_ps(vsum);
}

// out[r, c0 ..< c0 + 16·nv] = inv[r] · Σ_j p[r, j] · v[j, c0 …] for `rows` rows; the last of the
// nv vectors is stored (and loaded) under `last`.
INLINE AVX512 void context(int rows, int nv, __mmask16 last, const float *p, int64_t skp, const float *v, int64_t ldv,
                           int64_t seq_k, const float *inv, float *out, int64_t ldo) {
    __m512 acc[ROWS][4];
    for (int r = 0; r < rows; r++)
        for (int c = 0; c < nv; c++) acc[r][c] = _mm512_setzero_ps();
    for (int64_t j = 0; j < seq_k; j++) {
        const float *vr = v + j * ldv;
        __m512 vv[4];
        for (int c = 0; c < nv; c++)
            vv[c] = c == nv - 1 ? _mm512_maskz_loadu_ps(last, vr + 16 * c) : _mm512_loadu_ps(vr + 16 * c);
        for (int r = 0; r < rows; r++) {
            const __m512 b = _mm512_set1_ps(p[r * skp + j]);
            for (int c = 0; c < nv; c++) acc[r][c] = _mm512_fmadd_ps(b, vv[c], acc[r][c]);
        }
    }
    for (int r = 0; r < rows; r++) {
        const __m512 scale = _mm512_set1_ps(inv[r]);
        for (int c = 0; c < nv; c++) {
            const __m512 y = _mm512_mul_ps(acc[r][c], scale);
            if (c == nv - 1) _mm512_mask_storeu_ps(out + r * ldo + 16 * c, last, y);
            else _mm512_storeu_ps(out + r * ldo + 16 * c, y);
        }
    }
}

// All value columns for `rows` (1, 4 or 8) rows: 64 at a time (four rows per pass), then 32
// (eight rows per pass: sixteen FMA chains), then a masked 16.
INLINE AVX512 void context_rows(int rows, const float *p, int64_t skp, const float *v, int64_t ldv, int64_t seq_k,
                                int64_t depth, const float *inv, float *out, int64_t ldo) {
    int64_t c = 0;
    for (; c + 64 <= depth; c += 64)
        for (int r0 = 0; r0 < rows; r0 += 4)
            context(rows - r0 < 4 ? rows - r0 : 4, 4, 0xFFFF, p + r0 * skp, skp, v + c, ldv, seq_k, inv + r0,
                    out + r0 * ldo + c, ldo);
    if (c + 32 <= depth) { context(rows, 2, 0xFFFF, p, skp, v + c, ldv, seq_k, inv, out + c, ldo); c += 32; }
    for (; c < depth; c += 16) context(rows, 1, tail_mask(depth - c), p, skp, v + c, ldv, seq_k, inv, out + c, ldo);
}

// A block of `rows` (1, 4 or ROWS) query rows: scores four rows at a time, softmax, context.
INLINE AVX512 void block(int rows, const float *q, int64_t q_ts, int64_t q_fs, const float *kt, int64_t skp, const float *v,
                         int64_t ldv, int64_t seq_k, int64_t depth, float scale, const float *mask, int64_t mask_ld,
                         float *out, int64_t ldo, float *s) {
    for (int r0 = 0; r0 < rows; r0 += 4)
        scores(rows - r0 < 4 ? rows - r0 : 4, q + r0 * q_ts, q_ts, q_fs, kt, skp, depth, s + r0 * skp);
    float inv[ROWS];
    for (int r = 0; r < rows; r++) inv[r] = softmax_row(s + r * skp, seq_k, scale, mask ? mask + r * mask_ld : 0);
    context_rows(rows, s, skp, v, ldv, seq_k, depth, inv, out, ldo);
}

AVX512 void spdy_attention_head_avx512(const float *q, int64_t q_ts, int64_t q_fs, const float *k, int64_t k_ts, int64_t k_fs,
                                       const float *v, int64_t v_ts, int64_t v_fs, int64_t seq_q, int64_t seq_k, int64_t depth,
                                       float scale, const float *mask, int64_t mask_ld, float *out, int64_t o_ts, int64_t o_fs,
                                       float *scratch) {
    const int64_t skp = padded16(seq_k);
    float *kt = scratch, *s = kt + depth * skp, *vt = s + ROWS * skp, *ot = vt + seq_k * depth;
    // Keys as [depth × skp], zero past seq_k (so padded scores are finite): a transpose of
    // token-major keys, row copies of feature-major ones.
    if (k_fs == 1) {
        spdy_transpose_block(k, k_ts, seq_k, depth, kt, skp);
    } else {
        for (int64_t d = 0; d < depth; d++) memcpy(kt + d * skp, k + d * k_fs, (size_t)seq_k * sizeof(float));
    }
    for (int64_t d = 0; d < depth; d++)
        for (int64_t j = seq_k; j < skp; j++) kt[d * skp + j] = 0;
    // Values and output token-major (rows of `depth`): in place, or through scratch.
    int64_t ldv = v_ts;
    if (v_fs != 1) {
        spdy_transpose_block(v, v_fs, depth, seq_k, vt, depth);
        v = vt;
        ldv = depth;
    }
    float *o = o_fs == 1 ? out : ot;
    const int64_t ldo = o_fs == 1 ? o_ts : depth;
    int64_t i = 0;
    for (; i + ROWS <= seq_q; i += ROWS)
        block(ROWS, q + i * q_ts, q_ts, q_fs, kt, skp, v, ldv, seq_k, depth, scale, mask ? mask + i * mask_ld : 0, mask_ld,
              o + i * ldo, ldo, s);
    for (; i + 4 <= seq_q; i += 4)
        block(4, q + i * q_ts, q_ts, q_fs, kt, skp, v, ldv, seq_k, depth, scale, mask ? mask + i * mask_ld : 0, mask_ld,
              o + i * ldo, ldo, s);
    for (; i < seq_q; i++)
        block(1, q + i * q_ts, q_ts, q_fs, kt, skp, v, ldv, seq_k, depth, scale, mask ? mask + i * mask_ld : 0, mask_ld,
              o + i * ldo, ldo, s);
    if (o_fs != 1) spdy_transpose_block(ot, depth, seq_q, depth, out, o_fs);
}

#else

void spdy_attention_head_avx512(const float *q, int64_t q_ts, int64_t q_fs, const float *k, int64_t k_ts, int64_t k_fs,
                                const float *v, int64_t v_ts, int64_t v_fs, int64_t seq_q, int64_t seq_k, int64_t depth,
                                float scale, const float *mask, int64_t mask_ld, float *out, int64_t o_ts, int64_t o_fs,
                                float *scratch) {
    (void)q; (void)q_ts; (void)q_fs; (void)k; (void)k_ts; (void)k_fs; (void)v; (void)v_ts; (void)v_fs; (void)seq_q;
    (void)seq_k; (void)depth; (void)scale; (void)mask; (void)mask_ld; (void)out; (void)o_ts; (void)o_fs; (void)scratch;
}

#endif
