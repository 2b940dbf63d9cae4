/* bloom.c: the BLOOM decoder forward pass in fp32 (pre-LN, ALiBi, embedding LayerNorm, GELU-tanh,
 * causal), as transformers' BloomModel (4.40) computes it.
 *
 * Dimensions: T tokens, d = d_model, H heads of d_h = d/H, FFN width 4d, L layers, V vocabulary.
 * Tensor names are Hugging Face's, without prefix (BloomModel) or under "transformer."
 * (BloomForCausalLM); linear weights [out][in].
 *
 * The fused query_key_value projection is laid out PER HEAD: its 3d output columns are [H][3][d_h],
 * i.e. head h's query is columns [3h·d_h, (3h+1)·d_h), its key the next d_h, its value the next d_h
 * (HF views the output as (T, H, 3, d_h)). It is not q | k | v in three blocks as in GPT-2.
 *
 *   x = LayerNorm_emb(word_embeddings[ids])                             -> hidden[0]
 *       (plus the sinusoidal table after LayerNorm_emb under that ablation, encoding.h)
 *   per layer l (input x = hidden[l]):
 *     a = LayerNorm_in(x);  [q k v per head] = a·W_qkvᵀ + b_qkv          -> q_pre = q, k_pre = k, v
 *     A[l][h] = softmax(q_h·k_hᵀ / √d_h + slope_h·(j − i) + causal mask) (ALiBi, ss_alibi_slopes;
 *               the encoding ablations drop it or replace it by RoPE)
 *     o = (A·v)·W_denseᵀ + b_dense                                      -> attn_out[l]
 *     r = apply_residual_connection_post_layernorm ? a : x;  x = r + o
 *     a = LayerNorm_post(x);  r = (post-LN residual) ? a : x;  x = r + GELU_tanh(a·W_4hᵀ + b_4h)·W_hᵀ + b_h
 *   hidden[L] = ln_f(x) (HF's last hidden state); x itself -> hidden_prenorm.
 * Post-LN (config.json "sinkscope_post_ln": true, sinkscope's extension for trained models, hfconfig.h):
 *   x = LayerNorm_in(x + attn(x));  x = LayerNorm_post(x + MLP(x)); no ln_f: hidden[L] = hidden_prenorm = x. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch.h"
#include "decoder.h"
#include "encoding.h" /* ss_posenc: the ALiBi slopes and the ablations */
#include "matmul.h" /* ss_matmul */
#include "norm.h"   /* ss_layernorm_ref */

typedef struct {
    const float *ln1_g, *ln1_b;   /* [d] input_layernorm */
    const float *w_qkv, *b_qkv;   /* [3d][d], [3d] self_attention.query_key_value (per-head q, k, v) */
    const float *w_o, *b_o;       /* [d][d], [d] self_attention.dense */
    const float *ln2_g, *ln2_b;   /* [d] post_attention_layernorm */
    const float *w_up, *b_up;     /* [4d][d], [4d] mlp.dense_h_to_4h */
    const float *w_down, *b_down; /* [d][4d], [d] mlp.dense_4h_to_h */
} bloom_layer;

typedef struct {
    int L, H, d_h, d, d_ff, V, P;
    float eps;
    int residual_post_ln;
    int post_ln;                /* 1: x = LN(x + f(x)) per sublayer, no ln_f (lnf_g, lnf_b NULL) */
    const float *word;          /* [V][d] */
    const float *lne_g, *lne_b; /* [d] word_embeddings_layernorm */
    const float *lnf_g, *lnf_b; /* [d] ln_f (pre-LN only) */
    bloom_layer *layers;        /* [L] */
    ss_posenc pe;               /* the positional encoding in use (native: ALiBi with ss_alibi_slopes) */
    ss_scratch s;               /* proj [T][3d], ctx [T][d], ff [T][4d], xn and tmp [T][d] */
} bloom;

static void bloom_free(void *state)
{
    bloom *b = state;
    if (!b) return;
    free(b->layers);
    ss_posenc_free(&b->pe);
    ss_scratch_free(&b->s);
    free(b);
}

