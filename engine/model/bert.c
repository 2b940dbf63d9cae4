/* bert.c: the BERT encoder forward pass in fp32 (post-LN, GELU-erf FFN, learned positions).
 *
 * Dimensions: T tokens, d = d_model, H heads of d_h = d/H, d_ff FFN width, L layers, V vocabulary,
 * P max positions. Weights are views into the mmap'd safetensors file (Hugging Face names, no
 * "bert." prefix; a "bert." prefix is also accepted), linear weights stored [out][in].
 *
 *   x = LayerNorm(word[ids] + position[0..T) + token_type[0])          -> hidden[0]
 *   per layer l (input hidden[l]):
 *     q, k, v = x·Wqᵀ + bq, x·Wkᵀ + bk, x·Wvᵀ + bv                      [T][d]
 *     A[l][h] = softmax(q_h·k_hᵀ / √d_h) (bidirectional)                 [H][T][T] -> cap->attn
 *     h1 = LayerNorm(x + (A·v)·Woᵀ + bo)                                 [T][d]
 *     x' = LayerNorm(h1 + GELU(h1·W1ᵀ + b1)·W2ᵀ + b2)                    -> hidden[l+1]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "activation.h" /* ss_gelu_erf_ref */
#include "arch.h"
#include "attention.h" /* ss_attention */
#include "matmul.h"    /* ss_matmul */
#include "norm.h"      /* ss_layernorm_ref */

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
    /* Scratch, owned here, grown to cap_T tokens and reused by every later forward pass. */
    int cap_T;
    float *q, *k, *v; /* [cap_T][d] */
    float *ctx;       /* [cap_T][d] attention output, heads side by side */
    float *h1;        /* [cap_T][d] after the attention block's LayerNorm */
    float *ff;        /* [cap_T][d_ff] FFN activations */
} bert;

static void bert_free(void *state)
{
    bert *b = state;
    if (!b) return;
    free(b->layers);
    free(b->q);
    free(b->k);
    free(b->v);
    free(b->ctx);
    free(b->h1);
    free(b->ff);
    free(b);
}

