#ifndef SPDY_DIRECT_CONV_H
#define SPDY_DIRECT_CONV_H

#include <stdint.h>

/// The channel block of channel-blocked (NCHW16c) tensors: channel c of position (h, w) of image
/// n is at ((n · C/16 + c/16) · H · W + h · W + w) · 16 + c mod 16.
#define SPDY_CHANNEL_BLOCK 16
/// Output channel blocks one micro-tile computes (and the packed weights interleave).
#define SPDY_CONV_BLOCKS_PER_GROUP 4
/// Output positions one micro-tile computes.
#define SPDY_CONV_TILE_POSITIONS 6

/// A direct (no im2col) dense 2-D convolution, groups = 1, output channels a multiple of 16.
/// The input is NCHW16c (`input_blocked`, input channels a multiple of 16) or NCHW; the output
/// is NCHW16c and the residual NCHW16c or NCHW. Weights are packed by `spdy_direct_conv_pack`.
typedef struct spdy_direct_conv {
    const float *input;
    /// Packed weights (`spdy_direct_conv_packed_size` floats).
    const float *weights;
    /// out_channels floats, or NULL.
    const float *bias;
    /// A tensor shaped like the output added before the clamp, or NULL.
    const float *residual;
    float *output;
    int64_t batch, in_channels, in_h, in_w, out_channels, out_h, out_w;
    int64_t kernel_h, kernel_w, stride_h, stride_w, pad_top, pad_left, dilation_h, dilation_w;
    int32_t input_blocked, residual_blocked;
    /// Set when every tap of every window lies inside the input (no padding): the kernel then
    /// skips the bounds checks.
    int32_t unpadded;
    /// The clamp after bias and residual (ReLU: 0, +inf; none: -inf, +inf).
    float lo, hi;
} spdy_direct_conv;

/// Floats of packed weights for `c`'s shape.
int64_t spdy_direct_conv_packed_size(const spdy_direct_conv *c);

/// Packs OIHW `weights` for `c`'s shape (and input layout) into `packed`: per group of four
/// output blocks (the last may have fewer), per tap (input channel group, kh, kw), per input
/// channel of the group, the group's output channels.
void spdy_direct_conv_pack(const spdy_direct_conv *c, const float *weights, float *packed);

/// Computes output positions [pos_start, pos_end) (counted over batch · out_h · out_w) of the
/// output block groups [group_start, group_end) (groups of four 16-channel blocks), in outer
/// blocks of `pos_chunk` positions (0: all at once), each run through every group before the
/// next; inside, chunks of 48 positions per slice of input channels. Call only when
/// spdy_cpu_has_avx512() returned 1.
void spdy_direct_conv_avx512(const spdy_direct_conv *c, int64_t group_start, int64_t group_end, int64_t pos_start,
                             int64_t pos_end, int64_t pos_chunk);

/// The same computation in AVX2 and FMA (x86_64 CPUs without AVX-512, such as AMD Zen 3): the
/// same layouts and packed weights, each 16-channel block held in two 256-bit registers. Does
/// nothing on other architectures.
void spdy_direct_conv_avx2(const spdy_direct_conv *c, int64_t group_start, int64_t group_end, int64_t pos_start,
                           int64_t pos_end, int64_t pos_chunk);

/// NCHW → NCHW16c for `images` images of `channels` (a multiple of 16) × `plane` values.
void spdy_nchw_to_blocked(const float *x, float *y, int64_t images, int64_t channels, int64_t plane);
/// The positions (oy · stride_h, ox · stride_w) of `planes` NCHW16c block planes of in_h × in_w,
/// compacted into out_h × out_w planes: a strided 1 × 1 convolution's input as an unstrided one's.
void spdy_blocked_subsample(const float *x, float *y, int64_t planes, int64_t in_h, int64_t in_w, int64_t out_h, int64_t out_w,
                            int64_t stride_h, int64_t stride_w);
/// NCHW16c → NCHW.
void spdy_blocked_to_nchw(const float *x, float *y, int64_t images, int64_t channels, int64_t plane);

#endif
