/* attn_bench.c: the attention workbench. For every numbered version of the attention-with-probabilities kernel
 * (kernels/dev/attn_vN.cuh, built into kernels/cuda/attention.cu):
 *   1. validate: P and out against ss_mha_ref (CPU) on small causal, windowed, ALiBi and GQA cases;
 *   2. sweep: time each version over launch shapes (block_q x block_k x threads) at one problem size and print the
 *      achieved P-write bandwidth and FLOP rate against the H200's limits (4.8 TB/s HBM3e, ~67 TFLOP/s FP32 non-tensor,
 *      NVIDIA's H200 datasheet figures).
 * Usage: attn_bench [T H H_kv d_h window]   (default: 2048 9 3 64 0, SmolLM2-135M's heads)
 * Exit 77 without a device. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attention.h"
#include "device.h"
#include "ops.h"

#define H200_BW 4.8e12
#define H200_FP32 67e12

static float frand(unsigned *s)
{
    *s = *s * 1664525u + 1013904223u;
    return (float)((*s >> 8) * (1.0 / 16777216.0)) * 2.0f - 1.0f;
}

/* Device copies of q, k, v, P, out, alibi for one case. */
typedef struct {
    ss_mha_desc d;
    int ld;
    float *q, *k, *v, *P, *out, *alibi;
} dcase;

static int upload(dcase *c, const float *q, const float *k, const float *v, const float *al)
{
    const size_t nq = (size_t)c->d.H * c->d.T * c->d.d_h * 4, nkv = (size_t)c->d.H_kv * c->d.T * c->d.d_h * 4;
    return ss_cu_malloc((void **)&c->q, nq) || ss_cu_malloc((void **)&c->k, nkv) || ss_cu_malloc((void **)&c->v, nkv) ||
           ss_cu_malloc((void **)&c->P, (size_t)c->d.H * c->d.T * c->d.T * 4) ||
           ss_cu_malloc((void **)&c->out, (size_t)c->d.T * c->ld * 4) || ss_cu_malloc((void **)&c->alibi, 64 * 4) ||
           ss_cu_h2d(c->q, q, nq) || ss_cu_h2d(c->k, k, nkv) || ss_cu_h2d(c->v, v, nkv) ||
           ss_cu_h2d(c->alibi, al, (size_t)c->d.H * 4);
}

static void release(dcase *c)
{
    ss_cu_free(c->q), ss_cu_free(c->k), ss_cu_free(c->v), ss_cu_free(c->P), ss_cu_free(c->out), ss_cu_free(c->alibi);
}

static int validate(void)
{
    static const int C[][7] = {{37, 4, 2, 64, 1, 0, 0}, {100, 4, 4, 32, 1, 16, 0}, {77, 4, 4, 64, 0, 0, 1},
                               {130, 2, 1, 256, 1, 0, 1}};
    int fails = 0;
    for (int c = 0; c < 4; c++) {
        const int T = C[c][0], H = C[c][1], Hk = C[c][2], dh = C[c][3];
        float slopes[64];
        ss_alibi_slopes(slopes, H);
        dcase dc = {{T, H, Hk, dh, 1.0f / sqrtf((float)dh), C[c][4], C[c][6] ? slopes : NULL, C[c][5]},
                    H * dh, NULL, NULL, NULL, NULL, NULL, NULL};
        const size_t nq = (size_t)H * T * dh, nkv = (size_t)Hk * T * dh, nP = (size_t)H * T * T;
        const size_t no = (size_t)T * H * dh;
        float *q = malloc(nq * 4), *k = malloc(nkv * 4), *v = malloc(nkv * 4), *P = malloc(nP * 4), *o = malloc(no * 4);
        float *gP = malloc(nP * 4), *go = malloc(no * 4);
        unsigned s = 7 + c;
        for (size_t i = 0; i < nq; i++) q[i] = frand(&s);
        for (size_t i = 0; i < nkv; i++) k[i] = frand(&s), v[i] = frand(&s);
        ss_mha_ref(&dc.d, P, o, H * dh, q, k, v);
        if (upload(&dc, q, k, v, slopes)) return fprintf(stderr, "upload: %s\n", ss_cu_errmsg()), 1;
        ss_mha_desc dd = dc.d;
        dd.alibi = C[c][6] ? dc.alibi : NULL;
        for (int ver = 1; ver <= SS_CU_MHA_VERSIONS; ver++) {
            ss_cu_mha_shape sh = {0, 0, 0};
            if (ss_cu_mha_version(ver, sh, &dd, dc.P, dc.out, dc.ld, dc.q, dc.k, dc.v) || ss_cu_sync() ||
                ss_cu_d2h(gP, dc.P, nP * 4) || ss_cu_d2h(go, dc.out, no * 4)) {
                printf("validate v%d case %d: %s\n", ver, c, ss_cu_errmsg());
                fails++;
                continue;
            }
            double eP = 0, eo = 0;
            for (size_t i = 0; i < nP; i++) eP = fmax(eP, isfinite(gP[i]) ? fabs((double)gP[i] - P[i]) : INFINITY);
            for (size_t i = 0; i < no; i++) eo = fmax(eo, isfinite(go[i]) ? fabs((double)go[i] - o[i]) : INFINITY);
            const int ok = eP <= 1e-5 && eo <= 1e-4;
            fails += !ok;
            printf("validate v%d T=%-4d H=%d/%d d_h=%-3d causal=%d window=%-2d alibi=%d  max|dP|=%.2e max|dO|=%.2e"
                   " %s\n", ver, T, H, Hk, dh, C[c][4], C[c][5], C[c][6], eP, eo, ok ? "ok" : "FAIL");
        }
        release(&dc);
        free(q), free(k), free(v), free(P), free(o), free(gP), free(go);
    }
    return fails;
}

