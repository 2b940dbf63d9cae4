/* analysis_graph.c: the attention graph of each head at each threshold (science.md b4, b5, pitfalls C6, C11).
 *
 * B_ij = 1[A_ij > τ] (query i -> key j); in-degree d_j over i ≠ j (the diagonal is excluded unless
 * include_diag = 1; graph.h); density ρ_B = Σ B / T², effective when in [0.05, 0.95]; star-likeness
 * S_b = max d / (T−1), in-degree Gini G, S = 0.3 S_b + 0.7 G, degree centralisation C_d, Var(d).
 * Per head (C11), for every τ of the grid. The Laplacian of the symmetrised graph W = (B + Bᵀ)/2 —
 * Fiedler value λ2 and spectral gap λ3 − λ2 from LAPACK's dsyevd — costs an eigen-decomposition per
 * matrix, so by default it is taken on the head-mean Ā of each layer (the authors' matrix), only at the
 * thresholds where that graph is effective (NaN elsewhere, as the authors skip them), and per head only
 * with laplacian_per_head: 1. The grid is the authors' main() list with 0.05 where their Fiedler
 * notebook has the typo 0.5 (C6). */
#include <math.h>
#include <stdlib.h>

#include "analysis.h"
#include "graph.h"

static const ss_param_decl g_params[] = {
    {"thresholds", SS_PARAM_FLOAT_LIST, 0.0, 1.0, 1, 1, "[0.001, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2]",
     "edge thresholds tau (strict >), each in (0, 1)"},
    {"include_diag", SS_PARAM_INT, 0, 1, 0, 0, "0", "1: count self-loops in the degrees (the authors' code may)"},
    {"laplacian_per_head", SS_PARAM_INT, 0, 1, 0, 0, "0",
     "1: the Laplacian spectrum of every head too (an eigen-decomposition per head and threshold)"},
};

enum { N_HEAD_SETS = 6 };
static const char *const g_head_names[N_HEAD_SETS] = {"density", "gini", "star_basic", "star", "centralisation",
                                                      "degree_var"};
static const char *const g_head_docs[N_HEAD_SETS] = {
    "[layer][head][tau] edge density sum B / T^2; effective when in [0.05, 0.95]",
    "[layer][head][tau] Gini coefficient of the in-degrees",
    "[layer][head][tau] basic star-likeness S_b = max in-degree / (T - 1)",
    "[layer][head][tau] star-likeness S = 0.3 S_b + 0.7 Gini",
    "[layer][head][tau] degree centralisation sum_j (d_max - d_j) / (T - 1)^2",
    "[layer][head][tau] variance of the in-degrees (population)",
};

static ss_status declare(const ss_analysis_spec *spec, const ss_model_dims *dims, ss_dataset_decl *out, int *n_out)
{
    const int L = dims->n_layers, H = dims->n_heads, n_tau = ss_analysis_param(spec, "thresholds")->n_list;
    for (int k = 0; k < N_HEAD_SETS; k++)
        ss_decl(&out[k], g_head_names[k], SS_DT_F32, k == 5 ? "edges^2" : "ratio", g_head_docs[k], 3, L, H, n_tau);
    ss_decl(&out[6], "fiedler", SS_DT_F32, "eigenvalue",
            "[layer][tau] Fiedler value (2nd smallest Laplacian eigenvalue) of the head-mean graph; NaN where the "
            "threshold is not effective there",
            2, L, n_tau, 0);
    ss_decl(&out[7], "spectral_gap", SS_DT_F32, "eigenvalue", "[layer][tau] lambda_3 - lambda_2 of the head-mean graph",
            2, L, n_tau, 0);
    ss_decl(&out[8], "density_mean_head", SS_DT_F32, "ratio", "[layer][tau] edge density of the head-mean graph", 2, L,
            n_tau, 0);
    int n = 9;
    if ((int)ss_param_num(spec, "laplacian_per_head")) {
        ss_decl(&out[n++], "fiedler_head", SS_DT_F32, "eigenvalue", "[layer][head][tau] Fiedler value of each head", 3,
                L, H, n_tau);
        ss_decl(&out[n++], "spectral_gap_head", SS_DT_F32, "eigenvalue", "[layer][head][tau] lambda_3 - lambda_2", 3, L,
                H, n_tau);
    }
    *n_out = n;
    return SS_OK;
}

