/* analysis_reference_influence.c: how much of each attention output comes from the reference keys
 * (science.md b3), per layer, in sinkscope's corrected form and in the authors' form (pitfalls C2, C9).
 *
 * R is layer l's corrected reference set (reference_tokens, same parameters). For a query i not in R:
 *   t_i = its output, rho_i = the part of it that comes from keys in R,
 *   RM_i = clip(|rho_i| / |t_i|, 0, 1),  DI_i = (cos(rho_i, t_i) + 1) / 2,  IC_i = min(|rho_i|, 1e6).
 * corrected: the true value path of every head, t_i = Σ_h W_O^h Σ_j A^h_ij v^h_j (the attention block's output
 *            without its bias) and rho_i = Σ_h W_O^h Σ_{j∈R} A^h_ij v^h_j (KV head h/(H/H_kv) under GQA).
 * compat:    the authors' version: the head-mean Ā (rows renormalised), z_j = hidden[l]_j (the residual stream
 *            entering layer l), and their raw-r reference set.
 * Means over the queries that entered (reference queries and zero outputs excluded, C9); n_entered is stored. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis.h"
#include "analysis_reference.h"
#include "conv1d.h" /* ss_conv1d */
#include "matmul.h" /* ss_matmul */
#include "reference.h"

static ss_status declare(const ss_analysis_spec *spec, const ss_model_dims *dims, ss_dataset_decl *out, int *n_out)
{
    (void)spec;
    const int L = dims->n_layers;
    ss_decl(&out[0], "rm", SS_DT_F32, "ratio", "[layer] mean relative magnitude |rho|/|t| (true value path)", 1, L, 0, 0);
    ss_decl(&out[1], "di", SS_DT_F32, "ratio", "[layer] mean directional influence (cos(rho, t) + 1)/2 (true value path)",
            1, L, 0, 0);
    ss_decl(&out[2], "ic", SS_DT_F32, "model units", "[layer] mean |rho| (true value path, capped at 1e6)", 1, L, 0, 0);
    ss_decl(&out[3], "n_entered", SS_DT_I32, "queries", "[layer] queries in the means (true value path)", 1, L, 0, 0);
    ss_decl(&out[4], "rm_compat", SS_DT_F32, "ratio", "[layer] RM, authors' form (head mean, residual stream, raw R)", 1,
            L, 0, 0);
    ss_decl(&out[5], "di_compat", SS_DT_F32, "ratio", "[layer] DI, authors' form", 1, L, 0, 0);
    ss_decl(&out[6], "ic_compat", SS_DT_F32, "model units", "[layer] IC, authors' form", 1, L, 0, 0);
    *n_out = 7;
    return SS_OK;
}

