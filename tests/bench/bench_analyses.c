/* bench_analyses.c: what each analysis costs next to the forward pass that feeds it.
 *
 * usage: bench_analyses MODEL T [--prompts P]
 * Runs P prompts of T random token ids (the ids of bench_model) through MODEL with capture, then every
 * registered analysis with its default parameters on each capture, and prints per analysis the mean
 * milliseconds per prompt and the ratio to the forward pass, and the totals of the default set
 * (sink_rate, top_keys, reference_tokens, attention_graph, attention_geometry: what the report's main table
 * needs; experiments/README.md) and of the opt-in rest. */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "analysis.h"
#include "model/model.h"
#include "sweep.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static const char *const g_default[] = {"sink_rate", "top_keys", "reference_tokens", "attention_graph",
                                        "attention_geometry"};

static int is_optin(const char *type)
{
    for (size_t i = 0; i < sizeof g_default / sizeof g_default[0]; i++)
        if (!strcmp(type, g_default[i])) return 0;
    return 1;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: bench_analyses MODEL T [--prompts P]\n");
        return 2;
    }
    const char *path = argv[1];
    const int T = atoi(argv[2]);
    int P = 8;
    for (int i = 3; i + 1 < argc; i += 2)
        if (!strcmp(argv[i], "--prompts")) P = atoi(argv[i + 1]);
    ss_model *m = NULL;
    if (ss_model_load(path, &m) != SS_OK) {
        fprintf(stderr, "bench_analyses: %s\n", ss_errmsg());
        return 1;
    }
    const ss_model_info *in = ss_model_get_info(m);
    /* every registered analysis with its defaults, through the sweep parser */
    char yaml[8192];
    int o = snprintf(yaml, sizeof yaml,
                     "name: bench\ngrid:\n  model: [{name: m, path: '%s'}]\n  prompts: [{name: r, generator: random, "
                     "count: 1, length: %d}]\n  encoding: [native]\nanalyses:\n",
                     path, T);
    const ss_analysis_type *const *all = ss_analysis_all();
    for (int a = 0; all[a]; a++) o += snprintf(yaml + o, sizeof yaml - (size_t)o, "  - {name: a%d, type: %s}\n", a, all[a]->type);
    ss_sweep *s = NULL;
    ss_diags diags = {0};
    if (ss_sweep_parse(yaml, strlen(yaml), "bench.yaml", &s, &diags) != SS_OK) {
        ss_diags_print(&diags, "bench.yaml", stderr);
        return 1;
    }
    const ss_model_dims dims = {in->n_layers, in->n_heads, T, in->causal};
    const int NA = s->n_analyses;
    double *cost = calloc((size_t)NA, sizeof *cost);
    void *bufs[SS_MAX_DATASETS * 64] = {0};
    double t_fwd = 0.0;
    int32_t *ids = malloc((size_t)T * sizeof *ids);
    if (!cost || !ids || NA > 64) return 1;
    uint64_t x = 12345u;
    for (int p = 0; p <= P; p++) { /* p = 0 is the warm-up */
        for (int t = 0; t < T; t++) {
            x = x * 6364136223846793005ULL + 1442695040888963407ULL;
            ids[t] = 3 + (int32_t)((x >> 33) % (uint64_t)(in->n_vocab - 3));
        }
        ss_capture cap;
        double t0 = now();
        if (ss_model_forward(m, ids, T, &cap) != SS_OK) {
            fprintf(stderr, "bench_analyses: %s\n", ss_errmsg());
            return 1;
        }
        if (p > 0) t_fwd += now() - t0;
        for (int a = 0; a < NA; a++) {
            const ss_analysis_type *ty = ss_analysis_find(s->analyses[a].type);
            ss_dataset_decl decl[SS_MAX_DATASETS];
            int nd = 0;
            if (ty->declare(&s->analyses[a], &dims, decl, &nd) != SS_OK) return 1;
            for (int k = 0; k < nd; k++) {
                void **b = &bufs[a * SS_MAX_DATASETS + k];
                if (!*b) *b = malloc(ss_dataset_elems(&decl[k]) * 4);
                if (!*b) return 1;
            }
            t0 = now();
            if (ty->compute(&s->analyses[a], &dims, &cap, &bufs[a * SS_MAX_DATASETS]) != SS_OK) {
                fprintf(stderr, "bench_analyses: %s: %s\n", ty->type, ss_errmsg());
                return 1;
            }
            if (p > 0) cost[a] += now() - t0;
        }
        ss_capture_free(&cap);
    }
    printf("model=%s T=%d prompts=%d forward_ms=%.2f (per prompt)\n", in->arch, T, P, 1e3 * t_fwd / P);
    double def = 0.0, opt = 0.0;
    for (int a = 0; a < NA; a++) {
        const char *ty = s->analyses[a].type;
        printf("  %-20s %8.2f ms  %6.1f%% of the forward%s\n", ty, 1e3 * cost[a] / P, 100.0 * cost[a] / t_fwd,
               is_optin(ty) ? "  (opt-in)" : "");
        if (is_optin(ty)) opt += cost[a];
        else def += cost[a];
    }
    printf("default_set_ratio=%.3f optin_set_ratio=%.3f\n", def / t_fwd, opt / t_fwd);
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) free(bufs[i]);
    free(cost);
    free(ids);
    ss_sweep_free(s);
    ss_model_free(m);
    return 0;
}
