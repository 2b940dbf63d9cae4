/* test_gguf_adapter.c: the GGUF → model adapter (engine/model/gguf_model.c) without the real model files.
 *
 * The tiny random Llama of tests/fixtures/tiny/llama (HF safetensors) is written out as a GGUF file the
 * way llama.cpp's converter writes a llama model: F32 tensors under GGUF names, dims innermost first,
 * and the rows of attn_q / attn_k permuted per head (GGUF row h·d_h + 2i + p = HF row h·d_h + p·d_h/2 + i).
 * Loaded from that file with ss_model_load_weights_only, the model must reproduce the Hugging Face
 * expected.json (transformers 4.40.2) within 1e-4 on every attention probability, hidden state and
 * capture buffer — q_pre/q/k_pre/k included, which checks that the adapter un-permutes the rows (the
 * captures then have Hugging Face's column order; rotating adjacent pairs on the stored rows instead
 * would give the same attention but permuted q/k columns).
 * Also: ss_model_probe on the file, the recorded source types, ss_model_hash = sha256 of the file, and
 * the error paths: unsupported architecture, a missing key, a missing tensor, a wrong shape, attention
 * biases, no tokenizer for the full load, each naming the file and the key or tensor. */
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hash.h" /* ss_sha256_* */
#include "model/model.h"
#include "model/safetensors.h"
#include "test_util.h"

#define TOL 1e-4
enum { L = 2, H = 4, HKV = 2, D = 32, DH = 8, DFF = 64, V = 128, CTX = 64 };

/* ------------------------------------------------------------------------------- a GGUF writer */

typedef struct {
    unsigned char *b;
    size_t n, cap;
} wbuf;

static void put(wbuf *w, const void *p, size_t n)
{
    if (w->n + n > w->cap) {
        w->cap = (w->n + n) * 2 + 64;
        w->b = realloc(w->b, w->cap);
        if (!w->b) exit(1);
    }
    memcpy(w->b + w->n, p, n);
    w->n += n;
}
static void put_u32(wbuf *w, uint32_t v) { put(w, &v, 4); } /* x86-64 / aarch64: little-endian */
static void put_u64(wbuf *w, uint64_t v) { put(w, &v, 8); }
static void put_str(wbuf *w, const char *s)
{
    put_u64(w, strlen(s));
    put(w, s, strlen(s));
}
static void kv_u32(wbuf *w, const char *k, uint32_t v)
{
    put_str(w, k);
    put_u32(w, 4); /* UINT32 */
    put_u32(w, v);
}
static void kv_f32(wbuf *w, const char *k, float v)
{
    put_str(w, k);
    put_u32(w, 6); /* FLOAT32 */
    put(w, &v, 4);
}
static void kv_str(wbuf *w, const char *k, const char *v)
{
    put_str(w, k);
    put_u32(w, 8); /* STRING */
    put_str(w, v);
}

typedef struct {
    char name[64];
    int n_dims;
    uint64_t dims[2]; /* innermost first */
    const float *data; /* [dims[1]][dims[0]] */
} gtensor;

/* What to break in the written file. */
typedef enum { OK_FILE, BAD_ARCH, NO_BLOCK_COUNT, NO_TENSOR, BAD_SHAPE, WITH_BIAS } variant;

