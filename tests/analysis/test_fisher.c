/* test_fisher.c [TINY_BERT_DIR]: the fisher analysis end to end through the registry, on the tiny random models
 * of tests/fixtures/tiny (and the tiny BERT of tests/engine when given).
 *
 * For each decoder with a backward pass: the datasets are filled (finite, F_l >= 0), attention + mlp + norms =
 * layer within rounding, the embedding and final-norm sums are positive, lm_head is NaN (tied fixtures), and the
 * loss equals the mean next-token cross-entropy computed here in double from the capture's last hidden state and
 * the embedding matrix. A one-token prompt gives loss 0 and all-zero norms. Architectures without a backward pass
 * say "not implemented for <arch>", BERT says "not applicable", a non-native encoding and a capture without a
 * model are refused, all as SS_ERR_UNSUPPORTED (a skipped task). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis.h"
#include "model/model.h"
#include "test_util.h"

static ss_sweep *g_sweep;

typedef struct {
    ss_dataset_decl decl[SS_MAX_DATASETS];
    void *bufs[SS_MAX_DATASETS];
    int n;
} outputs;

static ss_status run(const ss_capture *c, outputs *o)
{
    const ss_analysis_type *t = ss_analysis_find("fisher");
    const ss_model_dims dims = {c->n_layers, c->n_heads, c->n_tokens, c->causal};
    memset(o, 0, sizeof *o);
    CHECK(t != NULL);
    if (!t) return SS_ERR_INTERNAL;
    ss_status st = t->declare(&g_sweep->analyses[0], &dims, o->decl, &o->n);
    CHECK(st == SS_OK && o->n == 8);
    for (int k = 0; k < o->n; k++) {
        const size_t ne = ss_dataset_elems(&o->decl[k]);
        o->bufs[k] = malloc(ne * sizeof(float));
        for (size_t e = 0; e < ne; e++) ((float *)o->bufs[k])[e] = NAN;
    }
    return t->compute(&g_sweep->analyses[0], &dims, c, o->bufs);
}

static const float *ds(const outputs *o, const char *name)
{
    for (int k = 0; k < o->n; k++)
        if (!strcmp(o->decl[k].name, name)) return o->bufs[k];
    fprintf(stderr, "no dataset %s\n", name);
    abort();
}

static void free_out(outputs *o)
{
    for (int k = 0; k < o->n; k++) free(o->bufs[k]);
    o->n = 0;
}

/* The mean next-token cross-entropy of the capture's tokens, logits = hidden[L]·Eᵀ, in double. */
static double ref_loss(const ss_capture *c, const float *E, int V)
{
    const int T = c->n_tokens, d = c->d_model;
    const float *hf = c->hidden + (size_t)c->n_layers * T * d; /* [T][d] */
    double total = 0.0;
    double *z = malloc((size_t)V * sizeof *z); /* [V] */
    for (int t = 0; t + 1 < T; t++) {
        double mx = -INFINITY, se = 0.0;
        for (int v = 0; v < V; v++) {
            double s = 0.0;
            for (int i = 0; i < d; i++) s += (double)hf[(size_t)t * d + i] * E[(size_t)v * d + i];
            z[v] = s;
            mx = s > mx ? s : mx;
        }
        for (int v = 0; v < V; v++) se += exp(z[v] - mx);
        total += mx + log(se) - z[c->tokens[t + 1]];
    }
    free(z);
    return T > 1 ? total / (T - 1) : 0.0;
}

/* Tensor `name` (F32, n elements) of a safetensors file, by a minimal reader of its own (analysis.h and the
 * engine's safetensors.h both define ss_dtype, so this test cannot include the engine's reader). */
static float *read_tensor(const char *path, const char *name, size_t n)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    unsigned char len8[8];
    float *out = NULL;
    char *hdr = NULL;
    if (fread(len8, 1, 8, f) != 8) goto done;
    uint64_t hl = 0;
    for (int i = 7; i >= 0; i--) hl = hl << 8 | len8[i];
    hdr = malloc(hl + 1);
    if (!hdr || fread(hdr, 1, hl, f) != hl) goto done;
    hdr[hl] = '\0';
    char key[256];
    snprintf(key, sizeof key, "\"%s\"", name);
    const char *p = strstr(hdr, key);
    p = p ? strstr(p, "\"data_offsets\"") : NULL;
    unsigned long long b0, b1;
    if (!p || sscanf(strchr(p, '[') + 1, "%llu , %llu", &b0, &b1) != 2 || b1 - b0 != n * sizeof(float)) goto done;
    out = malloc(n * sizeof *out);
    if (!out || fseek(f, (long)(8 + hl + b0), SEEK_SET) != 0 || fread(out, sizeof *out, n, f) != n) {
        free(out);
        out = NULL;
    }
done:
    free(hdr);
    fclose(f);
    return out;
}

