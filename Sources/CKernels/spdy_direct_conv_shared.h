// The parts of the direct convolution that do not depend on the instruction set: where a
// tile's positions read and write (`locate`), and the loops over position blocks, output block
// groups, chunks of tiles and slices of input channels that call an instruction set's tiles
// (`spdy_conv_avx512.c`, `spdy_conv_avx2.c`). Private to CKernels.
#ifndef SPDY_DIRECT_CONV_SHARED_H
#define SPDY_DIRECT_CONV_SHARED_H

#include "spdy_direct_conv.h"

#include <stddef.h>

#define BLOCK SPDY_CHANNEL_BLOCK
#define GROUP SPDY_CONV_BLOCKS_PER_GROUP
#define TILE SPDY_CONV_TILE_POSITIONS

/// Input channels per tap: a whole block when the input is blocked, else one channel.
static inline int64_t channels_per_tap(const spdy_direct_conv *c) { return c->input_blocked ? BLOCK : 1; }

/// A block of zeros that taps falling into the padding read.
static const float spdy_conv_zeros[BLOCK] __attribute__((aligned(64))) = {0};

/// Where the six positions of a micro-tile read (window origin, image base) and write (offsets of
/// the position in its image's first output block, NCHW: n · C_out · H_out · W_out + r, and
/// NCHW16c: n · C_out · H_out · W_out + 16 r, with r the position in the plane).
typedef struct tile_positions {
    int64_t ih0[TILE], iw0[TILE], planar[TILE], blocked[TILE];
    const float *image[TILE];
} tile_positions;

/// The positions of `tiles` consecutive tiles from q0 (at most q_end): one division for the
/// first, then stepping along rows and images. Positions past q_end repeat the last one.
static inline void locate(const spdy_direct_conv *c, int64_t q0, int64_t q_end, int tiles, tile_positions *t) {
    const int64_t ohw = c->out_h * c->out_w, hw = c->in_h * c->in_w;
    int64_t n = q0 / ohw, r = q0 % ohw, oy = r / c->out_w, ox = r % c->out_w;
    int64_t ih0 = 0, iw0 = 0, planar = 0, blocked = 0;
    const float *image = NULL;
    for (int i = 0; i < tiles * TILE; i++) {
        if (q0 + i < q_end) {
            ih0 = oy * c->stride_h - c->pad_top;
            iw0 = ox * c->stride_w - c->pad_left;
            planar = n * c->out_channels * ohw + oy * c->out_w + ox;
            blocked = n * c->out_channels * ohw + (oy * c->out_w + ox) * BLOCK;
            image = c->input + n * c->in_channels * hw;
            if (++ox == c->out_w) {
                ox = 0;
                if (++oy == c->out_h) { oy = 0; n++; }
            }
        }
        tile_positions *tp = &t[i / TILE];
        tp->ih0[i % TILE] = ih0; tp->iw0[i % TILE] = iw0; tp->planar[i % TILE] = planar; tp->blocked[i % TILE] = blocked; tp->image[i % TILE] = image;
    }
}

/// The rows tap row `ky` of input channel group `cg` reads at a tile's P positions, and whether
/// each lies inside the input (always, unless CHECKED). P, PER_TAP and CHECKED are constants in
/// every caller (the tiles), so this inlines into unrolled code.
static inline __attribute__((always_inline)) void tap_rows(const spdy_direct_conv *c, const int P, const int PER_TAP,
                                                           const int CHECKED, const tile_positions *t, int64_t cg, int64_t ky,
                                                           const float *rows[TILE], int row_ok[TILE]) {
    const int64_t row_stride = c->in_w * PER_TAP, group_stride = c->in_h * c->in_w * PER_TAP;
#pragma clang loop unroll(full)
    for (int p = 0; p < P; p++) {
        const int64_t ih = t->ih0[p] + ky * c->dilation_h;
        row_ok[p] = !CHECKED || (ih >= 0 && ih < c->in_h);
        rows[p] = t->image[p] + cg * group_stride + ih * row_stride;
    }
}

/// The input each of P positions reads at tap column `kx` of `rows` (`tap_rows`): its channel
/// block, or a block of zeros in the padding.
static inline __attribute__((always_inline)) void tap_inputs(const spdy_direct_conv *c, const int P, const int PER_TAP,
                                                             const int CHECKED, const tile_positions *t, int64_t kx,
                                                             const float *const rows[TILE], const int row_ok[TILE],
                                                             const float *x[TILE]) {
#pragma clang loop unroll(full)
    for (int p = 0; p < P; p++) {
        const int64_t iw = t->iw0[p] + kx * c->dilation_w;
        x[p] = !CHECKED || (row_ok[p] && iw >= 0 && iw < c->in_w) ? rows[p] + iw * PER_TAP : spdy_conv_zeros;
    }
}