static ss_status bloom_load(const ss_hfconfig *cfg, const ss_safetensors *sf, void **state)
{
    ss_status st = SS_OK;
    const ss_model_info *in = &cfg->info;
    *state = NULL;
    bloom *b = calloc(1, sizeof *b);
    if (!b) return ss_fail(SS_ERR_NOMEM, "out of memory loading BLOOM");
    b->L = in->n_layers;
    b->H = in->n_heads;
    b->d_h = in->d_head;
    b->d = in->d_model;
    b->d_ff = in->d_ff;
    b->V = in->n_vocab;
    b->P = in->max_positions;
    b->eps = (float)cfg->layer_norm_eps;
    b->residual_post_ln = cfg->residual_post_ln;
    b->post_ln = cfg->post_ln;
    ss_scratch_init(&b->s, b->d, 3 * b->d, b->d, b->d_ff, 0, 0.0);
    const int64_t d = b->d, dff = b->d_ff;

    b->layers = calloc((size_t)b->L, sizeof *b->layers);
    if (!b->layers) {
        st = ss_fail(SS_ERR_NOMEM, "out of memory loading BLOOM");
        goto done;
    }
    SS_TRY(ss_posenc_init(&b->pe, "bloom", b->H, b->d, b->d_h, NULL, 0, 0.0, SS_ROPE_HALF, 1));

    static const char *const prefixes[] = {"", "transformer."};
    const char *pfx = ss_find_prefix(sf, "word_embeddings.weight", prefixes, 2);
    SS_TRY(ss_bind(sf, pfx, "word_embeddings.weight", 2, b->V, d, &b->word));
    SS_TRY(ss_bind(sf, pfx, "word_embeddings_layernorm.weight", 1, d, 0, &b->lne_g));
    SS_TRY(ss_bind(sf, pfx, "word_embeddings_layernorm.bias", 1, d, 0, &b->lne_b));
    if (!b->post_ln) {
        SS_TRY(ss_bind(sf, pfx, "ln_f.weight", 1, d, 0, &b->lnf_g));
        SS_TRY(ss_bind(sf, pfx, "ln_f.bias", 1, d, 0, &b->lnf_b));
    }
    for (int l = 0; l < b->L; l++) {
        bloom_layer *ly = &b->layers[l];
        char n[128];
#define LAYER(field, suffix, nd, a, c)                                                                                 \
    do {                                                                                                               \
        snprintf(n, sizeof n, "h.%d.%s", l, suffix);                                                                   \
        SS_TRY(ss_bind(sf, pfx, n, nd, a, c, &ly->field));                                                             \
    } while (0)
        LAYER(ln1_g, "input_layernorm.weight", 1, d, 0);
        LAYER(ln1_b, "input_layernorm.bias", 1, d, 0);
        LAYER(w_qkv, "self_attention.query_key_value.weight", 2, 3 * d, d);
        LAYER(b_qkv, "self_attention.query_key_value.bias", 1, 3 * d, 0);
        LAYER(w_o, "self_attention.dense.weight", 2, d, d);
        LAYER(b_o, "self_attention.dense.bias", 1, d, 0);
        LAYER(ln2_g, "post_attention_layernorm.weight", 1, d, 0);
        LAYER(ln2_b, "post_attention_layernorm.bias", 1, d, 0);
        LAYER(w_up, "mlp.dense_h_to_4h.weight", 2, dff, d);
        LAYER(b_up, "mlp.dense_h_to_4h.bias", 1, dff, 0);
        LAYER(w_down, "mlp.dense_4h_to_h.weight", 2, d, dff);
        LAYER(b_down, "mlp.dense_4h_to_h.bias", 1, d, 0);
#undef LAYER
    }
    *state = b;
    b = NULL;
done:
    bloom_free(b);
    return st;
}

