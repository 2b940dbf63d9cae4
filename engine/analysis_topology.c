/* analysis_topology.c: persistent homology of the attention as a distance (science.md b6, pitfall C4).
 * Opt-in; computed on the head-mean Ā of selected layers, subsampled to at most max_points tokens at evenly
 * spaced positions (the authors use ≤ 30 of ≤ 48 tokens and layers 0, ⌊L/4⌋, 2⌊L/4⌋, 3⌊L/4⌋, L−1).
 *
 * corrected: D_ij = 1 − max(Ā_ij, Ā_ji), D_ii = 0 (an explicit symmetrisation), Vietoris–Rips persistence in
 *            dims 0 and 1 (topology.h). Stored: the number of bars per dimension, the bars longer than `floor`,
 *            the Betti numbers at the scale r, and the total persistence.
 * compat:    the authors' D = 1 − Ā as ripser.py reads it (its upper triangle; a non-zero diagonal as vertex
 *            births), for reproducing their Betti0/Betti1.
 * NOT MEANINGFUL FOR CAUSAL MODELS in either form: the masked half of a causal Ā is 0, so half the pairs sit
 * at distance 1 − max(A_ij, 0) decided by one direction only (corrected) or exactly 1 (compat: every edge of
 * ripser's upper triangle is masked, so Betti0 = n and Betti1 = 0 whatever the attention, the published
 * decoder numbers). The results file's group says so; the report shows topology for encoders only. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis.h"
#include "topology.h"

static const ss_param_decl g_params[] = {
    {"layers", SS_PARAM_STRING, 0, 0, 0, 0, "quartiles",
     "which layers: quartiles (0, L/4, L/2, 3L/4, L-1, as the authors) or all"},
    {"max_points", SS_PARAM_INT, 2, SS_TOPO_MAX_POINTS, 0, 0, "30", "tokens kept, evenly spaced (<= 64)"},
    {"floor", SS_PARAM_FLOAT, 0.0, 1.0, 0, 1, "0.01", "bars longer than this count as long"},
    {"scale", SS_PARAM_FLOAT, 0.0, 1.0, 0, 0, "0.5", "the scale r of the Betti numbers at r"},
};

enum { N_SETS = 11 };
static const char *const g_names[N_SETS] = {"betti0", "betti1", "long0", "long1", "betti0_at_r", "betti1_at_r",
                                            "total0", "total1", "betti0_compat", "betti1_compat", "n_points"};
static const char *const g_docs[N_SETS] = {
    "[layer] dim-0 bars (symmetrised distance), the infinite one included; -1 for layers not selected",
    "[layer] dim-1 bars (symmetrised distance)",
    "[layer] dim-0 bars longer than floor",
    "[layer] dim-1 bars longer than floor",
    "[layer] dim-0 bars alive at the scale r",
    "[layer] dim-1 bars alive at the scale r",
    "[layer] total persistence of the finite dim-0 bars",
    "[layer] total persistence of the dim-1 bars",
    "[layer] Betti0 as the authors compute it (ripser.py on 1 - A)",
    "[layer] Betti1 as the authors compute it",
    "[layer] tokens kept after subsampling",
};

static int layer_selected(const ss_analysis_spec *spec, int l, int L)
{
    const ss_param_value *v = ss_analysis_param(spec, "layers");
    if (v && v->str && strcmp(v->str, "all") == 0) return 1;
    const int q = L / 4;
    return l == 0 || l == q || l == 2 * q || l == 3 * q || l == L - 1;
}

static ss_status declare(const ss_analysis_spec *spec, const ss_model_dims *dims, ss_dataset_decl *out, int *n_out)
{
    const ss_param_value *v = ss_analysis_param(spec, "layers");
    if (!v || !v->str || (strcmp(v->str, "quartiles") != 0 && strcmp(v->str, "all") != 0))
        return ss_fail(SS_ERR_INPUT, "analysis '%s': layers must be 'quartiles' or 'all'", spec->name);
    for (int k = 0; k < N_SETS; k++)
        ss_decl(&out[k], g_names[k], k == 6 || k == 7 ? SS_DT_F32 : SS_DT_I32, k == 6 || k == 7 ? "distance" : k == 10 ? "tokens" : "bars",
                g_docs[k], 1, dims->n_layers, 0, 0);
    *n_out = N_SETS;
    return SS_OK;
}

static ss_status compute(const ss_analysis_spec *spec, const ss_model_dims *dims, const ss_capture *cap, void **bufs)
{
    (void)dims;
    ss_status st = SS_OK;
    const int L = cap->n_layers, T = cap->n_tokens, max_pts = (int)ss_param_num(spec, "max_points");
    const double floor_p = ss_param_num(spec, "floor"), r = ss_param_num(spec, "scale");
    float *Abar = malloc((size_t)T * T * sizeof *Abar);                           /* [T][T] */
    float *sub = malloc((size_t)max_pts * max_pts * sizeof *sub);                 /* [m][m] */
    float *D = malloc((size_t)max_pts * max_pts * 2 * sizeof *D);                 /* [m][m] twice */
    float *vb = malloc((size_t)max_pts * sizeof *vb);                             /* [m] */
    int *idx = malloc((size_t)max_pts * sizeof *idx);                             /* [m] */
    ss_topo_diagram *dg = malloc(sizeof *dg);
    if (!Abar || !sub || !D || !vb || !idx || !dg) {
        st = ss_fail(SS_ERR_NOMEM, "topology: out of memory");
        goto done;
    }
    for (int l = 0; l < L; l++) {
        if (!layer_selected(spec, l, L)) continue;
        ss_capture_head_mean(cap, l, Abar);
        const int m = ss_topo_subsample(T, max_pts, idx);
        for (int a = 0; a < m; a++)
            for (int b = 0; b < m; b++) sub[a * m + b] = Abar[(size_t)idx[a] * T + idx[b]];
        ss_topo_summary s;
        ss_topo_dist_sym(sub, m, D);
        if (ss_topo_persistence(D, NULL, m, dg) != 0) {
            st = ss_fail(SS_ERR_NOMEM, "topology: out of memory");
            goto done;
        }
        ss_topo_summarise(dg, floor_p, r, &s);
        int32_t *iv[] = {bufs[0], bufs[1], bufs[2], bufs[3], bufs[4], bufs[5]};
        const int vals[6] = {s.betti0, s.betti1, s.long0, s.long1, s.betti0_at_r, s.betti1_at_r};
        for (int k = 0; k < 6; k++) iv[k][l] = vals[k];
        ((float *)bufs[6])[l] = (float)s.total0;
        ((float *)bufs[7])[l] = (float)s.total1;
        /* the authors' form: 1 − Ā as ripser.py reads it */
        float *W = D + (size_t)m * m;
        ss_topo_dist_compat(sub, m, D);
        ss_topo_ripser_view(D, m, W, vb);
        if (ss_topo_persistence(W, vb, m, dg) != 0) {
            st = ss_fail(SS_ERR_NOMEM, "topology: out of memory");
            goto done;
        }
        ss_topo_summarise(dg, floor_p, r, &s);
        ((int32_t *)bufs[8])[l] = s.betti0;
        ((int32_t *)bufs[9])[l] = s.betti1;
        ((int32_t *)bufs[10])[l] = m;
    }
done:
    free(Abar);
    free(sub);
    free(D);
    free(vb);
    free(idx);
    free(dg);
    return st;
}

const ss_analysis_type ss_analysis_topology = {
    .type = "topology",
    .doc = "Vietoris-Rips persistence (Betti0, Betti1, bars, total persistence) of 1 - attention on selected layers; "
           "not meaningful for causal models",
    .params = g_params,
    .n_params = (int)(sizeof g_params / sizeof g_params[0]),
    .declare = declare,
    .compute = compute,
};