/// One micro-tile of `count` output blocks from `block` (a group), positions q0 … q0 + positions − 1,
/// over input channel groups [cg_begin, cg_end) of group-packed weights `w` (at cg_begin). The
/// accumulators start at zero (`first`) or from `partial` ([6][4][16] floats), and end in the output
/// through the epilogue (`last`) or back in `partial`.
typedef void (*tile_fn)(const spdy_direct_conv *, const float *, int64_t, int64_t, int, const tile_positions *, int64_t,
                        int64_t, float *, int, int);
/// An instruction set's tile for `positions` positions of `count` output blocks of `c`.
typedef tile_fn (*tile_selector)(const spdy_direct_conv *c, int64_t count, int positions);

/// Tiles per chunk: a chunk's partial sums (8 tiles × 6 positions × 4 blocks: 12 KiB) stay in L1
/// while the weights of one slice of input channels are reused across its tiles.
#define CHUNK_TILES 8
/// Bytes of weights per slice of input channel groups: the slice stays in L1 across a chunk's tiles.
#define SLICE_BYTES (16 * 1024)

/// Output block group `group` over positions [q_begin, q_end) (at most CHUNK_TILES tiles): for
/// each slice of input channels, every tile; so each weight is read from L2 once per chunk.
static inline void run_chunk(const spdy_direct_conv *c, int64_t group, int64_t count, int64_t q_begin, int64_t q_end,
                             tile_selector tile_for) {
    const int64_t per_tap = channels_per_tap(c), taps = c->kernel_h * c->kernel_w;
    const int64_t channel_groups = c->in_channels / per_tap;
    const int64_t group_weights = BLOCK * c->in_channels * taps * GROUP;
    const int64_t cg_weights = per_tap * taps * count * BLOCK;  // floats per input channel group
    int64_t slice = SLICE_BYTES / (4 * cg_weights);
    if (slice < 1) slice = 1;
    tile_positions where[CHUNK_TILES];
    float partial[CHUNK_TILES][TILE * GROUP * BLOCK] __attribute__((aligned(64)));
    const int tiles = (int)((q_end - q_begin + TILE - 1) / TILE);
    locate(c, q_begin, q_end, tiles, where);
    const float *w = c->weights + group * group_weights;
    for (int64_t cg = 0; cg < channel_groups; cg += slice) {
        const int64_t end = cg + slice < channel_groups ? cg + slice : channel_groups;
        for (int i = 0; i < tiles; i++) {
            const int64_t q = q_begin + i * TILE, left = q_end - q;
            const int positions = (int)(left < TILE ? left : TILE);
            tile_for(c, count, positions)(c, w + cg * cg_weights, group * GROUP, q, positions, &where[i], cg, end, partial[i],
                                          cg == 0, end == channel_groups);
        }
    }
}

/// Positions [pos_start, pos_end) of output block groups [group_start, group_end), in outer blocks of
/// `pos_chunk` positions (see `spdy_direct_conv_avx512`), with `tile_for`'s tiles.
static inline void run_direct_conv(const spdy_direct_conv *c, int64_t group_start, int64_t group_end, int64_t pos_start,
                                   int64_t pos_end, int64_t pos_chunk, tile_selector tile_for) {
    const int64_t blocks = c->out_channels / BLOCK;
    if (pos_chunk <= 0) pos_chunk = pos_end - pos_start;
    for (int64_t chunk = pos_start; chunk < pos_end; chunk += pos_chunk) {
        const int64_t chunk_end = chunk + pos_chunk < pos_end ? chunk + pos_chunk : pos_end;
        for (int64_t group = group_start; group < group_end; group++) {
            const int64_t count = blocks - group * GROUP < GROUP ? blocks - group * GROUP : GROUP;
            for (int64_t q = chunk; q < chunk_end; q += CHUNK_TILES * TILE) {
                const int64_t end = q + CHUNK_TILES * TILE < chunk_end ? q + CHUNK_TILES * TILE : chunk_end;
                run_chunk(c, group, count, q, end, tile_for);
            }
        }
    }
}

#endif
