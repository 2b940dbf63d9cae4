/* common.cuh: error reporting and block reductions shared by the .cu files of the CUDA backend. */
#ifndef SS_CUDA_COMMON_CUH
#define SS_CUDA_COMMON_CUH

#include <cuda_runtime.h>

/* Records "what: CUDA error text (file:line)" as this thread's message; clears a non-sticky error; returns the code. */
int ss_cu_fail_cuda(cudaError_t e, const char *what, const char *file, int line);
/* Records a printf-style message for a bad argument; returns -1. */
int ss_cu_fail_arg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#define SS_CU_CHECK(call)                                                                                      \
    do {                                                                                                       \
        cudaError_t e_ = (call);                                                                               \
        if (e_ != cudaSuccess) return ss_cu_fail_cuda(e_, #call, __FILE__, __LINE__);                          \
    } while (0)
/* After a launch: a bad configuration shows up here (the kernel's own faults show up at the next sync). */
#define SS_CU_LAUNCHED() SS_CU_CHECK(cudaGetLastError())

/* Warp and block reductions. blockDim.x must be a multiple of 32; sh: shared scratch of 32 elements. Every thread
 * of the block must call; every thread gets the result. */
template <typename T> struct SsSum {
    __device__ T operator()(T a, T b) const { return a + b; }
};
template <typename T> struct SsMax {
    __device__ T operator()(T a, T b) const { return b > a ? b : a; }
};

template <typename T, typename Op> __device__ T ss_warp_reduce(T v, Op op)
{
    for (int o = 16; o > 0; o >>= 1) v = op(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}

template <typename T, typename Op> __device__ T ss_block_reduce(T v, Op op, T identity, T *sh)
{
    const int lane = threadIdx.x & 31, w = threadIdx.x >> 5, nw = blockDim.x >> 5;
    v = ss_warp_reduce(v, op);
    __syncthreads(); /* sh may still be read by a previous call */
    if (lane == 0) sh[w] = v;
    __syncthreads();
    if (w == 0) {
        v = lane < nw ? sh[lane] : identity;
        v = ss_warp_reduce(v, op);
        if (lane == 0) sh[0] = v;
    }
    __syncthreads();
    return sh[0];
}

/* The arguments of an attention-with-probabilities kernel (ops.h ss_cu_mha; device pointers). */
struct SsMhaArgs {
    const float *q, *k, *v; /* q [H][T][d_h]; k, v [H_kv][T][d_h] */
    float *P, *out;         /* P [H][T][T]; out [T][ld_out] */
    const float *alibi;     /* [H] or NULL */
    int T, H, H_kv, d_h, ld_out, causal, window;
    float scale;
};

/* Whether query i sees key j (attention.h: causal, then the sliding window W > 0: keys i−W+1 .. i). */
__device__ __forceinline__ bool ss_visible(const SsMhaArgs &a, int i, int j)
{
    return !a.causal || (j <= i && (a.window <= 0 || j > i - a.window));
}

/* The score's ALiBi term added with the roundings of attention.c: s + (−(slope · |i − j|)), no FMA. */
__device__ __forceinline__ float ss_add_alibi(float s, float slope, int i, int j)
{
    return __fadd_rn(s, -__fmul_rn(slope, (float)(j <= i ? i - j : j - i)));
}

static inline unsigned ss_cu_blocks(size_t n, unsigned threads)
{
    size_t b = (n + threads - 1) / threads;
    return b > 65535u * 16u ? 65535u * 16u : (unsigned)b; /* kernels stride over the rest */
}

#endif
