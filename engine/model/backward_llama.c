/* backward_llama.c: the gradient of the LM loss for the Llama decoder (llama.c's forward pass: pre-RMSNorm,
 * RoPE, grouped-query attention, SwiGLU, tied or untied LM head), for ss_model_grad_norms (model.h).
 *
 * Dimensions: T tokens, d = d_model, H query heads and H_kv key/value heads of d_h columns, d_ff, L layers,
 * V vocabulary; nq = H·d_h, nkv = H_kv·d_h. Linear weights [out][in].
 *
 * From the capture: hidden[l] (each layer's input), hidden_prenorm, q and k after RoPE, v, the attention
 * probabilities and attn_out. Recomputed per layer: a = RMSNorm(x)·γ_in, the context A·v, the residual
 * x + o, f = RMSNorm(x + o)·γ_post and the MLP's gate and up projections.
 * Backward, from g = ∂L/∂x_out of layer l (x_out = x_mid + down(SiLU(f·W_gᵀ) ⊙ f·W_uᵀ), x_mid = x + o):
 *   MLP: dW_down = gᵀ·m, dm = g·W_down, SwiGLU backward to d_gate, d_up; dW_gate = d_gateᵀ·f, dW_up = d_upᵀ·f;
 *        df = d_gate·W_gate + d_up·W_up; RMSNorm backward (dγ_post); g += ∂/∂x_mid.
 *   attention: dW_o = gᵀ·ctx (+ db_o); dctx = g·W_o; per head train_ops' ss_tr_attn_bwd_f (through the
 *        captured probabilities; RoPE transposed, so dq, dk are w.r.t. q_pre, k_pre), summed over the query
 *        heads of each KV head; dW_q = dQᵀ·a, ... (+ biases); da = dQ·W_q + dK·W_k + dV·W_v; RMSNorm backward
 *        (dγ_in); g += ∂/∂x.
 *   After layer 0, g = ∂L/∂hidden[0] = ∂L/∂embed_tokens[ids[t]], added to the tied head's gradient. */
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backward.h"
#include "decoder.h"   /* ss_bind, ss_find_prefix */
#include "train_ops.h" /* ss_tr_attn_bwd_f, ss_tr_linear_fwd_f, ss_tr_rope_tables_d */

typedef struct {
    const float *ln_in, *ln_post;        /* [d] */
    const float *wq, *wk, *wv, *wo;      /* [nq][d], [nkv][d] twice, [d][nq] */
    const float *bq, *bk, *bv, *bo;      /* or NULL */
    const float *w_gate, *w_up, *w_down; /* [d_ff][d] twice, [d][d_ff] */
} layer_w;

static ss_status bind_layer(const ss_hfconfig *cfg, const ss_safetensors *sf, const char *pfx, int l, layer_w *w)
{
    ss_status st = SS_OK;
    const ss_model_info *in = &cfg->info;
    const int64_t d = in->d_model, dff = in->d_ff, nq = (int64_t)in->n_heads * in->d_head,
                  nkv = (int64_t)in->n_kv_heads * in->d_head;
    char n[128];
#define B(field, suffix, nd, a, c)                                                                                     \
    do {                                                                                                               \
        snprintf(n, sizeof n, "layers.%d.%s", l, suffix);                                                              \
        SS_TRY(ss_bind(sf, pfx, n, nd, a, c, &w->field));                                                              \
    } while (0)
    memset(w, 0, sizeof *w);
    B(ln_in, "input_layernorm.weight", 1, d, 0);
    B(wq, "self_attn.q_proj.weight", 2, nq, d);
    B(wk, "self_attn.k_proj.weight", 2, nkv, d);
    B(wv, "self_attn.v_proj.weight", 2, nkv, d);
    B(wo, "self_attn.o_proj.weight", 2, d, nq);
    if (cfg->attention_bias) {
        B(bq, "self_attn.q_proj.bias", 1, nq, 0);
        B(bk, "self_attn.k_proj.bias", 1, nkv, 0);
        B(bv, "self_attn.v_proj.bias", 1, nkv, 0);
        B(bo, "self_attn.o_proj.bias", 1, d, 0);
    }
    B(ln_post, "post_attention_layernorm.weight", 1, d, 0);
    B(w_gate, "mlp.gate_proj.weight", 2, dff, d);
    B(w_up, "mlp.up_proj.weight", 2, dff, d);
    B(w_down, "mlp.down_proj.weight", 2, d, dff);
#undef B
done:
    return st;
}

