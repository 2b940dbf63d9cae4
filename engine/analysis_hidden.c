/* analysis_hidden.c: the geometry of the hidden states around an anchor token (issue: hidden-state geometry).
 * For every hidden state hidden[0..L] (capture.h) and the anchor position a (default 0):
 *   anchor_norm_ratio: ‖h_a‖ / mean_{j≠a} ‖h_j‖;   anchor_cos: mean_{j≠a} cos(h_j, h_a);
 *   anisotropy: the mean pairwise cosine over i < j;  effective_rank: exp of the entropy of the normalised
 *   singular values of h [T][d] (Roy and Vetterli 2007), not centred (the shared direction, where sinks
 *   and massive activations live, is part of what is measured). */
#include <math.h>
#include <stdlib.h>

#include "analysis.h"
#include "geometry.h"

static const ss_param_decl g_params[] = {
    {"anchor", SS_PARAM_INT, 0, 100000, 0, 0, "0", "the anchor position (0-based)"},
};

static ss_status declare(const ss_analysis_spec *spec, const ss_model_dims *dims, ss_dataset_decl *out, int *n_out)
{
    (void)spec;
    const int S = dims->n_layers + 1;
    ss_decl(&out[0], "anchor_norm_ratio", SS_DT_F32, "ratio", "[state] |h_a| / mean over j != a of |h_j|", 1, S, 0, 0);
    ss_decl(&out[1], "anchor_cos", SS_DT_F32, "cosine", "[state] mean over j != a of cos(h_j, h_a)", 1, S, 0, 0);
    ss_decl(&out[2], "anisotropy", SS_DT_F32, "cosine", "[state] mean pairwise cosine of the tokens", 1, S, 0, 0);
    ss_decl(&out[3], "effective_rank", SS_DT_F32, "rank", "[state] effective rank of h (not centred)", 1, S, 0, 0);
    *n_out = 4;
    return SS_OK;
}

static ss_status compute(const ss_analysis_spec *spec, const ss_model_dims *dims, const ss_capture *cap, void **bufs)
{
    (void)dims;
    const int L = cap->n_layers, T = cap->n_tokens, d = cap->d_model, a = (int)ss_param_num(spec, "anchor");
    if (a >= T) return SS_OK; /* shorter than the anchor position: left NaN */
    double *cosv = malloc((size_t)T * sizeof *cosv); /* [T] */
    if (!cosv) return ss_fail(SS_ERR_NOMEM, "hidden_geometry: out of memory");
    for (int s = 0; s <= L; s++) {
        const float *h = cap->hidden + (size_t)s * T * d; /* [T][d] */
        ((float *)bufs[0])[s] = (float)ss_norm_ratio(h, T, d, a);
        ss_cos_to_anchor(h, T, d, a, cosv);
        double m = 0.0;
        for (int j = 0; j < T; j++)
            if (j != a) m += cosv[j];
        ((float *)bufs[1])[s] = T > 1 ? (float)(m / (T - 1)) : NAN;
        double an, er;
        if (ss_anisotropy(h, T, d, &an) != 0 || ss_effective_rank(h, T, d, 0, &er) != 0) {
            free(cosv);
            return ss_fail(SS_ERR_NOMEM, "hidden_geometry: out of memory or LAPACK failure");
        }
        ((float *)bufs[2])[s] = (float)an;
        ((float *)bufs[3])[s] = (float)er;
    }
    free(cosv);
    return SS_OK;
}

const ss_analysis_type ss_analysis_hidden = {
    .type = "hidden_geometry",
    .doc = "anchor-token norm and cosine, anisotropy and effective rank of every hidden state",
    .params = g_params,
    .n_params = (int)(sizeof g_params / sizeof g_params[0]),
    .declare = declare,
    .compute = compute,
};
