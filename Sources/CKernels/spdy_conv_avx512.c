// Direct dense convolution over channel-blocked (NCHW16c) tensors in AVX-512F, after the NCHWc
// convolutions of ONNX Runtime's MLAS: no im2col, no packing of activations, and the bias,
// residual and clamp applied as the results leave the registers.
//
// A micro-tile is up to four 16-channel output blocks × six output positions: 24 accumulators.
// Per input channel it loads the four blocks' weights (one 256-byte line group, the packing
// interleaves them) and broadcasts the channel's value at each of the six positions. Positions
// are counted over the whole batch, so a tile may span rows and images: small planes (7 × 7)
// still fill whole tiles. A tap that falls into the padding reads a block of zeros instead.
#include "spdy_direct_conv_shared.h"
#include "spdy_transpose.h"

#include <string.h>


int64_t spdy_direct_conv_packed_size(const spdy_direct_conv *c) {
    const int64_t blocks = c->out_channels / BLOCK;
    return blocks * BLOCK * c->in_channels * c->kernel_h * c->kernel_w;
}

void spdy_direct_conv_pack(const spdy_direct_conv *c, const float *weights, float *packed) {
    const int64_t blocks = c->out_channels / BLOCK, per_tap = channels_per_tap(c);
    const int64_t kh = c->kernel_h, kw = c->kernel_w, cin = c->in_channels, taps = cin / per_tap * kh * kw;
    for (int64_t first = 0; first < blocks; first += GROUP) {
        const int64_t count = blocks - first < GROUP ? blocks - first : GROUP;
        float *dst = packed + first * BLOCK * cin * kh * kw;
        for (int64_t t = 0; t < taps; t++) {
            const int64_t cg = t / (kh * kw), y = t / kw % kh, x = t % kw;
            for (int64_t g = 0; g < per_tap; g++) {
                const int64_t i = cg * per_tap + g;
                for (int64_t ob = 0; ob < count; ob++) {
                    for (int64_t lane = 0; lane < BLOCK; lane++) {
                        const int64_t o = (first + ob) * BLOCK + lane;
                        *dst++ = weights[((o * cin + i) * kh + y) * kw + x];
                    }
                }
            }
        }
    }
}

void spdy_nchw_to_blocked(const float *x, float *y, int64_t images, int64_t channels, int64_t plane) {
    // Each block: a [16 × plane] matrix transposed into [plane × 16], in 8 × 8 register blocks.
    for (int64_t b = 0; b < images * channels / BLOCK; b++) {
        spdy_transpose_block(x + b * BLOCK * plane, plane, BLOCK, plane, y + b * BLOCK * plane, BLOCK);
    }
}

void spdy_blocked_subsample(const float *x, float *y, int64_t planes, int64_t in_h, int64_t in_w, int64_t out_h, int64_t out_w,
                            int64_t stride_h, int64_t stride_w) {
    for (int64_t p = 0; p < planes; p++) {
        const float *src = x + p * in_h * in_w * BLOCK;
        float *dst = y + p * out_h * out_w * BLOCK;
        for (int64_t oy = 0; oy < out_h; oy++) {
            const float *row = src + oy * stride_h * in_w * BLOCK;
            for (int64_t ox = 0; ox < out_w; ox++, dst += BLOCK) memcpy(dst, row + ox * stride_w * BLOCK, BLOCK * sizeof(float));
        }
    }
}

void spdy_blocked_to_nchw(const float *x, float *y, int64_t images, int64_t channels, int64_t plane) {
    for (int64_t b = 0; b < images * channels / BLOCK; b++) {
        spdy_transpose_block(x + b * BLOCK * plane, BLOCK, plane, BLOCK, y + b * BLOCK * plane, plane);
    }
}

#if defined(__x86_64__)
#include <immintrin.h>

#define AVX512 __attribute__((target("avx512f")))
#define INLINE static inline __attribute__((always_inline))

/// One input channel of a tile: the OB blocks' weights at `w` times channel `g` of each
/// position's input `x`, into `acc` (4 loads, P broadcasts, OB · P FMAs).
INLINE AVX512 void channel_step(const int OB, const int P, const float *w, const float *const x[TILE], int g,
                                __m512 acc[GROUP][TILE]) {
    __m512 wv[GROUP];
#pragma clang loop unroll(full)
    for (int ob = 0; ob < OB; ob++) wv[ob] = _mm512_loadu_ps(w + ob * BLOCK);
#pragma clang loop unroll(full)
    for (int p = 0; p < P; p++) {
        const __m512 v = _mm512_set1_ps(x[p][g]);
#pragma clang loop unroll(full)
        for (int ob = 0; ob < OB; ob++) acc[ob][p] = _mm512_fmadd_ps(v, wv[ob], acc[ob][p]);
    }
}

