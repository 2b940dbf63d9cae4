/* backward_ln.c: the gradient of the LM loss for the LayerNorm decoders gpt2, gpt_neox and bloom (gpt2.c, neox.c,
 * bloom.c; these are also what `sinkscope train` exports, engine/train/export.h), for ss_model_grad_norms
 * (model.h).
 *
 * Dimensions: T tokens, d = d_model, H heads of d_h = d/H, d_ff, L layers, V vocabulary.
 *
 * One pass on logical weights: W_q, W_k, W_v, W_o [d][d], W_fc [d_ff][d], W_p [d][d_ff] in nn.Linear layout with
 * their biases, copied per layer out of what the file stores (GPT-2's Conv1D [in][out] and its c_attn = [q | k | v]
 * blocks; NeoX's and BLOOM's query_key_value fused per head, rows [H][3][d_h]); the gradients are packed back into
 * the stored layouts before they are emitted under the stored names.
 * Per layer (x = hidden[l]; LN = LayerNorm with gain and bias; act = GELU-tanh or GELU-erf):
 *   pre-LN sequential:  a = LN1(x); x_mid = x + o; m_in = LN2(x_mid); x_out = x_mid + MLP(m_in)
 *   pre-LN parallel (NeoX use_parallel_residual): a = LN1(x); m_in = LN2(x); x_out = x + o + MLP(m_in)
 *   post-LN (sinkscope_post_ln): a = x; x_mid = LN1(x + o); m_in = x_mid; x_out = LN2(x_mid + MLP(x_mid))
 *   o = attn(a)·W_oᵀ + b_o = attn_out (captured), attn through the captured probabilities (RoPE over the first
 *   rope_dims columns for NeoX, ALiBi for BLOOM: a bias without parameters), MLP(m) = act(m·W_fcᵀ + b_fc)·W_pᵀ + b_p.
 * Embedding: GPT-2 hidden[0] = wte[ids] + wpe[0..T); NeoX embed_in[ids]; BLOOM LN_emb(word_embeddings[ids]).
 * Final norm: ln_f / final_layer_norm (pre-LN); post-LN has none (hidden[L] = hidden_prenorm).
 * LM head: tied to the token embedding unless the file holds lm_head.weight (NeoX: embed_out.weight).
 * BLOOM's apply_residual_connection_post_layernorm is not implemented (SS_ERR_UNSUPPORTED). */
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backward.h"
#include "decoder.h"   /* ss_bind, ss_find_prefix, ss_act_from_name */
#include "train_ops.h" /* ss_tr_layernorm_*_f, ss_tr_linear_*_f, ss_tr_gelu_*_f, ss_tr_attn_bwd_f */

/* Where an architecture keeps its tensors. */
typedef struct {
    const char *arch;
    const char *prefixes[2]; /* model prefixes, probed with the embedding's name */
    const char *layer;       /* "h.%d." */
    const char *ln1, *qkv, *o, *ln2, *fc, *proj; /* per-layer module names (".weight" / ".bias" appended) */
    const char *embed, *pos, *emb_ln, *final, *head; /* NULL: absent; head: the untied head's full name */
    int conv1d;                                      /* 1: GPT-2's [in][out] Conv1D and [q | k | v] blocks */
} ln_names;

static const ln_names g_names[] = {
    {"gpt2", {"", "transformer."}, "h.%d.", "ln_1", "attn.c_attn", "attn.c_proj", "ln_2", "mlp.c_fc", "mlp.c_proj",
     "wte", "wpe", NULL, "ln_f", "lm_head.weight", 1},
    {"gpt_neox", {"", "gpt_neox."}, "layers.%d.", "input_layernorm", "attention.query_key_value",
     "attention.dense", "post_attention_layernorm", "mlp.dense_h_to_4h", "mlp.dense_4h_to_h", "embed_in", NULL,
     NULL, "final_layer_norm", "embed_out.weight", 0},
    {"bloom", {"", "transformer."}, "h.%d.", "input_layernorm", "self_attention.query_key_value",
     "self_attention.dense", "post_attention_layernorm", "mlp.dense_h_to_4h", "mlp.dense_4h_to_h",
     "word_embeddings", NULL, "word_embeddings_layernorm", "ln_f", "lm_head.weight", 0},
};

