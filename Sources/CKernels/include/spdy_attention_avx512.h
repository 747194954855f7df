#ifndef SPDY_ATTENTION_AVX512_H
#define SPDY_ATTENTION_AVX512_H

#include <stdint.h>

/// Floats of scratch one call of spdy_attention_head_avx512 needs (keys transposed and padded,
/// a block of score rows, values and output in token-major order when they are not) for
/// `seq_q` queries and `seq_k` keys of `depth` features.
int64_t spdy_attention_scratch(int64_t seq_q, int64_t seq_k, int64_t depth);

/// One attention head in AVX-512F, softmax over keys fused between the two products:
/// out[i, c] = Σ_j p[i, j] · v[j, c] with p[i, :] = softmax_j(scale · Σ_d q[i, d] · k[j, d] + mask[i, j])
/// for i < seq_q, c < depth. Element (token t, feature f) of q is at q[t · q_ts + f · q_fs], and
/// so on for k, v and out: one head's slice of a [tokens × heads·depth] tensor (feature stride 1)
/// or of its [heads·depth × tokens] transpose (token stride 1); any other strides are not
/// supported for k, v and out. `mask` may be NULL; otherwise it is read at mask[i · mask_ld + j]
/// (mask_ld 0: one row for every query). `scratch` holds spdy_attention_scratch floats.
/// Call only when spdy_cpu_has_avx512() returned 1.
void spdy_attention_head_avx512(const float *q, int64_t q_ts, int64_t q_fs, const float *k, int64_t k_ts, int64_t k_fs,
                                const float *v, int64_t v_ts, int64_t v_fs, int64_t seq_q, int64_t seq_k, int64_t depth,
                                float scale, const float *mask, int64_t mask_ld, float *out, int64_t o_ts, int64_t o_fs,
                                float *scratch);

#endif
