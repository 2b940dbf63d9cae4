/* ops.cu: memory, norms, activations, RoPE and the attention-matrix reductions of the CUDA backend (ops.h).
 * Each kernel mirrors its CPU reference's arithmetic (double sums where the reference sums in double), so the
 * tolerances in tests/gpu/test_gpu_ops.c stay at a few ulp. Built without -use_fast_math: expf, erff, tanhf
 * and logf are CUDA's accurate versions (<= 2 ulp). */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>

#include "common.cuh"
#include "ops.h"

/* ------------------------------------------------------------------------------------------ errors */

static thread_local char g_msg[512];

int ss_cu_fail_cuda(cudaError_t e, const char *what, const char *file, int line)
{
    snprintf(g_msg, sizeof g_msg, "%s: %s (%s:%d)", what, cudaGetErrorString(e), file, line);
    cudaGetLastError(); /* clears a non-sticky error; a sticky one (a kernel fault) stays with the context */
    return (int)e;
}

int ss_cu_fail_arg(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g_msg, sizeof g_msg, fmt, ap);
    va_end(ap);
    return -1;
}

extern "C" const char *ss_cu_errmsg(void) { return g_msg; }

/* ------------------------------------------------------------------------------------------ memory */

extern "C" int ss_cu_malloc(void **p, size_t bytes)
{
    *p = NULL;
    SS_CU_CHECK(cudaMalloc(p, bytes ? bytes : 1));
    return 0;
}

extern "C" int ss_cu_free(void *p)
{
    if (p) SS_CU_CHECK(cudaFree(p));
    return 0;
}

extern "C" int ss_cu_h2d(void *dst, const void *src, size_t bytes)
{
    if (bytes) SS_CU_CHECK(cudaMemcpy(dst, src, bytes, cudaMemcpyHostToDevice));
    return 0;
}

extern "C" int ss_cu_d2h(void *dst, const void *src, size_t bytes)
{
    if (bytes) SS_CU_CHECK(cudaMemcpy(dst, src, bytes, cudaMemcpyDeviceToHost));
    return 0;
}

extern "C" int ss_cu_memset(void *p, int byte, size_t bytes)
{
    if (bytes) SS_CU_CHECK(cudaMemset(p, byte, bytes));
    return 0;
}

extern "C" int ss_cu_set_device(int dev)
{
    SS_CU_CHECK(cudaSetDevice(dev));
    return 0;
}

extern "C" int ss_cu_sync(void)
{
    SS_CU_CHECK(cudaDeviceSynchronize());
    return 0;
}

static cudaEvent_t g_ev[2];

extern "C" int ss_cu_timer_start(void)
{
    if (!g_ev[0]) {
        SS_CU_CHECK(cudaEventCreate(&g_ev[0]));
        SS_CU_CHECK(cudaEventCreate(&g_ev[1]));
    }
    SS_CU_CHECK(cudaEventRecord(g_ev[0], 0));
    return 0;
}

extern "C" int ss_cu_timer_stop(float *ms)
{
    SS_CU_CHECK(cudaEventRecord(g_ev[1], 0));
    SS_CU_CHECK(cudaEventSynchronize(g_ev[1]));
    SS_CU_CHECK(cudaEventElapsedTime(ms, g_ev[0], g_ev[1]));
    return 0;
}

/* ------------------------------------------------------------------------------------------ norms */

enum { NORM_THREADS = 256 };

/* One block per row t. y, x [T][d]; gamma, beta [d] (beta NULL: RMSNorm). */
__global__ void k_rmsnorm(float *y, const float *x, const float *gamma, int d, float eps)
{
    __shared__ double sh[32];
    const float *xt = x + (size_t)blockIdx.x * d; /* [d] */
    float *yt = y + (size_t)blockIdx.x * d;       /* [d] */
    double ms = 0.0;
    for (int i = threadIdx.x; i < d; i += blockDim.x) ms += (double)xt[i] * xt[i];
    ms = ss_block_reduce(ms, SsSum<double>(), 0.0, sh) / d;
    const double inv = 1.0 / sqrt(ms + (double)eps);
    for (int i = threadIdx.x; i < d; i += blockDim.x) yt[i] = (float)(xt[i] * inv * gamma[i]);
}