typedef struct {
    const ss_safetensors *sf;
    const ln_names *nm;
    const char *pfx;
    int d, dff, H, d_h, bias;
} ctx_t;

/* "<pfx><layer l><module><suffix>" into buf */
static void tname(char *buf, size_t cap, const ctx_t *c, int l, const char *module, const char *suffix)
{
    char lay[32] = "";
    if (l >= 0) snprintf(lay, sizeof lay, c->nm->layer, l);
    snprintf(buf, cap, "%.40s%.31s%.80s%.16s", c->pfx, lay, module, suffix);
}

static ss_status bind(const ctx_t *c, int l, const char *module, const char *suffix, int nd, int64_t d0, int64_t d1,
                      const float **out)
{
    char n[256];
    tname(n, sizeof n, c, l, module, suffix);
    return ss_bind(c->sf, "", n, nd, d0, d1, out);
}

/* dst [rows][cols] = srcᵀ, src [cols][rows] */
static void transpose(float *dst, const float *src, int rows, int cols)
{
    for (int r = 0; r < rows; r++)
        for (int k = 0; k < cols; k++) dst[(size_t)r * cols + k] = src[(size_t)k * rows + r];
}

/* The logical weights of one layer. */
typedef struct {
    const float *ln1_g, *ln1_b, *ln2_g, *ln2_b;         /* [d] */
    float *wq, *wk, *wv;                                /* [d][d] copies */
    float *bq, *bk, *bv;                                /* [d] copies (zero without biases) */
    const float *wo, *wfc, *wp;                         /* [d][d], [d_ff][d], [d][d_ff] (copies for Conv1D) */
    const float *bo, *bfc, *bp;                         /* [d], [d_ff], [d] or NULL */
} layer_w;

/* Fills w for layer l; tmp_o [d][d], tmp_fc [d_ff][d], tmp_p [d][d_ff] receive the Conv1D transposes. */
static ss_status load_layer(const ctx_t *c, int l, layer_w *w, float *tmp_o, float *tmp_fc, float *tmp_p)
{
    ss_status st = SS_OK;
    const int d = c->d, dff = c->dff, H = c->H, dh = c->d_h;
    const float *qkv, *bqkv = NULL;
    SS_TRY(bind(c, l, c->nm->ln1, ".weight", 1, d, 0, &w->ln1_g));
    SS_TRY(bind(c, l, c->nm->ln1, ".bias", 1, d, 0, &w->ln1_b));
    SS_TRY(bind(c, l, c->nm->ln2, ".weight", 1, d, 0, &w->ln2_g));
    SS_TRY(bind(c, l, c->nm->ln2, ".bias", 1, d, 0, &w->ln2_b));
    w->bo = w->bfc = w->bp = NULL;
    if (c->nm->conv1d) {
        const float *o, *fc, *p;
        SS_TRY(bind(c, l, c->nm->qkv, ".weight", 2, d, 3 * d, &qkv));
        SS_TRY(bind(c, l, c->nm->o, ".weight", 2, d, d, &o));
        SS_TRY(bind(c, l, c->nm->fc, ".weight", 2, d, dff, &fc));
        SS_TRY(bind(c, l, c->nm->proj, ".weight", 2, dff, d, &p));
        for (int r = 0; r < d; r++) /* W_q[r][i] = c_attn[i][r], W_k: column d + r, W_v: 2d + r */
            for (int i = 0; i < d; i++) {
                const float *row = qkv + (size_t)i * 3 * d;
                w->wq[(size_t)r * d + i] = row[r];
                w->wk[(size_t)r * d + i] = row[d + r];
                w->wv[(size_t)r * d + i] = row[2 * d + r];
            }
        transpose(tmp_o, o, d, d);
        transpose(tmp_fc, fc, dff, d);
        transpose(tmp_p, p, d, dff);
        w->wo = tmp_o;
        w->wfc = tmp_fc;
        w->wp = tmp_p;
    } else {
        SS_TRY(bind(c, l, c->nm->qkv, ".weight", 2, 3 * d, d, &qkv));
        SS_TRY(bind(c, l, c->nm->o, ".weight", 2, d, d, &w->wo));
        SS_TRY(bind(c, l, c->nm->fc, ".weight", 2, dff, d, &w->wfc));
        SS_TRY(bind(c, l, c->nm->proj, ".weight", 2, d, dff, &w->wp));
        for (int h = 0; h < H; h++) /* rows [H][3][d_h] */
            for (int r = 0; r < dh; r++) {
                const size_t dst = (size_t)(h * dh + r) * d;
                memcpy(w->wq + dst, qkv + (size_t)((3 * h + 0) * dh + r) * d, (size_t)d * sizeof *w->wq);
                memcpy(w->wk + dst, qkv + (size_t)((3 * h + 1) * dh + r) * d, (size_t)d * sizeof *w->wk);
                memcpy(w->wv + dst, qkv + (size_t)((3 * h + 2) * dh + r) * d, (size_t)d * sizeof *w->wv);
            }
    }
    if (c->bias) {
        SS_TRY(bind(c, l, c->nm->qkv, ".bias", 1, 3 * d, 0, &bqkv));
        SS_TRY(bind(c, l, c->nm->o, ".bias", 1, d, 0, &w->bo));
        SS_TRY(bind(c, l, c->nm->fc, ".bias", 1, dff, 0, &w->bfc));
        SS_TRY(bind(c, l, c->nm->proj, ".bias", 1, d, 0, &w->bp));
        for (int j = 0; j < d; j++) {
            const int h = j / dh, r = j % dh;
            w->bq[j] = c->nm->conv1d ? bqkv[j] : bqkv[(3 * h + 0) * dh + r];
            w->bk[j] = c->nm->conv1d ? bqkv[d + j] : bqkv[(3 * h + 1) * dh + r];
            w->bv[j] = c->nm->conv1d ? bqkv[2 * d + j] : bqkv[(3 * h + 2) * dh + r];
        }
    } else {
        memset(w->bq, 0, (size_t)d * sizeof *w->bq);
        memset(w->bk, 0, (size_t)d * sizeof *w->bk);
        memset(w->bv, 0, (size_t)d * sizeof *w->bv);
    }
done:
    return st;
}

