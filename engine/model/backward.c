/* backward.c: the shared pieces of the per-architecture backward passes (backward.h) and ss_model_grad_norms'
 * bookkeeping of the sums of squares. */
#include "backward.h"

#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "train_ops.h" /* ss_tr_linear_bwd_f, ss_tr_gelu_*_f */

void ss_bwd_emit(ss_bwd_sink *s, const char *name, int layer, ss_param_group g, const float *grad, size_t offset,
                 size_t n)
{
    double acc[8] = {0}, ss = 0.0; /* eight double lanes (vectorised), then their sum */
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int k = 0; k < 8; k++) acc[k] += (double)grad[i + k] * grad[i + k];
    for (; i < n; i++) ss += (double)grad[i] * grad[i];
    for (int k = 0; k < 8; k++) ss += acc[k];
    ss_bwd_add_norm(s, layer, g, ss);
    if (s->visit) s->visit(s->ctx, name, layer, g, grad, offset, n);
}

void ss_bwd_add_norm(ss_bwd_sink *s, int layer, ss_param_group g, double ss)
{
    ss_grad_norms *o = s->out;
    switch (g) {
    case SS_PG_ATTENTION:
        if (o->attention) o->attention[layer] += ss;
        break;
    case SS_PG_MLP:
        if (o->mlp) o->mlp[layer] += ss;
        break;
    case SS_PG_NORM:
        if (o->norms) o->norms[layer] += ss;
        break;
    case SS_PG_EMBEDDING: o->embedding += ss; break;
    case SS_PG_FINAL_NORM: o->final_norm += ss; break;
    case SS_PG_LM_HEAD: o->lm_head += ss; break;
    default: break;
    }
    if (layer >= 0 && o->layer) o->layer[layer] += ss;
}

void ss_bwd_emit_named(ss_bwd_sink *s, const char *prefix, const char *name, int layer, ss_param_group g,
                       const float *grad, size_t n)
{
    char full[256];
    snprintf(full, sizeof full, "%.80s%.160s", prefix, name);
    ss_bwd_emit(s, full, layer, g, grad, 0, n);
}

void ss_bwd_rmsnorm_fwd(float *y, float *rstd, const float *x, const float *g, int N, int d, float eps)
{
    for (int n = 0; n < N; n++) {
        const float *xn = x + (size_t)n * d; /* [d] */
        float *yn = y + (size_t)n * d;       /* [d] */
        double ms = 0.0;
        for (int i = 0; i < d; i++) ms += (double)xn[i] * xn[i];
        const double r = 1.0 / sqrt(ms / d + (double)eps);
        rstd[n] = (float)r;
        for (int i = 0; i < d; i++) yn[i] = (float)(xn[i] * r * g[i]);
    }
}

void ss_bwd_rmsnorm_bwd(float *dx, float *dg, const float *dy, const float *x, const float *rstd, const float *g,
                        int N, int d)
{
    for (int n = 0; n < N; n++) {
        const float *dyn = dy + (size_t)n * d, *xn = x + (size_t)n * d; /* [d] */
        float *dxn = dx + (size_t)n * d;                                /* [d] */
        const double r = rstd[n];
        double m = 0.0; /* mean(ĝ·x) */
        for (int i = 0; i < d; i++) m += (double)dyn[i] * g[i] * xn[i];
        m /= d;
        if (dg)
            for (int i = 0; i < d; i++) dg[i] += (float)((double)dyn[i] * xn[i] * r);
        const double r3m = r * r * r * m;
        for (int i = 0; i < d; i++) dxn[i] = (float)(r * dyn[i] * g[i] - xn[i] * r3m);
    }
}

void ss_bwd_swiglu_bwd(float *dgate, float *dup, const float *da, const float *gate, const float *up, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const float z = gate[i], s = 1.0f / (1.0f + expf(-z)); /* σ(z); SiLU(z) = z·σ(z) */
        const float dsilu = s * (1.0f + z * (1.0f - s));
        const float dai = da[i];
        dup[i] = dai * z * s;
        dgate[i] = dai * up[i] * dsilu;
    }
}

void ss_bwd_geglu_bwd(float *dgate, float *dup, const float *da, const float *gate, const float *up, size_t n)
{
    /* dup = da·gelu(gate); dgate = gelu'(gate)·(da·up), through train_ops' GELU-tanh, in blocks */
    enum { B = 1024 };
    float tmp[B];
    for (size_t i0 = 0; i0 < n; i0 += B) {
        const int m = (int)(n - i0 < B ? n - i0 : B);
        ss_tr_gelu_fwd_f(tmp, gate + i0, m);
        for (int i = 0; i < m; i++) dup[i0 + i] = da[i0 + i] * tmp[i];
        for (int i = 0; i < m; i++) tmp[i] = da[i0 + i] * up[i0 + i];
        ss_tr_gelu_bwd_f(dgate + i0, tmp, gate + i0, m);
    }
}

void ss_bwd_linear_params(ss_bwd_sink *s, const char *name_w, const char *name_b, int layer, ss_param_group g,
                          const float *dy, const float *x, int N, int in, int out, float *ws)
{
    memset(ws, 0, (size_t)out * in * sizeof *ws);
    ss_tr_linear_bwd_f(NULL, ws, NULL, dy, x, NULL, N, in, out); /* ws [out][in] = dyᵀ·x */
    ss_bwd_emit(s, name_w, layer, g, ws, 0, (size_t)out * in);
    if (name_b) {
        memset(ws, 0, (size_t)out * sizeof *ws);
        for (int n = 0; n < N; n++) /* [out] */
            for (int o = 0; o < out; o++) ws[o] += dy[(size_t)n * out + o];
        ss_bwd_emit(s, name_b, layer, g, ws, 0, (size_t)out);
    }
}

void ss_bwd_linear_dx(float *dx, float beta, const float *dy, const float *W, int N, int in, int out)
{
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, in, out, 1.0f, dy, out, W, in, beta, dx, in);
}

void ss_bwd_head_get(float *dst, const float *x, int T, int ld, int h, int d_h)
{
    for (int t = 0; t < T; t++) memcpy(dst + (size_t)t * d_h, x + (size_t)t * ld + (size_t)h * d_h, (size_t)d_h * sizeof *dst);
}

void ss_bwd_head_add(float *x, const float *src, int T, int ld, int h, int d_h)
{
    for (int t = 0; t < T; t++) {
        float *xt = x + (size_t)t * ld + (size_t)h * d_h; /* [d_h] */
        const float *st = src + (size_t)t * d_h;          /* [d_h] */
        for (int i = 0; i < d_h; i++) xt[i] += st[i];
    }
}
