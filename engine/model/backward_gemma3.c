/* backward_gemma3.c: the gradient of the LM loss for the Gemma-3 text decoder (gemma3.c's forward pass), for
 * ss_model_grad_norms (model.h).
 *
 * Dimensions: T tokens, d = d_model, H query heads and H_kv key/value heads of d_h columns, d_ff, L layers,
 * V vocabulary; nq = H·d_h, nkv = H_kv·d_h. Every norm is Gemma's RMSNorm with gain G = 1 + w, so ∂L/∂w = ∂L/∂G.
 *
 * Forward, per layer (x = hidden[l]):
 *   a = N_in(x);  q̂ = a·W_qᵀ, k̂ = a·W_kᵀ, v = a·W_vᵀ;  q_pre, k_pre = per-head QK-norm of q̂, k̂ (gains G_q, G_k,
 *   over d_h);  q, k = RoPE(q_pre, k_pre) (base by layer kind);  P = softmax(q·kᵀ·s + causal/window mask);
 *   o = (P·v)·W_oᵀ = attn_out;  x_mid = x + N_pa(o);  f = N_pf(x_mid);  m = GELU_tanh(f·W_gᵀ) ⊙ f·W_uᵀ;
 *   y = m·W_dᵀ;  x_out = x_mid + N_ff(y).
 * From the capture: x, q, k (after RoPE), v, P, attn_out, hidden_prenorm; recomputed: a, q̂, k̂, the context
 * P·v, x_mid, f, the gate and up projections, m and y (with every norm's 1/rms).
 * Backward, from g = ∂L/∂x_out: N_ff backward (dG_ff) → dy; dW_d, dm, GeGLU backward, dW_g, dW_u, df; N_pf
 * backward (dG_pf), g += ∂/∂x_mid; N_pa backward from g (dG_pa) → do; dW_o, dctx; per head train_ops'
 * ss_tr_attn_bwd_f (scale s, the layer's RoPE table; the window is in P's exact zeros) → ∂/∂q_pre, ∂/∂k_pre
 * (summed over each KV group); QK-norm backward per (head, token) row (dG_q, dG_k) → dq̂, dk̂; dW_q, dW_k, dW_v;
 * da; N_in backward (dG_in), g += ∂/∂x.
 * Embedding: hidden[0] = E[ids]·√d (fl32), so ∂L/∂E[ids[t]] += √d·g_t after layer 0, plus the tied head's part. */
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backward.h"
#include "decoder.h"   /* ss_bind, ss_find_prefix */
#include "train_ops.h" /* ss_tr_attn_bwd_f, ss_tr_linear_fwd_f, ss_tr_gelu_fwd_f, ss_tr_rope_tables_d */

typedef struct {
    const float *wq, *wk, *wv, *wo;      /* [nq][d], [nkv][d] twice, [d][nq] */
    const float *w_gate, *w_up, *w_down; /* [d_ff][d] twice, [d][d_ff] */
    const float *n_in, *n_q, *n_k, *n_pa, *n_pf, *n_ff; /* the stored w of each norm: [d], [d_h] twice, [d] x3 */
} layer_w;

static ss_status bind_layer(const ss_hfconfig *cfg, const ss_safetensors *sf, const char *pfx, int l, layer_w *w)
{
    ss_status st = SS_OK;
    const ss_model_info *in = &cfg->info;
    const int64_t d = in->d_model, dff = in->d_ff, dh = in->d_head, nq = (int64_t)in->n_heads * in->d_head,
                  nkv = (int64_t)in->n_kv_heads * in->d_head;
    char n[128];
#define B(field, suffix, nd, a, c)                                                                                     \
    do {                                                                                                               \
        snprintf(n, sizeof n, "layers.%d.%s", l, suffix);                                                              \
        SS_TRY(ss_bind(sf, pfx, n, nd, a, c, &w->field));                                                              \
    } while (0)
    B(n_in, "input_layernorm.weight", 1, d, 0);
    B(wq, "self_attn.q_proj.weight", 2, nq, d);
    B(wk, "self_attn.k_proj.weight", 2, nkv, d);
    B(wv, "self_attn.v_proj.weight", 2, nkv, d);
    B(n_q, "self_attn.q_norm.weight", 1, dh, 0);
    B(n_k, "self_attn.k_norm.weight", 1, dh, 0);
    B(wo, "self_attn.o_proj.weight", 2, d, nq);
    B(n_pa, "post_attention_layernorm.weight", 1, d, 0);
    B(n_pf, "pre_feedforward_layernorm.weight", 1, d, 0);
    B(w_gate, "mlp.gate_proj.weight", 2, dff, d);
    B(w_up, "mlp.up_proj.weight", 2, dff, d);
    B(w_down, "mlp.down_proj.weight", 2, d, dff);
    B(n_ff, "post_feedforward_layernorm.weight", 1, d, 0);
#undef B
done:
    return st;
}

