/* test_fisher_grad.c ARCH: the LM-loss gradient of ss_model_grad_norms (model.h) against central finite
 * differences of the loss computed from the engine's own forward pass, on the tiny random model
 * tests/fixtures/tiny/ARCH.
 *
 * For every weight tensor θ, along two directions v (v = ĝ + r̂ and v = r̂, with ĝ the analytic gradient and
 * r̂ a seeded Gaussian direction, both of unit norm over the tensor):
 *     g·v   vs   (L(θ + εv) − L(θ − εv)) / 2ε
 * where L is the mean next-token cross-entropy over positions 0..T−2 with logits = hidden[L]·Wᵀ (W = the
 * LM head when the weights hold one, else the token embedding), computed here in double from the capture of
 * ss_model_forward. The weights are memory-mapped read-only, so each perturbed model is a copy: every tensor
 * written to a temporary directory (ss_st_write, with the fixture's config.json) and loaded again through
 * ss_model_load_weights_only. ARCH "export:PE:pre|post" (PE: learned, sinusoidal, rope, none, alibi) runs the same on a
 * model written by `sinkscope train`'s exporter (2 layers, d = 16, 4 heads, seeded GPT-2 initialisation): gpt2,
 * gpt_neox (with embed_out, an untied head) or bloom, pre-LN or with the sinkscope_post_ln flag. Also checked: the sums of squares of the visited gradients equal the group
 * totals, layer = attention + mlp + norms, and the loss equals the one computed here. */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model/model.h"
#include "model/safetensors.h"
#include "test_util.h"
#include "train/model.h" /* ss_tr_layout_init, ss_tr_init_params, ss_tr_export_view: the export:* models */

enum { T_TOK = 12, MAX_REC = 512 };
static double EPS_REL = 2e-3;

typedef struct {
    char *name;
    int layer, group;
    float *grad; /* [n] */
    size_t n, seen;
} grad_rec;

typedef struct {
    grad_rec rec[MAX_REC];
    int n;
} grads;

static void visit(void *ctx, const char *name, int layer, ss_param_group group, const float *g, size_t off, size_t n)
{
    grads *G = ctx;
    grad_rec *r = NULL;
    for (int i = 0; i < G->n; i++)
        if (!strcmp(G->rec[i].name, name)) r = &G->rec[i];
    if (!r) {
        if (G->n == MAX_REC) return;
        r = &G->rec[G->n++];
        r->name = strdup(name);
        r->layer = layer;
        r->group = (int)group;
        r->grad = NULL;
        r->n = r->seen = 0;
    }
    CHECK_MSG(off == r->seen, "%s: slice at %zu after %zu elements", name, off, r->seen);
    float *p = realloc(r->grad, (off + n) * sizeof *p);
    if (!p) return;
    r->grad = p;
    memcpy(p + off, g, n * sizeof *g);
    r->n = r->seen = off + n;
}

