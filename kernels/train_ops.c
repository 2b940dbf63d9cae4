/* train_ops.c: forward and backward of the training building blocks (train_ops.h). */
#include "train_ops.h"

#include "fastmath.h" /* ss_exp_fast, SS_VECTOR_CLONES */

#include <cblas.h> /* cblas_sgemm */
#include <math.h>
#include <stddef.h>
#include <stdlib.h> /* abs */
#include <string.h>

/* ---------------------------------------------------------------------------------------------- linear */

void ss_tr_linear_fwd_d(double *y, const double *x, const double *W, const double *b, int N, int in, int out)
{
    for (int n = 0; n < N; n++) {
        const double *xn = x + (size_t)n * in; /* [in] */
        double *yn = y + (size_t)n * out;      /* [out] */
        for (int o = 0; o < out; o++) {
            const double *wo = W + (size_t)o * in; /* [in] */
            double s = b ? b[o] : 0.0;
            for (int i = 0; i < in; i++) s += xn[i] * wo[i];
            yn[o] = s;
        }
    }
}

void ss_tr_linear_bwd_d(double *dx, double *dW, double *db, const double *dy, const double *x, const double *W, int N,
                        int in, int out)
{
    for (int n = 0; n < N; n++) {
        const double *dyn = dy + (size_t)n * out; /* [out] */
        const double *xn = x + (size_t)n * in;    /* [in] */
        if (dx) {
            double *dxn = dx + (size_t)n * in; /* [in] */
            for (int i = 0; i < in; i++) dxn[i] = 0.0;
            for (int o = 0; o < out; o++) {
                const double *wo = W + (size_t)o * in;
                for (int i = 0; i < in; i++) dxn[i] += dyn[o] * wo[i];
            }
        }
        if (dW)
            for (int o = 0; o < out; o++) {
                double *dwo = dW + (size_t)o * in; /* [in] */
                for (int i = 0; i < in; i++) dwo[i] += dyn[o] * xn[i];
            }
        if (db)
            for (int o = 0; o < out; o++) db[o] += dyn[o];
    }
}

void ss_tr_linear_fwd_f(float *y, const float *x, const float *W, const float *b, int N, int in, int out)
{
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, N, out, in, 1.0f, x, in, W, in, 0.0f, y, out);
    if (b)
        for (int n = 0; n < N; n++) {
            float *yn = y + (size_t)n * out;
            for (int o = 0; o < out; o++) yn[o] += b[o];
        }
}

void ss_tr_linear_bwd_f(float *dx, float *dW, float *db, const float *dy, const float *x, const float *W, int N, int in,
                        int out)
{
    if (dx) /* dx [N][in] = dy [N][out] · W [out][in] */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, in, out, 1.0f, dy, out, W, in, 0.0f, dx, in);
    if (dW) /* dW [out][in] += dyᵀ [out][N] · x [N][in] */
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, out, in, N, 1.0f, dy, out, x, in, 1.0f, dW, in);
    if (db)
        for (int n = 0; n < N; n++) {
            const float *dyn = dy + (size_t)n * out;
            for (int o = 0; o < out; o++) db[o] += dyn[o];
        }
}

/* ------------------------------------------------------------------------------------------- embedding */

void ss_tr_embed_fwd_d(double *y, const double *table, const int32_t *ids, int N, int d)
{
    for (int n = 0; n < N; n++) memcpy(y + (size_t)n * d, table + (size_t)ids[n] * d, (size_t)d * sizeof *y);
}

void ss_tr_embed_bwd_d(double *dtable, const double *dy, const int32_t *ids, int N, int d)
{
    for (int n = 0; n < N; n++) {
        double *row = dtable + (size_t)ids[n] * d; /* [d] */
        const double *dyn = dy + (size_t)n * d;    /* [d] */
        for (int c = 0; c < d; c++) row[c] += dyn[c];
    }
}

/* ------------------------------------------------------------------------------------------- LayerNorm */

