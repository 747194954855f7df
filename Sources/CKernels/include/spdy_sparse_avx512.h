#ifndef SPDY_SPARSE_AVX512_H
#define SPDY_SPARSE_AVX512_H

#include <stdint.h>

/// 1 when this CPU executes AVX-512F (x86_64 only; 0 elsewhere).
int spdy_cpu_has_avx512(void);

/// Rows `row_begin..<row_end` of a CSR matrix times a dense column tile, AVX-512F:
/// y[(r - row_begin) * ldy + j] = min(hi, max(lo, bias[r] + residual[(r - row_begin) * ldy + j]
///                                              + Σ_e value(e) · x[offset(e) + j]))
/// for j < width; with `gelu` nonzero, exact GELU of that sum instead of the clamp. `entries`
/// holds 8-byte (int32 offset, float value) pairs, row r's are
/// `entries[row_start[r] ..< row_start[r + 1]]`; `bias` and `residual` may be NULL. X is read only at
/// `x + offset + j` with j < width (a partial vector is loaded with a mask).
/// Call only when spdy_cpu_has_avx512() returned 1.
void spdy_sparse_rows_avx512(const int64_t *row_start, const void *entries, int64_t row_begin, int64_t row_end,
                             const float *x, int64_t width, float *y, int64_t ldy, const float *bias,
                             const float *residual, float lo, float hi, int gelu);

#endif
