/* gpt2.c: the GPT-2 decoder forward pass in fp32 (pre-LN, learned absolute positions, GELU-tanh
 * "gelu_new", causal), as transformers' GPT2Model computes it.
 *
 * Dimensions: T tokens, d = d_model, H heads of d_h = d/H, d_ff FFN width (n_inner, default 4d), L
 * layers, V vocabulary, P positions. Tensor names are Hugging Face's, without prefix (GPT2Model) or
 * under "transformer." (GPT2LMHeadModel). GPT-2's Conv1D layers store their weights [in][out] (the
 * transpose of nn.Linear): c_attn.weight is [d][3d], c_proj.weight [d][d], mlp.c_fc.weight [d][d_ff],
 * mlp.c_proj.weight [d_ff][d]; they run through ss_conv1d (y = x·W + b).
 *
 *   x = wte[ids] + wpe[0..T)                                            -> hidden[0]
 *       (wpe as trained; the encoding ablations (encoding.h) put zero, wpe permuted or the sinusoidal
 *       table there, and may add RoPE or ALiBi to the attention)
 *   per layer l (input x = hidden[l]):
 *     a = LayerNorm_1(x);  [q | k | v] = a·W_attn + b_attn              [T][3d]: q columns [0, d), k [d, 2d),
 *                                                                       v [2d, 3d); head h at h·d_h in each
 *     A[l][h] = softmax(q_h·k_hᵀ · s + causal mask)                      s = 1/√d_h (scale_attn_weights),
 *                                                                       times 1/(l+1) with
 * scale_attn_by_inverse_layer_idx o = (A·v)·W_proj + b_proj                                         -> attn_out[l] x =
 * x + o;  x = x + GELU_tanh(LayerNorm_2(x)·W_fc + b_fc)·W_fc_proj + b_fc_proj hidden[L] = ln_f(x) (HF's last hidden
 * state); x itself -> hidden_prenorm.
 * Post-LN (config.json "sinkscope_post_ln": true, sinkscope's extension for trained models, hfconfig.h):
 *   x = LayerNorm_1(x + attn(x));  x = LayerNorm_2(x + MLP(x)); no ln_f: hidden[L] = hidden_prenorm = x. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch.h"
#include "conv1d.h" /* ss_conv1d */
#include "decoder.h"
#include "encoding.h" /* ss_posenc */
#include "norm.h" /* ss_layernorm_ref */

typedef struct {
    const float *ln1_g, *ln1_b;   /* [d] ln_1 */
    const float *w_attn, *b_attn; /* [d][3d], [3d] attn.c_attn */
    const float *w_proj, *b_proj; /* [d][d], [d] attn.c_proj */
    const float *ln2_g, *ln2_b;   /* [d] ln_2 */
    const float *w_fc, *b_fc;     /* [d][d_ff], [d_ff] mlp.c_fc */
    const float *w_out, *b_out;   /* [d_ff][d], [d] mlp.c_proj */
} gpt2_layer;

typedef struct {
    int L, H, d_h, d, d_ff, V, P;
    float eps;
    ss_act act;
    int scale_weights, scale_by_layer;
    int post_ln;                /* 1: x = LN(x + f(x)) per sublayer, no ln_f (lnf_g, lnf_b NULL) */
    const float *wte;           /* [V][d] */
    const float *wpe;           /* [P][d] */
    const float *lnf_g, *lnf_b; /* [d] ln_f (pre-LN only) */
    gpt2_layer *layers;         /* [L] */
    ss_posenc pe;               /* the positional encoding in use (native: wpe) */
    ss_scratch s;               /* proj [T][3d], ctx [T][d], ff [T][d_ff], xn and tmp [T][d] */
} gpt2;

static void gpt2_free(void *state)
{
    gpt2 *g = state;
    if (!g) return;
    free(g->layers);
    ss_posenc_free(&g->pe);
    ss_scratch_free(&g->s);
    free(g);
}