/* Writes the tiny llama as GGUF v3 to path. tensors: [n] already in GGUF layout. */
static void write_gguf(const char *path, const gtensor *t, int n, variant var)
{
    wbuf w = {0};
    int n_kv = 10 - (var == NO_BLOCK_COUNT);
    int skip = -1; /* tensor index left out */
    for (int i = 0; var == NO_TENSOR && i < n; i++)
        if (strcmp(t[i].name, "blk.1.ffn_up.weight") == 0) skip = i;
    const int n_t = n - (skip >= 0) + (var == WITH_BIAS);
    static const float bias[H * DH] = {0};
    put(&w, "GGUF", 4);
    put_u32(&w, 3);
    put_u64(&w, (uint64_t)n_t);
    put_u64(&w, (uint64_t)n_kv);
    kv_str(&w, "general.architecture", var == BAD_ARCH ? "gpt2" : "llama");
    if (var != NO_BLOCK_COUNT) kv_u32(&w, "llama.block_count", L);
    kv_u32(&w, "llama.embedding_length", D);
    kv_u32(&w, "llama.feed_forward_length", DFF);
    kv_u32(&w, "llama.attention.head_count", H);
    kv_u32(&w, "llama.attention.head_count_kv", HKV);
    kv_u32(&w, "llama.context_length", CTX);
    kv_u32(&w, "llama.vocab_size", V);
    kv_u32(&w, "llama.rope.dimension_count", DH);
    kv_f32(&w, "llama.attention.layer_norm_rms_epsilon", 1e-5f);
    /* rope.freq_base left out: the adapter's default 10000 is the fixture's rope_theta */
    uint64_t off = 0;
    for (int i = 0; i <= n; i++) {
        const int bias_slot = i == n;
        if (bias_slot && var != WITH_BIAS) break;
        if (i == skip) continue;
        const char *name = bias_slot ? "blk.0.attn_q.bias" : t[i].name;
        uint64_t d0 = bias_slot ? H * DH : t[i].dims[0], d1 = bias_slot ? 1 : t[i].dims[1];
        int nd = bias_slot ? 1 : t[i].n_dims;
        if (var == BAD_SHAPE && !bias_slot && strcmp(name, "blk.0.attn_k.weight") == 0) d1 = 24;
        put_str(&w, name);
        put_u32(&w, (uint32_t)nd);
        put_u64(&w, d0);
        if (nd == 2) put_u64(&w, d1);
        put_u32(&w, 0); /* F32 */
        put_u64(&w, off);
        off += (d0 * d1 * 4 + 31) / 32 * 32;
    }
    while (w.n % 32) put(&w, "", 1);
    for (int i = 0; i <= n; i++) {
        const int bias_slot = i == n;
        if (bias_slot && var != WITH_BIAS) break;
        if (i == skip) continue;
        uint64_t d0 = bias_slot ? H * DH : t[i].dims[0], d1 = bias_slot ? 1 : t[i].dims[1];
        if (var == BAD_SHAPE && !bias_slot && strcmp(t[i].name, "blk.0.attn_k.weight") == 0) d1 = 24;
        const float *src = bias_slot ? bias : t[i].data;
        if (var == BAD_SHAPE && d1 == 24) { /* 24 rows: the 16 real ones, then 8 zero rows */
            static const float zeros[8 * D] = {0};
            put(&w, src, (size_t)16 * D * 4);
            put(&w, zeros, sizeof zeros);
        } else {
            put(&w, src, (size_t)(d0 * d1 * 4));
        }
        while (w.n % 32) put(&w, "", 1);
    }
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(w.b, 1, w.n, f) != w.n || fclose(f) != 0) {
        fprintf(stderr, "cannot write %s\n", path);
        exit(1);
    }
    free(w.b);
}

/* ------------------------------------------------------------------------- the tiny llama as GGUF */

/* The HF tensors of the tiny llama in GGUF layout; *perm_bufs holds the permuted Q/K copies. */
static int gguf_tensors(const ss_safetensors *sf, gtensor *t, float **perm_bufs)
{
    int n = 0, np = 0;
    const int64_t dq[2] = {H * DH, D}, dk[2] = {HKV * DH, D};
#define ADD(g, hf, nd, a, b)                                                                                           \
    do {                                                                                                               \
        const int64_t dd[2] = {a, b};                                                                                  \
        const float *p = NULL;                                                                                         \
        if (ss_st_get_f32(sf, hf, nd, dd, &p) != SS_OK) {                                                              \
            fprintf(stderr, "%s\n", ss_errmsg());                                                                      \
            exit(1);                                                                                                   \
        }                                                                                                              \
        snprintf(t[n].name, sizeof t[n].name, "%s", g);                                                                \
        t[n].n_dims = nd;                                                                                              \
        t[n].dims[0] = (uint64_t)(nd == 2 ? b : a);                                                                    \
        t[n].dims[1] = (uint64_t)(nd == 2 ? a : 1);                                                                    \
        t[n].data = p;                                                                                                 \
        n++;                                                                                                           \
    } while (0)
    ADD("token_embd.weight", "model.embed_tokens.weight", 2, V, D);
    for (int l = 0; l < L; l++) {
        char g[64], h[96];
#define LAYER(gs, hs, nd, a, b)                                                                                        \
    do {                                                                                                               \
        snprintf(g, sizeof g, "blk.%d.%s.weight", l, gs);                                                              \
        snprintf(h, sizeof h, "model.layers.%d.%s.weight", l, hs);                                                     \
        ADD(g, h, nd, a, b);                                                                                           \
    } while (0)
        LAYER("attn_norm", "input_layernorm", 1, D, 0);
        LAYER("attn_q", "self_attn.q_proj", 2, dq[0], dq[1]);
        LAYER("attn_k", "self_attn.k_proj", 2, dk[0], dk[1]);
        /* llama.cpp's permute of the two just added: GGUF row h·d_h + 2i + p = HF row h·d_h + p·d_h/2 + i */
        for (int which = 0; which < 2; which++) {
            gtensor *x = &t[n - 2 + which];
            const int heads = which ? HKV : H, rows = heads * DH;
            float *pb = malloc((size_t)rows * D * sizeof *pb);
            if (!pb) exit(1);
            for (int hh = 0; hh < heads; hh++)
                for (int i = 0; i < DH / 2; i++)
                    for (int p = 0; p < 2; p++)
                        memcpy(pb + (size_t)(hh * DH + 2 * i + p) * D, x->data + (size_t)(hh * DH + p * DH / 2 + i) * D,
                               D * sizeof *pb);
            x->data = pb;
            perm_bufs[np++] = pb;
        }
        LAYER("attn_v", "self_attn.v_proj", 2, HKV * DH, D);
        LAYER("attn_output", "self_attn.o_proj", 2, D, H * DH);
        LAYER("ffn_norm", "post_attention_layernorm", 1, D, 0);
        LAYER("ffn_gate", "mlp.gate_proj", 2, DFF, D);
        LAYER("ffn_up", "mlp.up_proj", 2, DFF, D);
        LAYER("ffn_down", "mlp.down_proj", 2, D, DFF);
#undef LAYER
    }
    ADD("output_norm.weight", "model.norm.weight", 1, D, 0);
#undef ADD
    return n;
}