static void sweep(int T, int H, int Hk, int dh, int window)
{
    dcase dc = {{T, H, Hk, dh, 1.0f / sqrtf((float)dh), 1, NULL, window}, H * dh, NULL, NULL, NULL, NULL, NULL, NULL};
    const size_t nq = (size_t)H * T * dh, nkv = (size_t)Hk * T * dh;
    float *q = malloc(nq * 4), *k = malloc(nkv * 4), *v = malloc(nkv * 4), slopes[64] = {0};
    unsigned s = 1;
    for (size_t i = 0; i < nq; i++) q[i] = frand(&s);
    for (size_t i = 0; i < nkv; i++) k[i] = frand(&s), v[i] = frand(&s);
    if (upload(&dc, q, k, v, slopes)) {
        fprintf(stderr, "upload: %s\n", ss_cu_errmsg());
        return;
    }
    /* visible keys per query (causal, window) -> useful FLOPs 4·H·d_h·Σ_i visible(i); P bytes written: H·T²·4 */
    double vis = 0;
    for (int i = 0; i < T; i++) vis += window > 0 && window < i + 1 ? window : i + 1;
    const double flops = 4.0 * H * dh * vis, bytes = 4.0 * ((double)H * T * T + 2.0 * nq + 2.0 * nkv);
    printf("sweep T=%d H=%d/%d d_h=%d window=%d: useful %.3g GFLOP, %.3g MB moved (P written once)\n", T, H, Hk, dh,
           window, flops * 1e-9, bytes * 1e-6);
    printf("%-3s %-8s %-8s %-8s %10s %10s %8s %10s %8s\n", "ver", "block_q", "block_k", "threads", "ms", "GB/s", "%HBM",
           "GFLOP/s", "%FP32");
    static const int BQ[] = {8, 16, 32, 64}, BK[] = {32, 64, 128}, TH[] = {128, 256, 512};
    for (int ver = 1; ver <= SS_CU_MHA_VERSIONS; ver++)
        for (int a = 0; a < 4; a++)
            for (int b = 0; b < 3; b++)
                for (int t = 0; t < 3; t++) {
                    if (ver == 1 && (a || b)) continue; /* v1 has threads only */
                    ss_cu_mha_shape sh = {BQ[a], BK[b], TH[t]};
                    float ms = 0;
                    int e = ss_cu_mha_version(ver, sh, &dc.d, dc.P, dc.out, dc.ld, dc.q, dc.k, dc.v); /* warm-up */
                    e = e || ss_cu_sync() || ss_cu_timer_start();
                    for (int r = 0; r < 3 && !e; r++)
                        e = ss_cu_mha_version(ver, sh, &dc.d, dc.P, dc.out, dc.ld, dc.q, dc.k, dc.v);
                    e = e || ss_cu_timer_stop(&ms);
                    if (e) {
                        printf("%-3d %-8d %-8d %-8d  (%s)\n", ver, sh.block_q, sh.block_k, sh.threads, ss_cu_errmsg());
                        continue;
                    }
                    ms /= 3;
                    const double gbs = bytes / (ms * 1e-3) * 1e-9, gfl = flops / (ms * 1e-3) * 1e-9;
                    printf("%-3d %-8d %-8d %-8d %10.3f %10.1f %7.1f%% %10.1f %7.1f%%\n", ver, sh.block_q, sh.block_k,
                           sh.threads, ms, gbs, 100 * gbs * 1e9 / H200_BW, gfl, 100 * gfl * 1e9 / H200_FP32);
                }
    release(&dc);
    free(q), free(k), free(v);
}

int main(int argc, char **argv)
{
    char why[160];
    if (ss_cuda_device_count(why, sizeof why) <= 0) {
        fprintf(stderr, "SKIP: no CUDA device: %s\n", why);
        return 77;
    }
    int T = 2048, H = 9, Hk = 3, dh = 64, window = 0;
    if (argc == 6) T = atoi(argv[1]), H = atoi(argv[2]), Hk = atoi(argv[3]), dh = atoi(argv[4]), window = atoi(argv[5]);
    const int fails = validate();
    sweep(T, H, Hk, dh, window);
    return fails ? 1 : 0;
}
