/* analysis_sink_rate.c: Gu et al.'s Sink_k^eps for one prompt, and the alpha_k heat maps.
 *
 *   alpha_k^{l,h} = 1/(T-k+1) * sum_{t=k..T} A^{l,h}_{t,k}     (causal; the column mean for encoders;
 *                   on a sliding-window layer the mean over the W queries that can see key k)
 *   Sink_k^eps    = 100% * mean over layers l and heads h of 1[alpha_k^{l,h} > eps]   (strict >)
 *
 * The paper's Sink_k^eps is also averaged over prompts; that mean is taken over the task rows of
 * the results file (report), so each row holds one prompt's value. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis.h"
#include "sink.h"

static const ss_param_decl g_params[] = {
    {"epsilon", SS_PARAM_FLOAT_LIST, 0.0, 1.0, 1, 1, "[0.3]",
     "thresholds eps for Sink_k^eps (strict >), each in (0, 1)"},
    {"k_store", SS_PARAM_INT, 1, 64, 0, 0, "4", "store alpha_k^{l,h} for the first k_store key positions"},
};

static ss_status declare(const ss_analysis_spec *spec, const ss_model_dims *dims, ss_dataset_decl *out, int *n_out)
{
    const ss_param_value *eps = ss_analysis_param(spec, "epsilon");
    const ss_param_value *ks = ss_analysis_param(spec, "k_store");
    if (!eps || !ks) return ss_fail(SS_ERR_INTERNAL, "analysis '%s': parameters not filled", spec->name);
    int k_store = (int)ks->num;
    if (k_store > dims->max_tokens) k_store = dims->max_tokens;

    memset(out, 0, 2 * sizeof *out);
    strcpy(out[0].name, "sink_rate");
    out[0].dtype = SS_DT_F32;
    out[0].rank = 2;
    out[0].dims[0] = eps->n_list;
    out[0].dims[1] = dims->max_tokens;
    strcpy(out[0].units, "percent");
    strcpy(out[0].doc, "Sink_k^eps of this prompt: [epsilon][k], k = key position (0-based); "
                       "NaN beyond the prompt's length");

    strcpy(out[1].name, "alpha");
    out[1].dtype = SS_DT_F32;
    out[1].rank = 3;
    out[1].dims[0] = dims->n_layers;
    out[1].dims[1] = dims->n_heads;
    out[1].dims[2] = k_store;
    strcpy(out[1].units, "probability");
    strcpy(out[1].doc, "alpha_k^{l,h}: [layer][head][k], mean attention that key k receives from the queries "
                       "that can see it; NaN beyond the prompt's length");
    *n_out = 2;
    return SS_OK;
}

static ss_status compute(const ss_analysis_spec *spec, const ss_model_dims *dims, const ss_capture *cap, void **bufs)
{
    const ss_param_value *eps = ss_analysis_param(spec, "epsilon");
    const int L = cap->n_layers, H = cap->n_heads, T = cap->n_tokens;
    int k_store = (int)ss_analysis_param(spec, "k_store")->num;
    float *sink_rate = bufs[0]; /* [n_eps][Tmax], NaN-filled by the caller */
    float *alpha_out = bufs[1]; /* [L][H][k_store'] */
    const int T_max = dims->max_tokens; /* row stride of sink_rate */
    if (k_store > T_max) k_store = T_max;

    float *alpha = malloc((size_t)T * sizeof *alpha); /* [T] */
    int *count = calloc((size_t)eps->n_list * T, sizeof *count); /* [n_eps][T] */
    if (!alpha || !count) {
        free(alpha);
        free(count);
        return ss_fail(SS_ERR_NOMEM, "sink_rate: out of memory");
    }
    for (int l = 0; l < L; l++)
        for (int h = 0; h < H; h++) {
            if (cap->attn) {
                const float *A = cap->attn + ((size_t)l * H + h) * T * T; /* [T][T] */
                ss_column_importance_window(A, T, cap->causal, ss_capture_window(cap, l), alpha);
            } else { /* the summary the device computed with the same function's arithmetic */
                memcpy(alpha, cap->alpha + ((size_t)l * H + h) * T, (size_t)T * sizeof *alpha);
            }
            for (int e = 0; e < eps->n_list; e++) {
                const float eps_f = (float)eps->list[e]; /* compared in fp32, as Gu et al.'s torch code does */
                for (int k = 0; k < T; k++)
                    if (alpha[k] > eps_f) count[e * T + k]++;
            }
            for (int k = 0; k < k_store && k < T; k++) alpha_out[((size_t)l * H + h) * k_store + k] = alpha[k];
        }
    for (int e = 0; e < eps->n_list; e++)
        for (int k = 0; k < T; k++) sink_rate[(size_t)e * T_max + k] = 100.0f * (float)count[e * T + k] / (float)(L * H);
    free(alpha);
    free(count);
    return SS_OK;
}

const ss_analysis_type ss_analysis_sink_rate = {
    .type = "sink_rate",
    .doc = "Gu et al. Sink_k^eps per prompt and alpha_k^{l,h} heat maps",
    .params = g_params,
    .n_params = (int)(sizeof g_params / sizeof g_params[0]),
    .declare = declare,
    .compute = compute,
    .attn_summary_ok = 1,
};
