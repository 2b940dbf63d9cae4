/* analysis_attention_geometry.c: attention against the geometry of the hidden states (science.md b10,
 * pitfalls C10, C11). For layer l, h_pre = hidden[l] (the residual stream entering the layer) and
 * h_post = hidden[l+1] (leaving it; for the last layer of a decoder, the stream before the final norm).
 *
 *   entropy:    row entropy in nats (entries <= 100·ε_f32 dropped, rows renormalised), mean over rows, per head;
 *   magnitude:  M_i = ‖h_post,i − h_pre,i‖, mean over tokens;
 *   alignment:  Pearson r between A_ij and cos(h_pre,i, h_pre,j) over pairs j < i (causal, C10) or i ≠ j,
 *               per head and on the head mean Ā;
 *   entropy_magnitude_r: Pearson r over tokens between the row entropy of Ā and M_i;
 *   pca_corr:   the mean |Pearson r| between the top-3 principal components of Ā (rows as observations) and
 *               of h_pre (|r|: component signs are arbitrary). NaN when T < 4 or a component is degenerate.
 *               With pca: 1 only (two eigen-problems per layer, about half this analysis's cost at T = 64). */
#include <math.h>
#include <stdlib.h>

#include "analysis.h"
#include "divergence.h" /* ss_row_entropy_nats */
#include "geometry.h"

static const ss_param_decl g_params[] = {
    {"pca", SS_PARAM_INT, 0, 1, 0, 0, "0", "1: also the PCA correlation (two eigen-problems per layer)"},
};

static ss_status declare(const ss_analysis_spec *spec, const ss_model_dims *dims, ss_dataset_decl *out, int *n_out)
{
    (void)spec;
    const int L = dims->n_layers, H = dims->n_heads;
    ss_decl(&out[0], "entropy", SS_DT_F32, "nats", "[layer][head] mean row entropy of the head", 2, L, H, 0);
    ss_decl(&out[1], "alignment", SS_DT_F32, "pearson r",
            "[layer][head] r between A_ij and cos(h_i, h_j) over pairs j < i (causal) or i != j", 2, L, H, 0);
    ss_decl(&out[2], "alignment_mean_head", SS_DT_F32, "pearson r", "[layer] the same on the head-mean attention", 1, L,
            0, 0);
    ss_decl(&out[3], "magnitude", SS_DT_F32, "model units", "[layer] mean over tokens of |h_out - h_in|", 1, L, 0, 0);
    ss_decl(&out[4], "entropy_magnitude_r", SS_DT_F32, "pearson r",
            "[layer] r over tokens between the head-mean row entropy and |h_out - h_in|", 1, L, 0, 0);
    ss_decl(&out[5], "pca_corr", SS_DT_F32, "|pearson r|",
            "[layer] mean |r| between the top-3 principal components of the head-mean attention and of h_in (NaN "
            "unless pca: 1)",
            1, L, 0, 0);
    *n_out = 6;
    return SS_OK;
}

static ss_status compute(const ss_analysis_spec *spec, const ss_model_dims *dims, const ss_capture *cap, void **bufs)
{
    (void)dims;
    ss_status st = SS_OK;
    const int L = cap->n_layers, H = cap->n_heads, T = cap->n_tokens, d = cap->d_model;
    const int with_pca = (int)ss_param_num(spec, "pca");
    float *ent = bufs[0], *align = bufs[1], *align_m = bufs[2], *mag = bufs[3], *emr = bufs[4], *pca = bufs[5];
    float *Abar = malloc((size_t)T * T * sizeof *Abar); /* [T][T] */
    float *Hrow = malloc((size_t)T * sizeof *Hrow);     /* [T] */
    double *M = malloc((size_t)T * sizeof *M);          /* [T] */
    double *C = malloc((size_t)T * T * sizeof *C);      /* [T][T] cos(h_i, h_j) of the layer's input */
    if (!Abar || !Hrow || !M || !C) {
        st = ss_fail(SS_ERR_NOMEM, "attention_geometry: out of memory");
        goto done;
    }
    for (int l = 0; l < L; l++) {
        const float *h_pre = cap->hidden + (size_t)l * T * d;                                       /* [T][d] */
        const float *h_post = l + 1 < L ? cap->hidden + (size_t)(l + 1) * T * d : cap->hidden_prenorm; /* [T][d] */
        if (ss_cosine_matrix(h_pre, T, d, C) != 0) goto nomem; /* once per layer: every head correlates with it */
        for (int h = 0; h < H; h++) {
            const float *A = cap->attn + (((size_t)l * H + h) * T) * T; /* [T][T] */
            ss_row_entropy_nats(A, T, T, Hrow);
            double s = 0.0;
            for (int i = 0; i < T; i++) s += Hrow[i];
            ent[(size_t)l * H + h] = (float)(s / T);
            align[(size_t)l * H + h] = (float)ss_alignment_from_cos(A, C, T, cap->causal, ss_capture_window(cap, l));
        }
        ss_capture_head_mean(cap, l, Abar);
        double mean_r;
        align_m[l] = (float)ss_alignment_from_cos(Abar, C, T, cap->causal, ss_capture_window(cap, l));
        ss_transformation_magnitude(h_pre, h_post, T, d, 0, M);
        double s = 0.0;
        for (int i = 0; i < T; i++) s += M[i];
        mag[l] = (float)(s / T);
        ss_row_entropy_nats(Abar, T, T, Hrow);
        emr[l] = (float)ss_entropy_magnitude_r(Hrow, M, T);
        if (!with_pca) continue;
        if (ss_pca_correlation(Abar, h_pre, T, d, NULL, &mean_r) != 0) goto nomem;
        pca[l] = (float)mean_r;
    }
    goto done;
nomem:
    st = ss_fail(SS_ERR_NOMEM, "attention_geometry: out of memory or LAPACK failure");
done:
    free(Abar);
    free(Hrow);
    free(M);
    free(C);
    return st;
}

const ss_analysis_type ss_analysis_attention_geometry = {
    .type = "attention_geometry",
    .doc = "row entropy, transformation magnitude, geometric-semantic alignment and PCA correlation per layer",
    .params = g_params,
    .n_params = (int)(sizeof g_params / sizeof g_params[0]),
    .declare = declare,
    .compute = compute,
};
