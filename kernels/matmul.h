/* matmul.h: the dense (nn.Linear) layer y = x·Wᵀ + b, weights stored [out][in] as in PyTorch.
 *
 * Shapes: x [T][in], W [out][in], b [out] (may be NULL), y [T][out]. y must not overlap x or W.
 * ss_matmul_ref is the plain-loop reference; ss_matmul_blas is the fast path (one cblas_sgemm);
 * ss_matmul picks the path set with ss_kernels_set_path (fast by default). */
#ifndef SS_KERNELS_MATMUL_H
#define SS_KERNELS_MATMUL_H

#include "path.h"

/* The dense layer for either weight layout, shared by ss_matmul (W [out][in], nn.Linear) and ss_conv1d
 * (W [in][out], Hugging Face's Conv1D): the same loop and the same cblas_sgemm, only W's indexing differs. */
typedef enum { SS_W_OUT_IN = 0, SS_W_IN_OUT = 1 } ss_w_layout;
void ss_dense_ref(float *y, const float *x, const float *W, const float *b, int T, int in, int out, ss_w_layout l);
void ss_dense_blas(float *y, const float *x, const float *W, const float *b, int T, int in, int out, ss_w_layout l);

void ss_matmul_ref(float *y, const float *x, const float *W, const float *b, int T, int in, int out);
void ss_matmul_blas(float *y, const float *x, const float *W, const float *b, int T, int in, int out);
void ss_matmul(float *y, const float *x, const float *W, const float *b, int T, int in, int out);

#endif
