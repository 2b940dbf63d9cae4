/* backend.c: the CPU and CUDA operation tables, the selection, and the CPU fallback (backend.h). */
#include "backend.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "activation.h"
#include "device.h"
#include "divergence.h" /* ss_row_entropy_nats */
#include "matmul.h"
#include "norm.h"
#include "ops.h" /* ss_cu_* */
#include "sink.h"

struct ss_backend {
    const char *name;
    ss_backend_ops ops;
    atomic_int logged[SS_OP_COUNT]; /* 1 once op's fallback was logged */
    atomic_int fallbacks;
};

/* in ss_op order */
static const char *const OP_NAMES[SS_OP_COUNT] = {"matmul", "rmsnorm", "layernorm", "gelu_erf", "gelu_tanh", "swiglu",
                                                  "geglu",  "rope",    "mha",       "column_importance", "row_entropy"};

const char *ss_op_name(ss_op op) { return op >= 0 && op < SS_OP_COUNT ? OP_NAMES[op] : "?"; }

/* ------------------------------------------------------------------------------------------ CPU */

static ss_status cpu_matmul(float *y, const float *x, const float *W, const float *b, int T, int in, int out)
{
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
static ss_status cpu_geglu(float *gate, const float *up, size_t n)
{
    ss_gelu_tanh(gate, n);
    for (size_t i = 0; i < n; i++) gate[i] *= up[i];
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
static ss_status cpu_column_importance(const float *A, int n_mats, int T, int causal, int window, float *alpha)
{
    for (int m = 0; m < n_mats; m++)
        ss_column_importance_window(A + (size_t)m * T * T, T, causal, window, alpha + (size_t)m * T);
    return SS_OK;
}
static ss_status cpu_row_entropy(const float *A, int n_rows, int n_cols, float *H)
{
    ss_row_entropy_nats(A, n_rows, n_cols, H);
    return SS_OK;
}

static ss_backend g_cpu = {
    .name = "cpu",
    .ops = {cpu_matmul, cpu_rmsnorm, cpu_layernorm, cpu_gelu_erf, cpu_gelu_tanh, cpu_swiglu, cpu_geglu, cpu_rope,
            cpu_mha, cpu_column_importance, cpu_row_entropy},
};

const ss_backend *ss_backend_cpu(void) { return &g_cpu; }

/* ------------------------------------------------------------------------------------------ CUDA */

/* Device buffers of one call, freed together. */
typedef struct {
    void *p[8];
    int n;
} devbufs;

static ss_status cu_fail(const char *op) { return ss_fail(SS_ERR_INTERNAL, "CUDA %s: %s", op, ss_cu_errmsg()); }

static void dev_free(devbufs *d)
{
    for (int i = 0; i < d->n; i++) ss_cu_free(d->p[i]);
    d->n = 0;
}

/* A device buffer of `bytes`, filled from src when src is not NULL. */
static int dev_alloc(devbufs *d, void **dst, const void *src, size_t bytes)
{
    *dst = NULL;
    if (ss_cu_malloc(dst, bytes)) return -1;
    d->p[d->n++] = *dst;
    return src ? ss_cu_h2d(*dst, src, bytes) : 0;
}

static ss_status cu_rmsnorm(float *y, const float *x, const float *gamma, int T, int d, float eps)
{
    devbufs b = {0};
    void *dx, *dg;
    const size_t nx = (size_t)T * d * sizeof(float);
    int e = dev_alloc(&b, &dx, x, nx) || dev_alloc(&b, &dg, gamma, (size_t)d * sizeof(float)) ||
            ss_cu_rmsnorm(dx, dx, dg, T, d, eps) || ss_cu_d2h(y, dx, nx);
    ss_status st = e ? cu_fail("rmsnorm") : SS_OK;
    dev_free(&b);
    return st;
}

static ss_status cu_layernorm(float *y, const float *x, const float *gamma, const float *beta, int T, int d, float eps)
{
    devbufs b = {0};
    void *dx, *dg, *db;
    const size_t nx = (size_t)T * d * sizeof(float), nd = (size_t)d * sizeof(float);
    int e = dev_alloc(&b, &dx, x, nx) || dev_alloc(&b, &dg, gamma, nd) || dev_alloc(&b, &db, beta, nd) ||
            ss_cu_layernorm(dx, dx, dg, db, T, d, eps) || ss_cu_d2h(y, dx, nx);
    ss_status st = e ? cu_fail("layernorm") : SS_OK;
    dev_free(&b);
    return st;
}

/* kind: 0 gelu_erf, 1 gelu_tanh, 2 swiglu, 3 geglu */
static ss_status cu_act(int kind, float *x, const float *up, size_t n)
{
    static const char *const names[] = {"gelu_erf", "gelu_tanh", "swiglu", "geglu"};
    devbufs b = {0};
    void *dx, *du = NULL;
    const size_t bytes = n * sizeof(float);
    int e = dev_alloc(&b, &dx, x, bytes) || (up && dev_alloc(&b, &du, up, bytes));
    if (!e) {
        switch (kind) {
        case 0: e = ss_cu_gelu_erf(dx, n); break;
        case 1: e = ss_cu_gelu_tanh(dx, n); break;
        case 2: e = ss_cu_swiglu(dx, du, n); break;
        default: e = ss_cu_geglu(dx, du, n); break;
        }
    }
    e = e || ss_cu_d2h(x, dx, bytes);
    ss_status st = e ? cu_fail(names[kind]) : SS_OK;
    dev_free(&b);
    return st;
}
static ss_status cu_gelu_erf(float *x, size_t n) { return cu_act(0, x, NULL, n); }
static ss_status cu_gelu_tanh(float *x, size_t n) { return cu_act(1, x, NULL, n); }
static ss_status cu_swiglu(float *gate, const float *up, size_t n) { return cu_act(2, gate, up, n); }
static ss_status cu_geglu(float *gate, const float *up, size_t n) { return cu_act(3, gate, up, n); }

static ss_status cu_rope(float *x, int n, int T, int d_h, int rot_dims, ss_rope_pairing pairing, const float *cos_t,
                         const float *sin_t)
{
    devbufs b = {0};
    void *dx, *dc, *ds;
    const size_t nx = (size_t)n * T * d_h * sizeof(float), nt = (size_t)T * (rot_dims / 2) * sizeof(float);
    int e = dev_alloc(&b, &dx, x, nx) || dev_alloc(&b, &dc, cos_t, nt) || dev_alloc(&b, &ds, sin_t, nt) ||
            ss_cu_rope_apply(dx, n, T, d_h, rot_dims, pairing, dc, ds) || ss_cu_d2h(x, dx, nx);
    ss_status st = e ? cu_fail("rope") : SS_OK;
    dev_free(&b);
    return st;
}

static ss_status cu_mha(const ss_mha_desc *a, float *P, float *out, int ld_out, const float *q, const float *k,
                        const float *v)
{
    devbufs b = {0};
    void *dq, *dk, *dv, *dP, *dout, *dal = NULL;
    const size_t nq = (size_t)a->H * a->T * a->d_h * sizeof(float);
    const size_t nkv = (size_t)a->H_kv * a->T * a->d_h * sizeof(float);
    const size_t nP = (size_t)a->H * a->T * a->T * sizeof(float), nout = (size_t)a->T * ld_out * sizeof(float);
    ss_mha_desc d = *a;
    int e = dev_alloc(&b, &dq, q, nq) || dev_alloc(&b, &dk, k, nkv) || dev_alloc(&b, &dv, v, nkv) ||
            dev_alloc(&b, &dP, NULL, nP) || dev_alloc(&b, &dout, out, nout) || /* out: keep the columns not written */
            (a->alibi && dev_alloc(&b, &dal, a->alibi, (size_t)a->H * sizeof(float)));
    d.alibi = dal;
    e = e || ss_cu_mha(&d, dP, dout, ld_out, dq, dk, dv) || ss_cu_d2h(P, dP, nP) || ss_cu_d2h(out, dout, nout);
    ss_status st = e ? cu_fail("mha") : SS_OK;
    dev_free(&b);
    return st;
}

static ss_status cu_column_importance(const float *A, int n_mats, int T, int causal, int window, float *alpha)
{
    devbufs b = {0};
    void *dA, *dal;
    const size_t na = (size_t)n_mats * T * sizeof(float);
    int e = dev_alloc(&b, &dA, A, na * T) || dev_alloc(&b, &dal, NULL, na) ||
            ss_cu_column_importance(dA, n_mats, T, causal, window, dal) || ss_cu_d2h(alpha, dal, na);
    ss_status st = e ? cu_fail("column_importance") : SS_OK;
    dev_free(&b);
    return st;
}

static ss_status cu_row_entropy(const float *A, int n_rows, int n_cols, float *H)
{
    devbufs b = {0};
    void *dA, *dH;
    int e = dev_alloc(&b, &dA, A, (size_t)n_rows * n_cols * sizeof(float)) ||
            dev_alloc(&b, &dH, NULL, (size_t)n_rows * sizeof(float)) || ss_cu_row_entropy(dA, n_rows, n_cols, dH) ||
            ss_cu_d2h(H, dH, (size_t)n_rows * sizeof(float));
    ss_status st = e ? cu_fail("row_entropy") : SS_OK;
    dev_free(&b);
    return st;
}

/* matmul is missing until the cuBLAS GEMMs land: it falls back to the CPU (logged once). */
static ss_backend g_cuda = {
    .name = "cuda",
    .ops = {NULL, cu_rmsnorm, cu_layernorm, cu_gelu_erf, cu_gelu_tanh, cu_swiglu, cu_geglu, cu_rope, cu_mha,
            cu_column_importance, cu_row_entropy},
};

/* ------------------------------------------------------------------------------------------ selection */

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
        *out = &g_cuda;
        if (why) snprintf(why, (size_t)why_cap, "CUDA device found (%s)", name);
        return SS_OK;
    case SS_BACKEND_AUTO:
    default:
        if (n_dev > 0) {
            *out = &g_cuda;
            if (why) snprintf(why, (size_t)why_cap, "CUDA device found (%s)", name);
        } else if (why) {
            snprintf(why, (size_t)why_cap, "no CUDA device (%s): running on the CPU", reason);
        }
        return SS_OK;
    }
}

