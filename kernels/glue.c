/* glue.c: the element-wise and layout steps of a forward pass (glue.h). */
#include "glue.h"

#include <string.h>

void ss_embed(float *x, const float *table, const int32_t *ids, int T, int d)
{
    for (int t = 0; t < T; t++) memcpy(x + (size_t)t * d, table + (size_t)ids[t] * d, (size_t)d * sizeof(float));
}

void ss_add_inplace(float *y, const float *x, size_t n)
{
    for (size_t i = 0; i < n; i++) y[i] += x[i];
}

void ss_mul_inplace(float *y, const float *x, size_t n)
{
    for (size_t i = 0; i < n; i++) y[i] *= x[i];
}

void ss_add_rows(float *y, const float *row, int T, int d)
{
    for (int t = 0; t < T; t++) ss_add_inplace(y + (size_t)t * d, row, (size_t)d);
}

void ss_scale_inplace(float *x, float s, size_t n)
{
    for (size_t i = 0; i < n; i++) x[i] *= s;
}

void ss_gather_heads(float *dst, const float *src, int T, int n, int d_h, int ld, int offset, int stride)
{
    for (int h = 0; h < n; h++)
        for (int t = 0; t < T; t++)
            memcpy(dst + ((size_t)h * T + t) * d_h, src + (size_t)t * ld + offset + (size_t)h * stride,
                   (size_t)d_h * sizeof(float));
}
