/* bench_sgemm.c: the machine's cblas_sgemm peak, the yardstick for the forward pass's GFLOP/s.
 * usage: bench_sgemm [THREADS]
 * Square products (512, 1024, 2048) and the forward pass's own shapes (T x d times d x d and
 * d x 4d for T = 64 and 512, d = 384 and 576), best of 5 after a warm-up. Prints one line per
 * shape and a final "sgemm_peak_gflops=<best square>" line. */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* GFLOP/s of C[m][n] = A[m][k] * B[n][k]^T (the layout of y = x W^T with W stored [out][in]). */
static double run(int m, int n, int k)
{
    float *a = malloc((size_t)m * k * sizeof *a), *b = malloc((size_t)n * k * sizeof *b),
          *c = malloc((size_t)m * n * sizeof *c);
    if (!a || !b || !c) {
        free(a), free(b), free(c);
        return 0;
    }
    for (size_t i = 0; i < (size_t)m * k; i++) a[i] = (float)((i * 2654435761u) % 1000) * 1e-3f;
    for (size_t i = 0; i < (size_t)n * k; i++) b[i] = (float)((i * 40503u) % 1000) * 1e-3f;
    double best = 1e30;
    int reps = (int)(2e9 / (2.0 * m * n * k)) + 1; /* about 2 GFLOP per timing */
    for (int t = 0; t < 6; t++) {
        double t0 = now();
        for (int r = 0; r < reps; r++)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n, k, 1.0f, a, k, b, k, 0.0f, c, n);
        double dt = (now() - t0) / reps;
        if (t > 0 && dt < best) best = dt; /* t = 0 is the warm-up */
    }
    free(a), free(b), free(c);
    return 2.0 * m * n * k / best / 1e9;
}

int main(int argc, char **argv)
{
    int threads = argc > 1 ? atoi(argv[1]) : 1;
    if (threads < 1) threads = 1;
    openblas_set_num_threads(threads);
    double peak = 0;
    for (int s = 512; s <= 2048; s *= 2) {
        double g = run(s, s, s);
        printf("sgemm square %4d threads=%d gflops=%.1f\n", s, threads, g);
        if (g > peak) peak = g;
    }
    const int shapes[][3] = {{64, 384, 384}, {64, 1536, 384}, {512, 384, 384}, {512, 1536, 384},
                             {64, 576, 576}, {64, 1536, 576}, {512, 576, 576}, {512, 1536, 576}};
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
        printf("sgemm forward-shape m=%d n=%d k=%d threads=%d gflops=%.1f\n", shapes[i][0], shapes[i][1],
               shapes[i][2], threads, run(shapes[i][0], shapes[i][1], shapes[i][2]));
    printf("sgemm_peak_gflops=%.1f threads=%d\n", peak, threads);
    return 0;
}