/* Max |fixture − ours| over a nested JSON array in row-major order; -1 when the count differs. */
static void walk(const json_t *j, const float *ours, size_t n, size_t *count, double *maxd)
{
    if (json_is_array(j)) {
        size_t i;
        const json_t *e;
        json_array_foreach(j, i, e) walk(e, ours, n, count, maxd);
        return;
    }
    if (*count < n) {
        double d = fabs(json_number_value(j) - (double)ours[*count]);
        if (!(d <= *maxd)) *maxd = d;
    }
    (*count)++;
}

static double cmp(const json_t *obj, const char *field, const float *ours, size_t n)
{
    size_t count = 0;
    double maxd = 0.0;
    walk(json_object_get(obj, field), ours, n, &count, &maxd);
    CHECK_MSG(count == n, "field '%s': %zu numbers, expected %zu", field, count, n);
    return count == n ? maxd : INFINITY;
}

/* Loading a broken file fails with status want and a message holding the file and needle. */
static void expect_fail(const char *path, const gtensor *t, int n, variant var, ss_status want, const char *needle)
{
    write_gguf(path, t, n, var);
    ss_model *m = NULL;
    ss_status st = ss_model_load_weights_only(path, &m);
    const char *msg = ss_errmsg();
    printf("broken file (variant %d): %s: %s\n", (int)var, ss_status_name(st), msg);
    CHECK_MSG(st == want && m == NULL, "variant %d: status %s", (int)var, ss_status_name(st));
    CHECK_MSG(strstr(msg, path) && strstr(msg, needle), "variant %d: message '%s' lacks '%s'", (int)var, msg, needle);
    ss_model_free(m);
}