__global__ void k_layernorm(float *y, const float *x, const float *gamma, const float *beta, int d, float eps)
{
    __shared__ double sh[32];
    const float *xt = x + (size_t)blockIdx.x * d; /* [d] */
    float *yt = y + (size_t)blockIdx.x * d;       /* [d] */
    double mean = 0.0;
    for (int i = threadIdx.x; i < d; i += blockDim.x) mean += xt[i];
    mean = ss_block_reduce(mean, SsSum<double>(), 0.0, sh) / d;
    double var = 0.0;
    for (int i = threadIdx.x; i < d; i += blockDim.x) {
        const double c = xt[i] - mean;
        var += c * c;
    }
    var = ss_block_reduce(var, SsSum<double>(), 0.0, sh) / d;
    const double inv = 1.0 / sqrt(var + (double)eps);
    for (int i = threadIdx.x; i < d; i += blockDim.x) yt[i] = (float)((xt[i] - mean) * inv * gamma[i] + beta[i]);
}

static int check_rows(const char *op, int T, int d)
{
    if (T < 0 || d < 0) return ss_cu_fail_arg("%s: bad shape T=%d d=%d", op, T, d);
    return 0;
}

extern "C" int ss_cu_rmsnorm(float *y, const float *x, const float *gamma, int T, int d, float eps)
{
    if (check_rows("ss_cu_rmsnorm", T, d)) return -1;
    if (T == 0 || d == 0) return 0;
    k_rmsnorm<<<T, NORM_THREADS>>>(y, x, gamma, d, eps);
    SS_CU_LAUNCHED();
    return 0;
}

extern "C" int ss_cu_layernorm(float *y, const float *x, const float *gamma, const float *beta, int T, int d, float eps)
{
    if (check_rows("ss_cu_layernorm", T, d)) return -1;
    if (T == 0 || d == 0) return 0;
    k_layernorm<<<T, NORM_THREADS>>>(y, x, gamma, beta, d, eps);
    SS_CU_LAUNCHED();
    return 0;
}

/* ------------------------------------------------------------------------------------------ activations */

enum { ACT_GELU_ERF, ACT_GELU_TANH, ACT_SILU, ACT_SWIGLU, ACT_GEGLU };

__device__ __forceinline__ float gelu_tanh1(float v)
{
    const float k = 0.79788456080286535588f; /* √(2/π), as activation.c */
    return 0.5f * v * (1.0f + tanhf(k * (v + 0.044715f * v * v * v)));
}

__device__ __forceinline__ float silu1(float v) { return v / (1.0f + expf(-v)); }

/* x [n] in place; up [n] for the gated forms (else NULL). Grid-stride loop. */
template <int KIND> __global__ void k_act(float *x, const float *up, size_t n)
{
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x) {
        const float v = x[i];
        float r;
        if (KIND == ACT_GELU_ERF) r = 0.5f * v * (1.0f + erff(v * 0.70710678118654752440f));
        else if (KIND == ACT_GELU_TANH) r = gelu_tanh1(v);
        else if (KIND == ACT_SILU) r = silu1(v);
        else if (KIND == ACT_SWIGLU) r = __fmul_rn(silu1(v), up[i]);
        else r = __fmul_rn(gelu_tanh1(v), up[i]);
        x[i] = r;
    }
}

template <int KIND> static int act(float *x, const float *up, size_t n)
{
    if (n == 0) return 0;
    k_act<KIND><<<ss_cu_blocks(n, 256), 256>>>(x, up, n);
    SS_CU_LAUNCHED();
    return 0;
}

extern "C" int ss_cu_gelu_erf(float *x, size_t n) { return act<ACT_GELU_ERF>(x, NULL, n); }
extern "C" int ss_cu_gelu_tanh(float *x, size_t n) { return act<ACT_GELU_TANH>(x, NULL, n); }
extern "C" int ss_cu_silu(float *x, size_t n) { return act<ACT_SILU>(x, NULL, n); }
extern "C" int ss_cu_swiglu(float *gate, const float *up, size_t n) { return act<ACT_SWIGLU>(gate, up, n); }
extern "C" int ss_cu_geglu(float *gate, const float *up, size_t n) { return act<ACT_GEGLU>(gate, up, n); }

