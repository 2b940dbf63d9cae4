/* llama.c: the Llama decoder forward pass in fp32 (pre-RMSNorm, RoPE, grouped-query attention,
 * SwiGLU FFN, causal), as transformers' LlamaModel (4.40) computes it.
 *
 * Dimensions: T tokens, d = d_model, H query heads and H_kv key/value heads of d_h columns (head h
 * reads KV head h / (H/H_kv)), d_ff FFN width, L layers, V vocabulary. Tensor names are Hugging
 * Face's, without prefix (LlamaModel) or under "model." (LlamaForCausalLM); linear weights [out][in].
 *
 *   x = embed_tokens[ids]                                               -> hidden[0]
 *       (plus the sinusoidal table under that ablation, encoding.h)
 *   per layer l (input x = hidden[l]):
 *     a = RMSNorm(x)·γ_in
 *     q = a·W_qᵀ [T][H·d_h], k = a·W_kᵀ, v = a·W_vᵀ [T][H_kv·d_h] (+ biases with attention_bias)
 *                                                                       -> q_pre, k_pre, v (head h = columns h·d_h..)
 *     q, k = RoPE(q_pre, k_pre) over all d_h columns with θ = rope_theta; pairs (i, i + d_h/2) for
 *            Hugging Face checkpoints (cfg->rope_pairing; a GGUF loader selects adjacent pairs);
 *            the encoding ablations skip it or replace it (another θ or fraction, ALiBi)
 *     A[l][h] = softmax(q_h·k_{kv(h)}ᵀ / √d_h + causal mask)
 *     o = (A·v)·W_oᵀ (+ b_o)                                            -> attn_out[l]
 *     x = x + o;  a = RMSNorm(x)·γ_post;  x = x + (SiLU(a·W_gateᵀ) ⊙ a·W_upᵀ)·W_downᵀ
 *   hidden[L] = RMSNorm(x)·γ_norm (HF's last hidden state); x itself -> hidden_prenorm. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch.h"
#include "decoder.h"
#include "encoding.h" /* ss_posenc */

typedef struct {
    const float *ln_in;                  /* [d] input_layernorm */
    const float *wq, *wk, *wv, *wo;      /* [H·d_h][d], [H_kv·d_h][d] twice, [d][H·d_h] */
    const float *bq, *bk, *bv, *bo;      /* [H·d_h], [H_kv·d_h] twice, [d]; NULL without attention_bias */
    const float *ln_post;                /* [d] post_attention_layernorm */
    const float *w_gate, *w_up, *w_down; /* [d_ff][d] twice, [d][d_ff] */
} llama_layer;

typedef struct {
    int L, H, H_kv, d_h, d, d_ff, V, P;
    float eps;
    int rope_dims;
    ss_rope_pairing pairing;
    const float *embed;  /* [V][d] */
    const float *norm;   /* [d] final norm */
    llama_layer *layers; /* [L] */
    ss_posenc pe;        /* the positional encoding in use (native: RoPE rope_dims, θ) */
    /* proj: q [T][H·d_h], k and v [T][H_kv·d_h] back to back; ctx [T][H·d_h]; ff: gate then up,
     * [T][d_ff] each; xn, tmp [T][d] */
    ss_scratch s;
} llama;

static void llama_free(void *state)
{
    llama *m = state;
    if (!m) return;
    free(m->layers);
    ss_posenc_free(&m->pe);
    ss_scratch_free(&m->s);
    free(m);
}

