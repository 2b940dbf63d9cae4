/* analysis_qk.c: why the sink key wins (science.md b12; Gu et al.): for the sink position s (default 0), split
 * q_t·k_s into ‖q_t‖, ‖k_s‖ and cos(q_t, k_s). q and k are taken exactly as they enter the dot product: after
 * RoPE and after Gemma-3's QK-norm (capture.h). Under grouped-query attention head h reads KV head h/(H/H_kv).
 *
 * Per layer and head: ‖k_s‖ and ‖v_s‖ over the mean norm of the other keys / values; the mean over the queries
 * t that see s (t > s when causal, t ≠ s otherwise) of cos(q_t, k_s), and of the mean cos(q_t, k_j) over the
 * other keys j they see; the mean ‖q_t‖. Per hidden state entering each layer: ‖h_s‖ / mean_{j≠s} ‖h_j‖. */
#include <math.h>
#include <stdlib.h>

#include "analysis.h"
#include "geometry.h"

static const ss_param_decl g_params[] = {
    {"sink", SS_PARAM_INT, 0, 100000, 0, 0, "0", "the sink position s (0-based)"},
};

enum { N_HEAD = 5 };
static const char *const g_names[N_HEAD] = {"k_norm_ratio", "v_norm_ratio", "cos_sink", "cos_other", "q_norm"};
static const char *const g_docs[N_HEAD] = {
    "[layer][head] |k_s| / mean over j != s of |k_j|",
    "[layer][head] |v_s| / mean over j != s of |v_j|",
    "[layer][head] mean over the queries that see s of cos(q_t, k_s)",
    "[layer][head] mean over those queries of the mean cos(q_t, k_j) over the other keys they see",
    "[layer][head] mean |q_t| over those queries",
};

static ss_status declare(const ss_analysis_spec *spec, const ss_model_dims *dims, ss_dataset_decl *out, int *n_out)
{
    (void)spec;
    for (int k = 0; k < N_HEAD; k++)
        ss_decl(&out[k], g_names[k], SS_DT_F32, k < 2 ? "ratio" : k < 4 ? "cosine" : "model units", g_docs[k], 2,
                dims->n_layers, dims->n_heads, 0);
    ss_decl(&out[N_HEAD], "h_norm_ratio", SS_DT_F32, "ratio",
            "[layer] |h_s| / mean over j != s of |h_j|, h = the residual stream entering the layer", 1, dims->n_layers,
            0, 0);
    *n_out = N_HEAD + 1;
    return SS_OK;
}

static ss_status compute(const ss_analysis_spec *spec, const ss_model_dims *dims, const ss_capture *cap, void **bufs)
{
    (void)dims;
    const int L = cap->n_layers, H = cap->n_heads, Hkv = cap->n_kv_heads, T = cap->n_tokens, dh = cap->d_head;
    const int s = (int)ss_param_num(spec, "sink"), group = H / Hkv;
    if (s >= T) return SS_OK; /* the prompt is shorter than the sink position: left NaN */
    for (int l = 0; l < L; l++) {
        for (int h = 0; h < H; h++) {
            const float *q = cap->q + (((size_t)l * H + h) * T) * dh;                /* [T][d_h] */
            const float *k = cap->k + (((size_t)l * Hkv + h / group) * T) * dh;      /* [T][d_h] */
            const float *v = cap->v + (((size_t)l * Hkv + h / group) * T) * dh;      /* [T][d_h] */
            ss_qk_decomp r;
            if (ss_qk_decompose_blas(q, k, v, T, dh, s, cap->causal, ss_capture_window(cap, l), &r) != 0)
                return ss_fail(SS_ERR_NOMEM, "qk_decomposition: out of memory");
            const double vals[N_HEAD] = {r.k_norm_ratio, r.v_norm_ratio, r.cos_sink, r.cos_other, r.q_norm_mean};
            for (int m = 0; m < N_HEAD; m++) ((float *)bufs[m])[(size_t)l * H + h] = (float)vals[m];
        }
        ((float *)bufs[N_HEAD])[l] = (float)ss_norm_ratio(cap->hidden + (size_t)l * T * cap->d_model, T, cap->d_model, s);
    }
    return SS_OK;
}

const ss_analysis_type ss_analysis_qk = {
    .type = "qk_decomposition",
    .doc = "norms and angles behind the sink key's score: |q|, |k_s|, |v_s| and cos(q, k_s) per layer and head",
    .params = g_params,
    .n_params = (int)(sizeof g_params / sizeof g_params[0]),
    .declare = declare,
    .compute = compute,
};