static ss_status bloom_forward(void *state, ss_fwd *f, const int32_t *ids, int n, ss_capture *cap)
{
    ss_status st = SS_OK;
    bloom *b = state;
    const ss_backend *be = f->be;
    memset(cap, 0, sizeof *cap);
    SS_TRY(ss_arch_check_ids(ids, n, b->V, b->P));
    SS_TRY(ss_posenc_prepare(&b->pe, n));
    SS_TRY(ss_capture_alloc(cap, ids, n, b->L, b->H, b->H, b->d, b->d_h, 1));
    for (int l = 0; l < b->L; l++) cap->w_o[l] = b->layers[l].w_o;
    SS_TRY(ss_fwd_begin(f, cap));
    SS_TRY(ss_scratch_grow(&b->s, f, n));
    const void *ids_b; /* [T] */
    SS_TRY(ss_fwd_stage(f, ids, (size_t)n * sizeof *ids, &ids_b));

    const int T = n, d = b->d, d_h = b->d_h;
    const size_t td = (size_t)T * d;
    float *xn = b->s.xn, *ff = b->s.ff, *tmp = b->s.tmp; /* [T][d], [T][4d], [T][d] (s.proj [T][3d]: ss_fused_attention) */
    /* the capture's buffers on the backend */
    float *hidden = ss_fwd_cap(f, cap->hidden), *prenorm = ss_fwd_cap(f, cap->hidden_prenorm); /* [L+1][T][d], [T][d] */
    float *attn_out = ss_fwd_cap(f, cap->attn_out); /* [L][T][d] (q, k, v: ss_fused_attention) */
#define W(p) ss_fwd_ptr(f, (p))
    ss_attn_cfg acfg = {.scale = (float)(1.0 / sqrt((double)d_h))};
    ss_posenc_attn(&b->pe, &acfg); /* native: ALiBi */

    SS_TRY(ss_be_embed(be, hidden, W(b->word), ids_b, T, d, b->V));
    SS_TRY(ss_be_layernorm(be, hidden, hidden, W(b->lne_g), W(b->lne_b), T, d, b->eps));
    SS_TRY(ss_posenc_add(&b->pe, f, hidden, tmp, T));
    for (int l = 0; l < b->L; l++) {
        const bloom_layer *ly = &b->layers[l];
        const float *xin = hidden + (size_t)l * td;                           /* [T][d] */
        float *xout = l + 1 < b->L ? hidden + (size_t)(l + 1) * td : prenorm; /* [T][d] */
        float *ao = attn_out + (size_t)l * td;                                /* [T][d] */

        const float *a = xin; /* [T][d] the attention's input: LN_1(x), or x itself under post-LN */
        if (!b->post_ln) {
            SS_TRY(ss_be_layernorm(be, xn, xin, W(ly->ln1_g), W(ly->ln1_b), T, d, b->eps));
            a = xn;
        }
        SS_TRY(ss_fused_attention(f, cap, l, &acfg, &b->s, a, ly->w_qkv, ly->b_qkv, ly->w_o, ly->b_o, ao));
        SS_TRY(ss_be_copy(be, xout, b->residual_post_ln ? xn : xin, td * sizeof(float)));
        SS_TRY(ss_be_add(be, xout, ao, td));

        const float *mi = xn; /* [T][d] the MLP's input */
        if (b->post_ln) {
            SS_TRY(ss_be_layernorm(be, xout, xout, W(ly->ln1_g), W(ly->ln1_b), T, d, b->eps));
            mi = xout;
        } else {
            SS_TRY(ss_be_layernorm(be, xn, xout, W(ly->ln2_g), W(ly->ln2_b), T, d, b->eps));
            if (b->residual_post_ln) SS_TRY(ss_be_copy(be, xout, xn, td * sizeof(float)));
        }
        SS_TRY(ss_be_matmul(be, ff, mi, W(ly->w_up), W(ly->b_up), T, d, b->d_ff, 0));
        SS_TRY(ss_act_apply(be, SS_ACT_GELU_TANH, ff, (size_t)T * b->d_ff));
        SS_TRY(ss_be_matmul(be, tmp, ff, W(ly->w_down), W(ly->b_down), T, b->d_ff, d, 0));
        SS_TRY(ss_be_add(be, xout, tmp, td));
        if (b->post_ln) SS_TRY(ss_be_layernorm(be, xout, xout, W(ly->ln2_g), W(ly->ln2_b), T, d, b->eps));
    }
    if (b->post_ln)
        SS_TRY(ss_be_copy(be, hidden + (size_t)b->L * td, prenorm, td * sizeof(float)));
    else
        SS_TRY(ss_be_layernorm(be, hidden + (size_t)b->L * td, prenorm, W(b->lnf_g), W(b->lnf_b), T, d, b->eps));
#undef W
    SS_TRY(ss_fwd_end(f, cap));
done:
    return st;
}

static ss_status bloom_set_encoding(void *state, const ss_encoding_spec *enc)
{
    bloom *b = state;
    return ss_posenc_set(&b->pe, &b->s, enc);
}

const ss_arch ss_arch_bloom = {
    .name = "bloom",
    .load = bloom_load,
    .forward = bloom_forward,
    .set_encoding = bloom_set_encoding,
    .free = bloom_free,
};