static ss_status llama_load(const ss_hfconfig *cfg, const ss_safetensors *sf, void **state)
{
    ss_status st = SS_OK;
    const ss_model_info *in = &cfg->info;
    *state = NULL;
    llama *m = calloc(1, sizeof *m);
    if (!m) return ss_fail(SS_ERR_NOMEM, "out of memory loading Llama");
    m->L = in->n_layers;
    m->H = in->n_heads;
    m->H_kv = in->n_kv_heads;
    m->d_h = in->d_head;
    m->d = in->d_model;
    m->d_ff = in->d_ff;
    m->V = in->n_vocab;
    m->P = in->max_positions;
    m->eps = (float)cfg->layer_norm_eps;
    m->rope_dims = cfg->rope_dims;
    m->pairing = cfg->rope_pairing;
    const int64_t d = m->d, dff = m->d_ff, nq = (int64_t)m->H * m->d_h, nkv = (int64_t)m->H_kv * m->d_h;
    ss_scratch_init(&m->s, m->d, (int)(nq + 2 * nkv), (int)nq, 2 * m->d_ff, m->rope_dims, cfg->rope_theta);
    SS_TRY(ss_posenc_init(&m->pe, "llama", m->H, m->d, m->d_h, NULL, m->rope_dims, cfg->rope_theta, m->pairing, 0));

    static const char *const prefixes[] = {"", "model."};
    const char *pfx = ss_find_prefix(sf, "embed_tokens.weight", prefixes, 2);
    SS_TRY(ss_bind(sf, pfx, "embed_tokens.weight", 2, m->V, d, &m->embed));
    SS_TRY(ss_bind(sf, pfx, "norm.weight", 1, d, 0, &m->norm));
    m->layers = calloc((size_t)m->L, sizeof *m->layers);
    if (!m->layers) {
        st = ss_fail(SS_ERR_NOMEM, "out of memory loading Llama");
        goto done;
    }
    for (int l = 0; l < m->L; l++) {
        llama_layer *ly = &m->layers[l];
        char n[128];
#define LAYER(field, suffix, nd, a, c)                                                                                 \
    do {                                                                                                               \
        snprintf(n, sizeof n, "layers.%d.%s", l, suffix);                                                              \
        SS_TRY(ss_bind(sf, pfx, n, nd, a, c, &ly->field));                                                             \
    } while (0)
        LAYER(ln_in, "input_layernorm.weight", 1, d, 0);
        LAYER(wq, "self_attn.q_proj.weight", 2, nq, d);
        LAYER(wk, "self_attn.k_proj.weight", 2, nkv, d);
        LAYER(wv, "self_attn.v_proj.weight", 2, nkv, d);
        LAYER(wo, "self_attn.o_proj.weight", 2, d, nq);
        if (cfg->attention_bias) {
            LAYER(bq, "self_attn.q_proj.bias", 1, nq, 0);
            LAYER(bk, "self_attn.k_proj.bias", 1, nkv, 0);
            LAYER(bv, "self_attn.v_proj.bias", 1, nkv, 0);
            LAYER(bo, "self_attn.o_proj.bias", 1, d, 0);
        }
        LAYER(ln_post, "post_attention_layernorm.weight", 1, d, 0);
        LAYER(w_gate, "mlp.gate_proj.weight", 2, dff, d);
        LAYER(w_up, "mlp.up_proj.weight", 2, dff, d);
        LAYER(w_down, "mlp.down_proj.weight", 2, d, dff);
#undef LAYER
    }
    *state = m;
    m = NULL;
done:
    llama_free(m);
    return st;
}