const char *ss_backend_name(const ss_backend *b) { return b->name; }

int ss_backend_has(const ss_backend *b, ss_op op)
{
    const ss_backend_ops *o = &b->ops;
    switch (op) {
    case SS_OP_MATMUL: return o->matmul != NULL;
    case SS_OP_RMSNORM: return o->rmsnorm != NULL;
    case SS_OP_LAYERNORM: return o->layernorm != NULL;
    case SS_OP_GELU_ERF: return o->gelu_erf != NULL;
    case SS_OP_GELU_TANH: return o->gelu_tanh != NULL;
    case SS_OP_SWIGLU: return o->swiglu != NULL;
    case SS_OP_GEGLU: return o->geglu != NULL;
    case SS_OP_ROPE: return o->rope != NULL;
    case SS_OP_MHA: return o->mha != NULL;
    case SS_OP_COLUMN_IMPORTANCE: return o->column_importance != NULL;
    case SS_OP_ROW_ENTROPY: return o->row_entropy != NULL;
    default: return 0;
    }
}

int ss_backend_fallbacks(const ss_backend *b) { return atomic_load(&((ss_backend *)b)->fallbacks); }

ss_status ss_backend_custom(const char *name, const ss_backend_ops *ops, ss_backend **out)
{
    ss_backend *b = calloc(1, sizeof *b);
    if (!b) return ss_fail(SS_ERR_NOMEM, "backend %s: out of memory", name);
    b->name = name;
    b->ops = *ops;
    *out = b;
    return SS_OK;
}