void ss_tr_layernorm_fwd_d(double *y, double *mean, double *rstd, const double *x, const double *g, const double *b,
                           int N, int d, double eps)
{
    for (int n = 0; n < N; n++) {
        const double *xn = x + (size_t)n * d; /* [d] */
        double *yn = y + (size_t)n * d;       /* [d] */
        double mu = 0.0;
        for (int c = 0; c < d; c++) mu += xn[c];
        mu /= d;
        double var = 0.0;
        for (int c = 0; c < d; c++) var += (xn[c] - mu) * (xn[c] - mu);
        var /= d;
        double r = 1.0 / sqrt(var + eps);
        mean[n] = mu;
        rstd[n] = r;
        for (int c = 0; c < d; c++) yn[c] = (xn[c] - mu) * r * g[c] + (b ? b[c] : 0.0);
    }
}

void ss_tr_layernorm_bwd_d(double *dx, double *dg, double *db, const double *dy, const double *x, const double *mean,
                           const double *rstd, const double *g, int N, int d)
{
    for (int n = 0; n < N; n++) {
        const double *xn = x + (size_t)n * d;   /* [d] */
        const double *dyn = dy + (size_t)n * d; /* [d] */
        double mu = mean[n], r = rstd[n];
        double m_g = 0.0, m_gx = 0.0; /* mean(ĝ), mean(ĝ·x̂) */
        for (int c = 0; c < d; c++) {
            double xh = (xn[c] - mu) * r;
            double gh = dyn[c] * g[c];
            m_g += gh;
            m_gx += gh * xh;
            if (dg) dg[c] += dyn[c] * xh;
            if (db) db[c] += dyn[c];
        }
        m_g /= d;
        m_gx /= d;
        if (dx) {
            double *dxn = dx + (size_t)n * d; /* [d] */
            for (int c = 0; c < d; c++) {
                double xh = (xn[c] - mu) * r;
                dxn[c] = r * (dyn[c] * g[c] - m_g - xh * m_gx);
            }
        }
    }
}

/* --------------------------------------------------------------------------------------------- RMSNorm */

void ss_tr_rmsnorm_fwd_d(double *y, double *rstd, const double *x, const double *g, int N, int d, double eps)
{
    for (int n = 0; n < N; n++) {
        const double *xn = x + (size_t)n * d; /* [d] */
        double *yn = y + (size_t)n * d;       /* [d] */
        double ms = 0.0;
        for (int c = 0; c < d; c++) ms += xn[c] * xn[c];
        double r = 1.0 / sqrt(ms / d + eps);
        rstd[n] = r;
        for (int c = 0; c < d; c++) yn[c] = xn[c] * r * g[c];
    }
}

void ss_tr_rmsnorm_bwd_d(double *dx, double *dg, const double *dy, const double *x, const double *rstd,
                         const double *g, int N, int d)
{
    for (int n = 0; n < N; n++) {
        const double *xn = x + (size_t)n * d;   /* [d] */
        const double *dyn = dy + (size_t)n * d; /* [d] */
        double r = rstd[n];
        double m_gx = 0.0; /* mean(ĝ·x) */
        for (int c = 0; c < d; c++) {
            m_gx += dyn[c] * g[c] * xn[c];
            if (dg) dg[c] += dyn[c] * xn[c] * r;
        }
        m_gx /= d;
        if (dx) {
            double *dxn = dx + (size_t)n * d; /* [d] */
            for (int c = 0; c < d; c++) dxn[c] = r * dyn[c] * g[c] - xn[c] * r * r * r * m_gx;
        }
    }
}

/* ---------------------------------------------------------------------------------------- GELU (tanh) */

#define SS_GELU_C 0.7978845608028654 /* √(2/π) */
#define SS_GELU_A 0.044715

