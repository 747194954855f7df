#ifndef SPDY_ATTENTION_AVX512_H
#define SPDY_ATTENTION_AVX512_H

#include <stdint.h>

/// Floats of scratch one call of spdy_attention_head_avx512 needs (keys transposed and padded,
/// plus a block of score rows) for `seq_k` keys of `depth` features.
int64_t spdy_attention_scratch(int64_t seq_k, int64_t depth);

/// One attention head in AVX-512F, softmax over keys fused between the two products:
/// out[i, c] = Σ_j p[i, j] · v[j, c] with p[i, :] = softmax_j(scale · Σ_d q[i, d] · k[j, d] + mask[i, j])
/// for i < seq_q, c < depth. Rows of q, k, v and out are ldq, ldk, ldv, ldo floats apart (one
/// head's slice of a [tokens × heads·depth] tensor). `mask` may be NULL (no mask); otherwise it
/// is read at mask[i · mask_ld + j] (mask_ld 0: one row for every query). `scratch` holds
/// spdy_attention_scratch(seq_k, depth) floats. Call only when spdy_cpu_has_avx512() returned 1.
void spdy_attention_head_avx512(const float *q, int64_t ldq, const float *k, int64_t ldk, const float *v, int64_t ldv,
                                int64_t seq_q, int64_t seq_k, int64_t depth, float scale,
                                const float *mask, int64_t mask_ld, float *out, int64_t ldo, float *scratch);

#endif
