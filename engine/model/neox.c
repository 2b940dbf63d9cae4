/* neox.c: the GPT-NeoX (Pythia) decoder forward pass in fp32 (pre-LN, partial RoPE, parallel or
 * sequential residual, GELU, causal), as transformers' GPTNeoXModel (4.40) computes it.
 *
 * Dimensions: T tokens, d = d_model, H heads of d_h = d/H, r = int(d_h · rotary_pct) rotated columns
 * per head, d_ff FFN width, L layers, V vocabulary. Tensor names are Hugging Face's, without prefix
 * (GPTNeoXModel) or under "gpt_neox." (GPTNeoXForCausalLM); linear weights [out][in]. Buffers that
 * old checkpoints carry (attention.bias, attention.masked_bias, rotary_emb.inv_freq) are ignored.
 *
 * The fused query_key_value projection is laid out PER HEAD: output columns [H][3·d_h], head h's
 * query at [3h·d_h, (3h+1)·d_h), then its key, then its value (HF views it as (T, H, 3·d_h)).
 *
 *   x = embed_in[ids]                                                    -> hidden[0]
 *       (plus the sinusoidal table under that ablation, encoding.h)
 *   per layer l (input x = hidden[l]):
 *     a = LayerNorm_in(x);  [q k v per head] = a·W_qkvᵀ (+ b_qkv)          -> q_pre, k_pre, v
 *     q, k = RoPE on columns [0, r) of each head, pairs (i, i + r/2), θ = rotary_emb_base; the other
 *            d_h − r columns pass through (the encoding ablations skip it or replace it: another θ
 *            or fraction, ALiBi)
 *     A[l][h] = softmax(q_h·k_hᵀ / √d_h + causal mask)
 *     o = (A·v)·W_denseᵀ (+ b_dense)                                      -> attn_out[l]
 *     parallel residual:   x = x + o + MLP(LayerNorm_post(x))
 *     sequential residual: x = x + o;  x = x + MLP(LayerNorm_post(x))
 *     with MLP(a) = GELU(a·W_4hᵀ + b_4h)·W_hᵀ + b_h
 *   hidden[L] = final_layer_norm(x) (HF's last hidden state); x itself -> hidden_prenorm.
 * Post-LN (config.json "sinkscope_post_ln": true, sinkscope's extension for trained models, hfconfig.h; sequential
 * residual only): x = LayerNorm_in(x + attn(x));  x = LayerNorm_post(x + MLP(x)); no final_layer_norm:
 * hidden[L] = hidden_prenorm = x. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch.h"
#include "decoder.h"
#include "encoding.h" /* ss_posenc */
#include "matmul.h" /* ss_matmul */
#include "norm.h"   /* ss_layernorm_ref */

typedef struct {
    const float *ln1_g, *ln1_b;   /* [d] input_layernorm */
    const float *w_qkv, *b_qkv;   /* [3d][d], [3d] attention.query_key_value (per-head q, k, v); b NULL without bias */
    const float *w_o, *b_o;       /* [d][d], [d] attention.dense; b NULL without bias */
    const float *ln2_g, *ln2_b;   /* [d] post_attention_layernorm */
    const float *w_up, *b_up;     /* [d_ff][d], [d_ff] mlp.dense_h_to_4h */
    const float *w_down, *b_down; /* [d][d_ff], [d] mlp.dense_4h_to_h */
} neox_layer;

typedef struct {
    int L, H, d_h, d, d_ff, V, P;
    float eps;
    ss_act act;
    int rope_dims, parallel;
    int post_ln;                /* 1: x = LN(x + f(x)) per sublayer, no final norm (lnf_g, lnf_b NULL) */
    ss_rope_pairing pairing;
    const float *embed;         /* [V][d] embed_in */
    const float *lnf_g, *lnf_b; /* [d] final_layer_norm (pre-LN only) */
    neox_layer *layers;         /* [L] */
    ss_posenc pe;               /* the positional encoding in use (native: RoPE over rope_dims, θ) */
    ss_scratch s;               /* proj [T][3d], ctx [T][d], ff [T][d_ff], xn and tmp [T][d] */
} neox;

static void neox_free(void *state)
{
    neox *m = state;
    if (!m) return;
    free(m->layers);
    ss_posenc_free(&m->pe);
    ss_scratch_free(&m->s);
    free(m);
}

