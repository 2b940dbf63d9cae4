/* analysis_head_kl.c: how far each head is from the layer's mean head, with and without the sink columns
 * (science.md b7, pitfall C11).
 *
 *   c_j = Σ_h Σ_i A^h_ij;  S = {j : c_j >= the q-quantile of c} (numpy's linear percentile);
 *   sink attention % = 100 Σ_S c / Σ c;
 *   KL_h = mean over rows i of KL(A^h_i ‖ Ā_i) in nats (terms with p = 0 skipped, Ā floored at 1e-10);
 *   without sinks: the columns in S zeroed in every head, rows renormalised (a row left with no mass becomes
 *   uniform over the non-sink keys it can see), Ā recomputed; reduction = KL_with − KL_without.
 * Rows: every row for encoders; rows 1..T−1 for causal models, whose row 0 is [1, 0, ...] in every head
 * and carries no information (sinkscope's choice; the authors keep it). */
#include <math.h>
#include <stdlib.h>

#include "analysis.h"
#include "divergence.h"

static const ss_param_decl g_params[] = {
    {"q", SS_PARAM_FLOAT, 0.0, 1.0, 1, 1, "0.9", "sink columns: c_j at or above this quantile of the column sums"},
};

static ss_status declare(const ss_analysis_spec *spec, const ss_model_dims *dims, ss_dataset_decl *out, int *n_out)
{
    (void)spec;
    const int L = dims->n_layers, H = dims->n_heads;
    ss_decl(&out[0], "sink_attention", SS_DT_F32, "percent", "[layer] share of all attention on the sink columns S", 1,
            L, 0, 0);
    ss_decl(&out[1], "n_sinks", SS_DT_I32, "tokens", "[layer] |S|", 1, L, 0, 0);
    ss_decl(&out[2], "kl", SS_DT_F32, "nats", "[layer][head] mean KL of the head's rows from the mean head's", 2, L, H,
            0);
    ss_decl(&out[3], "kl_without_sinks", SS_DT_F32, "nats", "[layer][head] the same with the sink columns removed", 2,
            L, H, 0);
    ss_decl(&out[4], "kl_reduction", SS_DT_F32, "nats", "[layer][head] kl - kl_without_sinks", 2, L, H, 0);
    *n_out = 5;
    return SS_OK;
}

static ss_status compute(const ss_analysis_spec *spec, const ss_model_dims *dims, const ss_capture *cap, void **bufs)
{
    (void)dims;
    ss_status st = SS_OK;
    const int L = cap->n_layers, H = cap->n_heads, T = cap->n_tokens;
    const double q = ss_param_num(spec, "q");
    float *pct = bufs[0], *kl = bufs[2], *kl_wo = bufs[3], *red = bufs[4]; /* [L], [L][H] x3 */
    int32_t *n_s = bufs[1];                                                 /* [L] */
    double *c = malloc((size_t)T * sizeof *c);                              /* [T] */
    unsigned char *in_S = malloc((size_t)T);                                /* [T] */
    int *rows = malloc((size_t)T * sizeof *rows);                           /* [T] */
    double *k3 = malloc((size_t)H * 3 * sizeof *k3);                        /* [3][H] */
    if (!c || !in_S || !rows || !k3) {
        st = ss_fail(SS_ERR_NOMEM, "head_kl: out of memory");
        goto done;
    }
    const int n_rows = ss_kl_rows(T, cap->causal, 0, rows);
    for (int l = 0; l < L; l++) {
        const float *A = cap->attn + (size_t)l * H * T * T; /* [H][T][T] */
        ss_layer_column_sums(A, H, T, c);
        int n_sink = 0;
        double thr, sp;
        if (ss_sink_set(c, T, q, in_S, &n_sink, &thr, &sp) != 0 ||
            ss_kl_sink_reduction(A, H, T, cap->causal, in_S, rows, n_rows, k3, k3 + H, k3 + 2 * H) != 0) {
            st = ss_fail(SS_ERR_NOMEM, "head_kl: out of memory");
            goto done;
        }
        pct[l] = (float)sp;
        n_s[l] = n_sink;
        for (int h = 0; h < H; h++) {
            kl[(size_t)l * H + h] = (float)k3[h];
            kl_wo[(size_t)l * H + h] = (float)k3[H + h];
            red[(size_t)l * H + h] = (float)k3[2 * H + h];
        }
    }
done:
    free(c);
    free(in_S);
    free(rows);
    free(k3);
    return st;
}

const ss_analysis_type ss_analysis_head_kl = {
    .type = "head_kl",
    .doc = "KL divergence of each head from the mean head, with and without the sink columns",
    .params = g_params,
    .n_params = (int)(sizeof g_params / sizeof g_params[0]),
    .declare = declare,
    .compute = compute,
};
