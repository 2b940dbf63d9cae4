/* gemma3.c: the Gemma-3 text decoder forward pass in fp32, as transformers' Gemma3TextModel (4.53)
 * computes it (eager attention).
 *
 * Dimensions: T tokens, d = d_model, H query heads and H_kv key/value heads of d_h columns (head h
 * reads KV head h / (H/H_kv)), d_ff FFN width, L layers, V vocabulary, W the sliding window. Tensor
 * names are Hugging Face's under "model." (Gemma3ForCausalLM), "" (Gemma3TextModel), or the multimodal
 * checkpoints' "language_model.model." / "model.language_model."; linear weights [out][in]. A GGUF file
 * reaches this code through gguf_model.c, which hands over the same names and values.
 *
 * Every RMSNorm is Gemma's: y = x / √(mean(x²) + ε) · (1 + w), with (1 + w) formed in fp32 at load.
 *
 *   x = embed_tokens[ids] · fl32(√d)                                    -> hidden[0] (HF's hidden_states[0])
 *   per layer l (input x = hidden[l]); local = layer_types[l] is "sliding_attention":
 *     a = GemmaRMSNorm(x; input_layernorm)
 *     q = a·W_qᵀ [T][H·d_h], k = a·W_kᵀ, v = a·W_vᵀ [T][H_kv·d_h]       -> v
 *     q, k = per-head GemmaRMSNorm over d_h (q_norm, k_norm)            -> q_pre, k_pre (after the QK-norm,
 *                                                                         before RoPE)
 *     q, k = RoPE over all d_h columns, pairs (i, i + d_h/2), base rope_local_base_freq on local
 *            layers and rope_theta on global ones                     -> q, k
 *     A[l][h] = softmax(q_h·k_{kv(h)}ᵀ · query_pre_attn_scalar^-½ + mask); the mask is causal, and on
 *            local layers also hides keys j <= i − W (query i sees keys i−W+1 .. i, transformers'
 *            sliding_window_overlay)
 *     o = (A·v)·W_oᵀ                                                    -> attn_out[l] (before Gemma's
 *                                                                         post-attention norm)
 *     x = x + GemmaRMSNorm(o; post_attention_layernorm)
 *     f = GemmaRMSNorm(x; pre_feedforward_layernorm)
 *     x = x + GemmaRMSNorm((gelu_tanh(f·W_gateᵀ) ⊙ f·W_upᵀ)·W_downᵀ; post_feedforward_layernorm)
 *   hidden[L] = GemmaRMSNorm(x; norm) (HF's last hidden state); x itself -> hidden_prenorm.
 * Only the native positional encoding is available (no set_encoding hook). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch.h"
#include "decoder.h"
#include "encoding.h" /* ss_posenc: the encoding ablations */
#include "rope.h"   /* ss_rope_tables, ss_rope_apply_ref */

typedef struct {
    const float *wq, *wk, *wv, *wo;      /* [H·d_h][d], [H_kv·d_h][d] twice, [d][H·d_h] */
    const float *w_gate, *w_up, *w_down; /* [d_ff][d] twice, [d][d_ff] */
    /* (1 + w) of each norm, owned by gemma3.gammas */
    const float *g_in, *g_post_attn, *g_pre_ff, *g_post_ff; /* [d] each */
    const float *g_q, *g_k;                                 /* [d_h] each */
    int sliding;                                            /* 1: local layer (window + local RoPE base) */
} g3_layer;