static ss_status neox_load(const ss_hfconfig *cfg, const ss_safetensors *sf, void **state)
{
    ss_status st = SS_OK;
    const ss_model_info *in = &cfg->info;
    *state = NULL;
    neox *m = calloc(1, sizeof *m);
    if (!m) return ss_fail(SS_ERR_NOMEM, "out of memory loading GPT-NeoX");
    m->L = in->n_layers;
    m->H = in->n_heads;
    m->d_h = in->d_head;
    m->d = in->d_model;
    m->d_ff = in->d_ff;
    m->V = in->n_vocab;
    m->P = in->max_positions;
    m->eps = (float)cfg->layer_norm_eps;
    m->rope_dims = cfg->rope_dims;
    m->pairing = cfg->rope_pairing;
    m->parallel = cfg->parallel_residual;
    m->post_ln = cfg->post_ln;
    int act = ss_act_from_name(cfg->hidden_act);
    if (act < 0) {
        st = ss_fail(SS_ERR_INPUT, "GPT-NeoX: activation '%s' is not supported", cfg->hidden_act);
        goto done;
    }
    m->act = (ss_act)act;
    ss_scratch_init(&m->s, m->d, 3 * m->d, m->d, m->d_ff, m->rope_dims, cfg->rope_theta);
    SS_TRY(ss_posenc_init(&m->pe, "gpt_neox", m->H, m->d, m->d_h, NULL, m->rope_dims, cfg->rope_theta, m->pairing, 0));
    const int64_t d = m->d, dff = m->d_ff;

    static const char *const prefixes[] = {"", "gpt_neox."};
    const char *pfx = ss_find_prefix(sf, "embed_in.weight", prefixes, 2);
    SS_TRY(ss_bind(sf, pfx, "embed_in.weight", 2, m->V, d, &m->embed));
    if (!m->post_ln) {
        SS_TRY(ss_bind(sf, pfx, "final_layer_norm.weight", 1, d, 0, &m->lnf_g));
        SS_TRY(ss_bind(sf, pfx, "final_layer_norm.bias", 1, d, 0, &m->lnf_b));
    }
    m->layers = calloc((size_t)m->L, sizeof *m->layers);
    if (!m->layers) {
        st = ss_fail(SS_ERR_NOMEM, "out of memory loading GPT-NeoX");
        goto done;
    }
    for (int l = 0; l < m->L; l++) {
        neox_layer *ly = &m->layers[l];
        char n[128];
#define LAYER(field, suffix, nd, a, c)                                                                                 \
    do {                                                                                                               \
        snprintf(n, sizeof n, "layers.%d.%s", l, suffix);                                                              \
        SS_TRY(ss_bind(sf, pfx, n, nd, a, c, &ly->field));                                                             \
    } while (0)
        LAYER(ln1_g, "input_layernorm.weight", 1, d, 0);
        LAYER(ln1_b, "input_layernorm.bias", 1, d, 0);
        LAYER(w_qkv, "attention.query_key_value.weight", 2, 3 * d, d);
        LAYER(w_o, "attention.dense.weight", 2, d, d);
        if (cfg->attention_bias) {
            LAYER(b_qkv, "attention.query_key_value.bias", 1, 3 * d, 0);
            LAYER(b_o, "attention.dense.bias", 1, d, 0);
        }
        LAYER(ln2_g, "post_attention_layernorm.weight", 1, d, 0);
        LAYER(ln2_b, "post_attention_layernorm.bias", 1, d, 0);
        LAYER(w_up, "mlp.dense_h_to_4h.weight", 2, dff, d);
        LAYER(b_up, "mlp.dense_h_to_4h.bias", 1, dff, 0);
        LAYER(w_down, "mlp.dense_4h_to_h.weight", 2, d, dff);
        LAYER(b_down, "mlp.dense_4h_to_h.bias", 1, d, 0);
#undef LAYER
    }
    *state = m;
    m = NULL;
done:
    neox_free(m);
    return st;
}

