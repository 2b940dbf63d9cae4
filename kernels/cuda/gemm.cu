/* gemm.cu: the forward pass's dense layers on the device through cuBLAS (ops.h: ss_cu_matmul).
 *
 * cuBLAS is loaded at run time (dlopen of libcublas.so.13, then .so.12, then libcublas.so, each also under
 * $CUDA_HOME/lib64 and /usr/local/cuda/lib64), never linked: the binary starts on machines without it, and a
 * build with nvcc costs no cuBLAS link time. Without it ss_cu_matmul fails with the reason, and the backend
 * table (engine/backend.c) reports it when the CUDA backend is selected.
 *
 * Row-major y [T][out] = x [T][in] · Wᵀ + b, with W [out][in] (nn.Linear) or, w_in_out = 1, W [in][out]
 * (GPT-2's Conv1D). In cuBLAS's column-major terms y is yᵀ [out][T] with ld out, x is xᵀ [in][T] with ld in,
 * and W [out][in] row-major is Wᵀ [in][out] with ld in: yᵀ = op(W)·xᵀ with op = transpose for nn.Linear
 * (lda in) and none for Conv1D (lda out). Plain FP32 (CUBLAS_DEFAULT_MATH: no TF32). The bias is added by a
 * second kernel (ss_cu_add_rows), as the CPU adds it after the product. */
#include <cublas_v2.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "common.cuh"
#include "ops.h"

typedef cublasStatus_t (*create_fn)(cublasHandle_t *);
typedef cublasStatus_t (*sgemm_fn)(cublasHandle_t, cublasOperation_t, cublasOperation_t, int, int, int,
                                   const float *, const float *, int, const float *, int, const float *, float *, int);

static struct {
    pthread_once_t once;
    void *lib;
    create_fn create;
    sgemm_fn sgemm;
    char why[256];
} g_blas = {PTHREAD_ONCE_INIT, NULL, NULL, NULL, ""};

static thread_local cublasHandle_t g_handle; /* one per host thread (cuBLAS handles are not thread-safe) */

static void load_cublas(void)
{
    static const char *const names[] = {"libcublas.so.13", "libcublas.so.12", "libcublas.so"};
    const char *home = getenv("CUDA_HOME");
    char path[512];
    for (int pass = 0; pass < 3 && !g_blas.lib; pass++)
        for (int i = 0; i < 3 && !g_blas.lib; i++) {
            if (pass == 0) snprintf(path, sizeof path, "%s", names[i]);
            else if (pass == 1 && home) snprintf(path, sizeof path, "%.400s/lib64/%s", home, names[i]);
            else if (pass == 2) snprintf(path, sizeof path, "/usr/local/cuda/lib64/%s", names[i]);
            else continue;
            g_blas.lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
        }
    if (!g_blas.lib) {
        snprintf(g_blas.why, sizeof g_blas.why, "cuBLAS not found (libcublas.so.13/.12; set CUDA_HOME or LD_LIBRARY_PATH)");
        return;
    }
    g_blas.create = (create_fn)dlsym(g_blas.lib, "cublasCreate_v2");
    g_blas.sgemm = (sgemm_fn)dlsym(g_blas.lib, "cublasSgemm_v2");
    if (!g_blas.create || !g_blas.sgemm) {
        snprintf(g_blas.why, sizeof g_blas.why, "cuBLAS lacks cublasCreate_v2/cublasSgemm_v2");
        g_blas.create = NULL;
        g_blas.sgemm = NULL;
    }
}

extern "C" int ss_cu_blas_available(char *why, int why_cap)
{
    pthread_once(&g_blas.once, load_cublas);
    if (!g_blas.sgemm && why) snprintf(why, (size_t)why_cap, "%s", g_blas.why);
    return g_blas.sgemm != NULL;
}

extern "C" int ss_cu_matmul(float *y, const float *x, const float *W, const float *b, int T, int in, int out,
                            int w_in_out)
{
    if (T < 0 || in <= 0 || out <= 0) return ss_cu_fail_arg("ss_cu_matmul: bad shape T=%d in=%d out=%d", T, in, out);
    if (T == 0) return 0;
    if (!ss_cu_blas_available(NULL, 0)) return ss_cu_fail_arg("ss_cu_matmul: %s", g_blas.why);
    if (!g_handle) {
        cublasStatus_t s = g_blas.create(&g_handle);
        if (s != CUBLAS_STATUS_SUCCESS) return ss_cu_fail_arg("ss_cu_matmul: cublasCreate failed (status %d)", (int)s);
    }
    const float one = 1.0f, zero = 0.0f;
    cublasStatus_t s = w_in_out ? g_blas.sgemm(g_handle, CUBLAS_OP_N, CUBLAS_OP_N, out, T, in, &one, W, out, x, in,
                                               &zero, y, out)
                                : g_blas.sgemm(g_handle, CUBLAS_OP_T, CUBLAS_OP_N, out, T, in, &one, W, in, x, in,
                                               &zero, y, out);
    if (s != CUBLAS_STATUS_SUCCESS) return ss_cu_fail_arg("ss_cu_matmul: cublasSgemm failed (status %d)", (int)s);
    return b ? ss_cu_add_rows(y, b, T, out) : 0;
}
