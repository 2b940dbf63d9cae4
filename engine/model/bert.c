/* bert.c: the BERT encoder forward pass in fp32 (post-LN, GELU-erf FFN, learned positions).
 *
 * Dimensions: T tokens, d = d_model, H heads of d_h = d/H, d_ff FFN width, L layers, V vocabulary,
 * P max positions. Weights are views into the mmap'd safetensors file (Hugging Face names, no
 * "bert." prefix; a "bert." prefix is also accepted), linear weights stored [out][in].
 *
 *   x = LayerNorm(word[ids] + position[0..T) + token_type[0])          -> hidden[0]
 *       (position: the learned rows as trained; the encoding ablations (encoding.h) put zero, the
 *       learned rows permuted or the sinusoidal table there, and may add RoPE or symmetric ALiBi
 *       −slope·|i − j| to the attention below)
 *   per layer l (input hidden[l]):
 *     q, k, v = x·Wqᵀ + bq, x·Wkᵀ + bk, x·Wvᵀ + bv                      [T][d] -> cap->q_pre (= q), k_pre (= k), v
 *     A[l][h] = softmax(q_h·k_hᵀ / √d_h) (bidirectional)                 [H][T][T] -> cap->attn
 *     o = (A·v)·Woᵀ + bo                                                 [T][d] -> cap->attn_out
 *     h1 = LayerNorm(x + o)                                              [T][d]
 *     x' = LayerNorm(h1 + GELU(h1·W1ᵀ + b1)·W2ᵀ + b2)                    -> hidden[l+1]
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "activation.h" /* ss_gelu_erf */
#include "arch.h"
#include "decoder.h"  /* ss_scratch, ss_bind, ss_gather_heads, ss_layer_attention */
#include "encoding.h" /* ss_posenc */
#include "matmul.h"  /* ss_matmul */
#include "norm.h"    /* ss_layernorm_ref */

typedef struct {
    const float *wq, *wk, *wv;  /* [d][d] */
    const float *bq, *bk, *bv;  /* [d] */
    const float *wo, *bo;       /* [d][d], [d]        attention.output.dense */
    const float *ln1_g, *ln1_b; /* [d]               attention.output.LayerNorm */
    const float *w1, *b1;       /* [d_ff][d], [d_ff]  intermediate.dense */
    const float *w2, *b2;       /* [d][d_ff], [d]     output.dense */
    const float *ln2_g, *ln2_b; /* [d]               output.LayerNorm */
} bert_layer;

typedef struct {
    int L, H, d_h, d, d_ff, V, P, n_types;
    float eps;
    const float *word;        /* [V][d] */
    const float *pos;         /* [P][d] */
    const float *type;        /* [n_types][d] */
    const float *ln_g, *ln_b; /* [d] embeddings.LayerNorm */
    bert_layer *layers;       /* [L] */
    ss_posenc pe;             /* the positional encoding in use (native: the learned rows) */
    /* Scratch, owned here, grown to the longest prompt and reused by every later forward pass:
     * proj holds q, k, v back to back ([3][T][d]); xn is h1 [T][d] (after the attention block's
     * LayerNorm); ctx [T][d] the attention output, heads side by side; ff [T][d_ff]. */
    ss_scratch s;
} bert;

static void bert_free(void *state)
{
    bert *b = state;
    if (!b) return;
    free(b->layers);
    ss_posenc_free(&b->pe);
    ss_scratch_free(&b->s);
    free(b);
}