/* ------------------------------------------------------------------------------------------ RoPE */

/* One thread per (head, position, frequency). x [n][T][d_h]; cos_t, sin_t [T][half]. */
__global__ void k_rope(float *x, int n, int T, int d_h, int half, int adjacent, const float *cos_t, const float *sin_t)
{
    const size_t total = (size_t)n * T * half;
    for (size_t e = (size_t)blockIdx.x * blockDim.x + threadIdx.x; e < total; e += (size_t)gridDim.x * blockDim.x) {
        const int i = (int)(e % half);
        const size_t ht = e / half; /* head·T + t */
        const int t = (int)(ht % T);
        float *row = x + ht * d_h; /* [d_h] */
        const int ia = adjacent ? 2 * i : i, ib = adjacent ? 2 * i + 1 : i + half;
        const float c = cos_t[(size_t)t * half + i], s = sin_t[(size_t)t * half + i];
        const float a = row[ia], b = row[ib];
        /* the _rn intrinsics are never fused into an FMA: the same roundings as rope.c */
        row[ia] = __fsub_rn(__fmul_rn(a, c), __fmul_rn(b, s));
        row[ib] = __fadd_rn(__fmul_rn(b, c), __fmul_rn(a, s));
    }
}

extern "C" int ss_cu_rope_apply(float *x, int n, int T, int d_h, int rot_dims, ss_rope_pairing pairing,
                                const float *cos_t, const float *sin_t)
{
    if (rot_dims < 0 || rot_dims % 2 || rot_dims > d_h || n < 0 || T < 0)
        return ss_cu_fail_arg("ss_cu_rope_apply: bad shape n=%d T=%d d_h=%d rot_dims=%d", n, T, d_h, rot_dims);
    const size_t total = (size_t)n * T * (rot_dims / 2);
    if (total == 0) return 0;
    k_rope<<<ss_cu_blocks(total, 256), 256>>>(x, n, T, d_h, rot_dims / 2, pairing == SS_ROPE_ADJACENT, cos_t, sin_t);
    SS_CU_LAUNCHED();
    return 0;
}

/* ------------------------------------------------------------------------------------------ reductions */

/* One thread per (matrix, key j): a column sum in double, read coalesced across j. A [n_mats][T][T],
 * alpha [n_mats][T]; grid (ceil(T/256), n_mats). */
__global__ void k_column_importance(const float *A, int T, int causal, int window, float *alpha)
{
    const int j = blockIdx.x * blockDim.x + threadIdx.x;
    if (j >= T) return;
    const float *Am = A + (size_t)blockIdx.y * T * T; /* [T][T] */
    const int first = causal ? j : 0;
    const int end = causal && window > 0 && j + window < T ? j + window : T;
    double sum = 0.0;
    for (int i = first; i < end; i++) sum += Am[(size_t)i * T + j];
    alpha[(size_t)blockIdx.y * T + j] = (float)(sum / (double)(end - first));
}

extern "C" int ss_cu_column_importance(const float *A, int n_mats, int T, int causal, int window, float *alpha)
{
    if (n_mats < 0 || T < 0 || n_mats > 65535)
        return ss_cu_fail_arg("ss_cu_column_importance: bad shape n_mats=%d T=%d (n_mats <= 65535)", n_mats, T);
    if (n_mats == 0 || T == 0) return 0;
    k_column_importance<<<dim3((T + 255) / 256, n_mats), 256>>>(A, T, causal, window, alpha);
    SS_CU_LAUNCHED();
    return 0;
}

/* alpha [n_mats][T]; count [T] (added to). */
__global__ void k_sink_count(const float *alpha, int n_mats, int T, float eps, int *count)
{
    const int j = blockIdx.x * blockDim.x + threadIdx.x;
    if (j >= T) return;
    int c = 0;
    for (int m = 0; m < n_mats; m++) c += alpha[(size_t)m * T + j] > eps;
    count[j] += c;
}

