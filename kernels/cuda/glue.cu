/* glue.cu: the element-wise and layout operations that join the kernels of a forward pass on the device
 * (ops.h, "glue"): embedding rows, residual adds, scaling, products, head gathering and device copies. Each has
 * the arithmetic of its CPU form in engine/model/decoder.c (one fp32 add or multiply per element, no FMA), so the
 * results are bit for bit those of the CPU. */
#include <stdint.h>

#include "common.cuh"
#include "ops.h"

enum { GLUE_THREADS = 256 };

/* x [T][d] = rows ids[t] of table [V][d]. */
__global__ void k_embed(float *x, const float *table, const int32_t *ids, int T, int d)
{
    const size_t total = (size_t)T * d;
    for (size_t e = (size_t)blockIdx.x * blockDim.x + threadIdx.x; e < total; e += (size_t)gridDim.x * blockDim.x) {
        const size_t t = e / d, i = e % d;
        x[e] = table[(size_t)ids[t] * d + i];
    }
}

/* kind 0: y += x; 1: y *= x; 2: y[t][i] += x[i] (x [d], rows of d); 3: y *= s */
template <int KIND> __global__ void k_elem(float *y, const float *x, float s, size_t n, int d)
{
    for (size_t e = (size_t)blockIdx.x * blockDim.x + threadIdx.x; e < n; e += (size_t)gridDim.x * blockDim.x) {
        if (KIND == 0) y[e] = __fadd_rn(y[e], x[e]);
        else if (KIND == 1) y[e] = __fmul_rn(y[e], x[e]);
        else if (KIND == 2) y[e] = __fadd_rn(y[e], x[e % (size_t)d]);
        else y[e] = __fmul_rn(y[e], s);
    }
}

/* dst [n][T][d_h] = src[t][offset + h·stride + c] */
__global__ void k_gather_heads(float *dst, const float *src, int T, int n, int d_h, int ld, int offset, int stride)
{
    const size_t total = (size_t)n * T * d_h;
    for (size_t e = (size_t)blockIdx.x * blockDim.x + threadIdx.x; e < total; e += (size_t)gridDim.x * blockDim.x) {
        const int c = (int)(e % d_h);
        const size_t ht = e / d_h;
        const int t = (int)(ht % T), h = (int)(ht / T);
        dst[e] = src[(size_t)t * ld + offset + (size_t)h * stride + c];
    }
}

template <int KIND> static int elem(float *y, const float *x, float s, size_t n, int d)
{
    if (n == 0) return 0;
    k_elem<KIND><<<ss_cu_blocks(n, GLUE_THREADS), GLUE_THREADS>>>(y, x, s, n, d);
    SS_CU_LAUNCHED();
    return 0;
}

extern "C" int ss_cu_copy(void *dst, const void *src, size_t bytes)
{
    if (bytes) SS_CU_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, 0));
    return 0;
}

extern "C" int ss_cu_embed(float *x, const float *table, const int *ids, int T, int d)
{
    if (T < 0 || d < 0) return ss_cu_fail_arg("ss_cu_embed: bad shape T=%d d=%d", T, d);
    const size_t n = (size_t)T * d;
    if (n == 0) return 0;
    k_embed<<<ss_cu_blocks(n, GLUE_THREADS), GLUE_THREADS>>>(x, table, ids, T, d);
    SS_CU_LAUNCHED();
    return 0;
}

extern "C" int ss_cu_add(float *y, const float *x, size_t n) { return elem<0>(y, x, 0.0f, n, 1); }
extern "C" int ss_cu_mul(float *y, const float *x, size_t n) { return elem<1>(y, x, 0.0f, n, 1); }
extern "C" int ss_cu_add_rows(float *y, const float *row, int T, int d)
{
    if (T < 0 || d <= 0) return ss_cu_fail_arg("ss_cu_add_rows: bad shape T=%d d=%d", T, d);
    return elem<2>(y, row, 0.0f, (size_t)T * d, d);
}
extern "C" int ss_cu_scale(float *x, float s, size_t n) { return elem<3>(x, NULL, s, n, 1); }

extern "C" int ss_cu_gather_heads(float *dst, const float *src, int T, int n, int d_h, int ld, int offset, int stride)
{
    if (T < 0 || n < 0 || d_h < 0) return ss_cu_fail_arg("ss_cu_gather_heads: bad shape T=%d n=%d d_h=%d", T, n, d_h);
    const size_t total = (size_t)n * T * d_h;
    if (total == 0) return 0;
    k_gather_heads<<<ss_cu_blocks(total, GLUE_THREADS), GLUE_THREADS>>>(dst, src, T, n, d_h, ld, offset, stride);
    SS_CU_LAUNCHED();
    return 0;
}
