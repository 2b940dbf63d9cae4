/* analysis_attention_map.c: the head-mean attention map Ā of one layer, stored whole, for figures (the report's
 * attention-map figure with token labels) and for anything else a reader wants to recompute. Opt-in: it stores
 * T_max² floats per task. layer −1 takes the middle layer ⌊L/2⌋; a layer beyond the model's is an input error. */
#include <stdlib.h>

#include "analysis.h"

static const ss_param_decl g_params[] = {
    {"layer", SS_PARAM_INT, -1, 100000, 0, 0, "-1", "the layer (0-based); -1: the middle layer floor(L/2)"},
};

static int layer_of(const ss_analysis_spec *spec, int L)
{
    const int l = (int)ss_param_num(spec, "layer");
    return l < 0 ? L / 2 : l;
}

static ss_status declare(const ss_analysis_spec *spec, const ss_model_dims *dims, ss_dataset_decl *out, int *n_out)
{
    const int l = layer_of(spec, dims->n_layers);
    if (l >= dims->n_layers)
        return ss_fail(SS_ERR_INPUT, "analysis '%s': layer %d, but the model has %d layers (0..%d)", spec->name, l,
                       dims->n_layers, dims->n_layers - 1);
    ss_decl(&out[0], "attention", SS_DT_F32, "probability",
            "[query][key] the head-mean attention of the chosen layer; NaN beyond the prompt's length", 2,
            dims->max_tokens, dims->max_tokens, 0);
    ss_decl(&out[1], "layer", SS_DT_I32, "layer", "[1] the layer stored", 1, 1, 0, 0);
    *n_out = 2;
    return SS_OK;
}

static ss_status compute(const ss_analysis_spec *spec, const ss_model_dims *dims, const ss_capture *cap, void **bufs)
{
    const int T = cap->n_tokens, Tm = dims->max_tokens, l = layer_of(spec, cap->n_layers);
    float *out = bufs[0]; /* [T_max][T_max] */
    float *Abar = malloc((size_t)T * T * sizeof *Abar); /* [T][T] */
    if (!Abar) return ss_fail(SS_ERR_NOMEM, "attention_map: out of memory");
    ss_capture_head_mean(cap, l, Abar);
    for (int i = 0; i < T; i++)
        for (int j = 0; j < T; j++) out[(size_t)i * Tm + j] = Abar[(size_t)i * T + j];
    ((int32_t *)bufs[1])[0] = l;
    free(Abar);
    return SS_OK;
}

const ss_analysis_type ss_analysis_attention_map = {
    .type = "attention_map",
    .doc = "the head-mean attention map of one layer (for figures)",
    .params = g_params,
    .n_params = (int)(sizeof g_params / sizeof g_params[0]),
    .declare = declare,
    .compute = compute,
};
