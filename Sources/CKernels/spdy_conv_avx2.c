// Direct dense convolution over channel-blocked (NCHW16c) tensors in AVX2 and FMA, for x86_64
// CPUs without AVX-512 (AMD Zen 2/3, Intel client cores). Same layouts, packed weights, position
// bookkeeping and blocking loops as the AVX-512 kernel (`spdy_direct_conv_shared.h`); only the
// micro-tile differs. AVX2 has sixteen 256-bit registers, so a tile is one 16-channel output block
// (two registers) × six positions: 12 accumulators, 2 weight registers and a broadcast. A group's
// blocks (up to four) run one after the other over the same positions, whose input stays in L1.
#include "spdy_direct_conv_shared.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define AVX2 __attribute__((target("avx2,fma")))
#define INLINE static inline __attribute__((always_inline))

/// Output block `b` (weights `w`, one input channel every `w_stride` floats) at P positions over
/// input channel groups [cg_begin, cg_end); `partial` is the block's first partial sum (positions
/// GROUP blocks apart). P, PER_TAP, CHECKED and POINTWISE are constants in every caller.
INLINE AVX2 void block_tile(const spdy_direct_conv *c, const int P, const int PER_TAP, const int CHECKED, const int POINTWISE,
                            const float *w, int64_t w_stride, int64_t b, int positions, const tile_positions *t,
                            int64_t cg_begin, int64_t cg_end, float *partial, int first, int last) {
    const int64_t ohw = c->out_h * c->out_w;
    const int64_t kernel_h = POINTWISE ? 1 : c->kernel_h, kernel_w = POINTWISE ? 1 : c->kernel_w;
    __m256 low[TILE], high[TILE];
#pragma clang loop unroll(full)
    for (int p = 0; p < P; p++) {
        low[p] = first ? _mm256_setzero_ps() : _mm256_load_ps(partial + p * GROUP * BLOCK);
        high[p] = first ? _mm256_setzero_ps() : _mm256_load_ps(partial + p * GROUP * BLOCK + 8);
    }
    for (int64_t cg = cg_begin; cg < cg_end; cg++) {
        for (int64_t ky = 0; ky < kernel_h; ky++) {
            const float *rows[TILE];
            int row_ok[TILE];
            tap_rows(c, P, PER_TAP, CHECKED, t, cg, ky, rows, row_ok);
            for (int64_t kx = 0; kx < kernel_w; kx++) {
                const float *x[TILE];
                tap_inputs(c, P, PER_TAP, CHECKED, t, kx, rows, row_ok, x);
#pragma clang loop unroll_count(2)
                for (int g = 0; g < PER_TAP; g++) {
                    const __m256 w0 = _mm256_loadu_ps(w), w1 = _mm256_loadu_ps(w + 8);
#pragma clang loop unroll(full)
                    for (int p = 0; p < P; p++) {
                        const __m256 v = _mm256_broadcast_ss(x[p] + g);
                        low[p] = _mm256_fmadd_ps(v, w0, low[p]);
                        high[p] = _mm256_fmadd_ps(v, w1, high[p]);
                    }
                    w += w_stride;
                }
            }
        }
    }
    if (!last) {
#pragma clang loop unroll(full)
        for (int p = 0; p < P; p++) {
            _mm256_store_ps(partial + p * GROUP * BLOCK, low[p]);
            _mm256_store_ps(partial + p * GROUP * BLOCK + 8, high[p]);
        }
        return;
    }
    // Epilogue: bias, residual (an NCHW one by gather), clamp, store.
    const __m256 lo = _mm256_set1_ps(c->lo), hi = _mm256_set1_ps(c->hi);
    const __m256i lanes = _mm256_mullo_epi32(_mm256_set_epi32(7, 6, 5, 4, 3, 2, 1, 0), _mm256_set1_epi32((int)ohw));
    const __m256i lanes_high = _mm256_add_epi32(lanes, _mm256_set1_epi32((int)(8 * ohw)));
    const __m256 bias0 = c->bias ? _mm256_loadu_ps(c->bias + b * BLOCK) : _mm256_setzero_ps();
    const __m256 bias1 = c->bias ? _mm256_loadu_ps(c->bias + b * BLOCK + 8) : _mm256_setzero_ps();
#pragma clang loop unroll(full)
    for (int p = 0; p < P; p++) {
        if (p >= positions) continue;
        const int64_t planar = t->planar[p] + b * BLOCK * ohw, blocked = t->blocked[p] + b * BLOCK * ohw;
        __m256 v0 = _mm256_add_ps(low[p], bias0), v1 = _mm256_add_ps(high[p], bias1);
        if (c->residual) {
            if (c->residual_blocked) {
                v0 = _mm256_add_ps(v0, _mm256_loadu_ps(c->residual + blocked));
                v1 = _mm256_add_ps(v1, _mm256_loadu_ps(c->residual + blocked + 8));
            } else {
                v0 = _mm256_add_ps(v0, _mm256_i32gather_ps(c->residual + planar, lanes, 4));
                v1 = _mm256_add_ps(v1, _mm256_i32gather_ps(c->residual + planar, lanes_high, 4));
            }
        }
        _mm256_storeu_ps(c->output + blocked, _mm256_min_ps(hi, _mm256_max_ps(lo, v0)));
        _mm256_storeu_ps(c->output + blocked + 8, _mm256_min_ps(hi, _mm256_max_ps(lo, v1)));
    }
}