typedef struct {
    int L, H, H_kv, d_h, d, d_ff, V, P, window;
    float eps, scale, embed_scale;
    double theta_global, theta_local;
    ss_act act;
    const float *embed;   /* [V][d] */
    float *gammas;        /* L·(4·d + 2·d_h) + d floats: the (1 + w) of every norm, the final one last */
    const float *g_final; /* [d] inside gammas */
    g3_layer *layers;     /* [L] */
    /* proj: q [T][H·d_h], k and v [T][H_kv·d_h] back to back; ctx [T][H·d_h]; ff: gate then up,
     * [T][d_ff] each; xn, tmp [T][d] */
    ss_scratch s;
    int tab_T;                    /* rows of the RoPE tables */
    float *cos_g, *sin_g;         /* [tab_T][d_h/2] global layers (rope_theta) */
    float *cos_l, *sin_l;         /* [tab_T][d_h/2] local layers (rope_local_base_freq) */
    /* The encoding in use. Native: the two RoPE tables above, by layer kind. Any other encoding replaces
     * both with what ss_posenc_attn gives (one θ for every layer, s's RoPE tables, or ALiBi) and may add
     * a sinusoidal table to the scaled embeddings; the sliding windows stay, they are masks. */
    ss_posenc pe;
} gemma3;

static void gemma3_free(void *state)
{
    gemma3 *m = state;
    if (!m) return;
    free(m->layers);
    free(m->gammas);
    free(m->cos_g);
    free(m->sin_g);
    free(m->cos_l);
    free(m->sin_l);
    ss_posenc_free(&m->pe);
    ss_scratch_free(&m->s);
    free(m);
}

/* Binds the norm weight "<pfx><name>" [n] and stores 1 + w (fp32, as Gemma3RMSNorm computes it) at *next. */
static ss_status bind_norm(const ss_safetensors *sf, const char *pfx, const char *name, int64_t n, float **next,
                           const float **out)
{
    const float *w; /* [n] */
    ss_status st = ss_bind(sf, pfx, name, 1, n, 0, &w);
    if (st != SS_OK) return st;
    float *g = *next; /* [n] */
    for (int64_t i = 0; i < n; i++) g[i] = 1.0f + w[i];
    *out = g;
    *next += n;
    return SS_OK;
}