/* dW [out][in] = dyᵀ·x, db [out] = Σ dy (db NULL: skipped), both overwritten. */
static void lin_grad(float *dW, float *db, const float *dy, const float *x, int N, int in, int out)
{
    memset(dW, 0, (size_t)out * in * sizeof *dW);
    if (db) memset(db, 0, (size_t)out * sizeof *db);
    ss_tr_linear_bwd_f(NULL, dW, db, dy, x, NULL, N, in, out);
}

/* Emits a linear layer's logical gradient dW [out][in] (and db) under module's names, transposed for Conv1D;
 * ws holds out·in floats. */
static void emit_linear(ss_bwd_sink *s, const ctx_t *c, int l, const char *module, ss_param_group g, const float *dW,
                        const float *db, int out, int in, float *ws)
{
    char n[256];
    tname(n, sizeof n, c, l, module, ".weight");
    if (c->nm->conv1d) {
        transpose(ws, dW, in, out); /* [in][out] */
        ss_bwd_emit(s, n, l, g, ws, 0, (size_t)out * in);
    } else {
        ss_bwd_emit(s, n, l, g, dW, 0, (size_t)out * in);
    }
    if (db) {
        tname(n, sizeof n, c, l, module, ".bias");
        ss_bwd_emit(s, n, l, g, db, 0, (size_t)out);
    }
}

/* GELU by flavour: y = act(x) and its backward (dx = dy·act'(x), dx may alias dy). */
static void act_fwd(ss_act a, float *y, const float *x, size_t n)
{
    if (a == SS_ACT_GELU_TANH) {
        ss_tr_gelu_fwd_f(y, x, (int)n);
        return;
    }
    for (size_t i = 0; i < n; i++) y[i] = (float)(0.5 * x[i] * (1.0 + erf(x[i] * 0.70710678118654752440)));
}

static void act_bwd(ss_act a, float *dx, const float *dy, const float *x, size_t n)
{
    if (a == SS_ACT_GELU_TANH) {
        ss_tr_gelu_bwd_f(dx, dy, x, (int)n);
        return;
    }
    for (size_t i = 0; i < n; i++) { /* d/dx [x·Φ(x)] = Φ(x) + x·φ(x) */
        const double z = x[i];
        const double cdf = 0.5 * (1.0 + erf(z * 0.70710678118654752440)), pdf = exp(-0.5 * z * z) * 0.3989422804014327;
        dx[i] = (float)(dy[i] * (cdf + z * pdf));
    }
}

