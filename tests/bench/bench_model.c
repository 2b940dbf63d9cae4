/* bench_model.c: forward-with-capture throughput of any model sinkscope loads, at a fixed length T.
 *
 * usage: bench_model MODEL T [--prompts P] [--repeat R]
 * MODEL is a Hugging Face directory or a .gguf file. P sequences of T random token ids (seeded, the
 * same ids tests/bench/hf_forward_bench.py draws) run one at a time, as a sweep does; one untimed
 * warm-up, then the best of R timed passes. Prints one line:
 *   sinkscope_forward model=<arch> T=<T> prompts=<P> tokens_per_s=<x> gflops=<achieved> threads=<n>
 *                     peak_rss_mb=<max resident set> capture_mb=<capture buffers of one prompt>
 * GFLOP/s counts the matrix products only (projections, Q.K^T and P.V over the unmasked query-key pairs,
 * the FFN; no logits), which is what cblas_sgemm's peak (bench_sgemm) is comparable with. */
#define _POSIX_C_SOURCE 200809L
#include <cblas.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "model/model.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* The ids hf_forward_bench.py uses: x_{k+1} = (x_k * 6364136223846793005 + 1442695040888963407) mod 2^64,
 * id = 3 + (x >> 33) mod (V - 3), seeded with 12345 + prompt index. */
static void draw_ids(int32_t *ids, int T, int V, int p)
{
    uint64_t x = 12345u + (uint64_t)p;
    for (int t = 0; t < T; t++) {
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        ids[t] = 3 + (int32_t)((x >> 33) % (uint64_t)(V - 3));
    }
}

static double flops(const ss_model_info *in, int T)
{
    const double d = in->d_model, dh = in->d_head, H = in->n_heads, Hkv = in->n_kv_heads, ff = in->d_ff;
    const int gated = !strcmp(in->arch, "llama") || !strcmp(in->arch, "gemma3");
    /* query-key pairs that enter Q.K^T and P.V: all T^2 bidirectional; the T(T+1)/2 unmasked ones under
     * a causal mask (the block-causal kernel skips the masked keys; counting them would inflate the rate) */
    const double pairs = in->causal ? 0.5 * T * (T + 1.0) : (double)T * T;
    double per_layer = 2.0 * T * d * (H * dh + 2 * Hkv * dh) /* Q, K, V */ + 2.0 * T * (H * dh) * d /* O */
                       + 4.0 * pairs * H * dh /* Q.K^T and P.V */ + 2.0 * T * d * ff * (gated ? 3 : 2);
    return per_layer * in->n_layers;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: bench_model MODEL T [--prompts P] [--repeat R]\n");
        return 2;
    }
    const char *path = argv[1];
    int T = atoi(argv[2]), P = 4, R = 3;
    for (int i = 3; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--prompts")) P = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--repeat")) R = atoi(argv[i + 1]);
    }
    if (T < 1 || P < 1 || R < 1) {
        fprintf(stderr, "bench_model: T, P and R must be >= 1\n");
        return 2;
    }
    ss_model *m = NULL;
    if (ss_model_load_weights_only(path, &m) != SS_OK) {
        fprintf(stderr, "bench_model: %s\n", ss_errmsg());
        return 1;
    }
    const ss_model_info *in = ss_model_get_info(m);
    if (T > in->max_positions) {
        fprintf(stderr, "bench_model: T=%d exceeds the model's %d positions\n", T, in->max_positions);
        return 2;
    }
    int32_t *ids = malloc((size_t)P * T * sizeof *ids); /* [P][T] */
    if (!ids) return 1;
    for (int p = 0; p < P; p++) draw_ids(ids + (size_t)p * T, T, in->n_vocab, p);
    double best = 1e30, cap_mb = 0;
    for (int r = 0; r <= R; r++) {
        double t0 = now();
        for (int p = 0; p < P; p++) {
            ss_capture cap;
            if (ss_model_forward(m, ids + (size_t)p * T, T, &cap) != SS_OK) {
                fprintf(stderr, "bench_model: %s\n", ss_errmsg());
                return 1;
            }
            const double L = cap.n_layers, H = cap.n_heads, Hkv = cap.n_kv_heads, dh = cap.d_head, d = cap.d_model;
            cap_mb = 4.0 * (L * H * T * (double)T + (L + 1) * T * d + 2 * L * H * T * dh + 3 * L * Hkv * T * dh +
                            L * T * d) / 1e6;
            ss_capture_free(&cap);
        }
        double dt = now() - t0;
        if (r > 0 && dt < best) best = dt; /* r = 0 is the warm-up */
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("sinkscope_forward model=%s T=%d prompts=%d tokens_per_s=%.1f gflops=%.2f threads=%d peak_rss_mb=%.0f "
           "capture_mb=%.1f\n",
           in->arch, T, P, P * (double)T / best, P * flops(in, T) / best / 1e9, openblas_get_num_threads(),
           ru.ru_maxrss / 1024.0, cap_mb);
    free(ids);
    ss_model_free(m);
    return 0;
}