/* G [n] = 1 + w */
static void gain(float *G, const float *w, int n)
{
    for (int i = 0; i < n; i++) G[i] = 1.0f + w[i];
}

ss_status ss_bwd_gemma3(const ss_hfconfig *cfg, const ss_safetensors *sf, const ss_capture *cap, ss_bwd_sink *sink)
{
    ss_status st = SS_OK;
    const ss_model_info *in = &cfg->info;
    const int T = cap->n_tokens, L = in->n_layers, H = in->n_heads, Hkv = in->n_kv_heads, d_h = in->d_head,
              d = in->d_model, dff = in->d_ff, V = in->n_vocab, nq = H * d_h, nkv = Hkv * d_h;
    const size_t td = (size_t)T * d, tt = (size_t)T * T, tff = (size_t)T * dff;
    const float eps = (float)cfg->layer_norm_eps, embed_scale = (float)sqrt((double)d);
    if (ss_act_from_name(cfg->hidden_act) != SS_ACT_GELU_TANH)
        return ss_fail(SS_ERR_UNSUPPORTED, "the Gemma-3 backward pass has GELU-tanh only, not '%s'", cfg->hidden_act);
    static const char *const prefixes[] = {"model.", "", "language_model.model.", "model.language_model."};
    const char *pfx = ss_find_prefix(sf, "embed_tokens.weight", prefixes, 4);
    const float *embed, *norm_w, *head; /* [V][d], [d], [V][d] */
    float *arena = NULL;
    ss_bwd_head hd = {0};
    double *rope[4] = {NULL, NULL, NULL, NULL}; /* cos/sin global, cos/sin local [T][d_h/2] */
    char nm[256];
    SS_TRY(ss_bind(sf, pfx, "embed_tokens.weight", 2, V, d, &embed));
    SS_TRY(ss_bind(sf, pfx, "norm.weight", 1, d, 0, &norm_w));
    const int untied = ss_st_find(sf, "lm_head.weight") != NULL;
    head = embed;
    if (untied) SS_TRY(ss_bind(sf, "", "lm_head.weight", 2, V, d, &head));

    const size_t wmax = (size_t)d * (size_t)(nq > dff ? nq : dff);
    const size_t sizes[] = {
        td, T, (size_t)T * nq, (size_t)T * nkv,   /* a [T][d], r_a [T], q̂ [T][nq], k̂ [T][nkv] */
        (size_t)H * T, (size_t)Hkv * T,           /* r_q [H][T], r_k [H_kv][T] (QK-norm 1/rms, head-major) */
        (size_t)T * nq, T, td, td, T,             /* ctx [T][nq], r_o [T], x_mid [T][d], f [T][d], r_f [T] */
        tff, tff, tff, td, T,                     /* gate, up, m [T][d_ff], y [T][d], r_y [T] */
        td, td, td, tff, tff, tff,                /* g, dtmp, dxn [T][d], dm, dgate, dup [T][d_ff] */
        (size_t)T * nq, (size_t)T * nq, (size_t)T * nkv, (size_t)T * nkv, /* dctx, dQ [T][nq], dK, dV [T][nkv] */
        (size_t)T * d_h, (size_t)T * d_h, (size_t)T * d_h, (size_t)T * d_h, (size_t)T * d_h, /* head rows */
        (size_t)Hkv * T * d_h,                    /* dk_pre [H_kv][T][d_h] */
        tt, wmax, d, d, d_h, d_h,                 /* ws [T][T], dW, dg [d], G [d], Gq, Gk [d_h] */
        d_h, d_h,                                 /* dgq, dgk [d_h] */
    };
    enum { N_BUF = sizeof sizes / sizeof sizes[0] };
    float *b[N_BUF];
    size_t total = 0;
    for (int i = 0; i < N_BUF; i++) total += (sizes[i] + 15) / 16 * 16;
    arena = malloc(total * sizeof *arena);
    for (int i = 0; i < 4; i++) rope[i] = malloc((size_t)T * (d_h / 2) * sizeof(double));
    if (!arena || !rope[0] || !rope[1] || !rope[2] || !rope[3]) {
        st = ss_fail(SS_ERR_NOMEM, "out of memory for the Gemma-3 backward pass (%d tokens)", T);
        goto done;
    }
    total = 0;
    for (int i = 0; i < N_BUF; i++) {
        b[i] = arena + total;
        total += (sizes[i] + 15) / 16 * 16;
    }
    float *a = b[0], *r_a = b[1], *qh = b[2], *kh = b[3], *r_q = b[4], *r_k = b[5], *ctx = b[6], *r_o = b[7],
          *xmid = b[8], *f = b[9], *r_f = b[10], *gate = b[11], *up = b[12], *mm = b[13], *y = b[14], *r_y = b[15],
          *g = b[16], *dtmp = b[17], *dxn = b[18], *dm = b[19], *dgate = b[20], *dup = b[21], *dctx = b[22],
          *dQ = b[23], *dK = b[24], *dV = b[25], *hrow = b[26], *dqh = b[27], *dkh = b[28], *dvh = b[29],
          *hrow2 = b[30], *dkp = b[31], *ws = b[32], *dW = b[33], *dg = b[34], *G = b[35], *Gq = b[36],
          *Gk = b[37], *dgq = b[38], *dgk = b[39];
    ss_tr_rope_tables_d(rope[0], rope[1], T, d_h, cfg->rope_theta);
    ss_tr_rope_tables_d(rope[2], rope[3], T, d_h, cfg->rope_local_theta);

    /* LM head and final norm */
    const float *prenorm = cap->hidden_prenorm, *hf = cap->hidden + (size_t)L * td; /* [T][d] */
    SS_TRY(ss_bwd_head_run(&hd, sink, hf, head, !untied, "lm_head.weight", cap->tokens, T, V, d, dtmp));
    sink->out->has_final_norm = 1;
    sink->out->has_lm_head = untied;
    gain(G, norm_w, d);
    ss_bwd_rmsnorm_fwd(a, r_a, prenorm, G, T, d, eps);
    memset(dg, 0, (size_t)d * sizeof *dg);
    ss_bwd_rmsnorm_bwd(g, dg, dtmp, prenorm, r_a, G, T, d);
    ss_bwd_emit_named(sink, pfx, "norm.weight", -1, SS_PG_FINAL_NORM, dg, (size_t)d);

    for (int l = L - 1; l >= 0; l--) {
        layer_w w;
        SS_TRY(bind_layer(cfg, sf, pfx, l, &w));
        const int sliding = cfg->layer_sliding[l];
        const float *x = cap->hidden + (size_t)l * td, *o = cap->attn_out + (size_t)l * td; /* [T][d] */
        const float *P = cap->attn + (size_t)l * H * tt;                                  /* [H][T][T] */
        const float *qr = cap->q + (size_t)l * H * T * d_h;                               /* [H][T][d_h] */
        const float *kr = cap->k + (size_t)l * Hkv * T * d_h, *vv = cap->v + (size_t)l * Hkv * T * d_h;
        ss_tr_attn_desc ad = {.T = T, .d_h = d_h, .scale = pow(cfg->query_pre_attn_scalar, -0.5), .causal = 1,
                              .rot_dims = d_h, .pairing = SS_ROPE_HALF, .rope_cos = rope[sliding ? 2 : 0],
                              .rope_sin = rope[sliding ? 3 : 1]};
#define NAME(suffix) snprintf(nm, sizeof nm, "%.40slayers.%d.%s", pfx, l, suffix)
        /* recompute the layer's forward */
        gain(G, w.n_in, d);
        ss_bwd_rmsnorm_fwd(a, r_a, x, G, T, d, eps);
        ss_tr_linear_fwd_f(qh, a, w.wq, NULL, T, d, nq);
        ss_tr_linear_fwd_f(kh, a, w.wk, NULL, T, d, nkv);
        gain(Gq, w.n_q, d_h);
        gain(Gk, w.n_k, d_h);
        for (int h = 0; h < H; h++) { /* 1/rms of each (head, token) row of q̂, k̂ */
            ss_bwd_head_get(hrow, qh, T, nq, h, d_h);
            ss_bwd_rmsnorm_fwd(hrow2, r_q + (size_t)h * T, hrow, Gq, T, d_h, eps);
        }
        for (int h = 0; h < Hkv; h++) {
            ss_bwd_head_get(hrow, kh, T, nkv, h, d_h);
            ss_bwd_rmsnorm_fwd(hrow2, r_k + (size_t)h * T, hrow, Gk, T, d_h, eps);
        }
        for (int h = 0; h < H; h++) /* ctx [T][nq], columns h·d_h.. = P_h · v_kv(h) */
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, T, d_h, T, 1.0f, P + (size_t)h * tt, T,
                        vv + (size_t)(h / (H / Hkv)) * T * d_h, d_h, 0.0f, ctx + (size_t)h * d_h, nq);
        gain(G, w.n_pa, d);
        ss_bwd_rmsnorm_fwd(xmid, r_o, o, G, T, d, eps);
        for (size_t i = 0; i < td; i++) xmid[i] += x[i];
        gain(G, w.n_pf, d);
        ss_bwd_rmsnorm_fwd(f, r_f, xmid, G, T, d, eps);
        ss_tr_linear_fwd_f(gate, f, w.w_gate, NULL, T, d, dff);
        ss_tr_linear_fwd_f(up, f, w.w_up, NULL, T, d, dff);
        ss_tr_gelu_fwd_f(mm, gate, (int)tff);
        for (size_t i = 0; i < tff; i++) mm[i] *= up[i];
        ss_tr_linear_fwd_f(y, mm, w.w_down, NULL, T, dff, d);
        gain(G, w.n_ff, d);
        ss_bwd_rmsnorm_fwd(dtmp, r_y, y, G, T, d, eps); /* for r_y */

        /* MLP with its sandwich norms */
        memset(dg, 0, (size_t)d * sizeof *dg);
        ss_bwd_rmsnorm_bwd(dtmp, dg, g, y, r_y, G, T, d); /* dtmp = ∂L/∂y */
        NAME("post_feedforward_layernorm.weight");
        ss_bwd_emit(sink, nm, l, SS_PG_NORM, dg, 0, (size_t)d);
        NAME("mlp.down_proj.weight");
        ss_bwd_linear_params(sink, nm, NULL, l, SS_PG_MLP, dtmp, mm, T, dff, d, dW);
        ss_bwd_linear_dx(dm, 0.0f, dtmp, w.w_down, T, dff, d);
        ss_bwd_geglu_bwd(dgate, dup, dm, gate, up, tff);
        NAME("mlp.gate_proj.weight");
        ss_bwd_linear_params(sink, nm, NULL, l, SS_PG_MLP, dgate, f, T, d, dff, dW);
        NAME("mlp.up_proj.weight");
        ss_bwd_linear_params(sink, nm, NULL, l, SS_PG_MLP, dup, f, T, d, dff, dW);
        ss_bwd_linear_dx(dxn, 0.0f, dgate, w.w_gate, T, d, dff);
        ss_bwd_linear_dx(dxn, 1.0f, dup, w.w_up, T, d, dff);
        gain(G, w.n_pf, d);
        memset(dg, 0, (size_t)d * sizeof *dg);
        ss_bwd_rmsnorm_bwd(dtmp, dg, dxn, xmid, r_f, G, T, d);
        NAME("pre_feedforward_layernorm.weight");
        ss_bwd_emit(sink, nm, l, SS_PG_NORM, dg, 0, (size_t)d);
        for (size_t i = 0; i < td; i++) g[i] += dtmp[i]; /* g = ∂L/∂x_mid */

        /* attention: post-attention norm, W_o, the heads, QK-norm, projections, input norm */
        gain(G, w.n_pa, d);
        memset(dg, 0, (size_t)d * sizeof *dg);
        ss_bwd_rmsnorm_bwd(dtmp, dg, g, o, r_o, G, T, d); /* dtmp = ∂L/∂o */
        NAME("post_attention_layernorm.weight");
        ss_bwd_emit(sink, nm, l, SS_PG_NORM, dg, 0, (size_t)d);
        NAME("self_attn.o_proj.weight");
        ss_bwd_linear_params(sink, nm, NULL, l, SS_PG_ATTENTION, dtmp, ctx, T, nq, d, dW);
        ss_bwd_linear_dx(dctx, 0.0f, dtmp, w.wo, T, nq, d);
        memset(dK, 0, (size_t)T * nkv * sizeof *dK);
        memset(dV, 0, (size_t)T * nkv * sizeof *dV);
        memset(dkp, 0, (size_t)Hkv * T * d_h * sizeof *dkp);
        memset(dgq, 0, (size_t)d_h * sizeof *dgq);
        memset(dgk, 0, (size_t)d_h * sizeof *dgk);
        for (int h = 0; h < H; h++) {
            const int kv = h / (H / Hkv);
            ss_bwd_head_get(hrow, dctx, T, nq, h, d_h);
            ss_tr_attn_bwd_f(&ad, dqh, dkh, dvh, hrow, P + (size_t)h * tt, qr + (size_t)h * T * d_h,
                             kr + (size_t)kv * T * d_h, vv + (size_t)kv * T * d_h, ws);
            float *dk_kv = dkp + (size_t)kv * T * d_h; /* [T][d_h] ∂L/∂k_pre of the KV head */
            for (size_t i = 0; i < (size_t)T * d_h; i++) dk_kv[i] += dkh[i];
            ss_bwd_head_add(dV, dvh, T, nkv, kv, d_h);
            /* QK-norm of the query head: dq̂ from ∂L/∂q_pre */
            ss_bwd_head_get(hrow, qh, T, nq, h, d_h);
            ss_bwd_rmsnorm_bwd(hrow2, dgq, dqh, hrow, r_q + (size_t)h * T, Gq, T, d_h);
            for (int t = 0; t < T; t++) /* dQ columns of head h (overwritten) */
                memcpy(dQ + (size_t)t * nq + (size_t)h * d_h, hrow2 + (size_t)t * d_h, (size_t)d_h * sizeof *dQ);
        }
        for (int h = 0; h < Hkv; h++) {
            ss_bwd_head_get(hrow, kh, T, nkv, h, d_h);
            ss_bwd_rmsnorm_bwd(hrow2, dgk, dkp + (size_t)h * T * d_h, hrow, r_k + (size_t)h * T, Gk, T, d_h);
            ss_bwd_head_add(dK, hrow2, T, nkv, h, d_h);
        }
        NAME("self_attn.q_norm.weight");
        ss_bwd_emit(sink, nm, l, SS_PG_ATTENTION, dgq, 0, (size_t)d_h);
        NAME("self_attn.k_norm.weight");
        ss_bwd_emit(sink, nm, l, SS_PG_ATTENTION, dgk, 0, (size_t)d_h);
        NAME("self_attn.q_proj.weight");
        ss_bwd_linear_params(sink, nm, NULL, l, SS_PG_ATTENTION, dQ, a, T, d, nq, dW);
        NAME("self_attn.k_proj.weight");
        ss_bwd_linear_params(sink, nm, NULL, l, SS_PG_ATTENTION, dK, a, T, d, nkv, dW);
        NAME("self_attn.v_proj.weight");
        ss_bwd_linear_params(sink, nm, NULL, l, SS_PG_ATTENTION, dV, a, T, d, nkv, dW);
        ss_bwd_linear_dx(dxn, 0.0f, dQ, w.wq, T, d, nq);
        ss_bwd_linear_dx(dxn, 1.0f, dK, w.wk, T, d, nkv);
        ss_bwd_linear_dx(dxn, 1.0f, dV, w.wv, T, d, nkv);
        gain(G, w.n_in, d);
        memset(dg, 0, (size_t)d * sizeof *dg);
        ss_bwd_rmsnorm_bwd(dtmp, dg, dxn, x, r_a, G, T, d);
        NAME("input_layernorm.weight");
        ss_bwd_emit(sink, nm, l, SS_PG_NORM, dg, 0, (size_t)d);
        for (size_t i = 0; i < td; i++) g[i] += dtmp[i]; /* g = ∂L/∂hidden[l] */
#undef NAME
    }
    /* the embedding: hidden[0] = E[ids]·√d */
    for (size_t i = 0; i < td; i++) g[i] *= embed_scale;
    snprintf(nm, sizeof nm, "%.40sembed_tokens.weight", pfx);
    SS_TRY(ss_bwd_head_embedding(&hd, sink, nm, cap->tokens, g));
done:
    free(arena);
    ss_bwd_head_free(&hd);
    for (int i = 0; i < 4; i++) free(rope[i]);
    return st;
}
