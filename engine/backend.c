/* backend.c: the CPU and CUDA operation tables, the selection, and the CPU fallback (backend.h). */
#include "backend.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "activation.h"
#include "conv1d.h"
#include "device.h"
#include "glue.h"
#include "matmul.h"
#include "norm.h"
#include "ops.h" /* ss_cu_* */
#include "sink.h" /* ss_column_mean, ss_column_importance_window */

struct ss_backend {
    const char *name;
    ss_backend_ops ops;
    int is_host;
    atomic_int logged[SS_OP_COUNT]; /* 1 once op's fallback was logged */
    atomic_int fallbacks;
};

/* in ss_op order */
static const char *const OP_NAMES[SS_OP_COUNT] = {"matmul", "rmsnorm",  "layernorm", "gelu_erf", "gelu_tanh",
                                                  "swiglu", "rope",     "mha",       "embed",    "add",
                                                  "mul",    "add_rows", "scale",     "gather_heads", "attn_summary"};

const char *ss_op_name(ss_op op) { return op >= 0 && op < SS_OP_COUNT ? OP_NAMES[op] : "?"; }

/* ------------------------------------------------------------------------------------------ CPU */

static ss_status cpu_alloc(void **p, size_t bytes)
{
    *p = aligned_alloc(64, (bytes + 63) / 64 * 64 + 64);
    return *p ? SS_OK : ss_fail(SS_ERR_NOMEM, "out of memory (%.0f MB)", bytes / 1e6);
}
static void cpu_release(void *p) { free(p); }
static ss_status cpu_move(void *dst, const void *src, size_t bytes)
{
    if (bytes) memmove(dst, src, bytes);
    return SS_OK;
}
static ss_status cpu_sync(void) { return SS_OK; }
static ss_status cpu_matmul(float *y, const float *x, const float *W, const float *b, int T, int in, int out,
                            int w_in_out)
{
    if (w_in_out)
        ss_conv1d(y, x, W, b, T, in, out);
    else
        ss_matmul(y, x, W, b, T, in, out);
    return SS_OK;
}
static ss_status cpu_rmsnorm(float *y, const float *x, const float *gamma, int T, int d, float eps)
{
    ss_rmsnorm_ref(y, x, gamma, T, d, eps);
    return SS_OK;
}
static ss_status cpu_layernorm(float *y, const float *x, const float *gamma, const float *beta, int T, int d, float eps)
{
    ss_layernorm_ref(y, x, gamma, beta, T, d, eps);
    return SS_OK;
}
static ss_status cpu_gelu_erf(float *x, size_t n)
{
    ss_gelu_erf(x, n);
    return SS_OK;
}
static ss_status cpu_gelu_tanh(float *x, size_t n)
{
    ss_gelu_tanh(x, n);
    return SS_OK;
}
static ss_status cpu_swiglu(float *gate, const float *up, size_t n)
{
    ss_swiglu(gate, up, n);
    return SS_OK;
}
static ss_status cpu_rope(float *x, int n, int T, int d_h, int rot_dims, ss_rope_pairing pairing, const float *cos_t,
                          const float *sin_t)
{
    ss_rope_apply_ref(x, n, T, d_h, rot_dims, pairing, cos_t, sin_t);
    return SS_OK;
}
static ss_status cpu_mha(const ss_mha_desc *a, float *P, float *out, int ld_out, const float *q, const float *k,
                         const float *v)
{
    ss_mha(a, P, out, ld_out, q, k, v);
    return SS_OK;
}
static ss_status cpu_embed(float *x, const float *table, const int32_t *ids, int T, int d)
{
    ss_embed(x, table, ids, T, d);
    return SS_OK;
}
static ss_status cpu_add(float *y, const float *x, size_t n)
{
    ss_add_inplace(y, x, n);
    return SS_OK;
}
static ss_status cpu_mul(float *y, const float *x, size_t n)
{
    ss_mul_inplace(y, x, n);
    return SS_OK;
}
static ss_status cpu_add_rows(float *y, const float *row, int T, int d)
{
    ss_add_rows(y, row, T, d);
    return SS_OK;
}
static ss_status cpu_scale(float *x, float s, size_t n)
{
    ss_scale_inplace(x, s, n);
    return SS_OK;
}
static ss_status cpu_gather_heads(float *dst, const float *src, int T, int n, int d_h, int ld, int offset, int stride)
{
    ss_gather_heads(dst, src, T, n, d_h, ld, offset, stride);
    return SS_OK;
}

