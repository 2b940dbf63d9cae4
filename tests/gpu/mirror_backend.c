/* mirror_backend.c (tests): the checked host-memory backend (mirror_backend.h). */
#include "mirror_backend.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The live allocations, unordered (a few hundred at most in a test). */
typedef struct {
    char *p;
    size_t bytes;
} alloc_rec;
static alloc_rec *g_allocs;
static int g_n, g_cap, g_bad;

int mirror_live_allocs(void) { return g_n; }
int mirror_violations(void) { return g_bad; }

static ss_status m_alloc(void **p, size_t bytes)
{
    *p = NULL;
    if (g_n == g_cap) {
        int cap = g_cap ? 2 * g_cap : 64;
        alloc_rec *a = realloc(g_allocs, (size_t)cap * sizeof *a);
        if (!a) return ss_fail(SS_ERR_NOMEM, "mirror: out of memory");
        g_allocs = a;
        g_cap = cap;
    }
    char *q = aligned_alloc(64, (bytes + 63) / 64 * 64 + 64);
    if (!q) return ss_fail(SS_ERR_NOMEM, "mirror: out of memory");
    memset(q, 0xA5, bytes); /* uninitialised device memory is garbage, not zeros */
    g_allocs[g_n++] = (alloc_rec){q, bytes};
    *p = q;
    return SS_OK;
}

static void m_release(void *p)
{
    for (int i = 0; i < g_n; i++)
        if (g_allocs[i].p == p) {
            free(p);
            g_allocs[i] = g_allocs[--g_n];
            return;
        }
    g_bad++;
    fprintf(stderr, "mirror: release of %p, which it did not allocate\n", p);
}

/* 1 when [p, p + bytes) lies inside one live allocation (bytes 0: p itself inside, or NULL allowed). */
static int inside(const void *p, size_t bytes)
{
    const char *c = p;
    for (int i = 0; i < g_n; i++)
        if (c >= g_allocs[i].p && c + bytes <= g_allocs[i].p + g_allocs[i].bytes && (bytes > 0 || c < g_allocs[i].p + g_allocs[i].bytes))
            return 1;
    return 0;
}

static int check(const char *op, const char *what, const void *p, size_t bytes)
{
    if (inside(p, bytes)) return 1;
    g_bad++;
    ss_fail(SS_ERR_INTERNAL, "mirror: %s: %s = %p (%zu bytes) is not inside one backend allocation", op, what, p,
            bytes);
    return 0;
}

