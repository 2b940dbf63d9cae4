/* analysis_fisher.c: the layer-wise Fisher norms of one prompt (science notes b9).
 *
 *   L      = mean next-token cross-entropy over positions 0..T−2 (logits = final hidden · LM headᵀ; the head
 *            is the token embedding when tied)
 *   F_l    = Σ_{θ in layer l} (∂L/∂θ)²        (every weight and bias of the layer)
 *   F_l^g  = the same over group g of the layer: attention (q, k, v, o projections and biases, QK-norm weights),
 *            mlp (every MLP matrix and bias), norms (the layer's other norm weights and biases); F_l is their sum
 *   outside the layers: embedding (token and learned position tables, BLOOM's embedding LayerNorm), final_norm,
 *   lm_head (an untied head only; NaN when tied, its gradient is then part of embedding).
 * The paper averages F_l over samples; here each task row holds one prompt's values and the report averages
 * over the rows. The gradients come from ss_model_grad_norms (model.h) on the capture's model. Encoders
 * (BERT: no masked-LM head), architectures without a backward pass and non-native encodings return
 * SS_ERR_UNSUPPORTED with the reason, which the runner records as a skipped task. */
#include <math.h>
#include <stdlib.h>

#include "analysis.h"
#include "model/model.h"

static ss_status declare(const ss_analysis_spec *spec, const ss_model_dims *dims, ss_dataset_decl *out, int *n_out)
{
    (void)spec;
    const int L = dims->n_layers;
    static const char *const units = "squared gradient";
    ss_decl(&out[0], "layer", SS_DT_F32, units, "F_l = sum over layer l's parameters of (dL/dtheta)^2: [layer]", 1, L,
            0, 0);
    ss_decl(&out[1], "attention", SS_DT_F32, units,
            "the attention part of F_l (q, k, v, o projections and biases, QK-norm weights): [layer]", 1, L, 0, 0);
    ss_decl(&out[2], "mlp", SS_DT_F32, units, "the MLP part of F_l (every MLP matrix and bias): [layer]", 1, L, 0, 0);
    ss_decl(&out[3], "norms", SS_DT_F32, units, "the norm part of F_l (the layer's norm weights and biases): [layer]",
            1, L, 0, 0);
    ss_decl(&out[4], "embedding", SS_DT_F32, units,
            "the same sum over the embedding tables (token, learned positions; tied: includes the LM head's use)", 1,
            1, 0, 0);
    ss_decl(&out[5], "final_norm", SS_DT_F32, units, "the same sum over the final norm (NaN without one: post-LN)", 1,
            1, 0, 0);
    ss_decl(&out[6], "lm_head", SS_DT_F32, units, "the same sum over an untied LM head (NaN when tied)", 1, 1, 0, 0);
    ss_decl(&out[7], "loss", SS_DT_F32, "nats", "mean next-token cross-entropy over positions 0..T-2", 1, 1, 0, 0);
    *n_out = 8;
    return SS_OK;
}

static ss_status compute(const ss_analysis_spec *spec, const ss_model_dims *dims, const ss_capture *cap, void **bufs)
{
    (void)spec;
    (void)dims;
    const int L = cap->n_layers;
    if (!cap->model)
        return ss_fail(SS_ERR_UNSUPPORTED, "fisher needs the model's weights, and this capture has no model");
    ss_status st = SS_OK;
    double *per = calloc((size_t)4 * L, sizeof *per); /* [4][L]: layer, attention, mlp, norms */
    if (!per) return ss_fail(SS_ERR_NOMEM, "fisher: out of memory");
    ss_grad_norms g = {.layer = per, .attention = per + L, .mlp = per + 2 * L, .norms = per + 3 * L};
    SS_TRY(ss_model_grad_norms(cap->model, cap, &g, NULL, NULL));
    for (int k = 0; k < 4; k++)
        for (int l = 0; l < L; l++) ((float *)bufs[k])[l] = (float)per[(size_t)k * L + l];
    ((float *)bufs[4])[0] = (float)g.embedding;
    ((float *)bufs[5])[0] = g.has_final_norm ? (float)g.final_norm : NAN;
    ((float *)bufs[6])[0] = g.has_lm_head ? (float)g.lm_head : NAN;
    ((float *)bufs[7])[0] = (float)g.loss;
done:
    free(per);
    return st;
}

const ss_analysis_type ss_analysis_fisher = {
    .type = "fisher",
    .doc = "layer-wise Fisher norms: sum of squared LM-loss gradients per layer and parameter group (decoders)",
    .params = NULL,
    .n_params = 0,
    .declare = declare,
    .compute = compute,
};