static ss_status gpt2_load(const ss_hfconfig *cfg, const ss_safetensors *sf, void **state)
{
    ss_status st = SS_OK;
    const ss_model_info *in = &cfg->info;
    *state = NULL;
    gpt2 *g = calloc(1, sizeof *g);
    if (!g) return ss_fail(SS_ERR_NOMEM, "out of memory loading GPT-2");
    g->L = in->n_layers;
    g->H = in->n_heads;
    g->d_h = in->d_head;
    g->d = in->d_model;
    g->d_ff = in->d_ff;
    g->V = in->n_vocab;
    g->P = in->max_positions;
    g->eps = (float)cfg->layer_norm_eps;
    g->scale_weights = cfg->scale_attn_weights;
    g->scale_by_layer = cfg->scale_attn_by_layer;
    g->post_ln = cfg->post_ln;
    int act = ss_act_from_name(cfg->hidden_act);
    if (act < 0) {
        st = ss_fail(SS_ERR_INPUT, "GPT-2: activation '%s' is not supported", cfg->hidden_act);
        goto done;
    }
    g->act = (ss_act)act;
    ss_scratch_init(&g->s, g->d, 3 * g->d, g->d, g->d_ff, 0, 0.0);
    const int64_t d = g->d, dff = g->d_ff;

    static const char *const prefixes[] = {"", "transformer."};
    const char *pfx = ss_find_prefix(sf, "wte.weight", prefixes, 2);
    SS_TRY(ss_bind(sf, pfx, "wte.weight", 2, g->V, d, &g->wte));
    SS_TRY(ss_bind(sf, pfx, "wpe.weight", 2, g->P, d, &g->wpe));
    if (!g->post_ln) {
        SS_TRY(ss_bind(sf, pfx, "ln_f.weight", 1, d, 0, &g->lnf_g));
        SS_TRY(ss_bind(sf, pfx, "ln_f.bias", 1, d, 0, &g->lnf_b));
    }
    SS_TRY(ss_posenc_init(&g->pe, "gpt2", g->H, g->d, g->d_h, g->wpe, 0, 0.0, SS_ROPE_HALF, 0));
    g->layers = calloc((size_t)g->L, sizeof *g->layers);
    if (!g->layers) {
        st = ss_fail(SS_ERR_NOMEM, "out of memory loading GPT-2");
        goto done;
    }
    for (int l = 0; l < g->L; l++) {
        gpt2_layer *ly = &g->layers[l];
        char n[128];
#define LAYER(field, suffix, nd, a, c)                                                                                 \
    do {                                                                                                               \
        snprintf(n, sizeof n, "h.%d.%s", l, suffix);                                                                   \
        SS_TRY(ss_bind(sf, pfx, n, nd, a, c, &ly->field));                                                             \
    } while (0)
        LAYER(ln1_g, "ln_1.weight", 1, d, 0);
        LAYER(ln1_b, "ln_1.bias", 1, d, 0);
        LAYER(w_attn, "attn.c_attn.weight", 2, d, 3 * d);
        LAYER(b_attn, "attn.c_attn.bias", 1, 3 * d, 0);
        LAYER(w_proj, "attn.c_proj.weight", 2, d, d);
        LAYER(b_proj, "attn.c_proj.bias", 1, d, 0);
        LAYER(ln2_g, "ln_2.weight", 1, d, 0);
        LAYER(ln2_b, "ln_2.bias", 1, d, 0);
        LAYER(w_fc, "mlp.c_fc.weight", 2, d, dff);
        LAYER(b_fc, "mlp.c_fc.bias", 1, dff, 0);
        LAYER(w_out, "mlp.c_proj.weight", 2, dff, d);
        LAYER(b_out, "mlp.c_proj.bias", 1, d, 0);
#undef LAYER
    }
    *state = g;
    g = NULL;
done:
    gpt2_free(g);
    return st;
}