static ss_status compute(const ss_analysis_spec *spec, const ss_model_dims *dims, const ss_capture *cap, void **bufs)
{
    (void)dims;
    ss_status st = SS_OK;
    const int L = cap->n_layers, H = cap->n_heads, T = cap->n_tokens, d = cap->d_model, dh = cap->d_head;
    const int group = H / cap->n_kv_heads, nq = H * dh;
    float *rm = bufs[0], *di = bufs[1], *ic = bufs[2], *rm_c = bufs[4], *di_c = bufs[5], *ic_c = bufs[6]; /* [L] */
    int32_t *n_entered = bufs[3];                                                                       /* [L] */
    float *Abar = malloc((size_t)T * T * sizeof *Abar);             /* [T][T] */
    float *score = malloc((size_t)T * sizeof *score);               /* [T] */
    int *R = malloc((size_t)T * 2 * sizeof *R);                     /* [T] corrected, [T] raw */
    unsigned char *in_R = malloc((size_t)T);                        /* [T] */
    float *ctx = malloc((size_t)T * nq * 2 * sizeof *ctx);          /* [T][H·d_h] all keys, then keys in R */
    float *t = malloc((size_t)T * d * 2 * sizeof *t);               /* [T][d] t, then [T][d] rho */
    double *acc = malloc((size_t)dh * 2 * sizeof *acc);             /* [d_h] all keys, [d_h] keys in R */
    if (!Abar || !score || !R || !in_R || !ctx || !t || !acc) {
        st = ss_fail(SS_ERR_NOMEM, "reference_influence: out of memory");
        goto done;
    }
    float *ctxR = ctx + (size_t)T * nq, *rho = t + (size_t)T * d;
    for (int l = 0; l < L; l++) {
        int n = 0, n_raw = 0;
        SS_TRY(ss_reference_sets(spec, cap, l, Abar, score, R, &n, R + T, &n_raw));
        memset(in_R, 0, (size_t)T);
        for (int k = 0; k < n; k++) in_R[R[k]] = 1;
        /* per head: ctx_h,i = Σ_j A_ij v_j and ctxR_h,i = Σ_{j∈R} A_ij v_j, d_h columns each */
        for (int h = 0; h < H; h++) {
            const float *A = cap->attn + (((size_t)l * H + h) * T) * T;                           /* [T][T] */
            const float *v = cap->v + (((size_t)l * cap->n_kv_heads + h / group) * T) * dh; /* [T][d_h] */
            for (int i = 0; i < T; i++) {
                float *o = ctx + (size_t)i * nq + (size_t)h * dh, *oR = ctxR + (size_t)i * nq + (size_t)h * dh;
                double *accR = acc + dh;
                for (int c = 0; c < dh; c++) acc[c] = accR[c] = 0.0;
                for (int j = 0; j < T; j++) {
                    const double a = A[(size_t)i * T + j];
                    if (a == 0.0) continue;
                    const float *vj = v + (size_t)j * dh;
                    for (int c = 0; c < dh; c++) acc[c] += a * vj[c];
                    if (in_R[j])
                        for (int c = 0; c < dh; c++) accR[c] += a * vj[c];
                }
                for (int c = 0; c < dh; c++) {
                    o[c] = (float)acc[c];
                    oR[c] = (float)accR[c];
                }
            }
        }
        if (cap->w_o_conv1d) {
            ss_conv1d(t, ctx, cap->w_o[l], NULL, T, nq, d);
            ss_conv1d(rho, ctxR, cap->w_o[l], NULL, T, nq, d);
        } else {
            ss_matmul(t, ctx, cap->w_o[l], NULL, T, nq, d);
            ss_matmul(rho, ctxR, cap->w_o[l], NULL, T, nq, d);
        }
        ss_ref_influence_stats s;
        if (ss_reference_influence_parts(t, rho, T, d, in_R, &s) != 0) {
            st = ss_fail(SS_ERR_NOMEM, "reference_influence: out of memory");
            goto done;
        }
        rm[l] = (float)s.rm_mean;
        di[l] = (float)s.di_mean;
        ic[l] = (float)s.ic_mean;
        n_entered[l] = s.n_entered;
        /* authors' form: head mean, residual stream entering layer l, raw set */
        const float *z = cap->hidden + (size_t)l * T * d; /* [T][d] */
        if (ss_reference_influence(Abar, T, z, d, d, R + T, n_raw, NULL, NULL, NULL, &s) != 0) {
            st = ss_fail(SS_ERR_NOMEM, "reference_influence: out of memory");
            goto done;
        }
        rm_c[l] = (float)s.rm_mean;
        di_c[l] = (float)s.di_mean;
        ic_c[l] = (float)s.ic_mean;
    }
done:
    free(Abar);
    free(score);
    free(R);
    free(in_R);
    free(ctx);
    free(t);
    free(acc);
    return st;
}

const ss_analysis_type ss_analysis_reference_influence = {
    .type = "reference_influence",
    .doc = "share and direction of each attention output that comes from the reference keys (true value path and "
           "the authors' residual-stream form)",
    .params = ss_reference_params,
    .n_params = SS_REFERENCE_N_PARAMS,
    .declare = declare,
    .compute = compute,
};