static ss_status cpu_attn_summary(const float *A, int n_mats, int T, int causal, int window, float *col_mean,
                                  float *alpha)
{
    for (int m = 0; m < n_mats; m++) {
        const float *Am = A + (size_t)m * T * T; /* [T][T] */
        ss_column_mean(Am, T, col_mean + (size_t)m * T);
        ss_column_importance_window(Am, T, causal, window, alpha + (size_t)m * T);
    }
    return SS_OK;
}

static ss_backend g_cpu = {
    .name = "cpu",
    .is_host = 1,
    .ops = {cpu_alloc, cpu_release, cpu_move, cpu_move, cpu_move, cpu_sync, cpu_matmul, cpu_rmsnorm, cpu_layernorm,
            cpu_gelu_erf, cpu_gelu_tanh, cpu_swiglu, cpu_rope, cpu_mha, cpu_embed, cpu_add, cpu_mul, cpu_add_rows,
            cpu_scale, cpu_gather_heads, cpu_attn_summary},
};

const ss_backend *ss_backend_cpu(void) { return &g_cpu; }
const ss_backend_ops *ss_backend_cpu_ops(void) { return &g_cpu.ops; }

/* ------------------------------------------------------------------------------------------ CUDA */

/* An ss_cu_* result as a status naming the operation. */
static ss_status cu(int e, const char *op)
{
    return e ? ss_fail(SS_ERR_INTERNAL, "CUDA %s: %s", op, ss_cu_errmsg()) : SS_OK;
}

static ss_status cu_alloc(void **p, size_t bytes)
{
    if (ss_cu_malloc(p, bytes))
        return ss_fail(SS_ERR_NOMEM, "CUDA: cannot allocate %.0f MB on the device: %s", bytes / 1e6, ss_cu_errmsg());
    return SS_OK;
}
static void cu_release(void *p) { ss_cu_free(p); }
static ss_status cu_upload(void *dst, const void *src, size_t bytes) { return cu(ss_cu_h2d(dst, src, bytes), "upload"); }
static ss_status cu_download(void *dst, const void *src, size_t bytes)
{
    return cu(ss_cu_d2h(dst, src, bytes), "download");
}
static ss_status cu_copy(void *dst, const void *src, size_t bytes) { return cu(ss_cu_copy(dst, src, bytes), "copy"); }
static ss_status cu_sync(void) { return cu(ss_cu_sync(), "sync"); }
static ss_status cu_matmul(float *y, const float *x, const float *W, const float *b, int T, int in, int out,
                           int w_in_out)
{
    return cu(ss_cu_matmul(y, x, W, b, T, in, out, w_in_out), "matmul");
}
static ss_status cu_rmsnorm(float *y, const float *x, const float *gamma, int T, int d, float eps)
{
    return cu(ss_cu_rmsnorm(y, x, gamma, T, d, eps), "rmsnorm");
}
static ss_status cu_layernorm(float *y, const float *x, const float *gamma, const float *beta, int T, int d, float eps)
{
    return cu(ss_cu_layernorm(y, x, gamma, beta, T, d, eps), "layernorm");
}
static ss_status cu_gelu_erf(float *x, size_t n) { return cu(ss_cu_gelu_erf(x, n), "gelu_erf"); }
static ss_status cu_gelu_tanh(float *x, size_t n) { return cu(ss_cu_gelu_tanh(x, n), "gelu_tanh"); }
static ss_status cu_swiglu(float *gate, const float *up, size_t n) { return cu(ss_cu_swiglu(gate, up, n), "swiglu"); }
static ss_status cu_rope(float *x, int n, int T, int d_h, int rot_dims, ss_rope_pairing pairing, const float *cos_t,
                         const float *sin_t)
{
    return cu(ss_cu_rope_apply(x, n, T, d_h, rot_dims, pairing, cos_t, sin_t), "rope");
}
static ss_status cu_mha(const ss_mha_desc *a, float *P, float *out, int ld_out, const float *q, const float *k,
                        const float *v)
{
    return cu(ss_cu_mha(a, P, out, ld_out, q, k, v), "mha");
}
static ss_status cu_embed(float *x, const float *table, const int32_t *ids, int T, int d)
{
    return cu(ss_cu_embed(x, table, ids, T, d), "embed");
}
static ss_status cu_add(float *y, const float *x, size_t n) { return cu(ss_cu_add(y, x, n), "add"); }
static ss_status cu_mul(float *y, const float *x, size_t n) { return cu(ss_cu_mul(y, x, n), "mul"); }
static ss_status cu_add_rows(float *y, const float *row, int T, int d)
{
    return cu(ss_cu_add_rows(y, row, T, d), "add_rows");
}
static ss_status cu_scale(float *x, float s, size_t n) { return cu(ss_cu_scale(x, s, n), "scale"); }
static ss_status cu_gather_heads(float *dst, const float *src, int T, int n, int d_h, int ld, int offset, int stride)
{
    return cu(ss_cu_gather_heads(dst, src, T, n, d_h, ld, offset, stride), "gather_heads");
}
/* The column mean is the column importance of an unmasked matrix (every query counts, divided by T). */
static ss_status cu_attn_summary(const float *A, int n_mats, int T, int causal, int window, float *col_mean,
                                 float *alpha)
{
    return cu(ss_cu_column_importance(A, n_mats, T, 0, 0, col_mean) ||
                  ss_cu_column_importance(A, n_mats, T, causal, window, alpha),
              "attn_summary");
}

