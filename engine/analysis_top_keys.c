/* analysis_top_keys.c: each head's most-attended key and its share.
 *
 * Two conventions, stored side by side (science.md b0, pitfall C1):
 *  - raw:   argmax_j r_j, r_j = (1/T) sum_i A_ij over all rows, masked zeros included (the authors' code);
 *  - alpha: argmax_j alpha_j with the causal (T-j) normalisation, over keys that at least
 *           max(min_queries, ceil(T/4)) queries can see (for encoders alpha = r and every key counts);
 *           on a sliding-window layer (Gemma-3's local layers) a key's visible queries are the W after it,
 *           and the quarter is of W.
 * Each top key's token class (capture.h SS_TOK_*) is stored beside it, for the frame classifier. */
#include <stdlib.h>
#include <string.h>

#include "analysis.h"
#include "sink.h"

static const ss_param_decl g_params[] = {
    {"min_queries", SS_PARAM_INT, 1, 100000, 0, 0, "4",
     "alpha convention: a key is a candidate only if at least max(min_queries, ceil(T/4)) queries see it"},
};

static void decl(ss_dataset_decl *d, const char *name, ss_dtype t, const ss_model_dims *dims, const char *units,
                 const char *doc)
{
    memset(d, 0, sizeof *d);
    strcpy(d->name, name);
    d->dtype = t;
    d->rank = 2;
    d->dims[0] = dims->n_layers;
    d->dims[1] = dims->n_heads;
    strcpy(d->units, units);
    strcpy(d->doc, doc);
}

static ss_status declare(const ss_analysis_spec *spec, const ss_model_dims *dims, ss_dataset_decl *out, int *n_out)
{
    (void)spec;
    decl(&out[0], "top_key", SS_DT_I32, dims, "position",
         "[layer][head] 0-based position of the key with the largest raw column mean r_j");
    decl(&out[1], "top_share", SS_DT_F32, dims, "probability", "[layer][head] r_j of that key: its share of all attention");
    decl(&out[2], "top_key_alpha", SS_DT_I32, dims, "position",
         "[layer][head] 0-based position of the key with the largest alpha_j among keys with enough visible queries");
    decl(&out[3], "top_alpha", SS_DT_F32, dims, "probability", "[layer][head] alpha_j of that key");
    decl(&out[4], "top_class", SS_DT_I32, dims, "class",
         "[layer][head] class of top_key: 0 content, 1 first position, 2 start special (BOS/[CLS]), 3 end special "
         "(EOS/[SEP]), 4 punctuation");
    decl(&out[5], "top_class_alpha", SS_DT_I32, dims, "class", "[layer][head] class of top_key_alpha (as top_class)");
    *n_out = 6;
    return SS_OK;
}

static ss_status compute(const ss_analysis_spec *spec, const ss_model_dims *dims, const ss_capture *cap, void **bufs)
{
    (void)dims;
    const int L = cap->n_layers, H = cap->n_heads, T = cap->n_tokens;
    const int min_q = (int)ss_analysis_param(spec, "min_queries")->num;
    int32_t *top_key = bufs[0];       /* [L][H] */
    float *top_share = bufs[1];       /* [L][H] */
    int32_t *top_key_alpha = bufs[2]; /* [L][H] */
    float *top_alpha = bufs[3];       /* [L][H] */
    int32_t *top_class = bufs[4];     /* [L][H] */
    int32_t *top_class_alpha = bufs[5]; /* [L][H] */
    float *v = malloc((size_t)T * sizeof *v); /* [T] */
    if (!v) return ss_fail(SS_ERR_NOMEM, "top_keys: out of memory");
    for (int l = 0; l < L; l++) {
        const int n_cand = ss_key_candidates_window(T, cap->causal, ss_capture_window(cap, l), min_q);
        for (int h = 0; h < H; h++) {
            const float *A = cap->attn ? cap->attn + ((size_t)l * H + h) * T * T : NULL; /* [T][T] */
            const size_t o = (size_t)l * H + h;
            if (A) ss_column_mean(A, T, v);
            else memcpy(v, cap->col_mean + o * T, (size_t)T * sizeof *v); /* summary pass (capture.h) */
            top_key[o] = ss_argmax(v, T);
            top_share[o] = v[top_key[o]];
            top_class[o] = ss_capture_class(cap, top_key[o]);
            if (n_cand == 0) continue; /* too short for the alpha convention: left at -1 / NaN */
            if (A) ss_column_importance_window(A, T, cap->causal, ss_capture_window(cap, l), v);
            else memcpy(v, cap->alpha + o * T, (size_t)T * sizeof *v);
            top_key_alpha[o] = ss_argmax(v, n_cand);
            top_alpha[o] = v[top_key_alpha[o]];
            top_class_alpha[o] = ss_capture_class(cap, top_key_alpha[o]);
        }
    }
    free(v);
    return SS_OK;
}

const ss_analysis_type ss_analysis_top_keys = {
    .type = "top_keys",
    .doc = "each head's most-attended key (raw and causal-corrected) and its share",
    .params = g_params,
    .n_params = (int)(sizeof g_params / sizeof g_params[0]),
    .declare = declare,
    .compute = compute,
    .attn_summary_ok = 1,
};