static ss_status gemma3_load(const ss_hfconfig *cfg, const ss_safetensors *sf, void **state)
{
    ss_status st = SS_OK;
    const ss_model_info *in = &cfg->info;
    *state = NULL;
    gemma3 *m = calloc(1, sizeof *m);
    if (!m) return ss_fail(SS_ERR_NOMEM, "out of memory loading Gemma-3");
    m->L = in->n_layers;
    m->H = in->n_heads;
    m->H_kv = in->n_kv_heads;
    m->d_h = in->d_head;
    m->d = in->d_model;
    m->d_ff = in->d_ff;
    m->V = in->n_vocab;
    m->P = in->max_positions;
    m->window = cfg->sliding_window;
    m->eps = (float)cfg->layer_norm_eps;
    m->scale = (float)pow(cfg->query_pre_attn_scalar, -0.5);
    m->embed_scale = (float)sqrt((double)m->d); /* HF: torch.tensor(hidden_size ** 0.5), an fp32 scalar */
    m->theta_global = cfg->rope_theta;
    m->theta_local = cfg->rope_local_theta;
    int act = ss_act_from_name(cfg->hidden_act);
    if (act < 0) {
        st = ss_fail(SS_ERR_INPUT, "Gemma-3: activation '%s' is not supported", cfg->hidden_act);
        goto done;
    }
    m->act = (ss_act)act;
    const int64_t d = m->d, dff = m->d_ff, dh = m->d_h, nq = (int64_t)m->H * m->d_h, nkv = (int64_t)m->H_kv * m->d_h;
    ss_scratch_init(&m->s, m->d, (int)(nq + 2 * nkv), (int)nq, 2 * m->d_ff, 0, 0.0);
    SS_TRY(ss_posenc_init(&m->pe, "gemma3", m->H, m->d, m->d_h, NULL, m->d_h, m->theta_global, SS_ROPE_HALF, 0));

    m->layers = calloc((size_t)m->L, sizeof *m->layers);
    m->gammas = malloc(((size_t)m->L * (size_t)(4 * d + 2 * dh) + (size_t)d) * sizeof *m->gammas);
    if (!m->layers || !m->gammas) {
        st = ss_fail(SS_ERR_NOMEM, "out of memory loading Gemma-3");
        goto done;
    }
    float *next = m->gammas;
    static const char *const prefixes[] = {"model.", "", "language_model.model.", "model.language_model."};
    const char *pfx = ss_find_prefix(sf, "embed_tokens.weight", prefixes, 4);
    SS_TRY(ss_bind(sf, pfx, "embed_tokens.weight", 2, m->V, d, &m->embed));
    for (int l = 0; l < m->L; l++) {
        g3_layer *ly = &m->layers[l];
        char n[128];
        ly->sliding = cfg->layer_sliding[l];
#define LAYER(field, suffix, a, c)                                                                                     \
    do {                                                                                                               \
        snprintf(n, sizeof n, "layers.%d.%s", l, suffix);                                                              \
        SS_TRY(ss_bind(sf, pfx, n, 2, a, c, &ly->field));                                                              \
    } while (0)
#define NORM(field, suffix, len)                                                                                       \
    do {                                                                                                               \
        snprintf(n, sizeof n, "layers.%d.%s", l, suffix);                                                              \
        SS_TRY(bind_norm(sf, pfx, n, len, &next, &ly->field));                                                         \
    } while (0)
        NORM(g_in, "input_layernorm.weight", d);
        LAYER(wq, "self_attn.q_proj.weight", nq, d);
        LAYER(wk, "self_attn.k_proj.weight", nkv, d);
        LAYER(wv, "self_attn.v_proj.weight", nkv, d);
        NORM(g_q, "self_attn.q_norm.weight", dh);
        NORM(g_k, "self_attn.k_norm.weight", dh);
        LAYER(wo, "self_attn.o_proj.weight", d, nq);
        NORM(g_post_attn, "post_attention_layernorm.weight", d);
        NORM(g_pre_ff, "pre_feedforward_layernorm.weight", d);
        LAYER(w_gate, "mlp.gate_proj.weight", dff, d);
        LAYER(w_up, "mlp.up_proj.weight", dff, d);
        LAYER(w_down, "mlp.down_proj.weight", d, dff);
        NORM(g_post_ff, "post_feedforward_layernorm.weight", d);
#undef LAYER
#undef NORM
    }
    SS_TRY(bind_norm(sf, pfx, "norm.weight", d, &next, &m->g_final));
    *state = m;
    m = NULL;
done:
    gemma3_free(m);
    return st;
}

/* The global and local RoPE tables for at least T positions (kept and reused). */
static ss_status grow_tables(gemma3 *m, int T)
{
    if (T <= m->tab_T) return SS_OK;
    const size_t n = (size_t)T * (size_t)(m->d_h / 2);
    float **tabs[4] = {&m->cos_g, &m->sin_g, &m->cos_l, &m->sin_l};
    for (int i = 0; i < 4; i++) {
        float *p = realloc(*tabs[i], (n ? n : 1) * sizeof(float));
        if (!p) return ss_fail(SS_ERR_NOMEM, "out of memory for the RoPE tables of %d tokens", T);
        *tabs[i] = p;
    }
    ss_rope_tables(m->cos_g, m->sin_g, T, m->d_h, m->theta_global);
    ss_rope_tables(m->cos_l, m->sin_l, T, m->d_h, m->theta_local);
    m->tab_T = T;
    return SS_OK;
}

