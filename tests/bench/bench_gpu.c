/* bench_gpu.c: the GPU benchmark skeleton (tests/gpu/run.sh runs it).
 *  1. each CUDA kernel's time, achieved bandwidth and FLOP rate against the H200's limits: 4.8 TB/s HBM3e and
 *     ~67 TFLOP/s FP32 without tensor cores (NVIDIA's H200 SXM datasheet figures);
 *  2. per model shape (SmolLM2-135M: 30 layers, 9/3 heads of 64, d 576, MLP 1536; Gemma-3-1B: 26 layers, 4/1 heads
 *     of 256, d 1152, MLP 6912, local window 512 on 5 of 6 layers) at T = 64, 512, 2048: tokens/s of the GPU part
 *     of one forward+analysis pass: norms, RoPE, activations, attention with P, Sink/top-key/entropy reductions.
 *     The projections and MLP GEMMs are NOT included (cuBLAS is not wired yet): the numbers are an upper bound on
 *     what the GPU forward pass will reach, and say how much the attention-with-P part costs.
 * Exit 77 without a device. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "device.h"
#include "ops.h"
#include "rope.h"

#define H200_BW 4.8e12
#define H200_FP32 67e12

static float *dev_rand(size_t n, unsigned seed)
{
    float *h = malloc(n * 4), *d = NULL;
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1664525u + 1013904223u;
        h[i] = (float)((seed >> 8) * (1.0 / 16777216.0));
    }
    if (ss_cu_malloc((void **)&d, n * 4) || ss_cu_h2d(d, h, n * 4)) {
        fprintf(stderr, "bench_gpu: %s\n", ss_cu_errmsg());
        exit(1);
    }
    free(h);
    return d;
}

static void report(const char *name, float ms, double bytes, double flops)
{
    const double s = ms * 1e-3;
    printf("%-36s %9.4f ms %9.1f GB/s (%5.1f%% HBM) %9.1f GFLOP/s (%5.2f%% FP32)\n", name, ms, bytes / s * 1e-9,
           100 * bytes / s / H200_BW, flops / s * 1e-9, 100 * flops / s / H200_FP32);
}

typedef struct {
    const char *name;
    int L, H, Hk, dh, d, ffn, window, local_every; /* local_every: 6 = 5 local layers then 1 global */
} model;

/* One layer's GPU part at T tokens; returns ms. */
static float layer(const model *m, int T, int local, float **buf)
{
    float ms = 0;
    ss_mha_desc a = {T, m->H, m->Hk, m->dh, 1.0f / sqrtf((float)m->dh), 1, NULL, local ? m->window : 0};
    int e = ss_cu_timer_start();
    e = e || ss_cu_rmsnorm(buf[0], buf[0], buf[1], T, m->d, 1e-6f);
    e = e || ss_cu_rope_apply(buf[2], m->H, T, m->dh, m->dh, SS_ROPE_HALF, buf[5], buf[6]);
    e = e || ss_cu_rope_apply(buf[3], m->Hk, T, m->dh, m->dh, SS_ROPE_HALF, buf[5], buf[6]);
    e = e || ss_cu_mha(&a, buf[7], buf[8], m->H * m->dh, buf[2], buf[3], buf[4]);
    e = e || ss_cu_column_importance(buf[7], m->H, T, 1, a.window, buf[9]);
    e = e || ss_cu_sink_count(buf[9], m->H, T, 0.3f, (int *)buf[10]);
    e = e || ss_cu_argmax_rows(buf[9], m->H, T, T / 2 + 1, (int *)buf[11]);
    e = e || ss_cu_row_entropy(buf[7], m->H * T, T, buf[12]);
    e = e || ss_cu_rmsnorm(buf[0], buf[0], buf[1], T, m->d, 1e-6f);
    e = e || ss_cu_swiglu(buf[13], buf[14], (size_t)T * m->ffn);
    e = e || ss_cu_timer_stop(&ms);
    if (e) fprintf(stderr, "bench_gpu: %s: %s\n", m->name, ss_cu_errmsg());
    return e ? NAN : ms;
}