void ss_backend_custom_free(ss_backend *b) { free(b); }

/* Notes that b lacks op (logged the first time per backend and operation). */
static void fallback(const ss_backend *cb, ss_op op)
{
    ss_backend *b = (ss_backend *)cb; /* the counters are the only mutable part */
    atomic_fetch_add(&b->fallbacks, 1);
    if (atomic_exchange(&b->logged[op], 1) == 0)
        fprintf(stderr, "[sinkscope] backend %s has no %s: it runs on the CPU (logged once)\n", b->name,
                ss_op_name(op));
}

#define DISPATCH(b, field, op, ...)                                                                             \
    do {                                                                                                        \
        if ((b)->ops.field) return (b)->ops.field(__VA_ARGS__);                                                 \
        fallback((b), (op));                                                                                    \
        return g_cpu.ops.field(__VA_ARGS__);                                                                    \
    } while (0)

ss_status ss_be_matmul(const ss_backend *b, float *y, const float *x, const float *W, const float *bias, int T, int in,
                       int out)
{
    DISPATCH(b, matmul, SS_OP_MATMUL, y, x, W, bias, T, in, out);
}
ss_status ss_be_rmsnorm(const ss_backend *b, float *y, const float *x, const float *gamma, int T, int d, float eps)
{
    DISPATCH(b, rmsnorm, SS_OP_RMSNORM, y, x, gamma, T, d, eps);
}
ss_status ss_be_layernorm(const ss_backend *b, float *y, const float *x, const float *gamma, const float *beta, int T,
                          int d, float eps)
{
    DISPATCH(b, layernorm, SS_OP_LAYERNORM, y, x, gamma, beta, T, d, eps);
}
ss_status ss_be_gelu_erf(const ss_backend *b, float *x, size_t n) { DISPATCH(b, gelu_erf, SS_OP_GELU_ERF, x, n); }
ss_status ss_be_gelu_tanh(const ss_backend *b, float *x, size_t n) { DISPATCH(b, gelu_tanh, SS_OP_GELU_TANH, x, n); }
ss_status ss_be_swiglu(const ss_backend *b, float *gate, const float *up, size_t n)
{
    DISPATCH(b, swiglu, SS_OP_SWIGLU, gate, up, n);
}
ss_status ss_be_geglu(const ss_backend *b, float *gate, const float *up, size_t n)
{
    DISPATCH(b, geglu, SS_OP_GEGLU, gate, up, n);
}
ss_status ss_be_rope(const ss_backend *b, float *x, int n, int T, int d_h, int rot_dims, ss_rope_pairing pairing,
                     const float *cos_t, const float *sin_t)
{
    DISPATCH(b, rope, SS_OP_ROPE, x, n, T, d_h, rot_dims, pairing, cos_t, sin_t);
}
ss_status ss_be_mha(const ss_backend *b, const ss_mha_desc *a, float *P, float *out, int ld_out, const float *q,
                    const float *k, const float *v)
{
    DISPATCH(b, mha, SS_OP_MHA, a, P, out, ld_out, q, k, v);
}
ss_status ss_be_column_importance(const ss_backend *b, const float *A, int n_mats, int T, int causal, int window,
                                  float *alpha)
{
    DISPATCH(b, column_importance, SS_OP_COLUMN_IMPORTANCE, A, n_mats, T, causal, window, alpha);
}
ss_status ss_be_row_entropy(const ss_backend *b, const float *A, int n_rows, int n_cols, float *H)
{
    DISPATCH(b, row_entropy, SS_OP_ROW_ENTROPY, A, n_rows, n_cols, H);
}