/* splitmix64-driven Gaussian (Box-Muller) */
static uint64_t g_rng = 0x9E3779B97F4A7C15ull;
static double urand(void)
{
    uint64_t z = (g_rng += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return ((double)(z >> 11) + 0.5) / 9007199254740992.0;
}
static double grand(void) { return sqrt(-2.0 * log(urand())) * cos(6.283185307179586 * urand()); }

/* The loss of ids under the model in dir, from its forward pass: logits = hidden[L] · headᵀ. */
static double model_loss(const char *dir, const int32_t *ids, int T)
{
    ss_model *m = NULL;
    ss_safetensors *sf = NULL;
    ss_capture cap;
    memset(&cap, 0, sizeof cap);
    double loss = NAN;
    if (ss_model_load_weights_only(dir, &m) != SS_OK || ss_st_open_dir(dir, &sf) != SS_OK) {
        fprintf(stderr, "loading %s: %s\n", dir, ss_errmsg());
        goto done;
    }
    const ss_model_info *in = ss_model_get_info(m);
    const int d = in->d_model, V = in->n_vocab;
    const ss_st_tensor *head = NULL;
    static const char *const heads[] = {"lm_head.weight", "embed_out.weight", "model.embed_tokens.weight",
                                        "embed_tokens.weight", "transformer.wte.weight", "wte.weight",
                                        "gpt_neox.embed_in.weight", "embed_in.weight",
                                        "transformer.word_embeddings.weight", "word_embeddings.weight"};
    for (size_t i = 0; i < sizeof heads / sizeof heads[0] && !head; i++) head = ss_st_find(sf, heads[i]);
    if (!head || head->dtype != SS_DT_F32 || head->n_elems != (uint64_t)V * d) {
        fprintf(stderr, "%s: no LM head\n", dir);
        goto done;
    }
    const float *W = (const float *)(const void *)head->data; /* [V][d] */
    if (ss_model_forward(m, ids, T, &cap) != SS_OK) {
        fprintf(stderr, "forward: %s\n", ss_errmsg());
        goto done;
    }
    const float *hf = cap.hidden + (size_t)in->n_layers * T * d; /* [T][d] */
    double *z = malloc((size_t)V * sizeof *z);                   /* [V] */
    double total = 0.0;
    for (int t = 0; t + 1 < T; t++) {
        double mx = -INFINITY;
        for (int v = 0; v < V; v++) {
            double s = 0.0;
            for (int i = 0; i < d; i++) s += (double)hf[(size_t)t * d + i] * W[(size_t)v * d + i];
            z[v] = s;
            if (s > mx) mx = s;
        }
        double se = 0.0;
        for (int v = 0; v < V; v++) se += exp(z[v] - mx);
        total += mx + log(se) - z[ids[t + 1]];
    }
    free(z);
    loss = T > 1 ? total / (T - 1) : 0.0;
done:
    ss_capture_free(&cap);
    ss_st_free(sf);
    ss_model_free(m);
    return loss;
}

/* Copies src/config.json to dir and writes every tensor of base (tensor `which` shifted by eps·v) as
 * dir/model.safetensors. */
static int write_model(const char *src, const char *dir, const ss_safetensors *base, float *const *data, int which,
                       const double *v, double eps)
{
    char a[4096], b[4096];
    snprintf(a, sizeof a, "%s/config.json", src);
    snprintf(b, sizeof b, "%s/config.json", dir);
    FILE *fi = fopen(a, "rb"), *fo = fopen(b, "wb");
    if (!fi || !fo) {
        if (fi) fclose(fi);
        if (fo) fclose(fo);
        return -1;
    }
    char buf[4096];
    size_t k;
    while ((k = fread(buf, 1, sizeof buf, fi)) > 0) fwrite(buf, 1, k, fo);
    fclose(fi);
    fclose(fo);
    const int n = base->n_tensors;
    const char **names = malloc((size_t)n * sizeof *names);
    int *nd = malloc((size_t)n * sizeof *nd);
    const int64_t **shapes = malloc((size_t)n * sizeof *shapes);
    const float **ptrs = malloc((size_t)n * sizeof *ptrs);
    const ss_st_tensor *tw = &base->tensors[which];
    float *pert = malloc((size_t)tw->n_elems * sizeof *pert);
    for (uint64_t i = 0; i < tw->n_elems; i++) pert[i] = (float)((double)data[which][i] + eps * v[i]);
    for (int i = 0; i < n; i++) {
        names[i] = base->tensors[i].name;
        nd[i] = base->tensors[i].n_dims;
        shapes[i] = base->tensors[i].shape;
        ptrs[i] = i == which ? pert : data[i];
    }
    snprintf(b, sizeof b, "%s/model.safetensors", dir);
    ss_status st = ss_st_write(b, n, names, nd, shapes, ptrs);
    free(names);
    free(nd);
    free(shapes);
    free(ptrs);
    free(pert);
    return st == SS_OK ? 0 : -1;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: test_fisher_grad ARCH\n");
        return 2;
    }
    char src[4096], exp_dir[64] = "";
    snprintf(src, sizeof src, "%s/tests/fixtures/tiny/%s", test_env("SS_SOURCE_DIR", "."), argv[1]);
    if (!strncmp(argv[1], "export:", 7)) { /* a trainer export */
        static const char *const pes[] = {"learned", "sinusoidal", "rope", "alibi", "none"};
        static const ss_tr_posenc pev[] = {SS_TR_PE_LEARNED, SS_TR_PE_SINUSOIDAL, SS_TR_PE_ROPE, SS_TR_PE_ALIBI,
                                           SS_TR_PE_NONE};
        ss_tr_arch ta = {.n_layers = 2, .d_model = 16, .n_heads = 4, .d_ff = 64, .n_ctx = 32, .n_vocab = 256,
                         .ln_eps = 1e-5f, .bos_id = -1, .pe = (ss_tr_posenc)-1};
        const char *pe = argv[1] + 7, *mode = strchr(pe, ':');
        for (int i = 0; i < 5; i++)
            if (mode && (size_t)(mode - pe) == strlen(pes[i]) && !strncmp(pe, pes[i], strlen(pes[i]))) ta.pe = pev[i];
        ta.post_ln = mode && !strcmp(mode + 1, "post");
        if ((int)ta.pe < 0) {
            fprintf(stderr, "bad export spec %s\n", argv[1]);
            return 2;
        }
        ss_tr_layout lay;
        ss_tr_export_layer el[2];
        ss_tr_export_model em;
        snprintf(exp_dir, sizeof exp_dir, "/tmp/test_fisher_export.XXXXXX");
        if (!mkdtemp(exp_dir) || ss_tr_layout_init(&lay, &ta) != SS_OK) {
            fprintf(stderr, "export setup: %s\n", ss_errmsg());
            return 1;
        }
        float *params = malloc(lay.n_params * sizeof *params);
        ss_tr_init_params(&lay, params, 7);
        /* GPT-2's initialisation leaves the model nearly linear with gradients near the fp32 noise: widen it
         * (matrices ×8, gains 1 ± 0.2, biases ± 0.2) */
        for (int t = 0; t < lay.n_tensors; t++)
            for (size_t k = 0; k < lay.tensors[t].n; k++) {
                float *p = params + lay.tensors[t].off + k;
                *p = lay.tensors[t].n_dims == 2 ? 8.0f * *p : *p + (float)(0.2 * grand());
            }
        ss_tr_export_view(&lay, params, el, &em);
        snprintf(src, sizeof src, "%s/m", exp_dir);
        if (ss_tr_export(src, &em) != SS_OK) {
            fprintf(stderr, "export: %s\n", ss_errmsg());
            return 1;
        }
        free(params);
        ss_tr_layout_free(&lay);
    }
    /* a broken-gradient self-test: TEST_FISHER_BREAK=NAME scales that tensor's analytic gradient by 1.5 (the
     * test must then fail) */
    const char *brk = getenv("TEST_FISHER_BREAK");
    if (getenv("TEST_FISHER_EPS")) EPS_REL = atof(getenv("TEST_FISHER_EPS"));
    ss_model *m = NULL;
    ss_safetensors *base = NULL;
    ss_capture cap;
    memset(&cap, 0, sizeof cap);
    static grads G;
    if (ss_model_load_weights_only(src, &m) != SS_OK || ss_st_open_dir(src, &base) != SS_OK) {
        fprintf(stderr, "loading %s: %s\n", src, ss_errmsg());
        return 1;
    }
    const ss_model_info *in = ss_model_get_info(m);
    const int L = in->n_layers;
    int32_t ids[T_TOK];
    for (int t = 0; t < T_TOK; t++) ids[t] = (int32_t)((t * 37 + 11) % in->n_vocab);
    CHECK(ss_model_forward(m, ids, T_TOK, &cap) == SS_OK);
    double *per[4]; /* layer, attention, mlp, norms [L] */
    for (int i = 0; i < 4; i++) per[i] = calloc((size_t)L, sizeof(double));
    ss_grad_norms gn = {.layer = per[0], .attention = per[1], .mlp = per[2], .norms = per[3]};
    ss_status st = ss_model_grad_norms(m, &cap, &gn, visit, &G);
    CHECK_MSG(st == SS_OK, "%s", ss_errmsg());
    if (st != SS_OK) TEST_END();
    printf("%s: loss %.6f over %d targets, %d tensors\n", argv[1], gn.loss, gn.n_targets, G.n);
    CHECK(gn.n_targets == T_TOK - 1);

    /* every tensor of the model has a gradient, of its size; the totals are the sums of the visited squares */
    CHECK_MSG(G.n == base->n_tensors, "%d gradients for %d tensors", G.n, base->n_tensors);
    double sums[SS_PG_COUNT] = {0}, *lay = calloc((size_t)L, sizeof *lay);
    for (int i = 0; i < G.n; i++) {
        const ss_st_tensor *t = ss_st_find(base, G.rec[i].name);
        CHECK_MSG(t && t->n_elems == G.rec[i].n, "gradient %s has no tensor of its size", G.rec[i].name);
        double s = 0.0;
        for (size_t k = 0; k < G.rec[i].n; k++) s += (double)G.rec[i].grad[k] * G.rec[i].grad[k];
        sums[G.rec[i].group] += s;
        if (G.rec[i].layer >= 0) lay[G.rec[i].layer] += s;
        CHECK_MSG((G.rec[i].layer >= 0) == (G.rec[i].group <= SS_PG_NORM), "%s: layer %d, group %d", G.rec[i].name,
                  G.rec[i].layer, G.rec[i].group);
    }
    double sa = 0, sm = 0, sn = 0;
    for (int l = 0; l < L; l++) {
        CHECK_NEAR(per[0][l], per[1][l] + per[2][l] + per[3][l], 1e-9 * per[0][l]);
        CHECK_NEAR(per[0][l], lay[l], 1e-9 * lay[l]);
        CHECK(per[1][l] > 0 && per[2][l] > 0 && per[3][l] > 0);
        sa += per[1][l];
        sm += per[2][l];
        sn += per[3][l];
        printf("  layer %d: F %.6g = attention %.6g + mlp %.6g + norms %.6g\n", l, per[0][l], per[1][l], per[2][l],
               per[3][l]);
    }
    CHECK_NEAR(sa, sums[SS_PG_ATTENTION], 1e-9 * sa);
    CHECK_NEAR(sm, sums[SS_PG_MLP], 1e-9 * sm);
    CHECK_NEAR(sn, sums[SS_PG_NORM], 1e-9 * sn);
    CHECK_NEAR(gn.embedding, sums[SS_PG_EMBEDDING], 1e-9 * gn.embedding);
    CHECK_NEAR(gn.final_norm, sums[SS_PG_FINAL_NORM], 1e-9 * gn.final_norm);
    CHECK_NEAR(gn.lm_head, sums[SS_PG_LM_HEAD], 1e-9 * (gn.lm_head + 1e-30));
    printf("  embedding %.6g, final norm %.6g, lm head %.6g\n", gn.embedding, gn.final_norm, gn.lm_head);
    CHECK(gn.embedding > 0 && (gn.has_final_norm ? gn.final_norm > 0 : gn.final_norm == 0));
    /* without a visitor the LM head and the embedding take the Gram form (backward.h): the same sums */
    {
        double *q[4];
        for (int i = 0; i < 4; i++) q[i] = calloc((size_t)L, sizeof(double));
        ss_grad_norms g2 = {.layer = q[0], .attention = q[1], .mlp = q[2], .norms = q[3]};
        CHECK_MSG(ss_model_grad_norms(m, &cap, &g2, NULL, NULL) == SS_OK, "%s", ss_errmsg());
        CHECK_NEAR(g2.loss, gn.loss, 1e-6 * gn.loss);
        CHECK_NEAR(g2.embedding, gn.embedding, 1e-4 * gn.embedding);
        CHECK_NEAR(g2.lm_head, gn.lm_head, 1e-4 * gn.lm_head);
        CHECK_NEAR(g2.final_norm, gn.final_norm, 1e-4 * gn.final_norm);
        for (int l = 0; l < L; l++) CHECK_NEAR(q[0][l], per[0][l], 1e-4 * per[0][l]);
        printf("  without a visitor: embedding %.6g, lm head %.6g\n", g2.embedding, g2.lm_head);
        for (int i = 0; i < 4; i++) free(q[i]);
    }
    const double L0 = model_loss(src, ids, T_TOK);
    CHECK_NEAR(gn.loss, L0, 1e-5 * fabs(L0));

    /* finite differences, every tensor, two directions each */
    char tmpl[] = "/tmp/test_fisher_grad.XXXXXX";
    const char *dir = mkdtemp(tmpl);
    CHECK(dir != NULL);
    float **data = malloc((size_t)base->n_tensors * sizeof *data);
    for (int i = 0; i < base->n_tensors; i++) {
        data[i] = malloc(base->tensors[i].n_elems * sizeof(float));
        memcpy(data[i], base->tensors[i].data, base->tensors[i].n_elems * sizeof(float));
    }
    int n_checked = 0;
    double worst = 0.0;
    for (int i = 0; dir && i < G.n; i++) {
        const int ti = (int)(ss_st_find(base, G.rec[i].name) - base->tensors);
        const size_t n = G.rec[i].n;
        float *g = G.rec[i].grad; /* [n] */
        if (brk && !strcmp(brk, G.rec[i].name))
            for (size_t k = 0; k < n; k++) g[k] *= 1.5f;
        double gnorm = 0.0;
        for (size_t k = 0; k < n; k++) gnorm += (double)g[k] * g[k];
        gnorm = sqrt(gnorm);
        double *v = malloc(n * sizeof *v), *r = malloc(n * sizeof *r); /* [n] */
        double rn = 0.0;
        for (size_t k = 0; k < n; k++) {
            r[k] = grand();
            rn += r[k] * r[k];
        }
        rn = sqrt(rn);
        for (int dirn = 0; dirn < 2; dirn++) {
            double an = 0.0;
            for (size_t k = 0; k < n; k++) {
                v[k] = r[k] / rn + (dirn == 0 && gnorm > 0 ? g[k] / gnorm : 0.0);
                an += (double)g[k] * v[k];
            }
            /* ε: a step of EPS_REL (vectors: 4·EPS_REL) of the tensor's scale per element: its RMS, at least 0.02 for matrices and
             * 1 for vectors (norm gains act as 1 + w in Gemma, whose stored w is near 0; biases add to O(1)
             * activations) */
            double rms = 0.0;
            for (size_t k = 0; k < n; k++) rms += (double)data[ti][k] * data[ti][k];
            rms = sqrt(rms / n);
            const int vec = base->tensors[ti].n_dims == 1; /* vectors are small: a larger step against the noise */
            const double floor_scale = vec ? 1.0 : 0.02;
            double eps = (vec ? 4 : 1) * EPS_REL * (rms > floor_scale ? rms : floor_scale) * sqrt((double)n);
            /* central differences at ε and ε/2, Richardson-extrapolated (truncation error O(ε⁴)) */
            double c[2];
            for (int s = 0; s < 2; s++) {
                const double e = s ? eps / 2 : eps;
                double lp = NAN, lm = NAN;
                if (write_model(src, dir, base, data, ti, v, e) == 0) lp = model_loss(dir, ids, T_TOK);
                if (write_model(src, dir, base, data, ti, v, -e) == 0) lm = model_loss(dir, ids, T_TOK);
                c[s] = (lp - lm) / (2 * e);
            }
            const double fd = (4 * c[1] - c[0]) / 3;
            /* relative to the derivative, or to ‖g‖·‖v‖/10 where the direction is nearly orthogonal to g (there
             * the fp32 forward's rounding dominates the difference quotient) */
            double vn = 0.0;
            for (size_t k = 0; k < n; k++) vn += v[k] * v[k];
            const double scale = fmax(fmax(fabs(fd), fabs(an)), 0.1 * gnorm * sqrt(vn));
            const double err = fabs(fd - an) / fmax(scale, 1e-12);
            if (err > worst) worst = err;
            n_checked++;
            CHECK_MSG(isfinite(fd) && err <= 2e-3, "%s direction %d: analytic g·v %.8g, finite differences %.8g "
                                                   "(eps %.3g), relative error %.2e",
                      G.rec[i].name, dirn, an, fd, eps, err);
        }
        free(v);
        free(r);
    }
    printf("%d directional derivatives checked, worst relative error %.2e\n", n_checked, worst);
    if (dir) {
        char p[4200];
        snprintf(p, sizeof p, "%s/config.json", dir);
        unlink(p);
        snprintf(p, sizeof p, "%s/model.safetensors", dir);
        unlink(p);
        rmdir(dir);
    }
    if (exp_dir[0]) { /* the exported model's files */
        static const char *const files[] = {"config.json", "model.safetensors", "tokenizer.json"};
        char p[4200];
        for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
            snprintf(p, sizeof p, "%s/%s", src, files[i]);
            unlink(p);
        }
        rmdir(src);
        rmdir(exp_dir);
    }
    for (int i = 0; i < base->n_tensors; i++) free(data[i]);
    free(data);
    for (int i = 0; i < G.n; i++) {
        free(G.rec[i].name);
        free(G.rec[i].grad);
    }
    for (int i = 0; i < 4; i++) free(per[i]);
    free(lay);
    ss_capture_free(&cap);
    ss_st_free(base);
    ss_model_free(m);
    TEST_END();
}
