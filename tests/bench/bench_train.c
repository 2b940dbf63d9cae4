/* bench_train.c: training tokens per second of the sinkscope trainer (engine/train/): forward, backward,
 * gradient clipping and an AdamW update per step on random byte windows, as `sinkscope train` runs them
 * (tests/bench/bench_train_torch.py times the same model and step in PyTorch and prints the ratio).
 *
 * Usage: bench_train [--layers L] [--d D] [--heads H] [--ctx T] [--batch B] [--steps N] [--threads K]
 *                    [--posenc learned|sinusoidal|rope|alibi|none] [--post-ln]
 * Defaults: 4 layers, d 128, 4 heads, ctx 128, batch 16, 20 timed steps after 3 warm-up steps, 1 thread.
 * Prints one line:
 *   sinkscope_train tokens_per_s=<x> step_ms=<ms> params=<n> layers=.. d=.. heads=.. ctx=.. batch=.. threads=..
 * Exit: 0 ok, 1 failure, 2 usage. */
#include <cblas.h> /* openblas_set_num_threads */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "model/encoding.h" /* ss_splitmix64 */
#include "train/model.h"
#include "train/optim.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * ts.tv_nsec;
}

int main(int argc, char **argv)
{
    int layers = 4, d = 128, heads = 4, ctx = 128, batch = 16, steps = 20, threads = 1, post = 0;
    ss_tr_posenc pe = SS_TR_PE_LEARNED;
    static const char *const pes[] = {"learned", "sinusoidal", "rope", "alibi", "none"};
    for (int i = 1; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        int *target = !strcmp(argv[i], "--layers")  ? &layers
                      : !strcmp(argv[i], "--d")       ? &d
                      : !strcmp(argv[i], "--heads")   ? &heads
                      : !strcmp(argv[i], "--ctx")     ? &ctx
                      : !strcmp(argv[i], "--batch")   ? &batch
                      : !strcmp(argv[i], "--steps")   ? &steps
                      : !strcmp(argv[i], "--threads") ? &threads
                                                      : NULL;
        if (target && v) {
            *target = atoi(v);
            i++;
        } else if (!strcmp(argv[i], "--posenc") && v) {
            int k = 0;
            while (k < 5 && strcmp(v, pes[k]) != 0) k++;
            if (k == 5) {
                fprintf(stderr, "bench_train: unknown posenc '%s'\n", v);
                return 2;
            }
            pe = (ss_tr_posenc)k;
            i++;
        } else if (!strcmp(argv[i], "--post-ln")) {
            post = 1;
        } else {
            fprintf(stderr, "usage: bench_train [--layers L] [--d D] [--heads H] [--ctx T] [--batch B] [--steps N] "
                            "[--threads K] [--posenc P] [--post-ln]\n");
            return 2;
        }
    }
    openblas_set_num_threads(threads);
    ss_tr_arch a = {.n_layers = layers, .d_model = d, .n_heads = heads, .d_ff = 4 * d, .n_ctx = ctx, .n_vocab = 256,
                    .pe = pe, .post_ln = post, .ln_eps = 1e-5f, .bos_id = -1};
    ss_tr_optim_cfg oc = {.lr = 1e-3, .lr_min = 1e-4, .warmup = 0, .steps = steps + 3, .beta1 = 0.9, .beta2 = 0.95,
                          .eps = 1e-8, .weight_decay = 0.1, .clip = 1.0};
    ss_tr_layout L;
    if (ss_tr_layout_init(&L, &a) != SS_OK) {
        fprintf(stderr, "bench_train: %s\n", ss_errmsg());
        return 2;
    }
    size_t n = L.n_params;
    float *p = malloc(n * sizeof *p), *g = malloc(n * sizeof *g), *m = calloc(n, sizeof *m), *v = calloc(n, sizeof *v);
    int32_t *ids = malloc((size_t)batch * ctx * sizeof *ids), *tg = malloc((size_t)batch * ctx * sizeof *tg);
    ss_tr_work_f *w = NULL;
    if (!p || !g || !m || !v || !ids || !tg || ss_tr_work_new_f(&L, batch, ctx, &w) != SS_OK) {
        fprintf(stderr, "bench_train: out of memory\n");
        return 1;
    }
    ss_tr_init_params(&L, p, 1);
    uint64_t rng = 42;
    double t0 = 0.0, sink = 0.0;
    for (int s = 0; s < steps + 3; s++) {
        if (s == 3) t0 = now(); /* 3 untimed warm-up steps */
        for (int i = 0; i < batch * ctx; i++) ids[i] = (int32_t)(ss_splitmix64(&rng) & 255), tg[i] = (int32_t)(ss_splitmix64(&rng) & 255);
        memset(g, 0, n * sizeof *g);
        sink += ss_tr_forward_f(&L, p, w, ids, tg, batch, ctx);
        ss_tr_backward_f(&L, p, g, w, ids, tg, batch, ctx);
        ss_tr_clip_grads(g, n, oc.clip);
        ss_tr_adamw_step(&L, &oc, p, g, m, v, s + 1, ss_tr_lr_at(&oc, s));
    }
    double dt = now() - t0;
    printf("sinkscope_train tokens_per_s=%.1f step_ms=%.2f params=%zu layers=%d d=%d heads=%d ctx=%d batch=%d "
           "threads=%d posenc=%s%s loss=%.3f\n",
           (double)steps * batch * ctx / dt, 1e3 * dt / steps, n, layers, d, heads, ctx, batch, threads, pes[pe],
           post ? " post_ln" : "", sink / (steps + 3));
    ss_tr_work_free_f(w);
    ss_tr_layout_free(&L);
    free(p), free(g), free(m), free(v), free(ids), free(tg);
    return 0;
}
