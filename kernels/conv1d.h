/* conv1d.h: the dense layer with weights stored [in][out], y = x·W + b, as Hugging Face's Conv1D
 * (GPT-2's c_attn, c_proj, c_fc: a "1-D convolution" of width 1, i.e. nn.Linear with W transposed).
 *
 * Shapes: x [T][in], W [in][out], b [out] (may be NULL), y [T][out]. y must not overlap x or W.
 * ss_conv1d_ref is the plain-loop reference (double accumulation); ss_conv1d_blas is the fast path
 * (one cblas_sgemm, no transpose of W needed); ss_conv1d picks the path set with ss_kernels_set_path. */
#ifndef SS_KERNELS_CONV1D_H
#define SS_KERNELS_CONV1D_H

#include "path.h"

void ss_conv1d_ref(float *y, const float *x, const float *W, const float *b, int T, int in, int out);
void ss_conv1d_blas(float *y, const float *x, const float *W, const float *b, int T, int in, int out);
void ss_conv1d(float *y, const float *x, const float *W, const float *b, int T, int in, int out);

#endif