int main(void)
{
    const char *src = test_env("SS_SOURCE_DIR", NULL);
    if (!src) SKIP("SS_SOURCE_DIR is not set (CTest sets it)");
    char dir[4096], path[4200], gpath[4200];
    snprintf(dir, sizeof dir, "%s/tests/fixtures/tiny/llama", src);
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    ss_safetensors *sf = NULL;
    if (ss_st_open(path, &sf) != SS_OK) SKIP("fixture %s is absent: %s", path, ss_errmsg());
    snprintf(path, sizeof path, "%s/expected.json", dir);
    json_error_t jerr;
    json_t *root = json_load_file(path, 0, &jerr);
    if (!root) SKIP("fixture %s: %s", path, jerr.text);
    snprintf(gpath, sizeof gpath, "%s/ss_gguf_adapter_%ld.gguf", test_env("TMPDIR", "/tmp"), (long)getpid());

    gtensor t[2 + 9 * L];
    float *perm[2 * L];
    const int n = gguf_tensors(sf, t, perm);
    write_gguf(gpath, t, n, OK_FILE);

    /* probe */
    ss_model_info info;
    CHECK_MSG(ss_model_probe(gpath, &info) == SS_OK, "probe: %s", ss_errmsg());
    CHECK_STREQ(info.arch, "llama");
    CHECK_STREQ(info.pos_encoding, "rope");
    CHECK(info.n_layers == L && info.n_heads == H && info.n_kv_heads == HKV && info.d_model == D && info.d_head == DH);
    CHECK(info.d_ff == DFF && info.n_vocab == V && info.max_positions == CTX && info.causal == 1);
    CHECK(info.bos_id == -1 && info.eos_id == -1 && info.default_bos == SS_BOS_NONE);

    /* hash: the plain sha256 of the file */
    char hex[65], want[65];
    FILE *f = fopen(gpath, "rb");
    ss_sha256 *h = ss_sha256_new();
    unsigned char chunk[4096];
    size_t got;
    while (f && h && (got = fread(chunk, 1, sizeof chunk, f)) > 0) ss_sha256_update(h, chunk, got);
    if (f) fclose(f);
    if (h) ss_sha256_final(h, want);
    CHECK(ss_model_hash(gpath, hex) == SS_OK);
    CHECK_STREQ(hex, want);

    /* the full load needs the tokenizer, which this file does not have */
    ss_model *m = NULL;
    ss_status st = ss_model_load(gpath, &m);
    CHECK(st == SS_ERR_FORMAT && m == NULL && strstr(ss_errmsg(), "tokenizer.ggml.model"));

    st = ss_model_load_weights_only(gpath, &m);
    CHECK_MSG(st == SS_OK, "load: %s", ss_errmsg());
    if (st == SS_OK) {
        const char *wn = NULL, *wt = NULL;
        CHECK(ss_model_n_weights(m) == n);
        for (int i = 0; i < ss_model_n_weights(m); i++) {
            CHECK(ss_model_weight(m, i, &wn, &wt) == 1);
            CHECK_STREQ(wt, "F32");
        }
        CHECK(ss_model_weight(m, 1, &wn, &wt) == 1);
        CHECK_STREQ(wn, "blk.0.attn_norm.weight");
        double worst = 0.0;
        const json_t *seqs = json_object_get(root, "sequences");
        for (size_t k = 0; k < json_array_size(seqs); k++) {
            const json_t *seq = json_array_get(seqs, k), *jids = json_object_get(seq, "ids");
            const int T = (int)json_array_size(jids);
            int32_t ids[64];
            for (int i = 0; i < T && i < 64; i++) ids[i] = (int32_t)json_integer_value(json_array_get(jids, (size_t)i));
            ss_capture cap;
            if (ss_model_forward(m, ids, T, &cap) != SS_OK) {
                CHECK_MSG(0, "forward: %s", ss_errmsg());
                continue;
            }
            const size_t td = (size_t)T * D, qn = (size_t)L * H * T * DH, kn = (size_t)L * HKV * T * DH;
            double d[3] = {cmp(seq, "attentions", cap.attn, (size_t)L * H * T * T),
                           cmp(seq, "hidden_states", cap.hidden, (size_t)(L + 1) * td),
                           cmp(seq, "last_layer_output", cap.hidden_prenorm, td)};
            printf("tiny llama from GGUF, seq %zu (T=%d): attentions %.3g hidden_states %.3g last_layer_output %.3g\n",
                   k, T, d[0], d[1], d[2]);
            for (int i = 0; i < 3; i++) worst = fmax(worst, d[i]);
            const json_t *capj = json_object_get(seq, "capture");
            if (capj) {
                double c[4] = {cmp(capj, "q_pre", cap.q_pre, qn), cmp(capj, "q", cap.q, qn),
                               cmp(capj, "k_pre", cap.k_pre, kn), cmp(capj, "k", cap.k, kn)};
                printf("  capture in Hugging Face's column order: q_pre %.3g q %.3g k_pre %.3g k %.3g\n", c[0], c[1],
                       c[2], c[3]);
                for (int i = 0; i < 4; i++) worst = fmax(worst, c[i]);
            }
            ss_capture_free(&cap);
        }
        CHECK_MSG(worst <= TOL, "tiny llama from GGUF: max abs diff %g > %g", worst, TOL);
        ss_model_free(m);
    }

    expect_fail(gpath, t, n, BAD_ARCH, SS_ERR_INPUT, "general.architecture 'gpt2'");
    expect_fail(gpath, t, n, NO_BLOCK_COUNT, SS_ERR_FORMAT, "llama.block_count");
    expect_fail(gpath, t, n, NO_TENSOR, SS_ERR_FORMAT, "blk.1.ffn_up.weight");
    expect_fail(gpath, t, n, BAD_SHAPE, SS_ERR_FORMAT, "blk.0.attn_k.weight");
    expect_fail(gpath, t, n, WITH_BIAS, SS_ERR_INPUT, "blk.0.attn_q.bias");

    remove(gpath);
    for (int i = 0; i < 2 * L; i++) free(perm[i]);
    ss_st_free(sf);
    json_decref(root);
    TEST_END();
}
