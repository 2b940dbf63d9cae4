/* model.c: the trainer's decoder (model.h): layout, initialisation, export view, and the passes, which
 * model_pass.inc defines once for float and once for double. */
#include "model.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../model/encoding.h" /* ss_sinusoidal_table, ss_splitmix64 */
#include "attention.h"         /* ss_alibi_slopes */
#include "train_ops.h"

/* ------------------------------------------------------------------------------------------- layout */

static ss_tr_tensor *add_tensor(ss_tr_layout *L, size_t *off, const char *name, int64_t r, int64_t c, int decay)
{
    ss_tr_tensor *t = &L->tensors[L->n_tensors++];
    snprintf(t->name, sizeof t->name, "%s", name);
    t->off = *off;
    t->n_dims = c > 0 ? 2 : 1;
    t->shape[0] = r;
    t->shape[1] = c > 0 ? c : 0;
    t->n = (size_t)r * (size_t)(c > 0 ? c : 1);
    t->decay = decay;
    *off += t->n;
    return t;
}

ss_status ss_tr_layout_init(ss_tr_layout *L, const ss_tr_arch *a)
{
    memset(L, 0, sizeof *L);
    L->a = *a;
    int d = a->d_model, H = a->n_heads;
    if (a->n_layers < 1 || d < 1 || H < 1 || a->d_ff < 1 || a->n_ctx < 1 || a->n_vocab < 1)
        return ss_fail(SS_ERR_INPUT, "model sizes must be positive");
    if (d % H != 0) return ss_fail(SS_ERR_INPUT, "d_model %d is not a multiple of n_heads %d", d, H);
    L->d_h = d / H;
    if (a->pe == SS_TR_PE_ROPE && L->d_h % 2 != 0)
        return ss_fail(SS_ERR_INPUT, "rope needs an even head width (d_model/n_heads = %d)", L->d_h);
    if (a->bos_id >= a->n_vocab) return ss_fail(SS_ERR_INPUT, "bos id %d outside the vocabulary", a->bos_id);
    int max_tensors = 5 + 16 * a->n_layers + 2;
    L->tensors = calloc((size_t)max_tensors, sizeof *L->tensors);
    L->layers = calloc((size_t)a->n_layers, sizeof *L->layers);
    if (!L->tensors || !L->layers) goto nomem;
    L->wpe = L->emb_g = L->emb_b = L->lnf_g = L->lnf_b = SIZE_MAX;
    size_t off = 0;
    char nm[48];
    L->wte = add_tensor(L, &off, "wte", a->n_vocab, d, 0)->off;
    if (a->pe == SS_TR_PE_LEARNED) L->wpe = add_tensor(L, &off, "wpe", a->n_ctx, d, 0)->off;
    if (a->pe == SS_TR_PE_ALIBI) {
        L->emb_g = add_tensor(L, &off, "emb_ln_g", d, 0, 0)->off;
        L->emb_b = add_tensor(L, &off, "emb_ln_b", d, 0, 0)->off;
    }
    for (int l = 0; l < a->n_layers; l++) {
        ss_tr_layer_off *y = &L->layers[l];
#define T_(field, r, c, dec)                                                                                  \
    do {                                                                                                      \
        snprintf(nm, sizeof nm, "h.%d.%s", l, #field);                                                        \
        y->field = add_tensor(L, &off, nm, r, c, dec)->off;                                                   \
    } while (0)
        T_(ln1_g, d, 0, 0);
        T_(ln1_b, d, 0, 0);
        T_(wq, d, d, 1);
        T_(bq, d, 0, 0);
        T_(wk, d, d, 1);
        T_(bk, d, 0, 0);
        T_(wv, d, d, 1);
        T_(bv, d, 0, 0);
        T_(wo, d, d, 1);
        T_(bo, d, 0, 0);
        T_(ln2_g, d, 0, 0);
        T_(ln2_b, d, 0, 0);
        T_(w_fc, a->d_ff, d, 1);
        T_(b_fc, a->d_ff, 0, 0);
        T_(w_proj, d, a->d_ff, 1);
        T_(b_proj, d, 0, 0);
#undef T_
    }
    if (!a->post_ln) {
        L->lnf_g = add_tensor(L, &off, "lnf_g", d, 0, 0)->off;
        L->lnf_b = add_tensor(L, &off, "lnf_b", d, 0, 0)->off;
    }
    L->n_params = off;
    if (a->pe == SS_TR_PE_SINUSOIDAL) {
        L->sin_table = malloc((size_t)a->n_ctx * d * sizeof *L->sin_table);
        if (!L->sin_table) goto nomem;
        ss_sinusoidal_table(L->sin_table, 0, a->n_ctx, d);
    }
    if (a->pe == SS_TR_PE_ALIBI) {
        L->slopes = malloc((size_t)H * sizeof *L->slopes);
        if (!L->slopes) goto nomem;
        ss_alibi_slopes(L->slopes, H);
    }
    if (a->pe == SS_TR_PE_ROPE) {
        size_t n = (size_t)a->n_ctx * (L->d_h / 2);
        L->rope_cos = malloc(n * sizeof *L->rope_cos);
        L->rope_sin = malloc(n * sizeof *L->rope_sin);
        if (!L->rope_cos || !L->rope_sin) goto nomem;
        ss_tr_rope_tables_d(L->rope_cos, L->rope_sin, a->n_ctx, L->d_h, 10000.0);
    }
    return SS_OK;
nomem:
    ss_tr_layout_free(L);
    return ss_fail(SS_ERR_NOMEM, "out of memory for the model layout");
}

void ss_tr_layout_free(ss_tr_layout *L)
{
    free(L->tensors);
    free(L->layers);
    free(L->sin_table);
    free(L->slopes);
    free(L->rope_cos);
    free(L->rope_sin);
    memset(L, 0, sizeof *L);
}

/* --------------------------------------------------------------------------------------------- init */

static double unit_uniform(uint64_t *s) { return ((ss_splitmix64(s) >> 11) + 0.5) / 9007199254740992.0; }

void ss_tr_init_params(const ss_tr_layout *L, float *params, uint64_t seed)
{
    uint64_t s = seed;
    double proj_std = 0.02 / sqrt(2.0 * L->a.n_layers);
    for (int i = 0; i < L->n_tensors; i++) {
        const ss_tr_tensor *t = &L->tensors[i];
        float *p = params + t->off; /* [n] */
        const char *leaf = strrchr(t->name, '.');
        leaf = leaf ? leaf + 1 : t->name;
        if (t->n_dims == 1) { /* norm gains (names ending in _g) 1, everything else (biases, norm shifts) 0 */
            size_t k = strlen(leaf);
            float v = k >= 2 && strcmp(leaf + k - 2, "_g") == 0 ? 1.0f : 0.0f;
            for (size_t j = 0; j < t->n; j++) p[j] = v;
            continue;
        }
        double std = strcmp(leaf, "wo") == 0 || strcmp(leaf, "w_proj") == 0 ? proj_std : 0.02;
        for (size_t j = 0; j < t->n; j++) { /* Box–Muller, one normal per pair of uniforms */
            double u1 = unit_uniform(&s), u2 = unit_uniform(&s);
            p[j] = (float)(std * sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
        }
    }
}

/* ------------------------------------------------------------------------------------------- export */

void ss_tr_export_view(const ss_tr_layout *L, const float *params, ss_tr_export_layer *layers,
                       ss_tr_export_model *m)
{
    const ss_tr_arch *a = &L->a;
    memset(m, 0, sizeof *m);
    m->n_layers = a->n_layers;
    m->d_model = a->d_model;
    m->n_heads = a->n_heads;
    m->d_ff = a->d_ff;
    m->n_ctx = a->n_ctx;
    m->n_vocab = a->n_vocab;
    m->pe = a->pe;
    m->post_ln = a->post_ln;
    m->ln_eps = a->ln_eps;
    m->bos_id = a->bos_id;
    m->wte = params + L->wte;
    m->wpe = a->pe == SS_TR_PE_LEARNED ? params + L->wpe : a->pe == SS_TR_PE_SINUSOIDAL ? L->sin_table : NULL;
    if (a->pe == SS_TR_PE_ALIBI) {
        m->emb_ln_g = params + L->emb_g;
        m->emb_ln_b = params + L->emb_b;
    }
    for (int l = 0; l < a->n_layers; l++) {
        const ss_tr_layer_off *o = &L->layers[l];
        layers[l] = (ss_tr_export_layer){params + o->ln1_g, params + o->ln1_b, params + o->wq,    params + o->bq,
                                         params + o->wk,    params + o->bk,    params + o->wv,    params + o->bv,
                                         params + o->wo,    params + o->bo,    params + o->ln2_g, params + o->ln2_b,
                                         params + o->w_fc,  params + o->b_fc,  params + o->w_proj, params + o->b_proj};
    }
    m->layers = layers;
    if (!a->post_ln) {
        m->lnf_g = params + L->lnf_g;
        m->lnf_b = params + L->lnf_b;
    }
}

/* ------------------------------------------------------------------------------------------- passes */

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)

#define R float
#define SFX _f
#include "model_pass.inc"
#undef R
#undef SFX

#define R double
#define SFX _d
#include "model_pass.inc"
#undef R
#undef SFX

const float *ss_tr_hidden_f(const ss_tr_work_f *w) { return w->xf; }