ss_status ss_bwd_ln(const ss_hfconfig *cfg, const ss_safetensors *sf, const ss_capture *cap, ss_bwd_sink *sink)
{
    ss_status st = SS_OK;
    const ss_model_info *in = &cfg->info;
    const ln_names *nm = NULL;
    for (size_t i = 0; i < sizeof g_names / sizeof g_names[0]; i++)
        if (!strcmp(g_names[i].arch, in->arch)) nm = &g_names[i];
    if (!nm) return ss_fail(SS_ERR_UNSUPPORTED, "the LM-loss gradient is not implemented for %s", in->arch);
    if (cfg->residual_post_ln)
        return ss_fail(SS_ERR_UNSUPPORTED, "the LM-loss gradient is not implemented for BLOOM with "
                                           "apply_residual_connection_post_layernorm");
    const int is_gpt2 = !strcmp(in->arch, "gpt2"), is_neox = !strcmp(in->arch, "gpt_neox");
    const int act_i = is_gpt2 || is_neox ? ss_act_from_name(cfg->hidden_act) : (int)SS_ACT_GELU_TANH;
    if (act_i < 0) return ss_fail(SS_ERR_UNSUPPORTED, "activation '%s' has no backward pass", cfg->hidden_act);
    const ss_act act = (ss_act)act_i;
    const int T = cap->n_tokens, L = in->n_layers, H = in->n_heads, d_h = in->d_head, d = in->d_model,
              dff = in->d_ff, V = in->n_vocab, rd = is_neox ? cfg->rope_dims : 0;
    const int post = cfg->post_ln, parallel = is_neox && cfg->parallel_residual && !post;
    const size_t td = (size_t)T * d, tt = (size_t)T * T, tff = (size_t)T * dff;
    const float eps = (float)cfg->layer_norm_eps;
    ctx_t c = {sf, nm, NULL, d, dff, H, d_h, !is_neox || cfg->attention_bias};
    char embed_name[64];
    snprintf(embed_name, sizeof embed_name, "%s.weight", nm->embed);
    c.pfx = ss_find_prefix(sf, embed_name, nm->prefixes, 2);
    const float *embed, *head, *pos = NULL, *lnf_g = NULL, *lnf_b = NULL, *lne_g = NULL, *lne_b = NULL;
    float *arena = NULL, *dP = NULL;
    ss_bwd_head hd = {0};
    double *rcos = NULL, *rsin = NULL;
    char n[256];
    SS_TRY(bind(&c, -1, nm->embed, ".weight", 2, V, d, &embed));
    if (nm->pos) SS_TRY(bind(&c, -1, nm->pos, ".weight", 2, in->max_positions, d, &pos));
    if (nm->emb_ln) {
        SS_TRY(bind(&c, -1, nm->emb_ln, ".weight", 1, d, 0, &lne_g));
        SS_TRY(bind(&c, -1, nm->emb_ln, ".bias", 1, d, 0, &lne_b));
    }
    if (!post) {
        SS_TRY(bind(&c, -1, nm->final, ".weight", 1, d, 0, &lnf_g));
        SS_TRY(bind(&c, -1, nm->final, ".bias", 1, d, 0, &lnf_b));
    }
    const int untied = ss_st_find(sf, nm->head) != NULL;
    head = embed;
    if (untied) SS_TRY(ss_bind(sf, "", nm->head, 2, V, d, &head));

    const size_t wbig = (size_t)d * (size_t)(3 * d > dff ? 3 * d : dff);
    const size_t sizes[] = {
        (size_t)d * d, (size_t)d * d, (size_t)d * d, d, d, d, /* wq, wk, wv, bq, bk, bv */
        (size_t)d * d, (size_t)dff * d, (size_t)d * dff,    /* Conv1D transposes: W_o, W_fc, W_p */
        td, T, T, td, td, T, T, td, T, T,                    /* a, mean_a, rstd_a, u (x + o), x_mid, mean_u, rstd_u,
                                                                w (x_mid + MLP), mean_w, rstd_w */
        td, T, T, tff, tff, td,                              /* m_in, mean_m, rstd_m, hfc, hact, ctx */
        td, td, td, tff, td, td, td,                         /* g, dtmp, dtmp2, dh, dQ, dK, dV */
        td, (size_t)T * d_h, (size_t)T * d_h, (size_t)T * d_h, (size_t)T * d_h, /* dctx, head rows */
        tt, (size_t)d * d, (size_t)d * d, (size_t)d * d, (size_t)d * d, (size_t)dff * d, (size_t)d * dff, /* ws,
                                                                dWq, dWk, dWv, dWo, dWfc, dWp */
        d, d, d, d, dff, d, d, d, d, d,                      /* dbq, dbk, dbv, dbo, dbfc, dbp, dg1, db1, dg2, db2 */
        wbig, 3 * (size_t)d,                                 /* packing buffers */
    };
    enum { N_BUF = sizeof sizes / sizeof sizes[0] };
    float *b[N_BUF];
    size_t total = 0;
    for (int i = 0; i < N_BUF; i++) total += (sizes[i] + 15) / 16 * 16;
    arena = malloc(total * sizeof *arena);
    if (pos) dP = calloc((size_t)in->max_positions * d, sizeof *dP); /* [P][d] */
    if (rd > 0) {
        rcos = malloc((size_t)T * (rd / 2) * sizeof *rcos); /* [T][rd/2] */
        rsin = malloc((size_t)T * (rd / 2) * sizeof *rsin);
    }
    if (!arena || (pos && !dP) || (rd > 0 && (!rcos || !rsin))) {
        st = ss_fail(SS_ERR_NOMEM, "out of memory for the %s backward pass (%d tokens)", in->arch, T);
        goto done;
    }
    total = 0;
    for (int i = 0; i < N_BUF; i++) {
        b[i] = arena + total;
        total += (sizes[i] + 15) / 16 * 16;
    }
    layer_w w = {.wq = b[0], .wk = b[1], .wv = b[2], .bq = b[3], .bk = b[4], .bv = b[5]};
    float *t_o = b[6], *t_fc = b[7], *t_p = b[8];
    float *a = b[9], *mean_a = b[10], *rstd_a = b[11], *u = b[12], *xmid = b[13], *mean_u = b[14], *rstd_u = b[15],
          *wres = b[16], *mean_w = b[17], *rstd_w = b[18], *m_in = b[19], *mean_m = b[20], *rstd_m = b[21],
          *hfc = b[22], *hact = b[23], *ctx = b[24], *g = b[25], *dtmp = b[26], *dtmp2 = b[27], *dh = b[28],
          *dQ = b[29], *dK = b[30], *dV = b[31], *dctx = b[32], *hrow = b[33], *dqh = b[34], *dkh = b[35],
          *dvh = b[36], *ws = b[37], *dWq = b[38], *dWk = b[39], *dWv = b[40], *dWo = b[41], *dWfc = b[42],
          *dWp = b[43], *dbq = b[44], *dbk = b[45], *dbv = b[46], *dbo = b[47], *dbfc = b[48], *dbp = b[49],
          *dg1 = b[50], *db1 = b[51], *dg2 = b[52], *db2 = b[53], *pk = b[54], *pkb = b[55];
    if (rd > 0) ss_tr_rope_tables_d(rcos, rsin, T, rd, cfg->rope_theta);

    /* LM head and final norm */
    const float *prenorm = cap->hidden_prenorm, *hf = cap->hidden + (size_t)L * td; /* [T][d] */
    SS_TRY(ss_bwd_head_run(&hd, sink, hf, head, !untied, nm->head, cap->tokens, T, V, d, dtmp));
    sink->out->has_final_norm = !post;
    sink->out->has_lm_head = untied;
    if (!post) {
        ss_tr_layernorm_fwd_f(a, mean_a, rstd_a, prenorm, lnf_g, lnf_b, T, d, eps);
        memset(dg1, 0, (size_t)d * sizeof *dg1);
        memset(db1, 0, (size_t)d * sizeof *db1);
        ss_tr_layernorm_bwd_f(g, dg1, db1, dtmp, prenorm, mean_a, rstd_a, lnf_g, T, d);
        tname(n, sizeof n, &c, -1, nm->final, ".weight");
        ss_bwd_emit(sink, n, -1, SS_PG_FINAL_NORM, dg1, 0, (size_t)d);
        tname(n, sizeof n, &c, -1, nm->final, ".bias");
        ss_bwd_emit(sink, n, -1, SS_PG_FINAL_NORM, db1, 0, (size_t)d);
    } else {
        memcpy(g, dtmp, td * sizeof *g); /* hidden[L] = hidden_prenorm */
    }

    for (int l = L - 1; l >= 0; l--) {
        SS_TRY(load_layer(&c, l, &w, t_o, t_fc, t_p));
        const float *x = cap->hidden + (size_t)l * td, *o = cap->attn_out + (size_t)l * td; /* [T][d] */
        const float *P = cap->attn + (size_t)l * H * tt;                                  /* [H][T][T] */
        const float *qr = cap->q + (size_t)l * H * T * d_h, *kr = cap->k + (size_t)l * H * T * d_h; /* [H][T][d_h] */
        const float *vv = cap->v + (size_t)l * H * T * d_h;
        double scale = 1.0 / sqrt((double)d_h);
        if (is_gpt2) {
            scale = cfg->scale_attn_weights ? scale : 1.0;
            if (cfg->scale_attn_by_layer) scale /= (double)(l + 1);
        }
        ss_tr_attn_desc ad = {.T = T, .d_h = d_h, .scale = scale, .causal = 1, .rot_dims = rd,
                              .pairing = cfg->rope_pairing, .rope_cos = rcos, .rope_sin = rsin};
        memset(dg1, 0, (size_t)d * sizeof *dg1);
        memset(db1, 0, (size_t)d * sizeof *db1);
        memset(dg2, 0, (size_t)d * sizeof *dg2);
        memset(db2, 0, (size_t)d * sizeof *db2);

        /* recompute the layer's forward */
        const float *att_in = x; /* [T][d] the attention's input */
        if (!post) {
            ss_tr_layernorm_fwd_f(a, mean_a, rstd_a, x, w.ln1_g, w.ln1_b, T, d, eps);
            att_in = a;
        }
        for (int h = 0; h < H; h++) /* ctx [T][d], columns h·d_h.. = P_h · v_h */
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, T, d_h, T, 1.0f, P + (size_t)h * tt, T,
                        vv + (size_t)h * T * d_h, d_h, 0.0f, ctx + (size_t)h * d_h, d);
        for (size_t i = 0; i < td; i++) u[i] = x[i] + o[i];
        const float *mi; /* [T][d] the MLP's input */
        if (post) {
            ss_tr_layernorm_fwd_f(xmid, mean_u, rstd_u, u, w.ln1_g, w.ln1_b, T, d, eps);
            mi = xmid;
        } else {
            ss_tr_layernorm_fwd_f(m_in, mean_m, rstd_m, parallel ? x : u, w.ln2_g, w.ln2_b, T, d, eps);
            mi = m_in;
        }
        ss_tr_linear_fwd_f(hfc, mi, w.wfc, w.bfc, T, d, dff);
        act_fwd(act, hact, hfc, tff);
        if (post) { /* w = x_mid + MLP(x_mid) */
            ss_tr_linear_fwd_f(wres, hact, w.wp, w.bp, T, dff, d);
            for (size_t i = 0; i < td; i++) wres[i] += xmid[i];
            ss_tr_layernorm_fwd_f(dtmp, mean_w, rstd_w, wres, w.ln2_g, w.ln2_b, T, d, eps); /* for the stats */
        }

        /* MLP: dy = ∂L/∂MLP output (dtmp); g becomes ∂L/∂(the MLP branch's residual input) */
        if (post) {
            ss_tr_layernorm_bwd_f(dtmp, dg2, db2, g, wres, mean_w, rstd_w, w.ln2_g, T, d);
            memcpy(g, dtmp, td * sizeof *g); /* ∂L/∂w, also ∂L/∂x_mid through the residual */
        } else {
            memcpy(dtmp, g, td * sizeof *g);
        }
        lin_grad(dWp, w.bp ? dbp : NULL, dtmp, hact, T, dff, d);
        ss_bwd_linear_dx(dh, 0.0f, dtmp, w.wp, T, dff, d);
        act_bwd(act, dh, dh, hfc, tff);
        lin_grad(dWfc, w.bfc ? dbfc : NULL, dh, mi, T, d, dff);
        ss_bwd_linear_dx(dtmp2, 0.0f, dh, w.wfc, T, d, dff); /* ∂L/∂m_in */
        float *d_o = dtmp; /* ∂L/∂o, filled below */
        if (post) {
            for (size_t i = 0; i < td; i++) g[i] += dtmp2[i]; /* ∂L/∂x_mid */
            ss_tr_layernorm_bwd_f(d_o, dg1, db1, g, u, mean_u, rstd_u, w.ln1_g, T, d); /* ∂L/∂u = ∂L/∂o */
            memcpy(g, d_o, td * sizeof *g); /* ∂L/∂x through the residual u = x + o */
        } else if (parallel) {
            memcpy(d_o, g, td * sizeof *g);
            ss_tr_layernorm_bwd_f(dtmp2, dg2, db2, dtmp2, x, mean_m, rstd_m, w.ln2_g, T, d);
            for (size_t i = 0; i < td; i++) g[i] += dtmp2[i];
        } else {
            ss_tr_layernorm_bwd_f(dtmp2, dg2, db2, dtmp2, u, mean_m, rstd_m, w.ln2_g, T, d);
            for (size_t i = 0; i < td; i++) g[i] += dtmp2[i]; /* ∂L/∂x_mid = ∂L/∂o */
            memcpy(d_o, g, td * sizeof *g);
        }

        /* attention */
        lin_grad(dWo, w.bo ? dbo : NULL, d_o, ctx, T, d, d);
        ss_bwd_linear_dx(dctx, 0.0f, d_o, w.wo, T, d, d);
        memset(dQ, 0, td * sizeof *dQ);
        memset(dK, 0, td * sizeof *dK);
        memset(dV, 0, td * sizeof *dV);
        for (int h = 0; h < H; h++) {
            ss_bwd_head_get(hrow, dctx, T, d, h, d_h);
            ss_tr_attn_bwd_f(&ad, dqh, dkh, dvh, hrow, P + (size_t)h * tt, qr + (size_t)h * T * d_h,
                             kr + (size_t)h * T * d_h, vv + (size_t)h * T * d_h, ws);
            ss_bwd_head_add(dQ, dqh, T, d, h, d_h);
            ss_bwd_head_add(dK, dkh, T, d, h, d_h);
            ss_bwd_head_add(dV, dvh, T, d, h, d_h);
        }
        lin_grad(dWq, dbq, dQ, att_in, T, d, d);
        lin_grad(dWk, dbk, dK, att_in, T, d, d);
        lin_grad(dWv, dbv, dV, att_in, T, d, d);
        ss_bwd_linear_dx(dtmp2, 0.0f, dQ, w.wq, T, d, d);
        ss_bwd_linear_dx(dtmp2, 1.0f, dK, w.wk, T, d, d);
        ss_bwd_linear_dx(dtmp2, 1.0f, dV, w.wv, T, d, d); /* ∂L/∂(attention input) */
        if (!post) ss_tr_layernorm_bwd_f(dtmp2, dg1, db1, dtmp2, x, mean_a, rstd_a, w.ln1_g, T, d);
        for (size_t i = 0; i < td; i++) g[i] += dtmp2[i]; /* g = ∂L/∂hidden[l] */

        /* emit, in the stored layouts */
        if (nm->conv1d) { /* c_attn [d][3d]: column blocks q | k | v */
            for (int i = 0; i < d; i++)
                for (int r = 0; r < d; r++) {
                    float *row = pk + (size_t)i * 3 * d;
                    row[r] = dWq[(size_t)r * d + i];
                    row[d + r] = dWk[(size_t)r * d + i];
                    row[2 * d + r] = dWv[(size_t)r * d + i];
                }
            memcpy(pkb, dbq, (size_t)d * sizeof *pkb);
            memcpy(pkb + d, dbk, (size_t)d * sizeof *pkb);
            memcpy(pkb + 2 * d, dbv, (size_t)d * sizeof *pkb);
        } else { /* query_key_value rows [H][3][d_h] */
            for (int h = 0; h < H; h++)
                for (int r = 0; r < d_h; r++) {
                    const size_t src = (size_t)(h * d_h + r) * d;
                    memcpy(pk + (size_t)((3 * h + 0) * d_h + r) * d, dWq + src, (size_t)d * sizeof *pk);
                    memcpy(pk + (size_t)((3 * h + 1) * d_h + r) * d, dWk + src, (size_t)d * sizeof *pk);
                    memcpy(pk + (size_t)((3 * h + 2) * d_h + r) * d, dWv + src, (size_t)d * sizeof *pk);
                    pkb[(3 * h + 0) * d_h + r] = dbq[h * d_h + r];
                    pkb[(3 * h + 1) * d_h + r] = dbk[h * d_h + r];
                    pkb[(3 * h + 2) * d_h + r] = dbv[h * d_h + r];
                }
        }
        tname(n, sizeof n, &c, l, nm->ln1, ".weight");
        ss_bwd_emit(sink, n, l, SS_PG_NORM, dg1, 0, (size_t)d);
        tname(n, sizeof n, &c, l, nm->ln1, ".bias");
        ss_bwd_emit(sink, n, l, SS_PG_NORM, db1, 0, (size_t)d);
        tname(n, sizeof n, &c, l, nm->qkv, ".weight");
        ss_bwd_emit(sink, n, l, SS_PG_ATTENTION, pk, 0, (size_t)3 * d * d);
        if (c.bias) {
            tname(n, sizeof n, &c, l, nm->qkv, ".bias");
            ss_bwd_emit(sink, n, l, SS_PG_ATTENTION, pkb, 0, (size_t)3 * d);
        }
        emit_linear(sink, &c, l, nm->o, SS_PG_ATTENTION, dWo, w.bo ? dbo : NULL, d, d, pk);
        tname(n, sizeof n, &c, l, nm->ln2, ".weight");
        ss_bwd_emit(sink, n, l, SS_PG_NORM, dg2, 0, (size_t)d);
        tname(n, sizeof n, &c, l, nm->ln2, ".bias");
        ss_bwd_emit(sink, n, l, SS_PG_NORM, db2, 0, (size_t)d);
        emit_linear(sink, &c, l, nm->fc, SS_PG_MLP, dWfc, w.bfc ? dbfc : NULL, dff, d, pk);
        emit_linear(sink, &c, l, nm->proj, SS_PG_MLP, dWp, w.bp ? dbp : NULL, d, dff, pk);
    }

    /* the embeddings: g = ∂L/∂hidden[0] */
    if (lne_g) { /* BLOOM: hidden[0] = LN_emb(e), e = word_embeddings[ids] */
        for (int t = 0; t < T; t++) memcpy(u + (size_t)t * d, embed + (size_t)cap->tokens[t] * d, (size_t)d * sizeof *u);
        ss_tr_layernorm_fwd_f(a, mean_a, rstd_a, u, lne_g, lne_b, T, d, eps);
        memset(dg1, 0, (size_t)d * sizeof *dg1);
        memset(db1, 0, (size_t)d * sizeof *db1);
        ss_tr_layernorm_bwd_f(dtmp, dg1, db1, g, u, mean_a, rstd_a, lne_g, T, d);
        memcpy(g, dtmp, td * sizeof *g);
        tname(n, sizeof n, &c, -1, nm->emb_ln, ".weight");
        ss_bwd_emit(sink, n, -1, SS_PG_EMBEDDING, dg1, 0, (size_t)d);
        tname(n, sizeof n, &c, -1, nm->emb_ln, ".bias");
        ss_bwd_emit(sink, n, -1, SS_PG_EMBEDDING, db1, 0, (size_t)d);
    }
    tname(n, sizeof n, &c, -1, nm->embed, ".weight");
    SS_TRY(ss_bwd_head_embedding(&hd, sink, n, cap->tokens, g));
    if (dP)
        for (size_t i = 0; i < td; i++) dP[i] += g[i]; /* rows 0..T-1 of the position table */
    if (dP) {
        tname(n, sizeof n, &c, -1, nm->pos, ".weight");
        ss_bwd_emit(sink, n, -1, SS_PG_EMBEDDING, dP, 0, (size_t)in->max_positions * d);
    }
done:
    free(arena);
    ss_bwd_head_free(&hd);
    free(dP);
    free(rcos);
    free(rsin);
    return st;
}