/* Binds "<prefix>name" (prefix "" or "bert.") as an F32 tensor of the given shape. */
static ss_status bind(const ss_safetensors *sf, const char *prefix, const char *name, int n_dims, int64_t d0,
                      int64_t d1, const float **out)
{
    char full[256];
    int64_t dims[2] = {d0, d1};
    snprintf(full, sizeof full, "%s%s", prefix, name);
    return ss_st_get_f32(sf, full, n_dims, dims, out);
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

    const char *pfx = ss_st_find(sf, "embeddings.word_embeddings.weight")        ? ""
                      : ss_st_find(sf, "bert.embeddings.word_embeddings.weight") ? "bert."
                                                                                 : "";
    SS_TRY(bind(sf, pfx, "embeddings.word_embeddings.weight", 2, b->V, d, &b->word));
    SS_TRY(bind(sf, pfx, "embeddings.position_embeddings.weight", 2, b->P, d, &b->pos));
    SS_TRY(bind(sf, pfx, "embeddings.token_type_embeddings.weight", 2, b->n_types, d, &b->type));
    SS_TRY(bind(sf, pfx, "embeddings.LayerNorm.weight", 1, d, 0, &b->ln_g));
    SS_TRY(bind(sf, pfx, "embeddings.LayerNorm.bias", 1, d, 0, &b->ln_b));

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
        SS_TRY(bind(sf, pfx, n, nd, a, c, &ly->field));                                                                \
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

/* Grows the scratch to hold T tokens (never shrinks). */
static ss_status grow_scratch(bert *b, int T)
{
    if (T <= b->cap_T) return SS_OK;
    size_t td = (size_t)T * b->d, tf = (size_t)T * b->d_ff;
    float **bufs[5] = {&b->q, &b->k, &b->v, &b->ctx, &b->h1};
    for (int i = 0; i < 5; i++) {
        float *p = realloc(*bufs[i], td * sizeof(float));
        if (!p) return ss_fail(SS_ERR_NOMEM, "out of memory for %d tokens", T);
        *bufs[i] = p;
    }
    float *p = realloc(b->ff, tf * sizeof(float));
    if (!p) return ss_fail(SS_ERR_NOMEM, "out of memory for %d tokens", T);
    b->ff = p;
    b->cap_T = T;
    return SS_OK;
}

static void add_inplace(float *y, const float *x, size_t n)
{
    for (size_t i = 0; i < n; i++) y[i] += x[i];
}

static ss_status bert_forward(void *state, const int32_t *ids, int n, ss_capture *cap)
{
    ss_status st = SS_OK;
    bert *b = state;
    int32_t *tokens = NULL; /* [T] becomes cap->tokens */
    memset(cap, 0, sizeof *cap);
    if (n < 1) return ss_fail(SS_ERR_RANGE, "prompt has %d tokens; the model needs at least 1", n);
    if (n > b->P) return ss_fail(SS_ERR_RANGE, "prompt has %d tokens; the model allows at most %d", n, b->P);
    for (int t = 0; t < n; t++)
        if (ids[t] < 0 || ids[t] >= b->V)
            return ss_fail(SS_ERR_RANGE, "token id %ld at position %d is outside the vocabulary [0, %d)", (long)ids[t],
                           t, b->V);
    SS_TRY(grow_scratch(b, n));

    const int T = n, d = b->d, H = b->H;
    const size_t td = (size_t)T * d;
    tokens = malloc((size_t)T * sizeof *tokens);
    cap->attn = malloc((size_t)b->L * H * T * T * sizeof(float));  /* [L][H][T][T] */
    cap->hidden = malloc((size_t)(b->L + 1) * td * sizeof(float)); /* [L+1][T][d] */
    cap->tokens = tokens;
    if (!tokens || !cap->attn || !cap->hidden) {
        st = ss_fail(SS_ERR_NOMEM, "out of memory for the capture of %d tokens", T);
        goto done;
    }
    memcpy(tokens, ids, (size_t)T * sizeof *tokens);
    cap->n_layers = b->L;
    cap->n_heads = H;
    cap->n_tokens = T;
    cap->d_model = d;
    cap->causal = 0;

    /* embeddings -> hidden[0] */
    float *x = cap->hidden; /* [T][d] */
    for (int t = 0; t < T; t++) {
        const float *we = b->word + (size_t)ids[t] * d, *pe = b->pos + (size_t)t * d, *te = b->type; /* [d] each */
        float *xt = x + (size_t)t * d;
        for (int i = 0; i < d; i++) xt[i] = we[i] + pe[i] + te[i];
    }
    ss_layernorm_ref(x, x, b->ln_g, b->ln_b, T, d, b->eps);

    for (int l = 0; l < b->L; l++) {
        const bert_layer *ly = &b->layers[l];
        const float *xin = cap->hidden + (size_t)l * td;  /* [T][d] hidden[l] */
        float *xout = cap->hidden + (size_t)(l + 1) * td; /* [T][d] hidden[l+1] */
        float *A = cap->attn + (size_t)l * H * T * T;     /* [H][T][T] */

        /* self-attention */
        ss_matmul(b->q, xin, ly->wq, ly->bq, T, d, d);
        ss_matmul(b->k, xin, ly->wk, ly->bk, T, d, d);
        ss_matmul(b->v, xin, ly->wv, ly->bv, T, d, d);
        ss_attention(A, b->ctx, b->q, b->k, b->v, T, H, b->d_h, d, 0);
        ss_matmul(b->h1, b->ctx, ly->wo, ly->bo, T, d, d);
        add_inplace(b->h1, xin, td);
        ss_layernorm_ref(b->h1, b->h1, ly->ln1_g, ly->ln1_b, T, d, b->eps);

        /* feed-forward */
        ss_matmul(b->ff, b->h1, ly->w1, ly->b1, T, d, b->d_ff);
        ss_gelu_erf_ref(b->ff, (size_t)T * b->d_ff);
        ss_matmul(xout, b->ff, ly->w2, ly->b2, T, b->d_ff, d);
        add_inplace(xout, b->h1, td);
        ss_layernorm_ref(xout, xout, ly->ln2_g, ly->ln2_b, T, d, b->eps);
    }
done:
    if (st != SS_OK) {
        free(tokens);
        free(cap->attn);
        free(cap->hidden);
        memset(cap, 0, sizeof *cap);
    }
    return st;
}

const ss_arch ss_arch_bert = {
    .name = "bert",
    .load = bert_load,
    .forward = bert_forward,
    .free = bert_free,
};