/// A tile of the group starting at output block `block` (its up to four blocks one after the
/// other): the signature of `tile_fn`.
INLINE AVX2 void group_tile(const spdy_direct_conv *c, const int P, const int PER_TAP, const int CHECKED, const int POINTWISE,
                            const float *w, int64_t block, int positions, const tile_positions *t, int64_t cg_begin,
                            int64_t cg_end, float *partial, int first, int last) {
    const int64_t left = c->out_channels / BLOCK - block, count = left < GROUP ? left : GROUP;
    for (int64_t ob = 0; ob < count; ob++) {
        block_tile(c, P, PER_TAP, CHECKED, POINTWISE, w + ob * BLOCK, count * BLOCK, block + ob, positions, t, cg_begin, cg_end,
                   partial + ob * BLOCK, first, last);
    }
}

#define TILE_VARIANT(NAME, P, PER_TAP, CHECKED, POINTWISE)                                                             \
    static AVX2 void NAME##_##P(const spdy_direct_conv *c, const float *w, int64_t block, int64_t q0, int positions,   \
                                const tile_positions *t, int64_t cg_begin, int64_t cg_end, float *partial, int first, \
                                int last) {                                                                            \
        (void)q0;                                                                                                      \
        group_tile(c, P, PER_TAP, CHECKED, POINTWISE, w, block, positions, t, cg_begin, cg_end, partial, first, last);  \
    }
#define TILE_WIDTHS(NAME, PER_TAP, CHECKED, POINTWISE)                                                                 \
    TILE_VARIANT(NAME, 1, PER_TAP, CHECKED, POINTWISE) TILE_VARIANT(NAME, 2, PER_TAP, CHECKED, POINTWISE)              \
    TILE_VARIANT(NAME, 3, PER_TAP, CHECKED, POINTWISE) TILE_VARIANT(NAME, 4, PER_TAP, CHECKED, POINTWISE)              \
    TILE_VARIANT(NAME, 5, PER_TAP, CHECKED, POINTWISE) TILE_VARIANT(NAME, 6, PER_TAP, CHECKED, POINTWISE)
TILE_WIDTHS(blocked, 16, 0, 0)
TILE_WIDTHS(blocked_checked, 16, 1, 0)
TILE_WIDTHS(pointwise, 16, 0, 1)
// NCHW inputs (a stem): six-position tiles only, a partial tile stores only its positions.
TILE_VARIANT(planar, 6, 1, 0, 0)
TILE_VARIANT(planar_checked, 6, 1, 1, 0)
#undef TILE_WIDTHS
#undef TILE_VARIANT

#define ROW(NAME) {NAME##_1, NAME##_2, NAME##_3, NAME##_4, NAME##_5, NAME##_6}
static const tile_fn blocked_tiles[2][TILE] = {ROW(blocked), ROW(blocked_checked)};
static const tile_fn pointwise_tiles[TILE] = ROW(pointwise);
#undef ROW

static tile_fn tile_for(const spdy_direct_conv *c, int64_t count, int positions) {
    (void)count;
    const int checked = c->unpadded ? 0 : 1;
    if (!c->input_blocked) return checked ? planar_checked_6 : planar_6;
    if (!checked && c->kernel_h == 1 && c->kernel_w == 1) return pointwise_tiles[positions - 1];
    return blocked_tiles[checked][positions - 1];
}

AVX2 void spdy_direct_conv_avx2(const spdy_direct_conv *c, int64_t group_start, int64_t group_end, int64_t pos_start,
                                int64_t pos_end, int64_t pos_chunk) {
    run_direct_conv(c, group_start, group_end, pos_start, pos_end, pos_chunk, tile_for);
}

#else

void spdy_direct_conv_avx2(const spdy_direct_conv *c, int64_t group_start, int64_t group_end, int64_t pos_start,
                           int64_t pos_end, int64_t pos_chunk) {
    (void)c; (void)group_start; (void)group_end; (void)pos_start; (void)pos_end; (void)pos_chunk;
}

#endif