#define CK(op, p, n)                                                                                            \
    do {                                                                                                        \
        if (!check(op, #p, (p), (size_t)(n))) return SS_ERR_INTERNAL;                                           \
    } while (0)
#define CKOPT(op, p, n)                                                                                         \
    do {                                                                                                        \
        if ((p) && !check(op, #p, (p), (size_t)(n))) return SS_ERR_INTERNAL;                                    \
    } while (0)
#define CPU (ss_backend_cpu_ops())
#define F sizeof(float)

static ss_status m_upload(void *dst, const void *src, size_t bytes)
{
    CK("upload", dst, bytes);
    memcpy(dst, src, bytes);
    return SS_OK;
}
static ss_status m_download(void *dst, const void *src, size_t bytes)
{
    CK("download", src, bytes);
    memcpy(dst, src, bytes);
    return SS_OK;
}
static ss_status m_copy(void *dst, const void *src, size_t bytes)
{
    CK("copy", dst, bytes);
    CK("copy", src, bytes);
    memmove(dst, src, bytes);
    return SS_OK;
}
static ss_status m_sync(void) { return SS_OK; }

static ss_status m_matmul(float *y, const float *x, const float *W, const float *b, int T, int in, int out, int w_io)
{
    CK("matmul", y, F * T * out);
    CK("matmul", x, F * T * in);
    CK("matmul", W, F * in * out);
    CKOPT("matmul", b, F * out);
    return CPU->matmul(y, x, W, b, T, in, out, w_io);
}
static ss_status m_rmsnorm(float *y, const float *x, const float *g, int T, int d, float eps)
{
    CK("rmsnorm", y, F * T * d);
    CK("rmsnorm", x, F * T * d);
    CK("rmsnorm", g, F * d);
    return CPU->rmsnorm(y, x, g, T, d, eps);
}
static ss_status m_layernorm(float *y, const float *x, const float *g, const float *b, int T, int d, float eps)
{
    CK("layernorm", y, F * T * d);
    CK("layernorm", x, F * T * d);
    CK("layernorm", g, F * d);
    CK("layernorm", b, F * d);
    return CPU->layernorm(y, x, g, b, T, d, eps);
}
static ss_status m_gelu_erf(float *x, size_t n)
{
    CK("gelu_erf", x, F * n);
    return CPU->gelu_erf(x, n);
}
static ss_status m_gelu_tanh(float *x, size_t n)
{
    CK("gelu_tanh", x, F * n);
    return CPU->gelu_tanh(x, n);
}
static ss_status m_swiglu(float *g, const float *u, size_t n)
{
    CK("swiglu", g, F * n);
    CK("swiglu", u, F * n);
    return CPU->swiglu(g, u, n);
}
static ss_status m_rope(float *x, int n, int T, int d_h, int rot, ss_rope_pairing pr, const float *c, const float *s)
{
    CK("rope", x, F * n * T * d_h);
    CK("rope", c, F * T * (rot / 2));
    CK("rope", s, F * T * (rot / 2));
    return CPU->rope(x, n, T, d_h, rot, pr, c, s);
}
static ss_status m_mha(const ss_mha_desc *a, float *P, float *out, int ld, const float *q, const float *k,
                       const float *v)
{
    CK("mha", P, F * a->H * a->T * a->T);
    CK("mha", out, F * a->T * ld);
    CK("mha", q, F * a->H * a->T * a->d_h);
    CK("mha", k, F * a->H_kv * a->T * a->d_h);
    CK("mha", v, F * a->H_kv * a->T * a->d_h);
    CKOPT("mha", a->alibi, F * a->H);
    return CPU->mha(a, P, out, ld, q, k, v);
}
static ss_status m_embed(float *x, const float *table, const int32_t *ids, int T, int d)
{
    CK("embed", x, F * T * d);
    CK("embed", ids, sizeof(int32_t) * T);
    for (int t = 0; t < T; t++) CK("embed", table + (size_t)ids[t] * d, F * d);
    return CPU->embed(x, table, ids, T, d);
}
static ss_status m_add(float *y, const float *x, size_t n)
{
    CK("add", y, F * n);
    CK("add", x, F * n);
    return CPU->add(y, x, n);
}
static ss_status m_mul(float *y, const float *x, size_t n)
{
    CK("mul", y, F * n);
    CK("mul", x, F * n);
    return CPU->mul(y, x, n);
}
static ss_status m_add_rows(float *y, const float *row, int T, int d)
{
    CK("add_rows", y, F * T * d);
    CK("add_rows", row, F * d);
    return CPU->add_rows(y, row, T, d);
}
static ss_status m_scale(float *x, float s, size_t n)
{
    CK("scale", x, F * n);
    return CPU->scale(x, s, n);
}
static ss_status m_gather(float *dst, const float *src, int T, int n, int d_h, int ld, int off, int stride)
{
    CK("gather_heads", dst, F * n * T * d_h);
    CK("gather_heads", src, F * T * ld);
    if (off + (size_t)(n - 1) * stride + d_h > (size_t)ld) {
        g_bad++;
        return ss_fail(SS_ERR_INTERNAL, "mirror: gather_heads reads past a row (offset %d, stride %d, ld %d)", off,
                       stride, ld);
    }
    return CPU->gather_heads(dst, src, T, n, d_h, ld, off, stride);
}

static ss_status m_attn_summary(const float *A, int n_mats, int T, int causal, int window, float *cm, float *al)
{
    CK("attn_summary", A, F * n_mats * T * T);
    CK("attn_summary", cm, F * n_mats * T);
    CK("attn_summary", al, F * n_mats * T);
    return CPU->attn_summary(A, n_mats, T, causal, window, cm, al);
}

ss_backend *mirror_backend_new(int gaps)
{
    ss_backend_ops o = {.alloc = m_alloc, .release = m_release, .upload = m_upload, .download = m_download, .copy = m_copy, .sync = m_sync};
    if (!gaps) {
        o.matmul = m_matmul;
        o.rmsnorm = m_rmsnorm;
        o.layernorm = m_layernorm;
        o.gelu_erf = m_gelu_erf;
        o.gelu_tanh = m_gelu_tanh;
        o.swiglu = m_swiglu;
        o.rope = m_rope;
        o.mha = m_mha;
        o.embed = m_embed;
        o.add = m_add;
        o.mul = m_mul;
        o.add_rows = m_add_rows;
        o.scale = m_scale;
        o.gather_heads = m_gather;
        o.attn_summary = m_attn_summary;
    }
    ss_backend *b = NULL;
    if (ss_backend_custom(gaps ? "mirror-gappy" : "mirror", &o, 0, &b) != SS_OK) return NULL;
    return b;
}

void mirror_backend_free(ss_backend *b) { ss_backend_custom_free(b); }