static ss_status llama_forward(void *state, ss_fwd *f, const int32_t *ids, int n, ss_capture *cap)
{
    ss_status st = SS_OK;
    llama *m = state;
    const ss_backend *be = f->be;
    memset(cap, 0, sizeof *cap);
    SS_TRY(ss_arch_check_ids(ids, n, m->V, m->P));
    SS_TRY(ss_posenc_prepare(&m->pe, n));
    SS_TRY(ss_capture_alloc(cap, ids, n, m->L, m->H, m->H_kv, m->d, m->d_h, 1));
    for (int l = 0; l < m->L; l++) cap->w_o[l] = m->layers[l].wo;
    SS_TRY(ss_fwd_begin(f, cap));
    SS_TRY(ss_scratch_grow(&m->s, f, n));
    const void *ids_b; /* [T] */
    SS_TRY(ss_fwd_stage(f, ids, (size_t)n * sizeof *ids, &ids_b));

    const int T = n, d = m->d, H = m->H, Hkv = m->H_kv, d_h = m->d_h, nq = H * d_h, nkv = Hkv * d_h;
    const size_t td = (size_t)T * d, qn = (size_t)H * T * d_h, kn = (size_t)Hkv * T * d_h;
    float *xn = m->s.xn, *tmp = m->s.tmp;                    /* [T][d] */
    float *q = m->s.proj, *k = q + (size_t)T * nq;           /* [T][H·d_h], [T][H_kv·d_h] */
    float *v = k + (size_t)T * nkv;                          /* [T][H_kv·d_h] */
    float *gate = m->s.ff, *up = gate + (size_t)T * m->d_ff; /* [T][d_ff] each */
    /* the capture's buffers on the backend */
    float *hidden = ss_fwd_cap(f, cap->hidden), *prenorm = ss_fwd_cap(f, cap->hidden_prenorm); /* [L+1][T][d], [T][d] */
    float *q_pre = ss_fwd_cap(f, cap->q_pre), *k_pre = ss_fwd_cap(f, cap->k_pre);               /* [L][H|H_kv][T][d_h] */
    float *vc = ss_fwd_cap(f, cap->v), *attn_out = ss_fwd_cap(f, cap->attn_out); /* [L][H_kv][T][d_h], [L][T][d] */
#define W(p) ss_fwd_ptr(f, (p))
    ss_attn_cfg acfg = {.scale = (float)(1.0 / sqrt((double)d_h))};
    ss_posenc_attn(&m->pe, &acfg); /* native: RoPE over rope_dims with the model's pairing */

    SS_TRY(ss_be_embed(be, hidden, W(m->embed), ids_b, T, d, m->V));
    SS_TRY(ss_posenc_add(&m->pe, f, hidden, tmp, T));
    for (int l = 0; l < m->L; l++) {
        const llama_layer *ly = &m->layers[l];
        const float *xin = hidden + (size_t)l * td;                               /* [T][d] */
        float *xout = l + 1 < m->L ? hidden + (size_t)(l + 1) * td : prenorm; /* [T][d] */
        float *ao = attn_out + (size_t)l * td;                                    /* [T][d] */

        SS_TRY(ss_be_rmsnorm(be, xn, xin, W(ly->ln_in), T, d, m->eps));
        SS_TRY(ss_be_matmul(be, q, xn, W(ly->wq), W(ly->bq), T, d, nq, 0));
        SS_TRY(ss_be_matmul(be, k, xn, W(ly->wk), W(ly->bk), T, d, nkv, 0));
        SS_TRY(ss_be_matmul(be, v, xn, W(ly->wv), W(ly->bv), T, d, nkv, 0));
        SS_TRY(ss_be_gather_heads(be, q_pre + l * qn, q, T, H, d_h, nq, 0, d_h));
        SS_TRY(ss_be_gather_heads(be, k_pre + l * kn, k, T, Hkv, d_h, nkv, 0, d_h));
        SS_TRY(ss_be_gather_heads(be, vc + l * kn, v, T, Hkv, d_h, nkv, 0, d_h));
        SS_TRY(ss_layer_attention(f, cap, l, &acfg, &m->s, 0, NULL, NULL));
        SS_TRY(ss_be_matmul(be, ao, m->s.ctx, W(ly->wo), W(ly->bo), T, nq, d, 0));
        SS_TRY(ss_be_copy(be, xout, xin, td * sizeof(float)));
        SS_TRY(ss_be_add(be, xout, ao, td));

        SS_TRY(ss_be_rmsnorm(be, xn, xout, W(ly->ln_post), T, d, m->eps));
        SS_TRY(ss_be_matmul(be, gate, xn, W(ly->w_gate), NULL, T, d, m->d_ff, 0));
        SS_TRY(ss_be_matmul(be, up, xn, W(ly->w_up), NULL, T, d, m->d_ff, 0));
        SS_TRY(ss_be_swiglu(be, gate, up, (size_t)T * m->d_ff));
        SS_TRY(ss_be_matmul(be, tmp, gate, W(ly->w_down), NULL, T, m->d_ff, d, 0));
        SS_TRY(ss_be_add(be, xout, tmp, td));
    }
    SS_TRY(ss_be_rmsnorm(be, hidden + (size_t)m->L * td, prenorm, W(m->norm), T, d, m->eps));
#undef W
    SS_TRY(ss_fwd_end(f, cap));
done:
    return st;
}

static ss_status llama_set_encoding(void *state, const ss_encoding_spec *enc)
{
    llama *m = state;
    return ss_posenc_set(&m->pe, &m->s, enc);
}

const ss_arch ss_arch_llama = {
    .name = "llama",
    .load = llama_load,
    .forward = llama_forward,
    .set_encoding = llama_set_encoding,
    .free = llama_free,
};