void ss_tr_gelu_fwd_d(double *y, const double *x, int n)
{
    for (int i = 0; i < n; i++) {
        double v = x[i];
        y[i] = 0.5 * v * (1.0 + tanh(SS_GELU_C * (v + SS_GELU_A * v * v * v)));
    }
}

void ss_tr_gelu_bwd_d(double *dx, const double *dy, const double *x, int n)
{
    for (int i = 0; i < n; i++) {
        double v = x[i];
        double t = tanh(SS_GELU_C * (v + SS_GELU_A * v * v * v));
        double dydx = 0.5 * (1.0 + t) + 0.5 * v * (1.0 - t * t) * SS_GELU_C * (1.0 + 3.0 * SS_GELU_A * v * v);
        dx[i] = dy[i] * dydx;
    }
}

/* ----------------------------------------------------------------------------- softmax cross-entropy */

double ss_tr_xent_fwd_d(double *probs, const double *z, const int32_t *targets, int N, int V)
{
    double total = 0.0;
    int M = 0;
    for (int n = 0; n < N; n++) {
        const double *zn = z + (size_t)n * V; /* [V] */
        double *pn = probs + (size_t)n * V;   /* [V] */
        double mx = zn[0];
        for (int v = 1; v < V; v++)
            if (zn[v] > mx) mx = zn[v];
        double sum = 0.0;
        for (int v = 0; v < V; v++) {
            pn[v] = exp(zn[v] - mx);
            sum += pn[v];
        }
        for (int v = 0; v < V; v++) pn[v] /= sum;
        if (targets[n] >= 0) {
            /* −log p[t] = log Σ exp(z − mx) − (z[t] − mx), exact where p[t] underflows */
            total += log(sum) - (zn[targets[n]] - mx);
            M++;
        }
    }
    return M ? total / M : 0.0;
}

void ss_tr_xent_bwd_d(double *dz, const double *probs, const int32_t *targets, int N, int V, double dL)
{
    int M = 0;
    for (int n = 0; n < N; n++) M += targets[n] >= 0;
    double s = M ? dL / M : 0.0;
    for (int n = 0; n < N; n++) {
        const double *pn = probs + (size_t)n * V; /* [V] */
        double *dzn = dz + (size_t)n * V;         /* [V] */
        if (targets[n] < 0) {
            for (int v = 0; v < V; v++) dzn[v] = 0.0;
            continue;
        }
        for (int v = 0; v < V; v++) dzn[v] = s * pn[v];
        dzn[targets[n]] -= s;
    }
}

/* ------------------------------------------------------------------------------------------------ RoPE */

void ss_tr_rope_tables_d(double *cos_t, double *sin_t, int T, int rot_dims, double theta)
{
    int half = rot_dims / 2;
    for (int t = 0; t < T; t++)
        for (int i = 0; i < half; i++) {
            double phi = t * pow(theta, -2.0 * i / rot_dims);
            cos_t[(size_t)t * half + i] = cos(phi);
            sin_t[(size_t)t * half + i] = sin(phi);
        }
}

/* Rotates each row of x [T][d_h] by +φ (dir = 1) or −φ (dir = −1). */
static void rope_rotate(double *x, int T, int d_h, int rot_dims, ss_rope_pairing pairing, const double *cos_t,
                        const double *sin_t, double dir)
{
    int half = rot_dims / 2;
    for (int t = 0; t < T; t++) {
        double *row = x + (size_t)t * d_h; /* [d_h] */
        for (int i = 0; i < half; i++) {
            int ia = pairing == SS_ROPE_HALF ? i : 2 * i;
            int ib = pairing == SS_ROPE_HALF ? i + half : 2 * i + 1;
            double c = cos_t[(size_t)t * half + i], s = dir * sin_t[(size_t)t * half + i];
            double a = row[ia], b = row[ib];
            row[ia] = a * c - b * s;
            row[ib] = b * c + a * s;
        }
    }
}