/// One micro-tile over input channel groups [cg_begin, cg_end): output blocks
/// [block, block + OB) of group-packed weights `w` (at cg_begin), positions q0 … q0 + positions − 1.
/// The accumulators start at zero (`first`) or from `partial` ([6][4][16] floats), and end in the
/// output through the epilogue (`last`) or back in `partial`. OB, PER_TAP, CHECKED and POINTWISE
/// (a 1 × 1 kernel: the tap loops vanish and the channel loop unrolls) are constants in every caller.
INLINE AVX512 void tile(const spdy_direct_conv *c, const int OB, const int P, const int PER_TAP, const int CHECKED,
                        const int POINTWISE, const float *w,
                        int64_t block, int64_t q0, int positions, const tile_positions *t, int64_t cg_begin,
                        int64_t cg_end, float *partial, int first, int last) {
    const int64_t ohw = c->out_h * c->out_w;
    __m512 acc[GROUP][TILE];
#pragma clang loop unroll(full)
    for (int ob = 0; ob < OB; ob++) {
#pragma clang loop unroll(full)
        for (int p = 0; p < P; p++) {
            acc[ob][p] = first ? _mm512_setzero_ps() : _mm512_load_ps(partial + (p * GROUP + ob) * BLOCK);
        }
    }
    const int64_t kernel_h = POINTWISE ? 1 : c->kernel_h, kernel_w = POINTWISE ? 1 : c->kernel_w;
    for (int64_t cg = cg_begin; cg < cg_end; cg++) {
        for (int64_t ky = 0; ky < kernel_h; ky++) {
            const float *rows[TILE];
            int row_ok[TILE];
            tap_rows(c, P, PER_TAP, CHECKED, t, cg, ky, rows, row_ok);
            for (int64_t kx = 0; kx < kernel_w; kx++) {
                const float *x[TILE];
                tap_inputs(c, P, PER_TAP, CHECKED, t, kx, rows, row_ok, x);
                // The next tile's input for this tap (the next six positions of the row): deep
                // layers read one line per position from each of many channel-block planes, more
                // streams than the hardware prefetcher follows.
                if (PER_TAP > 1) {
#pragma clang loop unroll(full)
                    for (int p = 0; p < P; p++) _mm_prefetch((const char *)(x[p] + TILE * c->stride_w * PER_TAP), _MM_HINT_T0);
                }
                // A pointwise tile runs this loop once per channel block, so it unrolls it.
                if (POINTWISE) {
#pragma clang loop unroll_count(4)
                    for (int g = 0; g < PER_TAP; g++, w += OB * BLOCK) channel_step(OB, P, w, x, g, acc);
                } else {
#pragma clang loop unroll(disable)
                    for (int g = 0; g < PER_TAP; g++, w += OB * BLOCK) channel_step(OB, P, w, x, g, acc);
                }
            }
        }
    }
    if (!last) {
#pragma clang loop unroll(full)
        for (int ob = 0; ob < OB; ob++) {
#pragma clang loop unroll(full)
            for (int p = 0; p < P; p++) _mm512_store_ps(partial + (p * GROUP + ob) * BLOCK, acc[ob][p]);
        }
        return;
    }
    // Epilogue: bias, residual (an NCHW one by gather), clamp, store.
    const __m512 lo = _mm512_set1_ps(c->lo), hi = _mm512_set1_ps(c->hi);
    const __m512i lanes = _mm512_mullo_epi32(_mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
                                             _mm512_set1_epi32((int)ohw));
#pragma clang loop unroll(full)
    for (int ob = 0; ob < OB; ob++) {
        const int64_t b = block + ob;
        const __m512 bias = c->bias ? _mm512_loadu_ps(c->bias + b * BLOCK) : _mm512_setzero_ps();
#pragma clang loop unroll(full)
        for (int p = 0; p < P; p++) {
            if (p >= positions) continue;
            const int64_t planar = t->planar[p] + b * BLOCK * ohw, blocked = t->blocked[p] + b * BLOCK * ohw;
            __m512 v = _mm512_add_ps(acc[ob][p], bias);
            if (c->residual) {
                v = _mm512_add_ps(v, c->residual_blocked ? _mm512_loadu_ps(c->residual + blocked)
                                                         : _mm512_i32gather_ps(lanes, c->residual + planar, 4));
            }
            v = _mm512_min_ps(hi, _mm512_max_ps(lo, v));
            _mm512_storeu_ps(c->output + blocked, v);
        }
    }
}

#define TILE_VARIANT(OB, P, PER_TAP, CHECKED)                                                                          \
    static AVX512 void tile_##OB##_##P##_##PER_TAP##_##CHECKED(                                                        \
        const spdy_direct_conv *c, const float *w, int64_t block, int64_t q0, int positions, const tile_positions *t,  \
        int64_t cg_begin, int64_t cg_end, float *partial, int first, int last) {                                       \
        tile(c, OB, P, PER_TAP, CHECKED, 0, w, block, q0, positions, t, cg_begin, cg_end, partial, first, last);       \
    }