static ss_status gemma3_forward(void *state, ss_fwd *f, const int32_t *ids, int n, ss_capture *cap)
{
    ss_status st = SS_OK;
    gemma3 *m = state;
    const ss_backend *be = f->be;
    memset(cap, 0, sizeof *cap);
    SS_TRY(ss_arch_check_ids(ids, n, m->V, m->P));
    SS_TRY(grow_tables(m, n));
    SS_TRY(ss_posenc_prepare(&m->pe, n));
    SS_TRY(ss_capture_alloc(cap, ids, n, m->L, m->H, m->H_kv, m->d, m->d_h, 1));
    for (int l = 0; l < m->L; l++) cap->w_o[l] = m->layers[l].wo;
    for (int l = 0; l < m->L; l++) cap->window[l] = m->layers[l].sliding ? m->window : 0;
    SS_TRY(ss_fwd_begin(f, cap));
    SS_TRY(ss_scratch_grow(&m->s, f, n));
    const size_t n_gammas = (size_t)m->L * (size_t)(4 * m->d + 2 * m->d_h) + (size_t)m->d;
    SS_TRY(ss_fwd_region_add(f, m->gammas, n_gammas * sizeof *m->gammas)); /* once per backend */
    const void *ids_b; /* [T] */
    SS_TRY(ss_fwd_stage(f, ids, (size_t)n * sizeof *ids, &ids_b));
    const size_t nt = (size_t)n * (size_t)(m->d_h / 2) * sizeof(float);
    const void *cos_g, *sin_g, *cos_l, *sin_l; /* [T][d_h/2] each, on the backend */
    SS_TRY(ss_fwd_stage(f, m->cos_g, nt, &cos_g));
    SS_TRY(ss_fwd_stage(f, m->sin_g, nt, &sin_g));
    SS_TRY(ss_fwd_stage(f, m->cos_l, nt, &cos_l));
    SS_TRY(ss_fwd_stage(f, m->sin_l, nt, &sin_l));

    const int T = n, d = m->d, H = m->H, Hkv = m->H_kv, d_h = m->d_h, nq = H * d_h, nkv = Hkv * d_h;
    const size_t td = (size_t)T * d, qn = (size_t)H * T * d_h, kn = (size_t)Hkv * T * d_h;
    float *xn = m->s.xn, *tmp = m->s.tmp;                    /* [T][d] */
    float *q = m->s.proj, *k = q + (size_t)T * nq;           /* [T][H·d_h], [T][H_kv·d_h] */
    float *v = k + (size_t)T * nkv;                          /* [T][H_kv·d_h] */
    float *gate = m->s.ff, *up = gate + (size_t)T * m->d_ff; /* [T][d_ff] each */
    const size_t nff = (size_t)T * m->d_ff;
    /* the capture's buffers on the backend */
    float *hidden = ss_fwd_cap(f, cap->hidden), *prenorm = ss_fwd_cap(f, cap->hidden_prenorm); /* [L+1][T][d], [T][d] */
    float *q_pre = ss_fwd_cap(f, cap->q_pre), *k_pre = ss_fwd_cap(f, cap->k_pre);               /* [L][H|H_kv][T][d_h] */
    float *vc = ss_fwd_cap(f, cap->v), *attn_out = ss_fwd_cap(f, cap->attn_out); /* [L][H_kv][T][d_h], [L][T][d] */
#define W(p) ss_fwd_ptr(f, (p))
    /* Native: RoPE over all d_h columns, half pairing, with the layer kind's table; any other encoding:
     * ss_posenc_attn's RoPE (s's tables) or ALiBi for every layer. */
    ss_attn_cfg acfg = {.rope_dims = d_h, .rope_pairing = SS_ROPE_HALF, .scale = m->scale};
    if (m->pe.type != SS_ENC_NATIVE) ss_posenc_attn(&m->pe, &acfg);

    SS_TRY(ss_be_embed(be, hidden, W(m->embed), ids_b, T, d, m->V));
    SS_TRY(ss_be_scale(be, hidden, m->embed_scale, td));
    SS_TRY(ss_posenc_add(&m->pe, f, hidden, tmp, T)); /* the sinusoidal ablation; nothing otherwise */
    for (int l = 0; l < m->L; l++) {
        const g3_layer *ly = &m->layers[l];
        const float *xin = hidden + (size_t)l * td;                           /* [T][d] */
        float *xout = l + 1 < m->L ? hidden + (size_t)(l + 1) * td : prenorm; /* [T][d] */
        float *ao = attn_out + (size_t)l * td;                                /* [T][d] */
        float *qp = q_pre + l * qn, *kp = k_pre + l * kn;                     /* [H|H_kv][T][d_h] */
        const int native = m->pe.type == SS_ENC_NATIVE;

        SS_TRY(ss_be_rmsnorm(be, xn, xin, W(ly->g_in), T, d, m->eps));
        SS_TRY(ss_be_matmul(be, q, xn, W(ly->wq), NULL, T, d, nq, 0));
        SS_TRY(ss_be_matmul(be, k, xn, W(ly->wk), NULL, T, d, nkv, 0));
        SS_TRY(ss_be_matmul(be, v, xn, W(ly->wv), NULL, T, d, nkv, 0));
        SS_TRY(ss_be_gather_heads(be, qp, q, T, H, d_h, nq, 0, d_h));
        SS_TRY(ss_be_gather_heads(be, kp, k, T, Hkv, d_h, nkv, 0, d_h));
        SS_TRY(ss_be_gather_heads(be, vc + l * kn, v, T, Hkv, d_h, nkv, 0, d_h));
        SS_TRY(ss_be_rmsnorm(be, qp, qp, W(ly->g_q), H * T, d_h, m->eps)); /* QK-norm: every (head, token) row */
        SS_TRY(ss_be_rmsnorm(be, kp, kp, W(ly->g_k), Hkv * T, d_h, m->eps));
        SS_TRY(ss_layer_attention(f, cap, l, &acfg, &m->s, ly->sliding ? m->window : 0,
                                  native ? (ly->sliding ? cos_l : cos_g) : NULL,
                                  native ? (ly->sliding ? sin_l : sin_g) : NULL));
        SS_TRY(ss_be_matmul(be, ao, m->s.ctx, W(ly->wo), NULL, T, nq, d, 0));
        SS_TRY(ss_be_rmsnorm(be, tmp, ao, W(ly->g_post_attn), T, d, m->eps));
        SS_TRY(ss_be_copy(be, xout, xin, td * sizeof(float)));
        SS_TRY(ss_be_add(be, xout, tmp, td));

        SS_TRY(ss_be_rmsnorm(be, xn, xout, W(ly->g_pre_ff), T, d, m->eps));
        SS_TRY(ss_be_matmul(be, gate, xn, W(ly->w_gate), NULL, T, d, m->d_ff, 0));
        SS_TRY(ss_be_matmul(be, up, xn, W(ly->w_up), NULL, T, d, m->d_ff, 0));
        SS_TRY(ss_act_apply(be, m->act, gate, nff));
        SS_TRY(ss_be_mul(be, gate, up, nff));
        SS_TRY(ss_be_matmul(be, tmp, gate, W(ly->w_down), NULL, T, m->d_ff, d, 0));
        SS_TRY(ss_be_rmsnorm(be, tmp, tmp, W(ly->g_post_ff), T, d, m->eps));
        SS_TRY(ss_be_add(be, xout, tmp, td));
    }
    SS_TRY(ss_be_rmsnorm(be, hidden + (size_t)m->L * td, prenorm, W(m->g_final), T, d, m->eps));
#undef W
    SS_TRY(ss_fwd_end(f, cap));
done:
    if (st != SS_OK) ss_capture_free(cap);
    return st;
}

static ss_status gemma3_set_encoding(void *state, const ss_encoding_spec *enc)
{
    gemma3 *m = state;
    return ss_posenc_set(&m->pe, &m->s, enc);
}

const ss_arch ss_arch_gemma3 = {
    .name = "gemma3",
    .load = gemma3_load,
    .forward = gemma3_forward,
    .set_encoding = gemma3_set_encoding,
    .free = gemma3_free,
};
