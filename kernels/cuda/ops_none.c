/* ops_none.c: the CUDA operations (ops.h) of a build without nvcc: each fails with "built without CUDA".
 * Nothing calls them in such a build (ss_cuda_device_count() is 0, so the CUDA backend is never selected);
 * they exist so that the engine and the tests link the same way in both builds. */
#include "ops.h"

static const char *const NONE = "this sinkscope was built without CUDA";

const char *ss_cu_errmsg(void) { return NONE; }

#define NO_CUDA return -1

int ss_cu_malloc(void **p, size_t bytes)
{
    (void)bytes;
    *p = NULL;
    NO_CUDA;
}
int ss_cu_free(void *p) { return p ? -1 : 0; }
int ss_cu_h2d(void *dst, const void *src, size_t bytes) { (void)dst, (void)src, (void)bytes; NO_CUDA; }
int ss_cu_d2h(void *dst, const void *src, size_t bytes) { (void)dst, (void)src, (void)bytes; NO_CUDA; }
int ss_cu_memset(void *p, int byte, size_t bytes) { (void)p, (void)byte, (void)bytes; NO_CUDA; }
int ss_cu_sync(void) { NO_CUDA; }
int ss_cu_set_device(int dev) { (void)dev; NO_CUDA; }
int ss_cu_timer_start(void) { NO_CUDA; }
int ss_cu_timer_stop(float *ms)
{
    *ms = 0.0f;
    NO_CUDA;
}

int ss_cu_rmsnorm(float *y, const float *x, const float *gamma, int T, int d, float eps)
{
    (void)y, (void)x, (void)gamma, (void)T, (void)d, (void)eps;
    NO_CUDA;
}
int ss_cu_layernorm(float *y, const float *x, const float *gamma, const float *beta, int T, int d, float eps)
{
    (void)y, (void)x, (void)gamma, (void)beta, (void)T, (void)d, (void)eps;
    NO_CUDA;
}
int ss_cu_gelu_erf(float *x, size_t n) { (void)x, (void)n; NO_CUDA; }
int ss_cu_gelu_tanh(float *x, size_t n) { (void)x, (void)n; NO_CUDA; }
int ss_cu_silu(float *x, size_t n) { (void)x, (void)n; NO_CUDA; }
int ss_cu_swiglu(float *gate, const float *up, size_t n) { (void)gate, (void)up, (void)n; NO_CUDA; }
int ss_cu_geglu(float *gate, const float *up, size_t n) { (void)gate, (void)up, (void)n; NO_CUDA; }
int ss_cu_rope_apply(float *x, int n, int T, int d_h, int rot_dims, ss_rope_pairing pairing, const float *cos_t,
                     const float *sin_t)
{
    (void)x, (void)n, (void)T, (void)d_h, (void)rot_dims, (void)pairing, (void)cos_t, (void)sin_t;
    NO_CUDA;
}
int ss_cu_mha(const ss_mha_desc *a, float *P, float *out, int ld_out, const float *q, const float *k, const float *v)
{
    (void)a, (void)P, (void)out, (void)ld_out, (void)q, (void)k, (void)v;
    NO_CUDA;
}
int ss_cu_mha_version(int version, ss_cu_mha_shape shape, const ss_mha_desc *a, float *P, float *out, int ld_out,
                      const float *q, const float *k, const float *v)
{
    (void)version, (void)shape, (void)a, (void)P, (void)out, (void)ld_out, (void)q, (void)k, (void)v;
    NO_CUDA;
}
int ss_cu_column_importance(const float *A, int n_mats, int T, int causal, int window, float *alpha)
{
    (void)A, (void)n_mats, (void)T, (void)causal, (void)window, (void)alpha;
    NO_CUDA;
}
int ss_cu_sink_count(const float *alpha, int n_mats, int T, float eps, int *count)
{
    (void)alpha, (void)n_mats, (void)T, (void)eps, (void)count;
    NO_CUDA;
}
int ss_cu_argmax_rows(const float *v, int n_rows, int ld, int n_candidates, int *idx)
{
    (void)v, (void)n_rows, (void)ld, (void)n_candidates, (void)idx;
    NO_CUDA;
}
int ss_cu_row_entropy(const float *A, int n_rows, int n_cols, float *H)
{
    (void)A, (void)n_rows, (void)n_cols, (void)H;
    NO_CUDA;
}

int ss_cu_copy(void *dst, const void *src, size_t bytes) { (void)dst, (void)src, (void)bytes; NO_CUDA; }
int ss_cu_embed(float *x, const float *table, const int *ids, int T, int d)
{
    (void)x, (void)table, (void)ids, (void)T, (void)d;
    NO_CUDA;
}
int ss_cu_add(float *y, const float *x, size_t n) { (void)y, (void)x, (void)n; NO_CUDA; }
int ss_cu_mul(float *y, const float *x, size_t n) { (void)y, (void)x, (void)n; NO_CUDA; }
int ss_cu_add_rows(float *y, const float *row, int T, int d) { (void)y, (void)row, (void)T, (void)d; NO_CUDA; }
int ss_cu_scale(float *x, float s, size_t n) { (void)x, (void)s, (void)n; NO_CUDA; }
int ss_cu_gather_heads(float *dst, const float *src, int T, int n, int d_h, int ld, int offset, int stride)
{
    (void)dst, (void)src, (void)T, (void)n, (void)d_h, (void)ld, (void)offset, (void)stride;
    NO_CUDA;
}
int ss_cu_blas_available(char *why, int why_cap)
{
    if (why && why_cap > 0) {
        const char *m = "this sinkscope was built without CUDA";
        int i = 0;
        for (; m[i] && i < why_cap - 1; i++) why[i] = m[i];
        why[i] = 0;
    }
    return 0;
}
int ss_cu_matmul(float *y, const float *x, const float *W, const float *b, int T, int in, int out, int w_in_out)
{
    (void)y, (void)x, (void)W, (void)b, (void)T, (void)in, (void)out, (void)w_in_out;
    NO_CUDA;
}
