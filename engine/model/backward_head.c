/* backward_head.c: the LM head's loss and backward, and the token embedding's gradient norm, for the
 * per-architecture backward passes (backward.h: the direct and the Gram forms).
 *
 * Dimensions: T tokens, M = T − 1 targets, V vocabulary, d = d_model; dZ = ∂L/∂logits [M][V]. */
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "backward.h"
#include "train_ops.h" /* ss_tr_xent_fwd_f, ss_tr_xent_bwd_f */

/* Token rows per block of logits: a [ROWS][V] block of about 32 MB at most. */
static int block_rows(int V)
{
    int r = (int)((8u << 20) / (unsigned)V);
    return r < 8 ? 8 : r > 128 ? 128 : r;
}

/* Σ_{t,t'} (X·Xᵀ)[t][t'] · (Y·Yᵀ)[t][t'] = ‖Xᵀ·Y‖² for X [M][a], Y [M][b] (ws: 2·M·M floats). */
static double gram_norm(const float *X, int a, const float *Y, int b, int M, float *ws)
{
    float *GX = ws, *GY = ws + (size_t)M * M; /* [M][M] each */
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, M, a, 1.0f, X, a, X, a, 0.0f, GX, M);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, M, b, 1.0f, Y, b, Y, b, 0.0f, GY, M);
    double s = 0.0;
    for (size_t i = 0; i < (size_t)M * M; i++) s += (double)GX[i] * GY[i];
    return s;
}

ss_status ss_bwd_head_run(ss_bwd_head *h, ss_bwd_sink *s, const float *hf, const float *W, int tied,
                          const char *head_name, const int32_t *ids, int T, int V, int d, float *dhf)
{
    ss_status st = SS_OK;
    memset(h, 0, sizeof *h);
    const int M = T - 1, ROWS = block_rows(V);
    h->T = T, h->V = V, h->d = d, h->M = M, h->tied = tied, h->hf = hf;
    h->gram = !s->visit && M > 0 && (size_t)M * V <= SS_BWD_GRAM_MAX;
    float *p = malloc((size_t)ROWS * V * sizeof *p);                           /* [ROWS][V] probabilities */
    float *zb = h->gram ? NULL : malloc((size_t)ROWS * V * sizeof *zb);        /* direct: [ROWS][V] */
    float *dZ = h->gram ? malloc((size_t)(M > 0 ? M : 1) * V * sizeof *dZ) : NULL; /* gram: [M][V] */
    float *dH = !h->gram && !tied ? calloc((size_t)V * d, sizeof *dH) : NULL;  /* direct, untied: [V][d] */
    float *ws = h->gram ? malloc((size_t)2 * M * M * sizeof *ws) : NULL;       /* [2][M][M] */
    h->dE = h->gram ? NULL : calloc((size_t)V * d, sizeof *h->dE);             /* direct: [V][d] */
    int32_t tg[128];
    s->out->loss = 0.0;
    s->out->n_targets = M;
    memset(dhf, 0, (size_t)T * d * sizeof *dhf);
    if (!p || (h->gram ? !dZ || !ws : !zb || !h->dE || (!tied && !dH))) {
        st = ss_fail(SS_ERR_NOMEM, "out of memory for the LM head's gradient (%d tokens, vocabulary %d)", T, V);
        goto done;
    }
    float *dW = tied ? h->dE : dH; /* direct: the head's gradient accumulates here */
    for (int t0 = 0; t0 < M; t0 += ROWS) {
        const int n = M - t0 < ROWS ? M - t0 : ROWS;
        for (int i = 0; i < n; i++) tg[i] = ids[t0 + i + 1];
        const float *hb = hf + (size_t)t0 * d;                      /* [n][d] */
        float *z = h->gram ? dZ + (size_t)t0 * V : zb;                /* [n][V] logits, then dz */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, V, d, 1.0f, hb, d, W, d, 0.0f, z, V);
        s->out->loss += ss_tr_xent_fwd_f(p, z, tg, n, V) * n / M;
        ss_tr_xent_bwd_f(z, p, tg, n, V, (double)n / M); /* dz of the mean over all M targets */
        /* dhf [n][d] = dz · W */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, d, V, 1.0f, z, V, W, d, 0.0f, dhf + (size_t)t0 * d, d);
        if (!h->gram) /* dW [V][d] += dzᵀ · h */
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, V, d, n, 1.0f, z, V, hb, d, 1.0f, dW, d);
    }
    if (h->gram && M > 0) {
        const double a2 = gram_norm(dZ, V, hf, d, M, ws); /* ‖dZᵀ·H‖² */
        if (tied) {
            h->norm_a = a2;
            h->dZ = dZ; /* kept for the embedding's cross term */
            dZ = NULL;
        } else {
            ss_bwd_add_norm(s, -1, SS_PG_LM_HEAD, a2);
        }
    } else if (!h->gram && !tied) {
        ss_bwd_emit(s, head_name, -1, SS_PG_LM_HEAD, dH, 0, (size_t)V * d);
    }
done:
    free(p);
    free(zb);
    free(dZ);
    free(dH);
    free(ws);
    return st;
}

ss_status ss_bwd_head_embedding(ss_bwd_head *h, ss_bwd_sink *s, const char *name, const int32_t *ids,
                                const float *g)
{
    const int T = h->T, d = h->d, M = h->M, V = h->V;
    if (!h->gram) {
        for (int t = 0; t < T; t++) {
            float *row = h->dE + (size_t)ids[t] * d; /* [d] */
            const float *gt = g + (size_t)t * d;     /* [d] */
            for (int i = 0; i < d; i++) row[i] += gt[i];
        }
        ss_bwd_emit(s, name, -1, SS_PG_EMBEDDING, h->dE, 0, (size_t)V * d);
        return SS_OK;
    }
    /* gram: Σ over the distinct ids r of 2·A_r·S_r + ‖S_r‖², plus ‖A‖² when tied */
    double *S = malloc((size_t)d * sizeof *S), *A = malloc((size_t)d * sizeof *A); /* [d] each */
    if (!S || !A) {
        free(S);
        free(A);
        return ss_fail(SS_ERR_NOMEM, "out of memory for the embedding's gradient norm");
    }
    double total = h->tied ? h->norm_a : 0.0;
    for (int t = 0; t < T; t++) {
        int first = 1; /* t is the first position with this id */
        for (int u = 0; u < t && first; u++) first = ids[u] != ids[t];
        if (!first) continue;
        const int r = ids[t];
        memset(S, 0, (size_t)d * sizeof *S);
        for (int u = t; u < T; u++)
            if (ids[u] == r)
                for (int i = 0; i < d; i++) S[i] += g[(size_t)u * d + i];
        double cross = 0.0, s2 = 0.0;
        if (h->tied) {
            memset(A, 0, (size_t)d * sizeof *A);
            for (int u = 0; u < M; u++) {
                const double z = h->dZ[(size_t)u * V + r];
                for (int i = 0; i < d; i++) A[i] += z * h->hf[(size_t)u * d + i];
            }
            for (int i = 0; i < d; i++) cross += A[i] * S[i];
        }
        for (int i = 0; i < d; i++) s2 += S[i] * S[i];
        total += 2.0 * cross + s2;
    }
    ss_bwd_add_norm(s, -1, SS_PG_EMBEDDING, total);
    free(S);
    free(A);
    return SS_OK;
}

void ss_bwd_head_free(ss_bwd_head *h)
{
    free(h->dZ);
    free(h->dE);
    h->dZ = h->dE = NULL;
}