extern "C" int ss_cu_sink_count(const float *alpha, int n_mats, int T, float eps, int *count)
{
    if (n_mats < 0 || T < 0) return ss_cu_fail_arg("ss_cu_sink_count: bad shape n_mats=%d T=%d", n_mats, T);
    if (T == 0) return 0;
    k_sink_count<<<(T + 255) / 256, 256>>>(alpha, n_mats, T, eps, count);
    SS_CU_LAUNCHED();
    return 0;
}

/* One warp per row: (value, index) pairs, larger value wins, ties to the lower index. v [n_rows][ld], idx [n_rows]. */
__global__ void k_argmax_rows(const float *v, int n_rows, int ld, int n, int *idx)
{
    const int row = blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5), lane = threadIdx.x & 31;
    if (row >= n_rows) return; /* whole warps leave together: the row is per warp */
    const float *r = v + (size_t)row * ld; /* [n] */
    float best = -INFINITY;
    int bi = -1; /* -1: this lane has no candidate */
    for (int j = lane; j < n; j += 32)
        if (bi < 0 || r[j] > best) best = r[j], bi = j; /* j increases per lane: > keeps a tie's lowest index */
    for (int o = 16; o > 0; o >>= 1) {
        const float ob = __shfl_xor_sync(0xffffffffu, best, o);
        const int oi = __shfl_xor_sync(0xffffffffu, bi, o);
        if (oi >= 0 && (bi < 0 || ob > best || (ob == best && oi < bi))) best = ob, bi = oi;
    }
    if (lane == 0) idx[row] = bi < 0 ? 0 : bi;
}

extern "C" int ss_cu_argmax_rows(const float *v, int n_rows, int ld, int n_candidates, int *idx)
{
    if (n_rows < 0 || n_candidates < 0 || n_candidates > ld)
        return ss_cu_fail_arg("ss_cu_argmax_rows: bad shape n_rows=%d ld=%d n=%d", n_rows, ld, n_candidates);
    if (n_rows == 0) return 0;
    k_argmax_rows<<<(n_rows + 7) / 8, 256>>>(v, n_rows, ld, n_candidates, idx);
    SS_CU_LAUNCHED();
    return 0;
}

/* One warp per row, as ss_row_entropy_nats: keep a_j > e, s = their sum, H = -Σ p ln p over p = a_j/s > e. */
__global__ void k_row_entropy(const float *A, int n_rows, int n_cols, float *H)
{
    const int row = blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5), lane = threadIdx.x & 31;
    if (row >= n_rows) return;
    const float e = 100.0f * 1.1920928955078125e-7f; /* 100 · FLT_EPSILON */
    const float *a = A + (size_t)row * n_cols;       /* [n_cols] */
    double s = 0.0;
    int kept = 0;
    for (int j = lane; j < n_cols; j += 32)
        if (a[j] > e) s += a[j], kept++;
    /* lane 0's total for every lane: the butterfly's lanes may round differently, and the branch must be uniform */
    s = __shfl_sync(0xffffffffu, ss_warp_reduce(s, SsSum<double>()), 0);
    kept = ss_warp_reduce(kept, SsSum<int>());
    if (kept == 0 || s < (double)e) {
        if (lane == 0) H[row] = 0.0f;
        return;
    }
    double ent = 0.0;
    for (int j = lane; j < n_cols; j += 32) {
        if (!(a[j] > e)) continue;
        const double p = (double)a[j] / s;
        if (p > (double)e) ent -= p * log(p);
    }
    ent = ss_warp_reduce(ent, SsSum<double>());
    if (lane == 0) H[row] = (float)ent;
}

extern "C" int ss_cu_row_entropy(const float *A, int n_rows, int n_cols, float *H)
{
    if (n_rows < 0 || n_cols < 0) return ss_cu_fail_arg("ss_cu_row_entropy: bad shape %d x %d", n_rows, n_cols);
    if (n_rows == 0) return 0;
    k_row_entropy<<<(n_rows + 7) / 8, 256>>>(A, n_rows, n_cols, H);
    SS_CU_LAUNCHED();
    return 0;
}