#define POINTWISE_VARIANT(OB, P)                                                                                       \
    static AVX512 void pointwise_##OB##_##P(const spdy_direct_conv *c, const float *w, int64_t block, int64_t q0,      \
                                            int positions, const tile_positions *t, int64_t cg_begin, int64_t cg_end,  \
                                            float *partial, int first, int last) {                                     \
        tile(c, OB, P, 16, 0, 1, w, block, q0, positions, t, cg_begin, cg_end, partial, first, last);                  \
    }
#define POINTWISE_BLOCKS(P) POINTWISE_VARIANT(1, P) POINTWISE_VARIANT(2, P) POINTWISE_VARIANT(3, P) POINTWISE_VARIANT(4, P)
#define TILE_BLOCKS(P, PER_TAP, CHECKED)                                                                               \
    TILE_VARIANT(1, P, PER_TAP, CHECKED) TILE_VARIANT(2, P, PER_TAP, CHECKED) TILE_VARIANT(3, P, PER_TAP, CHECKED)     \
    TILE_VARIANT(4, P, PER_TAP, CHECKED)
#define TILE_POSITIONS(CHECKED)                                                                                        \
    TILE_BLOCKS(1, 16, CHECKED) TILE_BLOCKS(2, 16, CHECKED) TILE_BLOCKS(3, 16, CHECKED) TILE_BLOCKS(4, 16, CHECKED)    \
    TILE_BLOCKS(5, 16, CHECKED) TILE_BLOCKS(6, 16, CHECKED)
// Blocked inputs: every tile width (a partial last tile computes only its positions);
// NCHW inputs (a stem, few channels): six-position tiles only.
TILE_POSITIONS(0) TILE_POSITIONS(1)
TILE_BLOCKS(6, 1, 0) TILE_BLOCKS(6, 1, 1)
// Blocked inputs, unpadded 1 × 1 kernels.
POINTWISE_BLOCKS(1) POINTWISE_BLOCKS(2) POINTWISE_BLOCKS(3) POINTWISE_BLOCKS(4) POINTWISE_BLOCKS(5) POINTWISE_BLOCKS(6)
#undef POINTWISE_BLOCKS
#undef POINTWISE_VARIANT
#undef TILE_POSITIONS
#undef TILE_BLOCKS
#undef TILE_VARIANT

#define ROW(P, PER_TAP, CHECKED)                                                                                       \
    {tile_1_##P##_##PER_TAP##_##CHECKED, tile_2_##P##_##PER_TAP##_##CHECKED, tile_3_##P##_##PER_TAP##_##CHECKED,       \
     tile_4_##P##_##PER_TAP##_##CHECKED}
/// Blocked inputs: [checked][positions − 1][output blocks − 1].
static const tile_fn blocked_tiles[2][TILE][GROUP] = {
    {ROW(1, 16, 0), ROW(2, 16, 0), ROW(3, 16, 0), ROW(4, 16, 0), ROW(5, 16, 0), ROW(6, 16, 0)},
    {ROW(1, 16, 1), ROW(2, 16, 1), ROW(3, 16, 1), ROW(4, 16, 1), ROW(5, 16, 1), ROW(6, 16, 1)},
};
/// NCHW inputs: [checked][output blocks − 1].
static const tile_fn planar_tiles[2][GROUP] = {ROW(6, 1, 0), ROW(6, 1, 1)};
#undef ROW
#define ROW(P) {pointwise_1_##P, pointwise_2_##P, pointwise_3_##P, pointwise_4_##P}
/// Blocked inputs, unpadded 1 × 1 kernels: [positions − 1][output blocks − 1].
static const tile_fn pointwise_tiles[TILE][GROUP] = {ROW(1), ROW(2), ROW(3), ROW(4), ROW(5), ROW(6)};
#undef ROW

/// The tile for `positions` positions of `count` output blocks.
static tile_fn tile_for(const spdy_direct_conv *c, int64_t count, int positions) {
    const int checked = c->unpadded ? 0 : 1;
    if (c->input_blocked && !checked && c->kernel_h == 1 && c->kernel_w == 1) return pointwise_tiles[positions - 1][count - 1];
    return c->input_blocked ? blocked_tiles[checked][positions - 1][count - 1] : planar_tiles[checked][count - 1];
}

AVX512 void spdy_direct_conv_avx512(const spdy_direct_conv *c, int64_t group_start, int64_t group_end, int64_t pos_start,
                                    int64_t pos_end, int64_t pos_chunk) {
    run_direct_conv(c, group_start, group_end, pos_start, pos_end, pos_chunk, tile_for);
}

#else

void spdy_direct_conv_avx512(const spdy_direct_conv *c, int64_t group_start, int64_t group_end, int64_t pos_start,
                             int64_t pos_end, int64_t pos_chunk) {
    (void)c; (void)group_start; (void)group_end; (void)pos_start; (void)pos_end; (void)pos_chunk;
}

#endif