void ss_tr_rope_fwd_d(double *x, int T, int d_h, int rot_dims, ss_rope_pairing pairing, const double *cos_t,
                      const double *sin_t)
{
    rope_rotate(x, T, d_h, rot_dims, pairing, cos_t, sin_t, 1.0);
}

void ss_tr_rope_bwd_d(double *dx, int T, int d_h, int rot_dims, ss_rope_pairing pairing, const double *cos_t,
                      const double *sin_t)
{
    rope_rotate(dx, T, d_h, rot_dims, pairing, cos_t, sin_t, -1.0);
}

/* ---------------------------------------------------------------------------- attention (one head) */

void ss_tr_attn_fwd_d(const ss_tr_attn_desc *a, double *out, double *P, double *qr, double *kr, const double *q,
                      const double *k, const double *v)
{
    int T = a->T, d_h = a->d_h;
    size_t n = (size_t)T * d_h;
    memcpy(qr, q, n * sizeof *qr);
    memcpy(kr, k, n * sizeof *kr);
    if (a->rot_dims > 0) {
        ss_tr_rope_fwd_d(qr, T, d_h, a->rot_dims, a->pairing, a->rope_cos, a->rope_sin);
        ss_tr_rope_fwd_d(kr, T, d_h, a->rot_dims, a->pairing, a->rope_cos, a->rope_sin);
    }
    for (int i = 0; i < T; i++) {
        double *Pi = P + (size_t)i * T;             /* [T] */
        const double *qi = qr + (size_t)i * d_h;    /* [d_h] */
        int n_keys = a->causal ? i + 1 : T;
        double mx = -INFINITY;
        for (int j = 0; j < n_keys; j++) {
            const double *kj = kr + (size_t)j * d_h; /* [d_h] */
            double s = 0.0;
            for (int c = 0; c < d_h; c++) s += qi[c] * kj[c];
            s = a->scale * s - a->alibi_slope * fabs((double)(i - j));
            Pi[j] = s;
            if (s > mx) mx = s;
        }
        double sum = 0.0;
        for (int j = 0; j < n_keys; j++) {
            Pi[j] = exp(Pi[j] - mx);
            sum += Pi[j];
        }
        for (int j = 0; j < n_keys; j++) Pi[j] /= sum;
        for (int j = n_keys; j < T; j++) Pi[j] = 0.0;
        double *oi = out + (size_t)i * d_h; /* [d_h] */
        for (int c = 0; c < d_h; c++) oi[c] = 0.0;
        for (int j = 0; j < n_keys; j++) {
            const double *vj = v + (size_t)j * d_h;
            for (int c = 0; c < d_h; c++) oi[c] += Pi[j] * vj[c];
        }
    }
}

void ss_tr_attn_bwd_d(const ss_tr_attn_desc *a, double *dq, double *dk, double *dv, const double *dout,
                      const double *P, const double *qr, const double *kr, const double *v, double *ws)
{
    int T = a->T, d_h = a->d_h;
    size_t n = (size_t)T * d_h;
    memset(dq, 0, n * sizeof *dq);
    memset(dk, 0, n * sizeof *dk);
    memset(dv, 0, n * sizeof *dv);
    for (int i = 0; i < T; i++) {
        const double *Pi = P + (size_t)i * T;        /* [T] */
        const double *doi = dout + (size_t)i * d_h;  /* [d_h] */
        const double *qi = qr + (size_t)i * d_h;     /* [d_h] */
        double *dqi = dq + (size_t)i * d_h;          /* [d_h] */
        int n_keys = a->causal ? i + 1 : T;
        /* ws[j] = dP[i][j] = dout_i·v_j; dv_j += P[i][j]·dout_i */
        double dot = 0.0; /* Σ_l P[i][l]·dP[i][l] */
        for (int j = 0; j < n_keys; j++) {
            const double *vj = v + (size_t)j * d_h;
            double *dvj = dv + (size_t)j * d_h;
            double s = 0.0;
            for (int c = 0; c < d_h; c++) {
                s += doi[c] * vj[c];
                dvj[c] += Pi[j] * doi[c];
            }
            ws[j] = s;
            dot += Pi[j] * s;
        }
        for (int j = 0; j < n_keys; j++) {
            double dS = Pi[j] * (ws[j] - dot) * a->scale; /* scale folded in */
            const double *kj = kr + (size_t)j * d_h;
            double *dkj = dk + (size_t)j * d_h;
            for (int c = 0; c < d_h; c++) {
                dqi[c] += dS * kj[c];
                dkj[c] += dS * qi[c];
            }
        }
    }
    if (a->rot_dims > 0) {
        ss_tr_rope_bwd_d(dq, T, d_h, a->rot_dims, a->pairing, a->rope_cos, a->rope_sin);
        ss_tr_rope_bwd_d(dk, T, d_h, a->rot_dims, a->pairing, a->rope_cos, a->rope_sin);
    }
}