static ss_status neox_forward(void *state, ss_fwd *f, const int32_t *ids, int n, ss_capture *cap)
{
    ss_status st = SS_OK;
    neox *m = state;
    const ss_backend *be = f->be;
    memset(cap, 0, sizeof *cap);
    SS_TRY(ss_arch_check_ids(ids, n, m->V, m->P));
    SS_TRY(ss_posenc_prepare(&m->pe, n));
    SS_TRY(ss_capture_alloc(cap, ids, n, m->L, m->H, m->H, m->d, m->d_h, 1));
    for (int l = 0; l < m->L; l++) cap->w_o[l] = m->layers[l].w_o;
    SS_TRY(ss_fwd_begin(f, cap));
    SS_TRY(ss_scratch_grow(&m->s, f, n));
    const void *ids_b; /* [T] */
    SS_TRY(ss_fwd_stage(f, ids, (size_t)n * sizeof *ids, &ids_b));

    const int T = n, d = m->d, d_h = m->d_h;
    const size_t td = (size_t)T * d;
    float *xn = m->s.xn, *ff = m->s.ff, *tmp = m->s.tmp; /* [T][d], [T][d_ff], [T][d] (s.proj [T][3d]: ss_fused_attention) */
    /* the capture's buffers on the backend */
    float *hidden = ss_fwd_cap(f, cap->hidden), *prenorm = ss_fwd_cap(f, cap->hidden_prenorm); /* [L+1][T][d], [T][d] */
    float *attn_out = ss_fwd_cap(f, cap->attn_out); /* [L][T][d] (q, k, v: ss_fused_attention) */
#define W(p) ss_fwd_ptr(f, (p))
    ss_attn_cfg acfg = {.scale = (float)(1.0 / sqrt((double)d_h))};
    ss_posenc_attn(&m->pe, &acfg); /* native: partial RoPE */

    SS_TRY(ss_be_embed(be, hidden, W(m->embed), ids_b, T, d, m->V));
    SS_TRY(ss_posenc_add(&m->pe, f, hidden, tmp, T));
    for (int l = 0; l < m->L; l++) {
        const neox_layer *ly = &m->layers[l];
        const float *xin = hidden + (size_t)l * td;                           /* [T][d] */
        float *xout = l + 1 < m->L ? hidden + (size_t)(l + 1) * td : prenorm; /* [T][d] */
        float *ao = attn_out + (size_t)l * td;                                /* [T][d] */

        const float *a = xin; /* [T][d] the attention's input: LN_1(x), or x itself under post-LN */
        if (!m->post_ln) {
            SS_TRY(ss_be_layernorm(be, xn, xin, W(ly->ln1_g), W(ly->ln1_b), T, d, m->eps));
            a = xn;
        }
        SS_TRY(ss_fused_attention(f, cap, l, &acfg, &m->s, a, ly->w_qkv, ly->b_qkv, ly->w_o, ly->b_o, ao));

        /* the MLP reads LayerNorm_post of x (parallel) or of x + o (sequential) */
        const float *mi = xn; /* [T][d] the MLP's input */
        if (m->parallel) {
            SS_TRY(ss_be_layernorm(be, xn, xin, W(ly->ln2_g), W(ly->ln2_b), T, d, m->eps));
        } else if (m->post_ln) {
            SS_TRY(ss_be_copy(be, xout, xin, td * sizeof(float)));
            SS_TRY(ss_be_add(be, xout, ao, td));
            SS_TRY(ss_be_layernorm(be, xout, xout, W(ly->ln1_g), W(ly->ln1_b), T, d, m->eps));
            mi = xout;
        } else {
            SS_TRY(ss_be_copy(be, xout, xin, td * sizeof(float)));
            SS_TRY(ss_be_add(be, xout, ao, td));
            SS_TRY(ss_be_layernorm(be, xn, xout, W(ly->ln2_g), W(ly->ln2_b), T, d, m->eps));
        }
        SS_TRY(ss_be_matmul(be, ff, mi, W(ly->w_up), W(ly->b_up), T, d, m->d_ff, 0));
        SS_TRY(ss_act_apply(be, m->act, ff, (size_t)T * m->d_ff));
        SS_TRY(ss_be_matmul(be, tmp, ff, W(ly->w_down), W(ly->b_down), T, m->d_ff, d, 0));
        if (m->parallel) {
            /* HF: mlp_output + attn_output + hidden_states, summed in that order */
            SS_TRY(ss_be_copy(be, xout, tmp, td * sizeof(float)));
            SS_TRY(ss_be_add(be, xout, ao, td));
            SS_TRY(ss_be_add(be, xout, xin, td));
        } else {
            SS_TRY(ss_be_add(be, xout, tmp, td));
            if (m->post_ln) SS_TRY(ss_be_layernorm(be, xout, xout, W(ly->ln2_g), W(ly->ln2_b), T, d, m->eps));
        }
    }
    if (m->post_ln)
        SS_TRY(ss_be_copy(be, hidden + (size_t)m->L * td, prenorm, td * sizeof(float)));
    else
        SS_TRY(ss_be_layernorm(be, hidden + (size_t)m->L * td, prenorm, W(m->lnf_g), W(m->lnf_b), T, d, m->eps));
#undef W
    SS_TRY(ss_fwd_end(f, cap));
done:
    return st;
}

static ss_status neox_set_encoding(void *state, const ss_encoding_spec *enc)
{
    neox *m = state;
    return ss_posenc_set(&m->pe, &m->s, enc);
}

const ss_arch ss_arch_gpt_neox = {
    .name = "gpt_neox",
    .load = neox_load,
    .forward = neox_forward,
    .set_encoding = neox_set_encoding,
    .free = neox_free,
};