static ss_status bert_load(const ss_hfconfig *cfg, const ss_safetensors *sf, void **state)
{
    ss_status st = SS_OK;
    const ss_model_info *in = &cfg->info;
    *state = NULL;
    bert *b = calloc(1, sizeof *b);
    if (!b) return ss_fail(SS_ERR_NOMEM, "out of memory loading BERT");
    b->L = in->n_layers;
    b->H = in->n_heads;
    b->d_h = in->d_head;
    b->d = in->d_model;
    b->d_ff = in->d_ff;
    b->V = in->n_vocab;
    b->P = in->max_positions;
    b->n_types = cfg->type_vocab_size;
    b->eps = (float)cfg->layer_norm_eps;
    const int64_t d = b->d, dff = b->d_ff;
    ss_scratch_init(&b->s, b->d, 3 * b->d, b->d, b->d_ff, 0, 0.0);

    const char *pfx = ss_st_find(sf, "embeddings.word_embeddings.weight")        ? ""
                      : ss_st_find(sf, "bert.embeddings.word_embeddings.weight") ? "bert."
                                                                                 : "";
    SS_TRY(ss_bind(sf, pfx, "embeddings.word_embeddings.weight", 2, b->V, d, &b->word));
    SS_TRY(ss_bind(sf, pfx, "embeddings.position_embeddings.weight", 2, b->P, d, &b->pos));
    SS_TRY(ss_bind(sf, pfx, "embeddings.token_type_embeddings.weight", 2, b->n_types, d, &b->type));
    SS_TRY(ss_bind(sf, pfx, "embeddings.LayerNorm.weight", 1, d, 0, &b->ln_g));
    SS_TRY(ss_bind(sf, pfx, "embeddings.LayerNorm.bias", 1, d, 0, &b->ln_b));
    SS_TRY(ss_posenc_init(&b->pe, "bert", b->H, b->d, b->d_h, b->pos, 0, 0.0, SS_ROPE_HALF, 0));

    b->layers = calloc((size_t)b->L, sizeof *b->layers);
    if (!b->layers) {
        st = ss_fail(SS_ERR_NOMEM, "out of memory loading BERT");
        goto done;
    }
    for (int l = 0; l < b->L; l++) {
        bert_layer *ly = &b->layers[l];
        char n[128];
#define LAYER(field, suffix, nd, a, c)                                                                                 \
    do {                                                                                                               \
        snprintf(n, sizeof n, "encoder.layer.%d.%s", l, suffix);                                                       \
        SS_TRY(ss_bind(sf, pfx, n, nd, a, c, &ly->field));                                                             \
    } while (0)
        LAYER(wq, "attention.self.query.weight", 2, d, d);
        LAYER(bq, "attention.self.query.bias", 1, d, 0);
        LAYER(wk, "attention.self.key.weight", 2, d, d);
        LAYER(bk, "attention.self.key.bias", 1, d, 0);
        LAYER(wv, "attention.self.value.weight", 2, d, d);
        LAYER(bv, "attention.self.value.bias", 1, d, 0);
        LAYER(wo, "attention.output.dense.weight", 2, d, d);
        LAYER(bo, "attention.output.dense.bias", 1, d, 0);
        LAYER(ln1_g, "attention.output.LayerNorm.weight", 1, d, 0);
        LAYER(ln1_b, "attention.output.LayerNorm.bias", 1, d, 0);
        LAYER(w1, "intermediate.dense.weight", 2, dff, d);
        LAYER(b1, "intermediate.dense.bias", 1, dff, 0);
        LAYER(w2, "output.dense.weight", 2, d, dff);
        LAYER(b2, "output.dense.bias", 1, d, 0);
        LAYER(ln2_g, "output.LayerNorm.weight", 1, d, 0);
        LAYER(ln2_b, "output.LayerNorm.bias", 1, d, 0);
#undef LAYER
    }
    *state = b;
    b = NULL;
done:
    bert_free(b);
    return st;
}