/* matmul is cleared at selection when cuBLAS cannot be loaded (then it falls back to the CPU, logged). */
static ss_backend g_cuda = {
    .name = "cuda",
    .ops = {cu_alloc, cu_release, cu_upload, cu_download, cu_copy, cu_sync, cu_matmul, cu_rmsnorm, cu_layernorm,
            cu_gelu_erf, cu_gelu_tanh, cu_swiglu, cu_rope, cu_mha, cu_embed, cu_add, cu_mul, cu_add_rows, cu_scale,
            cu_gather_heads, cu_attn_summary},
};

/* ------------------------------------------------------------------------------------------ selection */

/* The CUDA backend with its GEMMs: says in why when cuBLAS is missing (matmul then runs on the CPU). */
static const ss_backend *pick_cuda(const char *name, char *why, int why_cap)
{
    char blas[160] = "";
    const int have_blas = ss_cu_blas_available(blas, sizeof blas);
    if (!have_blas) g_cuda.ops.matmul = NULL;
    if (why)
        snprintf(why, (size_t)why_cap, "CUDA device found (%s)%s%s%s", name, have_blas ? "" : "; ", blas,
                 have_blas ? "" : ": dense layers run on the CPU");
    return &g_cuda;
}

ss_status ss_backend_select(ss_backend_choice choice, const ss_backend **out, char *why, int why_cap)
{
    char reason[128] = "", name[96] = "";
    const int n_dev = choice == SS_BACKEND_CPU ? 0 : ss_cuda_device_count(reason, sizeof reason);
    if (n_dev > 0) ss_cuda_device_name(0, name, sizeof name);
    *out = &g_cpu;
    switch (choice) {
    case SS_BACKEND_CPU:
        if (why) snprintf(why, (size_t)why_cap, "CPU (chosen)");
        return SS_OK;
    case SS_BACKEND_CUDA:
        if (n_dev <= 0)
            return ss_fail(SS_ERR_UNSUPPORTED, "backend cuda was requested, but %s (use --backend cpu or auto)",
                           ss_cuda_built() ? reason : "this sinkscope was built without CUDA");
        *out = pick_cuda(name, why, why_cap);
        return SS_OK;
    case SS_BACKEND_AUTO:
    default:
        if (n_dev > 0)
            *out = pick_cuda(name, why, why_cap);
        else if (why)
            snprintf(why, (size_t)why_cap, "no CUDA device (%s): running on the CPU", reason);
        return SS_OK;
    }
}

const char *ss_backend_name(const ss_backend *b) { return b->name; }