/* ===================================================================================== float twins */

void ss_tr_embed_fwd_f(float *y, const float *table, const int32_t *ids, int N, int d)
{
    for (int n = 0; n < N; n++) memcpy(y + (size_t)n * d, table + (size_t)ids[n] * d, (size_t)d * sizeof *y);
}

void ss_tr_embed_bwd_f(float *dtable, const float *dy, const int32_t *ids, int N, int d)
{
    for (int n = 0; n < N; n++) {
        float *row = dtable + (size_t)ids[n] * d; /* [d] */
        const float *dyn = dy + (size_t)n * d;    /* [d] */
        for (int c = 0; c < d; c++) row[c] += dyn[c];
    }
}

void ss_tr_layernorm_fwd_f(float *y, float *mean, float *rstd, const float *x, const float *g, const float *b, int N,
                           int d, double eps)
{
    for (int n = 0; n < N; n++) {
        const float *xn = x + (size_t)n * d; /* [d] */
        float *yn = y + (size_t)n * d;       /* [d] */
        double mu = 0.0;
        for (int c = 0; c < d; c++) mu += xn[c];
        mu /= d;
        double var = 0.0;
        for (int c = 0; c < d; c++) var += ((double)xn[c] - mu) * ((double)xn[c] - mu);
        var /= d;
        float m = (float)mu, r = (float)(1.0 / sqrt(var + eps));
        mean[n] = m;
        rstd[n] = r;
        for (int c = 0; c < d; c++) yn[c] = (xn[c] - m) * r * g[c] + (b ? b[c] : 0.0f);
    }
}

void ss_tr_layernorm_bwd_f(float *dx, float *dg, float *db, const float *dy, const float *x, const float *mean,
                           const float *rstd, const float *g, int N, int d)
{
    for (int n = 0; n < N; n++) {
        const float *xn = x + (size_t)n * d;   /* [d] */
        const float *dyn = dy + (size_t)n * d; /* [d] */
        float mu = mean[n], r = rstd[n];
        double m_g = 0.0, m_gx = 0.0; /* mean(ĝ), mean(ĝ·x̂) */
        for (int c = 0; c < d; c++) {
            float xh = (xn[c] - mu) * r;
            float gh = dyn[c] * g[c];
            m_g += gh;
            m_gx += (double)gh * xh;
            if (dg) dg[c] += dyn[c] * xh;
            if (db) db[c] += dyn[c];
        }
        float mg = (float)(m_g / d), mgx = (float)(m_gx / d);
        if (dx) {
            float *dxn = dx + (size_t)n * d; /* [d] */
            for (int c = 0; c < d; c++) {
                float xh = (xn[c] - mu) * r;
                dxn[c] = r * (dyn[c] * g[c] - mg - xh * mgx);
            }
        }
    }
}

/* tanh through ss_exp_fast (as activation.c's ss_gelu_tanh_fast), vectorisable: with e = e^{−2|u|} in (0, 1],
 * 1 + tanh u = 2/(1 + e) for u >= 0 and 2e/(1 + e) for u < 0 (no cancellation), 1 − tanh²u = 4e/(1 + e)². */
