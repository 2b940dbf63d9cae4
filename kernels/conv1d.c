/* conv1d.c: y = x·W + b with W [in][out] (conv1d.h): matmul.c's dense layer with the [in][out] layout. */
#include "conv1d.h"

#include "matmul.h" /* ss_dense_ref, ss_dense_blas */

void ss_conv1d_ref(float *y, const float *x, const float *W, const float *b, int T, int in, int out)
{
    ss_dense_ref(y, x, W, b, T, in, out, SS_W_IN_OUT);
}

void ss_conv1d_blas(float *y, const float *x, const float *W, const float *b, int T, int in, int out)
{
    ss_dense_blas(y, x, W, b, T, in, out, SS_W_IN_OUT);
}

void ss_conv1d(float *y, const float *x, const float *W, const float *b, int T, int in, int out)
{
    if (ss_kernels_get_path() == SS_KERNEL_REF)
        ss_conv1d_ref(y, x, W, b, T, in, out);
    else
        ss_conv1d_blas(y, x, W, b, T, in, out);
}
