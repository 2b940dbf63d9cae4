/* analysis_reference_tokens.c: the paper's reference-token detector (science.md b2) per layer, on the
 * head-mean attention Ā, in the authors' form and in sinkscope's causal-corrected form (pitfall C1).
 *
 *   raw (authors_compat): scores r_j = (1/T) Σ_i Ā_ij over all rows, masked zeros included; every key a candidate.
 *   corrected:            scores α_j = the mean of Ā_ij over the queries that can see key j (sink.h; the window
 *                         of a local layer too); candidates are the keys seen by >= max(min_queries, ⌈T/4⌉)
 *                         queries (⌈W/4⌉ on a window), so the last keys' one-query "means" cannot win.
 *   R = {j : score_j > τ}; if empty the top ⌈frac·T⌉ (at least 1); capped at max(1, ⌊cap_frac·T⌋), largest kept.
 * The corrected set is what reference_influence uses; both are stored so the paper's numbers can be reproduced. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis.h"
#include "analysis_reference.h"
#include "reference.h"
#include "sink.h"

const ss_param_decl ss_reference_params[SS_REFERENCE_N_PARAMS] = {
    {"tau", SS_PARAM_FLOAT, 0.0, 1.0, 1, 1, "0.1", "threshold on the key score (strict >), in (0, 1)"},
    {"frac", SS_PARAM_FLOAT, 0.0, 1.0, 1, 0, "0.1", "fallback: the top ceil(frac*T) keys when none exceeds tau"},
    {"cap_frac", SS_PARAM_FLOAT, 0.0, 1.0, 1, 0, "0.3", "at most max(1, floor(cap_frac*T)) reference keys"},
    {"min_queries", SS_PARAM_INT, 1, 100000, 0, 0, "4",
     "corrected form: a key is a candidate only if max(min_queries, ceil(T/4)) queries see it"},
};

static int cap_of(const ss_analysis_spec *spec, int T)
{
    const int c = (int)floor(ss_param_num(spec, "cap_frac") * T);
    return c < 1 ? 1 : c;
}

ss_status ss_reference_sets(const ss_analysis_spec *spec, const ss_capture *cap, int l, float *Abar, float *score,
                            int *R, int *n_R, int *R_raw, int *n_R_raw)
{
    const int T = cap->n_tokens;
    const ss_reftok_params rp = {ss_param_num(spec, "tau"), ss_param_num(spec, "frac"), ss_param_num(spec, "cap_frac"),
                                 0};
    ss_capture_head_mean(cap, l, Abar);
    if (R_raw) {
        ss_column_mean(Abar, T, score);
        *n_R_raw = ss_reference_tokens(score, T, T, &rp, R_raw);
        if (*n_R_raw < 0) return ss_fail(SS_ERR_NOMEM, "reference tokens: out of memory");
    }
    const int w = ss_capture_window(cap, l);
    const int n_cand = ss_key_candidates_window(T, cap->causal, w, (int)ss_param_num(spec, "min_queries"));
    ss_column_importance_window(Abar, T, cap->causal, w, score);
    *n_R = ss_reference_tokens(score, T, n_cand, &rp, R);
    if (*n_R < 0) return ss_fail(SS_ERR_NOMEM, "reference tokens: out of memory");
    return SS_OK;
}

static ss_status declare(const ss_analysis_spec *spec, const ss_model_dims *dims, ss_dataset_decl *out, int *n_out)
{
    const int L = dims->n_layers, Rc = cap_of(spec, dims->max_tokens);
    ss_decl(&out[0], "ref_count", SS_DT_I32, "tokens",
            "[layer] |R|, corrected form (alpha scores, candidate keys only)", 1, L, 0, 0);
    ss_decl(&out[1], "ref_count_raw", SS_DT_I32, "tokens", "[layer] |R|, the authors' form (raw column means r)", 1, L,
            0, 0);
    ss_decl(&out[2], "ref_set", SS_DT_I32, "position",
            "[layer][slot] the reference keys (corrected form), ascending, -1 padded", 2, L, Rc, 0);
    ss_decl(&out[3], "ref_set_raw", SS_DT_I32, "position", "[layer][slot] the reference keys (authors' form), -1 padded",
            2, L, Rc, 0);
    ss_decl(&out[4], "ref_first", SS_DT_F32, "probability",
            "[layer] alpha of key 0 (the first position) on the head-mean attention", 1, L, 0, 0);
    *n_out = 5;
    return SS_OK;
}

static ss_status compute(const ss_analysis_spec *spec, const ss_model_dims *dims, const ss_capture *cap, void **bufs)
{
    ss_status st = SS_OK;
    const int L = cap->n_layers, T = cap->n_tokens, Rc = cap_of(spec, dims->max_tokens);
    int32_t *count = bufs[0], *count_raw = bufs[1], *set = bufs[2], *set_raw = bufs[3]; /* [L], [L], [L][Rc] x2 */
    float *first = bufs[4];                                                           /* [L] */
    float *Abar = malloc((size_t)T * T * sizeof *Abar);                               /* [T][T] */
    float *score = malloc((size_t)T * sizeof *score);                                 /* [T] */
    int *R = malloc((size_t)T * 2 * sizeof *R);                                       /* [T] twice */
    if (!Abar || !score || !R) {
        st = ss_fail(SS_ERR_NOMEM, "reference_tokens: out of memory");
        goto done;
    }
    for (int l = 0; l < L; l++) {
        int n = 0, n_raw = 0;
        SS_TRY(ss_reference_sets(spec, cap, l, Abar, score, R, &n, R + T, &n_raw));
        count[l] = n;
        count_raw[l] = n_raw;
        first[l] = score[0];
        for (int k = 0; k < n && k < Rc; k++) set[(size_t)l * Rc + k] = R[k];
        for (int k = 0; k < n_raw && k < Rc; k++) set_raw[(size_t)l * Rc + k] = R[T + k];
    }
done:
    free(Abar);
    free(score);
    free(R);
    return st;
}

const ss_analysis_type ss_analysis_reference_tokens = {
    .type = "reference_tokens",
    .doc = "the paper's reference-token detector per layer on the head-mean attention, raw and causal-corrected",
    .params = ss_reference_params,
    .n_params = SS_REFERENCE_N_PARAMS,
    .declare = declare,
    .compute = compute,
};