ss_status ss_backend_bind(const ss_backend *b, int dev)
{
    if (b != &g_cuda) return SS_OK;
    return cu(ss_cu_set_device(dev < 0 ? 0 : dev), "set device");
}
int ss_backend_is_host(const ss_backend *b) { return b->is_host; }

int ss_backend_has(const ss_backend *b, ss_op op)
{
    const ss_backend_ops *o = &b->ops;
    const void *f[SS_OP_COUNT] = {
        (const void *)o->matmul,   (const void *)o->rmsnorm,  (const void *)o->layernorm, (const void *)o->gelu_erf,
        (const void *)o->gelu_tanh, (const void *)o->swiglu,  (const void *)o->rope,      (const void *)o->mha,
        (const void *)o->embed,    (const void *)o->add,      (const void *)o->mul,       (const void *)o->add_rows,
        (const void *)o->scale,    (const void *)o->gather_heads, (const void *)o->attn_summary};
    return op >= 0 && op < SS_OP_COUNT && f[op] != NULL;
}

int ss_backend_fallbacks(const ss_backend *b) { return atomic_load(&((ss_backend *)b)->fallbacks); }

ss_status ss_backend_custom(const char *name, const ss_backend_ops *ops, int is_host, ss_backend **out)
{
    *out = NULL;
    if (!ops->alloc || !ops->release || !ops->upload || !ops->download || !ops->copy || !ops->sync)
        return ss_fail(SS_ERR_INPUT, "backend %s: a custom table needs every memory function", name);
    ss_backend *b = calloc(1, sizeof *b);
    if (!b) return ss_fail(SS_ERR_NOMEM, "backend %s: out of memory", name);
    b->name = name;
    b->ops = *ops;
    b->is_host = is_host;
    *out = b;
    return SS_OK;
}

void ss_backend_custom_free(ss_backend *b) { free(b); }

/* ------------------------------------------------------------------------------------------ memory */

ss_status ss_be_alloc(const ss_backend *b, void **p, size_t bytes) { return b->ops.alloc(p, bytes); }
void ss_be_release(const ss_backend *b, void *p)
{
    if (p) b->ops.release(p);
}
ss_status ss_be_upload(const ss_backend *b, void *dst, const void *src, size_t bytes)
{
    return b->ops.upload(dst, src, bytes);
}
ss_status ss_be_download(const ss_backend *b, void *dst, const void *src, size_t bytes)
{
    return b->ops.download(dst, src, bytes);
}
ss_status ss_be_copy(const ss_backend *b, void *dst, const void *src, size_t bytes)
{
    return b->ops.copy(dst, src, bytes);
}
ss_status ss_be_sync(const ss_backend *b) { return b->ops.sync(); }

/* ------------------------------------------------------------------------------------------ fallback */

/* Notes that b lacks op (logged the first time per backend and operation). */
static void fallback_note(const ss_backend *cb, ss_op op)
{
    ss_backend *b = (ss_backend *)cb; /* the counters are the only mutable part */
    atomic_fetch_add(&b->fallbacks, 1);
    if (atomic_exchange(&b->logged[op], 1) == 0)
        fprintf(stderr, "[sinkscope] backend %s has no %s: it runs on the CPU, through host copies (logged once)\n",
                b->name, ss_op_name(op));
}

/* Host copies of the backend buffers one fallback call touches: inputs downloaded, outputs uploaded back. A
 * buffer named twice (y = x) gets one copy. */
enum { STAGE_MAX = 8 };
typedef struct {
    const ss_backend *b;
    struct {
        const void *dev;
        void *host;
        size_t bytes;
        int out;
    } buf[STAGE_MAX];
    int n;
    ss_status st;
} stage;

static void *stage_buf(stage *s, const void *dev, size_t bytes, int out)
{
    if (!dev || s->st != SS_OK) return NULL;
    for (int i = 0; i < s->n; i++)
        if (s->buf[i].dev == dev) {
            s->buf[i].out |= out;
            return s->buf[i].host;
        }
    void *h = malloc(bytes ? bytes : 1);
    if (!h) {
        s->st = ss_fail(SS_ERR_NOMEM, "CPU fallback: out of memory (%.0f MB)", bytes / 1e6);
        return NULL;
    }
    s->buf[s->n].dev = dev;
    s->buf[s->n].host = h;
    s->buf[s->n].bytes = bytes;
    s->buf[s->n].out = out;
    s->n++;
    if (bytes) s->st = s->b->ops.download(h, dev, bytes);
    return h;
}