static ss_status gpt2_forward(void *state, const int32_t *ids, int n, ss_capture *cap)
{
    ss_status st = SS_OK;
    gpt2 *g = state;
    memset(cap, 0, sizeof *cap);
    SS_TRY(ss_arch_check_ids(ids, n, g->V, g->P));
    SS_TRY(ss_scratch_grow(&g->s, n));
    SS_TRY(ss_posenc_prepare(&g->pe, n));
    SS_TRY(ss_capture_alloc(cap, ids, n, g->L, g->H, g->H, g->d, g->d_h, 1));
    for (int l = 0; l < g->L; l++) cap->w_o[l] = g->layers[l].w_proj;
    cap->w_o_conv1d = 1; /* Conv1D: [H·d_h][d] */

    const int T = n, d = g->d, H = g->H, d_h = g->d_h;
    const size_t td = (size_t)T * d, hn = (size_t)H * T * d_h;
    float *xn = g->s.xn, *proj = g->s.proj, *ff = g->s.ff, *tmp = g->s.tmp; /* [T][d], [T][3d], [T][d_ff], [T][d] */

    float *x = cap->hidden; /* [T][d] hidden[0] */
    ss_embed(x, g->wte, ids, T, d);
    ss_posenc_add(&g->pe, x, T);
    for (int l = 0; l < g->L; l++) {
        const gpt2_layer *ly = &g->layers[l];
        const float *xin = cap->hidden + (size_t)l * td;                                       /* [T][d] */
        float *xout = l + 1 < g->L ? cap->hidden + (size_t)(l + 1) * td : cap->hidden_prenorm; /* [T][d] */
        float *ao = cap->attn_out + (size_t)l * td;                                            /* [T][d] */
        double scale = g->scale_weights ? 1.0 / sqrt((double)d_h) : 1.0;
        if (g->scale_by_layer) scale /= (double)(l + 1);
        ss_attn_cfg acfg = {.scale = (float)scale};
        ss_posenc_attn(&g->pe, &acfg); /* native: no RoPE, no ALiBi */

        const float *a = xin; /* [T][d] the attention's input: LN_1(x), or x itself under post-LN */
        if (!g->post_ln) {
            ss_layernorm_ref(xn, xin, ly->ln1_g, ly->ln1_b, T, d, g->eps);
            a = xn;
        }
        ss_conv1d(proj, a, ly->w_attn, ly->b_attn, T, d, 3 * d);
        ss_gather_heads(cap->q_pre + l * hn, proj, T, H, d_h, 3 * d, 0, d_h);
        ss_gather_heads(cap->k_pre + l * hn, proj, T, H, d_h, 3 * d, d, d_h);
        ss_gather_heads(cap->v + l * hn, proj, T, H, d_h, 3 * d, 2 * d, d_h);
        ss_layer_attention(cap, l, &acfg, &g->s);
        ss_conv1d(ao, g->s.ctx, ly->w_proj, ly->b_proj, T, d, d);
        memcpy(xout, xin, td * sizeof(float));
        ss_add_inplace(xout, ao, td);
        if (g->post_ln) ss_layernorm_ref(xout, xout, ly->ln1_g, ly->ln1_b, T, d, g->eps);

        const float *m = xout; /* [T][d] the MLP's input: LN_2(x), or x itself under post-LN */
        if (!g->post_ln) {
            ss_layernorm_ref(xn, xout, ly->ln2_g, ly->ln2_b, T, d, g->eps);
            m = xn;
        }
        ss_conv1d(ff, m, ly->w_fc, ly->b_fc, T, d, g->d_ff);
        ss_act_apply(g->act, ff, (size_t)T * g->d_ff);
        ss_conv1d(tmp, ff, ly->w_out, ly->b_out, T, g->d_ff, d);
        ss_add_inplace(xout, tmp, td);
        if (g->post_ln) ss_layernorm_ref(xout, xout, ly->ln2_g, ly->ln2_b, T, d, g->eps);
    }
    if (g->post_ln)
        memcpy(cap->hidden + (size_t)g->L * td, cap->hidden_prenorm, td * sizeof(float));
    else
        ss_layernorm_ref(cap->hidden + (size_t)g->L * td, cap->hidden_prenorm, g->lnf_g, g->lnf_b, T, d, g->eps);
done:
    return st;
}

static ss_status gpt2_set_encoding(void *state, const ss_encoding_spec *enc)
{
    gpt2 *g = state;
    return ss_posenc_set(&g->pe, &g->s, enc);
}

const ss_arch ss_arch_gpt2 = {
    .name = "gpt2",
    .load = gpt2_load,
    .forward = gpt2_forward,
    .set_encoding = gpt2_set_encoding,
    .free = gpt2_free,
};