static ss_status compute(const ss_analysis_spec *spec, const ss_model_dims *dims, const ss_capture *cap, void **bufs)
{
    (void)dims;
    ss_status st = SS_OK;
    const int L = cap->n_layers, H = cap->n_heads, T = cap->n_tokens;
    const ss_param_value *taus = ss_analysis_param(spec, "thresholds");
    const int n_tau = taus->n_list, diag = (int)ss_param_num(spec, "include_diag");
    const int per_head_lap = (int)ss_param_num(spec, "laplacian_per_head");
    void *work = malloc(ss_graph_workspace_bytes(T));
    float *Abar = malloc((size_t)T * T * sizeof *Abar); /* [T][T] */
    if (!work || !Abar) {
        st = ss_fail(SS_ERR_NOMEM, "attention_graph: out of memory");
        goto done;
    }
    for (int l = 0; l < L; l++) {
        for (int h = 0; h < H; h++) {
            const float *A = cap->attn + (((size_t)l * H + h) * T) * T; /* [T][T] */
            for (int k = 0; k < n_tau; k++) {
                ss_graph_metrics g;
                const int rc = per_head_lap ? ss_graph_metrics_compute(A, T, (float)taus->list[k], diag, work, NULL,
                                                                       NULL, &g)
                                            : ss_graph_degree_metrics_compute(A, T, (float)taus->list[k], diag, work,
                                                                              NULL, &g);
                if (rc != 0) {
                    st = ss_fail(SS_ERR_RANGE, "attention_graph: layer %d head %d: LAPACK failed (non-finite or degenerate input)", l, h);
                    goto done;
                }
                const size_t o = ((size_t)l * H + h) * n_tau + k;
                const double v[N_HEAD_SETS] = {g.density, g.gini, g.star_basic, g.star, g.centralisation,
                                               g.degree_var};
                for (int s = 0; s < N_HEAD_SETS; s++) ((float *)bufs[s])[o] = (float)v[s];
                if (per_head_lap) {
                    ((float *)bufs[9])[o] = (float)g.fiedler;
                    ((float *)bufs[10])[o] = (float)g.spectral_gap;
                }
            }
        }
        ss_capture_head_mean(cap, l, Abar);
        for (int k = 0; k < n_tau; k++) {
            ss_graph_metrics g;
            /* the spectrum only where the threshold is effective (density in [0.05, 0.95]), as the authors
             * compute it: elsewhere the graph is (nearly) empty or complete and λ2 says nothing */
            if (ss_graph_degree_metrics_compute(Abar, T, (float)taus->list[k], diag, work, NULL, &g) != 0 ||
                (g.effective && ss_graph_metrics_compute(Abar, T, (float)taus->list[k], diag, work, NULL, NULL, &g) != 0)) {
                st = ss_fail(SS_ERR_RANGE, "attention_graph: layer %d (head mean): LAPACK failed (non-finite or degenerate input)", l);
                goto done;
            }
            ((float *)bufs[6])[(size_t)l * n_tau + k] = (float)g.fiedler;
            ((float *)bufs[7])[(size_t)l * n_tau + k] = (float)g.spectral_gap;
            ((float *)bufs[8])[(size_t)l * n_tau + k] = (float)g.density;
        }
    }
done:
    free(work);
    free(Abar);
    return st;
}

const ss_analysis_type ss_analysis_graph = {
    .type = "attention_graph",
    .doc = "thresholded attention graphs: density, in-degree Gini, star-likeness, centralisation per head; "
           "Fiedler value and spectral gap of the symmetrised Laplacian",
    .params = g_params,
    .n_params = (int)(sizeof g_params / sizeof g_params[0]),
    .declare = declare,
    .compute = compute,
};