SS_VECTOR_CLONES void ss_tr_gelu_fwd_f(float *y, const float *x, int n)
{
    const float c = (float)SS_GELU_C, a = (float)SS_GELU_A;
    for (int i = 0; i < n; i++) {
        const float v = x[i], u = c * (v + a * v * v * v);
        const float e = ss_exp_fast(-2.0f * fabsf(u)), pos = 2.0f / (1.0f + e);
        y[i] = 0.5f * v * (u >= 0.0f ? pos : pos * e);
    }
}

SS_VECTOR_CLONES void ss_tr_gelu_bwd_f(float *dx, const float *dy, const float *x, int n)
{
    const float c = (float)SS_GELU_C, a = (float)SS_GELU_A;
    for (int i = 0; i < n; i++) {
        const float v = x[i], u = c * (v + a * v * v * v);
        const float e = ss_exp_fast(-2.0f * fabsf(u)), r = 1.0f / (1.0f + e);
        const float one_plus_t = u >= 0.0f ? 2.0f * r : 2.0f * e * r, sech2 = 4.0f * e * r * r;
        const float dydx = 0.5f * one_plus_t + 0.5f * v * sech2 * c * (1.0f + 3.0f * a * v * v);
        dx[i] = dy[i] * dydx;
    }
}

double ss_tr_xent_fwd_f(float *probs, const float *z, const int32_t *targets, int N, int V)
{
    double total = 0.0;
    int M = 0;
    for (int n = 0; n < N; n++) {
        const float *zn = z + (size_t)n * V; /* [V] */
        float *pn = probs + (size_t)n * V;   /* [V] */
        float mx = zn[0];
        for (int v = 1; v < V; v++)
            if (zn[v] > mx) mx = zn[v];
        for (int v = 0; v < V; v++) pn[v] = ss_exp_fast(zn[v] - mx);
        double sum = 0.0;
        for (int v = 0; v < V; v++) sum += pn[v];
        float inv = (float)(1.0 / sum);
        for (int v = 0; v < V; v++) pn[v] *= inv;
        if (targets[n] >= 0) {
            total += log(sum) - ((double)zn[targets[n]] - mx);
            M++;
        }
    }
    return M ? total / M : 0.0;
}

void ss_tr_xent_bwd_f(float *dz, const float *probs, const int32_t *targets, int N, int V, double dL)
{
    int M = 0;
    for (int n = 0; n < N; n++) M += targets[n] >= 0;
    float s = (float)(M ? dL / M : 0.0);
    for (int n = 0; n < N; n++) {
        const float *pn = probs + (size_t)n * V; /* [V] */
        float *dzn = dz + (size_t)n * V;         /* [V] */
        if (targets[n] < 0) {
            for (int v = 0; v < V; v++) dzn[v] = 0.0f;
            continue;
        }
        for (int v = 0; v < V; v++) dzn[v] = s * pn[v];
        dzn[targets[n]] -= s;
    }
}

/* Rotates each row of x [T][d_h] (float) by +φ (dir = 1) or −φ (dir = −1); tables in double. */
static void rope_rotate_f(float *x, int T, int d_h, int rot_dims, ss_rope_pairing pairing, const double *cos_t,
                          const double *sin_t, float dir)
{
    int half = rot_dims / 2;
    for (int t = 0; t < T; t++) {
        float *row = x + (size_t)t * d_h; /* [d_h] */
        for (int i = 0; i < half; i++) {
            int ia = pairing == SS_ROPE_HALF ? i : 2 * i;
            int ib = pairing == SS_ROPE_HALF ? i + half : 2 * i + 1;
            float c = (float)cos_t[(size_t)t * half + i], s = dir * (float)sin_t[(size_t)t * half + i];
            float a = row[ia], b = row[ib];
            row[ia] = a * c - b * s;
            row[ib] = b * c + a * s;
        }
    }
}