static void test_arch(const char *src, const char *arch, const char *embed_name)
{
    char dir[4096], file[4200];
    snprintf(dir, sizeof dir, "%s/tests/fixtures/tiny/%s", src, arch);
    ss_model *m = NULL;
    ss_capture cap;
    memset(&cap, 0, sizeof cap);
    outputs o = {0};
    if (ss_model_load_weights_only(dir, &m) != SS_OK) {
        CHECK_MSG(0, "%s: %s", dir, ss_errmsg());
        return;
    }
    const ss_model_info *in = ss_model_get_info(m);
    const int L = in->n_layers, T = 10;
    int32_t ids[10];
    for (int t = 0; t < T; t++) ids[t] = (int32_t)((t * 53 + 7) % in->n_vocab);
    CHECK(ss_model_forward(m, ids, T, &cap) == SS_OK);
    ss_status st = run(&cap, &o);
    if (st == SS_ERR_UNSUPPORTED) {
        char want[64];
        snprintf(want, sizeof want, "not implemented for %s", arch);
        CHECK_MSG(strstr(ss_errmsg(), want) != NULL, "%s: %s", arch, ss_errmsg());
        printf("%s: skipped (%s)\n", arch, ss_errmsg());
        goto done;
    }
    CHECK_MSG(st == SS_OK, "%s: %s", arch, ss_errmsg());
    const float *F = ds(&o, "layer"), *A = ds(&o, "attention"), *M = ds(&o, "mlp"), *N = ds(&o, "norms");
    for (int l = 0; l < L; l++) {
        CHECK_MSG(isfinite(F[l]) && F[l] > 0 && A[l] >= 0 && M[l] >= 0 && N[l] >= 0, "%s layer %d: %g %g %g %g",
                  arch, l, F[l], A[l], M[l], N[l]);
        CHECK_NEAR(F[l], (double)A[l] + M[l] + N[l], 1e-5 * F[l]);
        printf("%s layer %d: F %.5g (attention %.5g, mlp %.5g, norms %.5g)\n", arch, l, F[l], A[l], M[l], N[l]);
    }
    const float emb = ds(&o, "embedding")[0], fin = ds(&o, "final_norm")[0], head = ds(&o, "lm_head")[0];
    const float loss = ds(&o, "loss")[0];
    printf("%s: embedding %.5g, final_norm %.5g, lm_head %g, loss %.6f\n", arch, emb, fin, head, loss);
    CHECK(isfinite(emb) && emb > 0);
    CHECK(isnan(head)); /* the fixtures tie the head to the embedding */
    CHECK(isnan(fin) || fin > 0); /* NaN: a post-LN model without a final norm */
    snprintf(file, sizeof file, "%s/model.safetensors", dir);
    float *E = read_tensor(file, embed_name, (size_t)in->n_vocab * in->d_model); /* [V][d] */
    CHECK_MSG(E != NULL, "%s: no %s", file, embed_name);
    if (E) CHECK_NEAR(loss, ref_loss(&cap, E, in->n_vocab), 1e-5 * fabs(loss) + 1e-6);
    free(E);
    free_out(&o);

    /* one token: nothing to predict */
    ss_capture_free(&cap);
    CHECK(ss_model_forward(m, ids, 1, &cap) == SS_OK);
    CHECK(run(&cap, &o) == SS_OK);
    CHECK(ds(&o, "loss")[0] == 0.0f && ds(&o, "embedding")[0] == 0.0f);
    for (int l = 0; l < L; l++) CHECK(ds(&o, "layer")[l] == 0.0f);
    free_out(&o);

    /* a capture without its model */
    ss_capture c2 = cap;
    c2.model = NULL;
    CHECK(run(&c2, &o) == SS_ERR_UNSUPPORTED && strstr(ss_errmsg(), "no model"));
    free_out(&o);

    /* another encoding than native: refused */
    ss_encoding_spec none = {.name = "none", .type = SS_ENC_NONE, .bos = -1};
    if (ss_model_set_encoding(m, &none) == SS_OK) {
        ss_capture_free(&cap);
        CHECK(ss_model_forward(m, ids, T, &cap) == SS_OK);
        CHECK(run(&cap, &o) == SS_ERR_UNSUPPORTED && strstr(ss_errmsg(), "native"));
        free_out(&o);
        CHECK(ss_model_set_encoding(m, NULL) == SS_OK);
        ss_capture_free(&cap);
        CHECK(ss_model_forward(m, ids, T, &cap) == SS_OK);
        CHECK(run(&cap, &o) == SS_OK);
    }
done:
    free_out(&o);
    ss_capture_free(&cap);
    ss_model_free(m);
}

int main(int argc, char **argv)
{
    const char *src = getenv("SS_SOURCE_DIR");
    if (!src) SKIP("SS_SOURCE_DIR is not set (CTest sets it)");
    char yaml[4096];
    snprintf(yaml, sizeof yaml,
             "name: t\ngrid:\n  model: [{name: m, path: '%s/tests/fixtures/tiny/llama'}]\n  prompts: [{name: r, "
             "generator: random, count: 1, length: 8}]\n  encoding: [native]\nanalyses:\n  - {name: f, type: fisher}\n",
             src);
    ss_diags diags = {0};
    if (ss_sweep_parse(yaml, strlen(yaml), "t.yaml", &g_sweep, &diags) != SS_OK) {
        ss_diags_print(&diags, "t.yaml", stderr);
        return 1;
    }
    test_arch(src, "llama", "model.embed_tokens.weight");
    test_arch(src, "gemma3", "model.embed_tokens.weight");
    test_arch(src, "gpt2", "transformer.wte.weight");
    test_arch(src, "gpt_neox", "embed_in.weight");
    test_arch(src, "bloom", "word_embeddings.weight");
    if (argc > 1) { /* the tiny BERT: an encoder without an MLM head */
        ss_model *m = NULL;
        ss_capture cap;
        outputs o = {0};
        memset(&cap, 0, sizeof cap);
        int32_t ids[4] = {1, 5, 6, 2};
        CHECK(ss_model_load_weights_only(argv[1], &m) == SS_OK);
        if (m && ss_model_forward(m, ids, 4, &cap) == SS_OK) {
            CHECK(run(&cap, &o) == SS_ERR_UNSUPPORTED && strstr(ss_errmsg(), "not applicable"));
            printf("bert: %s\n", ss_errmsg());
        }
        free_out(&o);
        ss_capture_free(&cap);
        ss_model_free(m);
    }
    ss_sweep_free(g_sweep);
    ss_diags_free(&diags);
    TEST_END();
}