/* Uploads the outputs (when st is SS_OK) and frees every copy. */
static ss_status stage_end(stage *s, ss_status st)
{
    if (s->st != SS_OK) st = s->st;
    for (int i = 0; i < s->n; i++) {
        if (st == SS_OK && s->buf[i].out) st = s->b->ops.upload((void *)s->buf[i].dev, s->buf[i].host, s->buf[i].bytes);
        free(s->buf[i].host);
    }
    return st;
}

#define F sizeof(float)
#define IN(p, n) stage_buf(&s, (p), (size_t)(n), 0)
#define OUT(p, n) stage_buf(&s, (p), (size_t)(n), 1)
/* Runs b's operation, or the CPU's on host copies: DECLS stages the buffers (s), CALL uses them. */
#define DISPATCH(b, field, op, ARGS, DECLS, CALL)                                                               \
    do {                                                                                                        \
        if ((b)->ops.field) return (b)->ops.field ARGS;                                                         \
        if ((b)->is_host) {                                                                                     \
            fallback_note((b), (op));                                                                           \
            return g_cpu.ops.field ARGS;                                                                        \
        }                                                                                                       \
        fallback_note((b), (op));                                                                               \
        stage s = {.b = (b)};                                                                                   \
        DECLS;                                                                                                  \
        return stage_end(&s, s.st == SS_OK ? (CALL) : s.st);                                                    \
    } while (0)