ss_status ss_bwd_llama(const ss_hfconfig *cfg, const ss_safetensors *sf, const ss_capture *cap, ss_bwd_sink *sink)
{
    ss_status st = SS_OK;
    const ss_model_info *in = &cfg->info;
    const int T = cap->n_tokens, L = in->n_layers, H = in->n_heads, Hkv = in->n_kv_heads, d_h = in->d_head,
              d = in->d_model, dff = in->d_ff, V = in->n_vocab, nq = H * d_h, nkv = Hkv * d_h, rd = cfg->rope_dims;
    const size_t td = (size_t)T * d, tt = (size_t)T * T;
    const float eps = (float)cfg->layer_norm_eps;
    static const char *const prefixes[] = {"", "model."};
    const char *pfx = ss_find_prefix(sf, "embed_tokens.weight", prefixes, 2);
    const float *embed, *norm, *head; /* [V][d], [d], [V][d] */
    float *arena = NULL;
    ss_bwd_head hd = {0};
    double *rcos = NULL, *rsin = NULL;
    char nm[256], nb[256];
    SS_TRY(ss_bind(sf, pfx, "embed_tokens.weight", 2, V, d, &embed));
    SS_TRY(ss_bind(sf, pfx, "norm.weight", 1, d, 0, &norm));
    const int untied = ss_st_find(sf, "lm_head.weight") != NULL;
    head = embed;
    if (untied) SS_TRY(ss_bind(sf, "", "lm_head.weight", 2, V, d, &head));

    /* one block of per-pass buffers (floats, in this order) */
    const size_t wmax = (size_t)d * (size_t)(nq > dff ? nq : dff);
    const size_t sizes[] = {
        td, T, td, td, T,                          /* xn1 [T][d], rstd1 [T], xmid [T][d], xn2 [T][d], rstd2 [T] */
        (size_t)T * dff, (size_t)T * dff,          /* gate, up [T][d_ff] */
        (size_t)T * dff, (size_t)T * nq,           /* m (the MLP's gated product) [T][d_ff], ctx [T][nq] */
        td, td, td,                                /* g [T][d], dtmp [T][d], dxn [T][d] */
        (size_t)T * dff, (size_t)T * dff, (size_t)T * dff, /* dm, dgate, dup [T][d_ff] */
        (size_t)T * nq, (size_t)T * nq, (size_t)T * nkv, (size_t)T * nkv, /* dctx, dQ [T][nq], dK, dV [T][nkv] */
        (size_t)T * d_h, (size_t)T * d_h, (size_t)T * d_h, (size_t)T * d_h, /* dout, dqh, dkh, dvh [T][d_h] */
        tt, wmax, d,                               /* ws [T][T], dW [max out·in], dg [d] */
    };
    enum { N_BUF = sizeof sizes / sizeof sizes[0] };
    float *b[N_BUF];
    size_t total = 0;
    for (int i = 0; i < N_BUF; i++) total += (sizes[i] + 15) / 16 * 16;
    arena = malloc(total * sizeof *arena);
    if (rd > 0) {
        rcos = malloc((size_t)T * (rd / 2) * sizeof *rcos); /* [T][rd/2] */
        rsin = malloc((size_t)T * (rd / 2) * sizeof *rsin);
    }
    if (!arena || (rd > 0 && (!rcos || !rsin))) {
        st = ss_fail(SS_ERR_NOMEM, "out of memory for the Llama backward pass (%d tokens)", T);
        goto done;
    }
    total = 0;
    for (int i = 0; i < N_BUF; i++) {
        b[i] = arena + total;
        total += (sizes[i] + 15) / 16 * 16;
    }
    float *xn1 = b[0], *rstd1 = b[1], *xmid = b[2], *xn2 = b[3], *rstd2 = b[4], *gate = b[5], *up = b[6], *mm = b[7],
          *ctx = b[8], *g = b[9], *dtmp = b[10], *dxn = b[11], *dm = b[12], *dgate = b[13], *dup = b[14],
          *dctx = b[15], *dQ = b[16], *dK = b[17], *dV = b[18], *dout = b[19], *dqh = b[20], *dkh = b[21],
          *dvh = b[22], *ws = b[23], *dW = b[24], *dg = b[25];
    if (rd > 0) ss_tr_rope_tables_d(rcos, rsin, T, rd, cfg->rope_theta);
    ss_tr_attn_desc ad = {.T = T, .d_h = d_h, .scale = 1.0 / sqrt((double)d_h), .causal = 1, .rot_dims = rd,
                          .pairing = cfg->rope_pairing, .rope_cos = rcos, .rope_sin = rsin};

    /* LM head and final norm: hf = RMSNorm(prenorm)·γ_norm = hidden[L] */
    const float *prenorm = cap->hidden_prenorm, *hf = cap->hidden + (size_t)L * td; /* [T][d] */
    SS_TRY(ss_bwd_head_run(&hd, sink, hf, head, !untied, "lm_head.weight", cap->tokens, T, V, d, dtmp));
    sink->out->has_final_norm = 1;
    sink->out->has_lm_head = untied;
    ss_bwd_rmsnorm_fwd(xn1, rstd1, prenorm, norm, T, d, eps); /* for rstd */
    memset(dg, 0, (size_t)d * sizeof *dg);
    ss_bwd_rmsnorm_bwd(g, dg, dtmp, prenorm, rstd1, norm, T, d);
    ss_bwd_emit_named(sink, pfx, "norm.weight", -1, SS_PG_FINAL_NORM, dg, (size_t)d);

    for (int l = L - 1; l >= 0; l--) {
        layer_w w;
        SS_TRY(bind_layer(cfg, sf, pfx, l, &w));
        const float *x = cap->hidden + (size_t)l * td, *ao = cap->attn_out + (size_t)l * td; /* [T][d] */
        const float *P = cap->attn + (size_t)l * H * tt;                                   /* [H][T][T] */
        const float *qr = cap->q + (size_t)l * H * T * d_h;                                /* [H][T][d_h] */
        const float *kr = cap->k + (size_t)l * Hkv * T * d_h, *vv = cap->v + (size_t)l * Hkv * T * d_h;
#define NAME(buf, suffix) snprintf(buf, sizeof buf, "%.40slayers.%d.%s", pfx, l, suffix)
        /* recompute the layer's forward */
        ss_bwd_rmsnorm_fwd(xn1, rstd1, x, w.ln_in, T, d, eps);
        for (int h = 0; h < H; h++) /* ctx [T][nq], columns h·d_h.. = P_h [T][T] · v_kv(h) [T][d_h] */
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, T, d_h, T, 1.0f, P + (size_t)h * tt, T,
                        vv + (size_t)(h / (H / Hkv)) * T * d_h, d_h, 0.0f, ctx + (size_t)h * d_h, nq);
        for (size_t i = 0; i < td; i++) xmid[i] = x[i] + ao[i];
        ss_bwd_rmsnorm_fwd(xn2, rstd2, xmid, w.ln_post, T, d, eps);
        ss_tr_linear_fwd_f(gate, xn2, w.w_gate, NULL, T, d, dff);
        ss_tr_linear_fwd_f(up, xn2, w.w_up, NULL, T, d, dff);
        for (size_t i = 0; i < (size_t)T * dff; i++) mm[i] = gate[i] / (1.0f + expf(-gate[i])) * up[i];

        /* MLP */
        NAME(nm, "mlp.down_proj.weight");
        ss_bwd_linear_params(sink, nm, NULL, l, SS_PG_MLP, g, mm, T, dff, d, dW);
        ss_bwd_linear_dx(dm, 0.0f, g, w.w_down, T, dff, d);
        ss_bwd_swiglu_bwd(dgate, dup, dm, gate, up, (size_t)T * dff);
        NAME(nm, "mlp.gate_proj.weight");
        ss_bwd_linear_params(sink, nm, NULL, l, SS_PG_MLP, dgate, xn2, T, d, dff, dW);
        NAME(nm, "mlp.up_proj.weight");
        ss_bwd_linear_params(sink, nm, NULL, l, SS_PG_MLP, dup, xn2, T, d, dff, dW);
        ss_bwd_linear_dx(dxn, 0.0f, dgate, w.w_gate, T, d, dff);
        ss_bwd_linear_dx(dxn, 1.0f, dup, w.w_up, T, d, dff);
        memset(dg, 0, (size_t)d * sizeof *dg);
        ss_bwd_rmsnorm_bwd(dtmp, dg, dxn, xmid, rstd2, w.ln_post, T, d);
        NAME(nm, "post_attention_layernorm.weight");
        ss_bwd_emit(sink, nm, l, SS_PG_NORM, dg, 0, (size_t)d);
        for (size_t i = 0; i < td; i++) g[i] += dtmp[i]; /* g = ∂L/∂x_mid */

        /* attention */
        NAME(nm, "self_attn.o_proj.weight");
        NAME(nb, "self_attn.o_proj.bias");
        ss_bwd_linear_params(sink, nm, w.bo ? nb : NULL, l, SS_PG_ATTENTION, g, ctx, T, nq, d, dW);
        ss_bwd_linear_dx(dctx, 0.0f, g, w.wo, T, nq, d);
        memset(dQ, 0, (size_t)T * nq * sizeof *dQ);
        memset(dK, 0, (size_t)T * nkv * sizeof *dK);
        memset(dV, 0, (size_t)T * nkv * sizeof *dV);
        for (int h = 0; h < H; h++) {
            const int kv = h / (H / Hkv);
            ss_bwd_head_get(dout, dctx, T, nq, h, d_h);
            ss_tr_attn_bwd_f(&ad, dqh, dkh, dvh, dout, P + (size_t)h * tt, qr + (size_t)h * T * d_h,
                             kr + (size_t)kv * T * d_h, vv + (size_t)kv * T * d_h, ws);
            ss_bwd_head_add(dQ, dqh, T, nq, h, d_h);
            ss_bwd_head_add(dK, dkh, T, nkv, kv, d_h);
            ss_bwd_head_add(dV, dvh, T, nkv, kv, d_h);
        }
        NAME(nm, "self_attn.q_proj.weight");
        NAME(nb, "self_attn.q_proj.bias");
        ss_bwd_linear_params(sink, nm, w.bq ? nb : NULL, l, SS_PG_ATTENTION, dQ, xn1, T, d, nq, dW);
        NAME(nm, "self_attn.k_proj.weight");
        NAME(nb, "self_attn.k_proj.bias");
        ss_bwd_linear_params(sink, nm, w.bk ? nb : NULL, l, SS_PG_ATTENTION, dK, xn1, T, d, nkv, dW);
        NAME(nm, "self_attn.v_proj.weight");
        NAME(nb, "self_attn.v_proj.bias");
        ss_bwd_linear_params(sink, nm, w.bv ? nb : NULL, l, SS_PG_ATTENTION, dV, xn1, T, d, nkv, dW);
        ss_bwd_linear_dx(dxn, 0.0f, dQ, w.wq, T, d, nq);
        ss_bwd_linear_dx(dxn, 1.0f, dK, w.wk, T, d, nkv);
        ss_bwd_linear_dx(dxn, 1.0f, dV, w.wv, T, d, nkv);
        memset(dg, 0, (size_t)d * sizeof *dg);
        ss_bwd_rmsnorm_bwd(dtmp, dg, dxn, x, rstd1, w.ln_in, T, d);
        NAME(nm, "input_layernorm.weight");
        ss_bwd_emit(sink, nm, l, SS_PG_NORM, dg, 0, (size_t)d);
        for (size_t i = 0; i < td; i++) g[i] += dtmp[i]; /* g = ∂L/∂x = ∂L/∂hidden[l] */
#undef NAME
    }
    /* the embedding: g = ∂L/∂hidden[0], row t from embed_tokens[ids[t]] */
    snprintf(nm, sizeof nm, "%.40sembed_tokens.weight", pfx);
    SS_TRY(ss_bwd_head_embedding(&hd, sink, nm, cap->tokens, g));
done:
    free(arena);
    ss_bwd_head_free(&hd);
    free(rcos);
    free(rsin);
    return st;
}