int main(void)
{
    char why[160];
    if (ss_cuda_device_count(why, sizeof why) <= 0) {
        fprintf(stderr, "SKIP: no CUDA device: %s\n", why);
        return 77;
    }
    char name[96];
    ss_cuda_device_name(0, name, sizeof name);
    printf("bench_gpu on %s; limits: %.1f TB/s HBM, %.0f TFLOP/s FP32 (H200 datasheet)\n", name, H200_BW * 1e-12,
           H200_FP32 * 1e-12);

    /* 1. kernels at one size each */
    const int T = 2048, d = 2048;
    const size_t n = (size_t)T * d;
    float *x = dev_rand(n, 1), *y = dev_rand(n, 2), *g = dev_rand(d, 3), *up = dev_rand(n, 4), ms = 0;
    float *tab = dev_rand((size_t)T * 64, 5);
#define TIME(label, call, bytes, flops)                                                                        \
    do {                                                                                                       \
        if ((call) || ss_cu_sync() || ss_cu_timer_start() || (call) || ss_cu_timer_stop(&ms))                  \
            printf("%-36s failed: %s\n", label, ss_cu_errmsg());                                               \
        else                                                                                                   \
            report(label, ms, bytes, flops);                                                                   \
    } while (0)
    TIME("rmsnorm 2048x2048", ss_cu_rmsnorm(y, x, g, T, d, 1e-6f), 8.0 * n, 4.0 * n);
    TIME("layernorm 2048x2048", ss_cu_layernorm(y, x, g, g, T, d, 1e-5f), 8.0 * n, 7.0 * n);
    TIME("gelu_erf 4M", ss_cu_gelu_erf(y, n), 8.0 * n, 20.0 * n);
    TIME("gelu_tanh 4M", ss_cu_gelu_tanh(y, n), 8.0 * n, 20.0 * n);
    TIME("swiglu 4M", ss_cu_swiglu(y, up, n), 12.0 * n, 20.0 * n);
    TIME("rope 16x2048x128", ss_cu_rope_apply(x, 16, T, 128, 128, SS_ROPE_HALF, tab, tab), 8.0 * n + 8.0 * T * 64,
         6.0 * n / 2);
    const int H = 9;
    float *A = dev_rand((size_t)H * T * T, 6), *al = dev_rand((size_t)H * T, 7), *ent = dev_rand((size_t)H * T, 8);
    TIME("column_importance 9x2048x2048", ss_cu_column_importance(A, H, T, 1, 0, al), 4.0 * H * T * T / 2,
         1.0 * H * T * T / 2);
    TIME("row_entropy 9x2048 rows of 2048", ss_cu_row_entropy(A, H * T, T, ent), 8.0 * H * T * T, 4.0 * H * T * T);
    for (int dh = 64; dh <= 256; dh *= 4) {
        const int Hk = dh == 64 ? 3 : 1, Hq = dh == 64 ? 9 : 4;
        ss_mha_desc a = {T, Hq, Hk, dh, 0.125f, 1, NULL, 0};
        float *q = dev_rand((size_t)Hq * T * dh, 9), *k = dev_rand((size_t)Hk * T * dh, 10);
        float *v = dev_rand((size_t)Hk * T * dh, 11), *out = dev_rand((size_t)T * Hq * dh, 12);
        char label[64];
        snprintf(label, sizeof label, "mha causal T=2048 H=%d/%d d_h=%d", Hq, Hk, dh);
        TIME(label, ss_cu_mha(&a, A, out, Hq * dh, q, k, v), 4.0 * Hq * T * T + 8.0 * Hq * T * dh,
             4.0 * Hq * dh * (double)T * (T + 1) / 2);
        ss_cu_free(q), ss_cu_free(k), ss_cu_free(v), ss_cu_free(out);
    }

    /* 2. model-shaped layers */
    static const model M[] = {{"SmolLM2-135M", 30, 9, 3, 64, 576, 1536, 0, 0},
                              {"Gemma-3-1B", 26, 4, 1, 256, 1152, 6912, 512, 6}};
    static const int Ts[] = {64, 512, 2048};
    printf("\nGPU part of forward+analysis (no GEMMs yet), tokens/s per prompt:\n");
    for (int mi = 0; mi < 2; mi++)
        for (int ti = 0; ti < 3; ti++) {
            const model *m = &M[mi];
            const int Tm = Ts[ti];
            float *buf[15];
            /* x [T][d], gamma [d], q [H][T][d_h], k, v [Hk][T][d_h], cos, sin [T][d_h/2], P [H][T][T],
             * out [T][H·d_h], alpha [H][T], count [T], top [H], entropy [H·T], gate, up [T][ffn] */
            const size_t sz[15] = {(size_t)Tm * m->d, (size_t)m->d, (size_t)m->H * Tm * m->dh,
                                   (size_t)m->Hk * Tm * m->dh, (size_t)m->Hk * Tm * m->dh, (size_t)Tm * m->dh / 2,
                                   (size_t)Tm * m->dh / 2, (size_t)m->H * Tm * Tm, (size_t)Tm * m->H * m->dh, (size_t)m->H * Tm, (size_t)Tm,
                                   (size_t)m->H, (size_t)m->H * Tm, (size_t)Tm * m->ffn, (size_t)Tm * m->ffn};
            for (int b = 0; b < 15; b++) buf[b] = dev_rand(sz[b], 20 + b);
            ss_cu_memset(buf[10], 0, sz[10] * 4);
            layer(m, Tm, 0, buf); /* warm-up */
            double total = 0;
            for (int l = 0; l < m->L; l++) total += layer(m, Tm, m->local_every && (l + 1) % m->local_every != 0, buf);
            printf("%-14s T=%-5d %9.3f ms  %12.0f tokens/s\n", m->name, Tm, total, Tm / (total * 1e-3));
            for (int b = 0; b < 15; b++) ss_cu_free(buf[b]);
        }
    ss_cu_free(x), ss_cu_free(y), ss_cu_free(g), ss_cu_free(up), ss_cu_free(tab), ss_cu_free(A), ss_cu_free(al);
    ss_cu_free(ent);
    return 0;
}
