/* bench_analyses.c: what each analysis costs next to the forward pass that feeds it.
 *
 * usage: bench_analyses MODEL T [--prompts P] [--backend cpu|cuda] [--no-tokenizer] [--default-only] [--summaries]
 * Runs P prompts of T random token ids (the ids of bench_model) through MODEL with capture, then every
 * registered analysis with its default parameters on each capture, and prints per analysis the mean
 * milliseconds per prompt and the ratio to the forward pass, and the totals of the default set
 * (sink_rate, top_keys, reference_tokens, attention_graph, attention_geometry: what the report's main table
 * needs; experiments/README.md) and of the opt-in rest, then the tokens/s of the forward pass alone and of the
 * forward pass plus the default set. --backend runs the forward passes on that backend (backend.h; the capture
 * comes back to the host, where the analyses run); --no-tokenizer loads a model without tokenizer files
 * (make_shape_model's); --default-only skips the opt-in analyses (long prompts: spectral, topology); --summaries runs
 * only the analyses that read attention summaries (sink_rate, top_keys) as summary passes (on a device the maps
 * stay there: model.h ss_model_set_attn_summaries). */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "analysis.h"
#include "backend.h"
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
        fprintf(stderr, "usage: bench_analyses MODEL T [--prompts P] [--backend cpu|cuda] [--no-tokenizer] [--default-only] [--summaries]\n");
        return 2;
    }
    const char *path = argv[1];
    const int T = atoi(argv[2]);
    int P = 8, no_tok = 0, default_only = 0, summaries = 0;
    ss_backend_choice choice = SS_BACKEND_CPU;
    for (int i = 3; i < argc; i++) {
        if (!strcmp(argv[i], "--prompts") && i + 1 < argc) P = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--backend") && i + 1 < argc) choice = !strcmp(argv[++i], "cuda") ? SS_BACKEND_CUDA : SS_BACKEND_CPU;
        else if (!strcmp(argv[i], "--no-tokenizer")) no_tok = 1;
        else if (!strcmp(argv[i], "--default-only")) default_only = 1;
        else if (!strcmp(argv[i], "--summaries")) summaries = 1;
    }
    ss_model *m = NULL;
    if ((no_tok ? ss_model_load_weights_only(path, &m) : ss_model_load(path, &m)) != SS_OK) {
        fprintf(stderr, "bench_analyses: %s\n", ss_errmsg());
        return 1;
    }
    const ss_backend *be = NULL;
    char why[256] = "";
    if (ss_backend_select(choice, &be, why, sizeof why) != SS_OK || ss_backend_bind(be, 0) != SS_OK ||
        ss_model_set_backend(m, be) != SS_OK) {
        fprintf(stderr, "bench_analyses: %s\n", ss_errmsg());
        return 77;
    }
    const ss_model_info *in = ss_model_get_info(m);
    /* every registered analysis with its defaults, through the sweep parser */
    char yaml[8192];
    int o = snprintf(yaml, sizeof yaml,
                     "name: bench\ngrid:\n  model: [{name: m, path: '%s'}]\n  prompts: [{name: r, generator: random, "
                     "count: 1, length: %d}]\n  encoding: [native]\nanalyses:\n",
                     path, T);
    const ss_analysis_type *const *all = ss_analysis_all();
    for (int a = 0; all[a]; a++)
        if ((!default_only || !is_optin(all[a]->type)) && (!summaries || all[a]->attn_summary_ok)) o += snprintf(yaml + o, sizeof yaml - (size_t)o, "  - {name: a%d, type: %s}\n", a, all[a]->type);
    ss_sweep *s = NULL;
    ss_diags diags = {0};
    if (ss_sweep_parse(yaml, strlen(yaml), "bench.yaml", &s, &diags) != SS_OK) {
        ss_diags_print(&diags, "bench.yaml", stderr);
        return 1;
    }
    ss_model_set_attn_summaries(m, summaries);
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
            const ss_status st = ty->compute(&s->analyses[a], &dims, &cap, &bufs[a * SS_MAX_DATASETS]);
            if (st == SS_ERR_UNSUPPORTED) { /* does not apply to this model (fisher on an encoder): no cost */
                if (p == 0) printf("  %-20s skipped: %s\n", ty->type, ss_errmsg());
                continue;
            }
            if (st != SS_OK) {
                fprintf(stderr, "bench_analyses: %s: %s\n", ty->type, ss_errmsg());
                return 1;
            }
            if (p > 0) cost[a] += now() - t0;
        }
        ss_capture_free(&cap);
    }
    printf("model=%s T=%d prompts=%d backend=%s (%s) forward_ms=%.2f (per prompt)\n", in->arch, T, P,
           ss_backend_name(be), why, 1e3 * t_fwd / P);
    double def = 0.0, opt = 0.0;
    for (int a = 0; a < NA; a++) {
        const char *ty = s->analyses[a].type;
        printf("  %-20s %8.2f ms  %6.1f%% of the forward%s\n", ty, 1e3 * cost[a] / P, 100.0 * cost[a] / t_fwd,
               is_optin(ty) ? "  (opt-in)" : "");
        if (is_optin(ty)) opt += cost[a];
        else def += cost[a];
    }
    printf("default_set_ratio=%.3f optin_set_ratio=%.3f\n", def / t_fwd, opt / t_fwd);
    printf("tokens_per_s model=%s backend=%s T=%d%s forward=%.1f forward+%s=%.1f\n", in->arch, ss_backend_name(be), T,
           summaries ? " summaries" : "", (double)T * P / t_fwd, summaries ? "sink_rate,top_keys" : "default",
           (double)T * P / (t_fwd + def));
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) free(bufs[i]);
    free(cost);
    free(ids);
    ss_sweep_free(s);
    ss_model_free(m);
    return 0;
}
