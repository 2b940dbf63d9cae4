/* analysis_massive.c: massive activations (science.md b11; Sun et al. 2024) in every hidden state.
 * An activation h^l_{i,c} is massive when |h| > abs_threshold (100) AND |h| > rel_threshold (1000) × the median
 * |h| of that hidden state (all tokens and channels). hidden[0..L] as the capture holds them (capture.h): the
 * embedding output, the stream between layers, and the last hidden state (after the final norm for decoders). */
#include <math.h>
#include <stdlib.h>

#include "analysis.h"
#include "massive.h"

static const ss_param_decl g_params[] = {
    {"abs_threshold", SS_PARAM_FLOAT, 0.0, 1e30, 1, 0, "100", "|h| must exceed this"},
    {"rel_threshold", SS_PARAM_FLOAT, 0.0, 1e30, 1, 0, "1000", "and this many times the median |h| of the state"},
};

static ss_status declare(const ss_analysis_spec *spec, const ss_model_dims *dims, ss_dataset_decl *out, int *n_out)
{
    (void)spec;
    const int S = dims->n_layers + 1;
    ss_decl(&out[0], "n_massive", SS_DT_I32, "activations", "[state] massive activations in hidden[state]", 1, S, 0, 0);
    ss_decl(&out[1], "max_abs", SS_DT_F32, "model units", "[state] the largest |h|", 1, S, 0, 0);
    ss_decl(&out[2], "max_ratio", SS_DT_F32, "ratio", "[state] the largest |h| / the median |h|", 1, S, 0, 0);
    ss_decl(&out[3], "max_token", SS_DT_I32, "position", "[state] the token of the largest |h|", 1, S, 0, 0);
    ss_decl(&out[4], "max_channel", SS_DT_I32, "channel", "[state] the channel of the largest |h|", 1, S, 0, 0);
    ss_decl(&out[5], "median_abs", SS_DT_F32, "model units", "[state] median |h|", 1, S, 0, 0);
    ss_decl(&out[6], "token_states", SS_DT_I32, "states",
            "[position] in how many hidden states the token carries a massive activation", 1, dims->max_tokens, 0, 0);
    *n_out = 7;
    return SS_OK;
}

static ss_status compute(const ss_analysis_spec *spec, const ss_model_dims *dims, const ss_capture *cap, void **bufs)
{
    (void)dims;
    const int L = cap->n_layers, T = cap->n_tokens, d = cap->d_model;
    const double abs_t = ss_param_num(spec, "abs_threshold"), rel_t = ss_param_num(spec, "rel_threshold");
    int32_t *tok = bufs[6]; /* [T_max] */
    unsigned char *flag = malloc((size_t)T);
    if (!flag) return ss_fail(SS_ERR_NOMEM, "massive_activations: out of memory");
    for (int t = 0; t < T; t++) tok[t] = 0;
    for (int s = 0; s <= L; s++) {
        const float *h = cap->hidden + (size_t)s * T * d; /* [T][d] */
        ss_massive_result r;
        if (ss_massive_activations(h, T, d, abs_t, rel_t, NULL, 0, flag, &r) != 0) {
            free(flag);
            return ss_fail(SS_ERR_NOMEM, "massive_activations: out of memory");
        }
        ((int32_t *)bufs[0])[s] = (int32_t)(r.n_massive > 2147483647L ? 2147483647L : r.n_massive);
        ((float *)bufs[1])[s] = r.max_abs;
        ((float *)bufs[2])[s] = (float)(r.median_abs > 0 ? r.max_abs / r.median_abs : INFINITY);
        ((int32_t *)bufs[3])[s] = r.max_token;
        ((int32_t *)bufs[4])[s] = r.max_channel;
        ((float *)bufs[5])[s] = (float)r.median_abs;
        for (int t = 0; t < T; t++) tok[t] += flag[t];
    }
    free(flag);
    return SS_OK;
}

const ss_analysis_type ss_analysis_massive = {
    .type = "massive_activations",
    .doc = "activations above an absolute and a median-relative threshold in every hidden state (Sun et al.)",
    .params = g_params,
    .n_params = (int)(sizeof g_params / sizeof g_params[0]),
    .declare = declare,
    .compute = compute,
};