ss_status ss_be_matmul(const ss_backend *b, float *y, const float *x, const float *W, const float *bias, int T, int in,
                       int out, int w_in_out)
{
    DISPATCH(b, matmul, SS_OP_MATMUL, (y, x, W, bias, T, in, out, w_in_out),
             float *hx = IN(x, F * T * in); float *hW = IN(W, F * in * out); float *hb = IN(bias, F * out);
             float *hy = OUT(y, F * T * out),
             cpu_matmul(hy, hx, hW, hb, T, in, out, w_in_out));
}
ss_status ss_be_rmsnorm(const ss_backend *b, float *y, const float *x, const float *gamma, int T, int d, float eps)
{
    DISPATCH(b, rmsnorm, SS_OP_RMSNORM, (y, x, gamma, T, d, eps),
             float *hx = IN(x, F * T * d); float *hg = IN(gamma, F * d); float *hy = OUT(y, F * T * d),
             cpu_rmsnorm(hy, hx, hg, T, d, eps));
}
ss_status ss_be_layernorm(const ss_backend *b, float *y, const float *x, const float *gamma, const float *beta, int T,
                          int d, float eps)
{
    DISPATCH(b, layernorm, SS_OP_LAYERNORM, (y, x, gamma, beta, T, d, eps),
             float *hx = IN(x, F * T * d); float *hg = IN(gamma, F * d); float *hb = IN(beta, F * d);
             float *hy = OUT(y, F * T * d), cpu_layernorm(hy, hx, hg, hb, T, d, eps));
}
ss_status ss_be_gelu_erf(const ss_backend *b, float *x, size_t n)
{
    DISPATCH(b, gelu_erf, SS_OP_GELU_ERF, (x, n), float *hx = OUT(x, F * n), cpu_gelu_erf(hx, n));
}
ss_status ss_be_gelu_tanh(const ss_backend *b, float *x, size_t n)
{
    DISPATCH(b, gelu_tanh, SS_OP_GELU_TANH, (x, n), float *hx = OUT(x, F * n), cpu_gelu_tanh(hx, n));
}
ss_status ss_be_swiglu(const ss_backend *b, float *gate, const float *up, size_t n)
{
    DISPATCH(b, swiglu, SS_OP_SWIGLU, (gate, up, n), float *hg = OUT(gate, F * n); float *hu = IN(up, F * n),
             cpu_swiglu(hg, hu, n));
}
ss_status ss_be_rope(const ss_backend *b, float *x, int n, int T, int d_h, int rot_dims, ss_rope_pairing pairing,
                     const float *cos_t, const float *sin_t)
{
    const size_t nt = F * (size_t)T * (rot_dims / 2);
    DISPATCH(b, rope, SS_OP_ROPE, (x, n, T, d_h, rot_dims, pairing, cos_t, sin_t),
             float *hx = OUT(x, F * n * T * d_h); float *hc = IN(cos_t, nt); float *hs = IN(sin_t, nt),
             cpu_rope(hx, n, T, d_h, rot_dims, pairing, hc, hs));
}
ss_status ss_be_mha(const ss_backend *b, const ss_mha_desc *a, float *P, float *out, int ld_out, const float *q,
                    const float *k, const float *v)
{
    const size_t nq = F * (size_t)a->H * a->T * a->d_h, nkv = F * (size_t)a->H_kv * a->T * a->d_h;
    ss_mha_desc h = *a;
    DISPATCH(b, mha, SS_OP_MHA, (a, P, out, ld_out, q, k, v),
             float *hq = IN(q, nq); float *hk = IN(k, nkv); float *hv = IN(v, nkv);
             h.alibi = IN(a->alibi, F * a->H); float *hP = OUT(P, F * (size_t)a->H * a->T * a->T);
             float *ho = OUT(out, F * (size_t)a->T * ld_out), /* downloaded too: columns it does not write stay */
             cpu_mha(&h, hP, ho, ld_out, hq, hk, hv));
}
ss_status ss_be_embed(const ss_backend *b, float *x, const float *table, const int32_t *ids, int T, int d, int V)
{
    DISPATCH(b, embed, SS_OP_EMBED, (x, table, ids, T, d),
             float *ht = IN(table, F * (size_t)V * d); int32_t *hi = IN(ids, sizeof(int32_t) * T);
             float *hx = OUT(x, F * T * d), cpu_embed(hx, ht, hi, T, d));
}
ss_status ss_be_add(const ss_backend *b, float *y, const float *x, size_t n)
{
    DISPATCH(b, add, SS_OP_ADD, (y, x, n), float *hy = OUT(y, F * n); float *hx = IN(x, F * n), cpu_add(hy, hx, n));
}
ss_status ss_be_mul(const ss_backend *b, float *y, const float *x, size_t n)
{
    DISPATCH(b, mul, SS_OP_MUL, (y, x, n), float *hy = OUT(y, F * n); float *hx = IN(x, F * n), cpu_mul(hy, hx, n));
}
ss_status ss_be_add_rows(const ss_backend *b, float *y, const float *row, int T, int d)
{
    DISPATCH(b, add_rows, SS_OP_ADD_ROWS, (y, row, T, d), float *hy = OUT(y, F * T * d); float *hr = IN(row, F * d),
             cpu_add_rows(hy, hr, T, d));
}
ss_status ss_be_scale(const ss_backend *b, float *x, float sc, size_t n)
{
    DISPATCH(b, scale, SS_OP_SCALE, (x, sc, n), float *hx = OUT(x, F * n), cpu_scale(hx, sc, n));
}
ss_status ss_be_gather_heads(const ss_backend *b, float *dst, const float *src, int T, int n, int d_h, int ld,
                             int offset, int stride)
{
    DISPATCH(b, gather_heads, SS_OP_GATHER_HEADS, (dst, src, T, n, d_h, ld, offset, stride),
             float *hs = IN(src, F * (size_t)T * ld); float *hd = OUT(dst, F * (size_t)n * T * d_h),
             cpu_gather_heads(hd, hs, T, n, d_h, ld, offset, stride));
}
ss_status ss_be_attn_summary(const ss_backend *b, const float *A, int n_mats, int T, int causal, int window,
                             float *col_mean, float *alpha)
{
    const size_t nA = F * (size_t)n_mats * T * T, ns = F * (size_t)n_mats * T;
    DISPATCH(b, attn_summary, SS_OP_ATTN_SUMMARY, (A, n_mats, T, causal, window, col_mean, alpha),
             float *hA = IN(A, nA); float *hm = OUT(col_mean, ns); float *ha = OUT(alpha, ns),
             cpu_attn_summary(hA, n_mats, T, causal, window, hm, ha));
}
