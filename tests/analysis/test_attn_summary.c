/* test_attn_summary.c: the analyses that declare attn_summary_ok (sink_rate, top_keys) give the same bits from a
 * summary capture (attention maps left on the device: capture.h attn NULL, col_mean and alpha set) as from the
 * full capture, on a plain decoder (tiny Llama) and one with sliding windows (tiny Gemma-3); ss_capture_validate
 * accepts the summaries and rejects a corrupted one (negative, NaN, columns that do not average to 1). Every
 * other analysis does not declare it (so those tasks keep their maps). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis.h"
#include "model/model.h"
#include "sink.h"
#include "sweep.h"
#include "test_util.h"

static void run(const char *src, const char *arch)
{
    char path[512], yaml[1024];
    snprintf(path, sizeof path, "%.400s/tests/fixtures/tiny/%.20s", src, arch);
    ss_model *m = NULL;
    CHECK_MSG(ss_model_load_weights_only(path, &m) == SS_OK, "%s: %s", arch, ss_errmsg());
    if (!m) return;
    const ss_model_info *in = ss_model_get_info(m);
    const int T = in->max_positions < 23 ? in->max_positions : 23;
    snprintf(yaml, sizeof yaml,
             "name: t\ngrid:\n  model: [{name: m, path: '%.500s'}]\n  prompts: [{name: r, generator: random, count: 1, "
             "length: %d}]\n  encoding: [native]\nanalyses:\n  - {name: s, type: sink_rate, epsilon: [0.05, 0.3], "
             "k_store: 3}\n  - {name: k, type: top_keys}\n",
             path, T);
    ss_sweep *s = NULL;
    ss_diags dg = {0};
    if (ss_sweep_parse(yaml, strlen(yaml), "t.yaml", &s, &dg) != SS_OK) {
        ss_diags_print(&dg, "t.yaml", stderr);
        CHECK_MSG(0, "%s: the test sweep does not parse", arch);
        ss_model_free(m);
        return;
    }
    int32_t ids[64];
    for (int t = 0; t < T; t++) ids[t] = (int32_t)((t * 37 + 5) % in->n_vocab);
    ss_capture cap;
    CHECK(ss_model_forward(m, ids, T, &cap) == SS_OK);
    const ss_model_dims dims = {in->n_layers, in->n_heads, T, in->causal};
    const int L = cap.n_layers, H = cap.n_heads;
    /* the summaries, as the device computes them (backend.h attn_summary: these functions) */
    float *cm = malloc((size_t)L * H * T * sizeof *cm), *al = malloc((size_t)L * H * T * sizeof *al); /* [L][H][T] */
    for (int l = 0; l < L; l++)
        for (int h = 0; h < H; h++) {
            const float *A = cap.attn + ((size_t)l * H + h) * T * T;
            ss_column_mean(A, T, cm + ((size_t)l * H + h) * T);
            ss_column_importance_window(A, T, cap.causal, ss_capture_window(&cap, l), al + ((size_t)l * H + h) * T);
        }
    ss_capture sum = cap;
    sum.attn = NULL;
    sum.col_mean = cm;
    sum.alpha = al;
    CHECK_MSG(ss_capture_validate(&sum, &dims) == SS_OK, "%s: %s", arch, ss_errmsg());
    for (int a = 0; a < s->n_analyses; a++) {
        const ss_analysis_type *ty = ss_analysis_find(s->analyses[a].type);
        CHECK(ty->attn_summary_ok);
        ss_dataset_decl decl[SS_MAX_DATASETS];
        int nd = 0;
        CHECK(ty->declare(&s->analyses[a], &dims, decl, &nd) == SS_OK);
        void *full[SS_MAX_DATASETS] = {0}, *part[SS_MAX_DATASETS] = {0};
        size_t bytes[SS_MAX_DATASETS];
        for (int k = 0; k < nd; k++) {
            bytes[k] = ss_dataset_elems(&decl[k]) * ss_dataset_dtype_size(decl[k].dtype);
            full[k] = malloc(bytes[k]);
            part[k] = malloc(bytes[k]);
            memset(full[k], 0xff, bytes[k]); /* the runner's fill (NaN / -1) */
            memset(part[k], 0xff, bytes[k]);
        }
        CHECK(ty->compute(&s->analyses[a], &dims, &cap, full) == SS_OK);
        CHECK(ty->compute(&s->analyses[a], &dims, &sum, part) == SS_OK);
        for (int k = 0; k < nd; k++) {
            CHECK_MSG(memcmp(full[k], part[k], bytes[k]) == 0, "%s %s/%s: summary result differs", arch, ty->type,
                      decl[k].name);
            free(full[k]);
            free(part[k]);
        }
    }
    /* corrupted summaries are refused */
    const float keep = cm[1];
    cm[1] = -0.5f;
    CHECK(ss_capture_validate(&sum, &dims) == SS_ERR_RANGE);
    cm[1] = NAN;
    CHECK(ss_capture_validate(&sum, &dims) == SS_ERR_RANGE);
    cm[1] = keep + 0.01f; /* the column means of that head no longer average to 1 */
    CHECK(ss_capture_validate(&sum, &dims) == SS_ERR_RANGE);
    cm[1] = keep;
    CHECK(ss_capture_validate(&sum, &dims) == SS_OK);
    printf("ok %s: T=%d, %d analyses equal from summaries\n", arch, T, s->n_analyses);
    free(cm);
    free(al);
    ss_capture_free(&cap);
    ss_sweep_free(s);
    ss_model_free(m);
}

int main(void)
{
    const char *src = getenv("SS_SOURCE_DIR");
    if (!src) SKIP("SS_SOURCE_DIR is not set (run through ctest)");
    run(src, "llama");
    run(src, "gemma3");
    /* only these two read summaries; everything else needs the maps */
    const ss_analysis_type *const *all = ss_analysis_all();
    int n_ok = 0;
    for (int a = 0; all[a]; a++) n_ok += all[a]->attn_summary_ok;
    CHECK_MSG(n_ok == 2, "%d analyses claim attn_summary_ok", n_ok);
    TEST_END();
}