static ss_status bert_forward(void *state, ss_fwd *f, const int32_t *ids, int n, ss_capture *cap)
{
    ss_status st = SS_OK;
    bert *b = state;
    const ss_backend *be = f->be;
    memset(cap, 0, sizeof *cap);
    SS_TRY(ss_arch_check_ids(ids, n, b->V, b->P));
    SS_TRY(ss_posenc_prepare(&b->pe, n));
    SS_TRY(ss_capture_alloc(cap, ids, n, b->L, b->H, b->H, b->d, b->d_h, 0));
    for (int l = 0; l < b->L; l++) cap->w_o[l] = b->layers[l].wo;
    SS_TRY(ss_fwd_begin(f, cap));
    SS_TRY(ss_scratch_grow(&b->s, f, n));
    const void *ids_b; /* [T] */
    SS_TRY(ss_fwd_stage(f, ids, (size_t)n * sizeof *ids, &ids_b));

    const int T = n, d = b->d;
    const size_t td = (size_t)T * d;
    float *q = b->s.proj, *k = q + td, *v = k + td; /* [T][d] each */
    float *h1 = b->s.xn;                            /* [T][d] */
    /* the capture's buffers on the backend */
    float *hidden = ss_fwd_cap(f, cap->hidden), *prenorm = ss_fwd_cap(f, cap->hidden_prenorm); /* [L+1][T][d], [T][d] */
    float *q_pre = ss_fwd_cap(f, cap->q_pre), *k_pre = ss_fwd_cap(f, cap->k_pre); /* [L][H][T][d_h] */
    float *vc = ss_fwd_cap(f, cap->v), *attn_out = ss_fwd_cap(f, cap->attn_out); /* [L][H][T][d_h], [L][T][d] */
#define W(p) ss_fwd_ptr(f, (p))
    ss_attn_cfg acfg = {.scale = (float)(1.0 / sqrt((double)b->d_h))};
    ss_posenc_attn(&b->pe, &acfg); /* native: no RoPE, no ALiBi */

    /* embeddings -> hidden[0]: (word + position) + token type, summed in that order */
    float *x = hidden; /* [T][d] */
    SS_TRY(ss_be_embed(be, x, W(b->word), ids_b, T, d, b->V));
    SS_TRY(ss_posenc_add(&b->pe, f, x, b->s.tmp, T));
    SS_TRY(ss_be_add_rows(be, x, W(b->type), T, d));
    SS_TRY(ss_be_layernorm(be, x, x, W(b->ln_g), W(b->ln_b), T, d, b->eps));

    for (int l = 0; l < b->L; l++) {
        const bert_layer *ly = &b->layers[l];
        const float *xin = hidden + (size_t)l * td;  /* [T][d] hidden[l] */
        float *xout = hidden + (size_t)(l + 1) * td; /* [T][d] hidden[l+1] */
        const size_t hn = (size_t)b->H * T * b->d_h; /* one layer of q/k/v in the capture */
        float *ao = attn_out + (size_t)l * td;       /* [T][d] */

        /* self-attention: heads gathered into the capture, then attention (with the ablation's RoPE or
         * ALiBi, if any) */
        SS_TRY(ss_be_matmul(be, q, xin, W(ly->wq), W(ly->bq), T, d, d, 0));
        SS_TRY(ss_be_matmul(be, k, xin, W(ly->wk), W(ly->bk), T, d, d, 0));
        SS_TRY(ss_be_matmul(be, v, xin, W(ly->wv), W(ly->bv), T, d, d, 0));
        SS_TRY(ss_be_gather_heads(be, q_pre + l * hn, q, T, b->H, b->d_h, d, 0, b->d_h));
        SS_TRY(ss_be_gather_heads(be, k_pre + l * hn, k, T, b->H, b->d_h, d, 0, b->d_h));
        SS_TRY(ss_be_gather_heads(be, vc + l * hn, v, T, b->H, b->d_h, d, 0, b->d_h));
        SS_TRY(ss_layer_attention(f, cap, l, &acfg, &b->s, 0, NULL, NULL));
        SS_TRY(ss_be_matmul(be, ao, b->s.ctx, W(ly->wo), W(ly->bo), T, d, d, 0));
        SS_TRY(ss_be_copy(be, h1, ao, td * sizeof(float)));
        SS_TRY(ss_be_add(be, h1, xin, td));
        SS_TRY(ss_be_layernorm(be, h1, h1, W(ly->ln1_g), W(ly->ln1_b), T, d, b->eps));

        /* feed-forward */
        SS_TRY(ss_be_matmul(be, b->s.ff, h1, W(ly->w1), W(ly->b1), T, d, b->d_ff, 0));
        SS_TRY(ss_be_gelu_erf(be, b->s.ff, (size_t)T * b->d_ff));
        SS_TRY(ss_be_matmul(be, xout, b->s.ff, W(ly->w2), W(ly->b2), T, b->d_ff, d, 0));
        SS_TRY(ss_be_add(be, xout, h1, td));
        SS_TRY(ss_be_layernorm(be, xout, xout, W(ly->ln2_g), W(ly->ln2_b), T, d, b->eps));
    }
    /* no final norm: the residual stream leaving the last layer is hidden[L] */
    SS_TRY(ss_be_copy(be, prenorm, hidden + (size_t)b->L * td, td * sizeof(float)));
#undef W
    SS_TRY(ss_fwd_end(f, cap));
done:
    return st;
}

static ss_status bert_set_encoding(void *state, const ss_encoding_spec *enc)
{
    bert *b = state;
    return ss_posenc_set(&b->pe, &b->s, enc);
}

const ss_arch ss_arch_bert = {
    .name = "bert",
    .load = bert_load,
    .forward = bert_forward,
    .set_encoding = bert_set_encoding,
    .free = bert_free,
};