void ss_tr_attn_fwd_f(const ss_tr_attn_desc *a, float *out, float *P, float *qr, float *kr, const float *q,
                      const float *k, const float *v)
{
    int T = a->T, d_h = a->d_h;
    size_t n = (size_t)T * d_h;
    memcpy(qr, q, n * sizeof *qr);
    memcpy(kr, k, n * sizeof *kr);
    if (a->rot_dims > 0) {
        rope_rotate_f(qr, T, d_h, a->rot_dims, a->pairing, a->rope_cos, a->rope_sin, 1.0f);
        rope_rotate_f(kr, T, d_h, a->rot_dims, a->pairing, a->rope_cos, a->rope_sin, 1.0f);
    }
    /* P [T][T] = scale · q̃ · k̃ᵀ (all pairs; the masked ones are overwritten below) */
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, T, T, d_h, (float)a->scale, qr, d_h, kr, d_h, 0.0f, P, T);
    float slope = (float)a->alibi_slope;
    for (int i = 0; i < T; i++) {
        float *Pi = P + (size_t)i * T; /* [T] */
        int n_keys = a->causal ? i + 1 : T;
        float mx = -INFINITY;
        for (int j = 0; j < n_keys; j++) {
            if (slope != 0.0f) Pi[j] -= slope * (float)abs(i - j);
            if (Pi[j] > mx) mx = Pi[j];
        }
        for (int j = 0; j < n_keys; j++) Pi[j] = ss_exp_fast(Pi[j] - mx);
        double sum = 0.0;
        for (int j = 0; j < n_keys; j++) sum += Pi[j];
        float inv = (float)(1.0 / sum);
        for (int j = 0; j < n_keys; j++) Pi[j] *= inv;
        for (int j = n_keys; j < T; j++) Pi[j] = 0.0f;
    }
    /* out [T][d_h] = P · v */
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, T, d_h, T, 1.0f, P, T, v, d_h, 0.0f, out, d_h);
}

void ss_tr_attn_bwd_f(const ss_tr_attn_desc *a, float *dq, float *dk, float *dv, const float *dout, const float *P,
                      const float *qr, const float *kr, const float *v, float *ws)
{
    int T = a->T, d_h = a->d_h;
    /* dv [T][d_h] = Pᵀ · dout;  ws = dP [T][T] = dout · vᵀ */
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, T, d_h, T, 1.0f, P, T, dout, d_h, 0.0f, dv, d_h);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, T, T, d_h, 1.0f, dout, d_h, v, d_h, 0.0f, ws, T);
    /* ws becomes dS·scale: P ⊙ (dP − Σ_l P·dP), zero where masked */
    float scale = (float)a->scale;
    for (int i = 0; i < T; i++) {
        const float *Pi = P + (size_t)i * T; /* [T] */
        float *Wi = ws + (size_t)i * T;      /* [T] */
        int n_keys = a->causal ? i + 1 : T;
        double dot = 0.0;
        for (int j = 0; j < n_keys; j++) dot += (double)Pi[j] * Wi[j];
        float fd = (float)dot;
        for (int j = 0; j < n_keys; j++) Wi[j] = Pi[j] * (Wi[j] - fd) * scale;
        for (int j = n_keys; j < T; j++) Wi[j] = 0.0f;
    }
    /* dq̃ = dS · k̃;  dk̃ = dSᵀ · q̃ */
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, T, d_h, T, 1.0f, ws, T, kr, d_h, 0.0f, dq, d_h);
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, T, d_h, T, 1.0f, ws, T, qr, d_h, 0.0f, dk, d_h);
    if (a->rot_dims > 0) {
        rope_rotate_f(dq, T, d_h, a->rot_dims, a->pairing, a->rope_cos, a->rope_sin, -1.0f);
        rope_rotate_f(dk, T, d_h, a->rot_dims, a->pairing, a->rope_cos, a->rope_sin, -1.0f);
    }
}
