/* analysis.c: the registry of analysis types. To add an analysis, write analysis_<type>.c with an
 * ss_analysis_type and list it here. */
#include "analysis.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "divergence.h" /* ss_head_mean */

extern const ss_analysis_type ss_analysis_sink_rate;
extern const ss_analysis_type ss_analysis_top_keys;
extern const ss_analysis_type ss_analysis_reference_tokens;
extern const ss_analysis_type ss_analysis_reference_influence;
extern const ss_analysis_type ss_analysis_graph;
extern const ss_analysis_type ss_analysis_topology;
extern const ss_analysis_type ss_analysis_head_kl;
extern const ss_analysis_type ss_analysis_spectral;
extern const ss_analysis_type ss_analysis_attention_geometry;
extern const ss_analysis_type ss_analysis_massive;
extern const ss_analysis_type ss_analysis_qk;
extern const ss_analysis_type ss_analysis_hidden;
extern const ss_analysis_type ss_analysis_attention_map;
extern const ss_analysis_type ss_analysis_fisher;

static const ss_analysis_type *const g_registry[] = {
    &ss_analysis_sink_rate,
    &ss_analysis_top_keys,
    &ss_analysis_reference_tokens,
    &ss_analysis_reference_influence,
    &ss_analysis_graph,
    &ss_analysis_topology,
    &ss_analysis_head_kl,
    &ss_analysis_spectral,
    &ss_analysis_attention_geometry,
    &ss_analysis_massive,
    &ss_analysis_qk,
    &ss_analysis_hidden,
    &ss_analysis_attention_map,
    &ss_analysis_fisher,
    NULL,
};

const ss_analysis_type *ss_analysis_find(const char *type)
{
    if (!type) return NULL;
    for (int i = 0; g_registry[i]; i++)
        if (strcmp(g_registry[i]->type, type) == 0) return g_registry[i];
    return NULL;
}

const ss_analysis_type *const *ss_analysis_all(void) { return g_registry; }

size_t ss_dataset_elems(const ss_dataset_decl *d)
{
    size_t n = 1;
    for (int i = 0; i < d->rank; i++) n *= (size_t)d->dims[i];
    return n;
}

size_t ss_dataset_dtype_size(ss_dtype t) { return t == SS_DT_F32 ? sizeof(float) : sizeof(int32_t); }

void ss_decl(ss_dataset_decl *d, const char *name, ss_dtype t, const char *units, const char *doc, int rank, int64_t d0,
             int64_t d1, int64_t d2)
{
    memset(d, 0, sizeof *d);
    snprintf(d->name, sizeof d->name, "%s", name);
    d->dtype = t;
    d->rank = rank;
    d->dims[0] = d0;
    d->dims[1] = d1;
    d->dims[2] = d2;
    snprintf(d->units, sizeof d->units, "%s", units);
    snprintf(d->doc, sizeof d->doc, "%s", doc);
}

double ss_param_num(const ss_analysis_spec *spec, const char *name)
{
    const ss_param_value *v = ss_analysis_param(spec, name);
    return v ? v->num : 0.0;
}

void ss_capture_head_mean(const ss_capture *cap, int l, float *Abar)
{
    const size_t T = (size_t)cap->n_tokens;
    ss_head_mean(cap->attn + (size_t)l * cap->n_heads * T * T, cap->n_heads, cap->n_tokens, Abar);
}

ss_status ss_capture_validate(const ss_capture *cap, const ss_model_dims *dims)
{
    if (cap->n_layers != dims->n_layers || cap->n_heads != dims->n_heads || cap->n_tokens > dims->max_tokens)
        return ss_fail(SS_ERR_FORMAT, "the model produced %d layers x %d heads x %d tokens, but the results file was "
                                      "laid out for %d x %d x at most %d (did config.json change?)",
                       cap->n_layers, cap->n_heads, cap->n_tokens, dims->n_layers, dims->n_heads, dims->max_tokens);
    const size_t T = (size_t)cap->n_tokens;
    if (!cap->attn) { /* a summary pass: the maps stayed on the device; check what came back */
        for (int m = 0; m < cap->n_layers * cap->n_heads; m++) {
            double sum = 0.0; /* Σ_j col_mean_j = (1/T) Σ_i Σ_j A_ij = 1 when every row sums to 1 */
            for (size_t j = 0; j < T; j++) {
                const float r = cap->col_mean[(size_t)m * T + j], a = cap->alpha[(size_t)m * T + j];
                if (!isfinite(r) || !isfinite(a) || r < 0.0f || a < 0.0f)
                    return ss_fail(SS_ERR_RANGE, "attention summary of layer %d head %d, key %zu: column mean %g, alpha "
                                                 "%g (non-finite or negative probabilities on the device)",
                                   m / cap->n_heads, m % cap->n_heads, j, (double)r, (double)a);
                sum += r;
            }
            if (fabs(sum - 1.0) > SS_ROW_SUM_TOLERANCE)
                return ss_fail(SS_ERR_RANGE, "the attention rows of layer %d head %d average %.9g, not 1: these are "
                                             "not probabilities",
                               m / cap->n_heads, m % cap->n_heads, sum);
        }
        return SS_OK;
    }
    for (int l = 0; l < cap->n_layers; l++)
        for (int h = 0; h < cap->n_heads; h++) {
            const float *A = cap->attn + ((size_t)l * cap->n_heads + h) * T * T; /* [T][T] */
            for (size_t i = 0; i < T; i++) {
                double sum = 0.0;
                for (size_t j = 0; j < T; j++) {
                    const float a = A[i * T + j];
                    if (!isfinite(a))
                        return ss_fail(SS_ERR_RANGE, "non-finite attention probability in layer %d head %d (query %zu, "
                                                     "key %zu): the model's weights or activations overflow",
                                       l, h, i, j);
                    if (a < 0.0f)
                        return ss_fail(SS_ERR_RANGE, "negative attention probability %g in layer %d head %d (query %zu, "
                                                     "key %zu)",
                                       (double)a, l, h, i, j);
                    sum += a;
                }
                if (fabs(sum - 1.0) > SS_ROW_SUM_TOLERANCE)
                    return ss_fail(SS_ERR_RANGE, "attention row %zu of layer %d head %d sums to %.9g, not 1: these are "
                                                 "not probabilities",
                                   i, l, h, sum);
            }
        }
    return SS_OK;
}
