/* glue.h: the element-wise and layout steps that join the kernels of a forward pass (embedding rows, residual
 * adds, products, scaling, gathering heads out of projections). CPU forms; kernels/cuda/glue.cu has the device
 * forms with the same arithmetic (one fp32 add or multiply per element), so both give the same bits. */
#ifndef SS_GLUE_H
#define SS_GLUE_H

#include <stddef.h>
#include <stdint.h>

/* x [T][d] = rows ids[t] of table [V][d] (ids already checked). */
void ss_embed(float *x, const float *table, const int32_t *ids, int T, int d);
/* y[i] += x[i] for i < n. */
void ss_add_inplace(float *y, const float *x, size_t n);
/* y[i] *= x[i] for i < n. */
void ss_mul_inplace(float *y, const float *x, size_t n);
/* y [T][d]: every row += row [d]. */
void ss_add_rows(float *y, const float *row, int T, int d);
/* x[i] *= s for i < n. */
void ss_scale_inplace(float *x, float s, size_t n);
/* dst [n][T][d_h] = head columns of src [T][ld]: dst[h][t][c] = src[t][offset + h·stride + c].
 * Separate projections: offset = start of the block, stride = d_h. Per-head fused q|k|v (BLOOM,
 * GPT-NeoX): offset = 0, d_h or 2·d_h, stride = 3·d_h. */
void ss_gather_heads(float *dst, const float *src, int T, int n, int d_h, int ld, int offset, int stride);

#endif
