/* divergence.c: KL of each head to the mean head, the sink set, and the row entropy. See divergence.h. */
#include "divergence.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "spectral.h" /* ss_quantile_linear_sorted */

void ss_head_mean(const float *A, int H, int n, float *Abar)
{
    const long nn = (long)n * n;
    for (long e = 0; e < nn; e++) {
        double sum = 0.0;
        for (int h = 0; h < H; h++) sum += A[(long)h * nn + e];
        Abar[e] = (float)(sum / (double)H);
    }
}

void ss_layer_column_sums(const float *A, int H, int n, double *c)
{
    for (int j = 0; j < n; j++) c[j] = 0.0;
    for (long r = 0; r < (long)H * n; r++) {
        const float *row = A + r * n;
        for (int j = 0; j < n; j++) c[j] += row[j];
    }
}

static int cmp_double(const void *pa, const void *pb)
{
    double a = *(const double *)pa, b = *(const double *)pb;
    return (a > b) - (a < b);
}

int ss_percentile_linear(const double *x, int n, double q, double *out)
{
    if (n < 1) {
        *out = NAN;
        return 0;
    }
    double *xs = malloc((size_t)n * sizeof *xs);
    if (!xs) return -1;
    memcpy(xs, x, (size_t)n * sizeof *xs);
    qsort(xs, (size_t)n, sizeof *xs, cmp_double);
    *out = ss_quantile_linear_sorted(xs, n, q < 0.0 ? 0.0 : (q > 1.0 ? 1.0 : q)); /* spectral.h: numpy's 'linear' */
    free(xs);
    return 0;
}

int ss_sink_set(const double *c, int n, double q, unsigned char *in_S, int *n_S, double *threshold, double *sink_pct)
{
    if (n < 1) return -1;
    double thr;
    if (ss_percentile_linear(c, n, q, &thr) != 0) return -1;
    int count = 0;
    double total = 0.0, on_sinks = 0.0;
    for (int j = 0; j < n; j++) {
        in_S[j] = c[j] >= thr;
        total += c[j];
        if (in_S[j]) {
            count++;
            on_sinks += c[j];
        }
    }
    if (n_S) *n_S = count;
    if (threshold) *threshold = thr;
    if (sink_pct) *sink_pct = total > 0.0 ? 100.0 * on_sinks / total : 0.0;
    return 0;
}

void ss_sink_head_concentration(const float *A, int H, int n, const unsigned char *in_S, double *conc)
{
    for (int h = 0; h < H; h++) {
        const float *Ah = A + (long)h * n * n;
        double total = 0.0, on_sinks = 0.0;
        for (long r = 0; r < n; r++)
            for (int j = 0; j < n; j++) {
                total += Ah[r * n + j];
                if (in_S[j]) on_sinks += Ah[r * n + j];
            }
        conc[h] = total > 0.0 ? on_sinks / total : 0.0;
    }
}

int ss_kl_rows(int n, int causal, int fast, int *rows)
{
    int first = causal ? 1 : 0;
    int m = n - first;
    if (m <= 0) return 0;
    if (!fast || m <= SS_KL_FAST_ROWS) {
        for (int r = 0; r < m; r++) rows[r] = first + r;
        return m;
    }
    double step = (double)(n - 1 - first) / (double)(SS_KL_FAST_ROWS - 1);
    for (int k = 0; k < SS_KL_FAST_ROWS - 1; k++) rows[k] = (int)floor((double)k * step + (double)first);
    rows[SS_KL_FAST_ROWS - 1] = n - 1;
    return SS_KL_FAST_ROWS;
}

/* Row i of head Ah as a distribution p [n] (sink columns removed when in_S is given), as the header says. */
static void distribution_row(const float *Ah, int n, int i, int causal, const unsigned char *in_S, double *p)
{
    const float *row = Ah + (long)i * n;
    double mass = 0.0;
    for (int j = 0; j < n; j++) {
        double a = row[j] > 0.0f ? (double)row[j] : 0.0;
        if (in_S && in_S[j]) a = 0.0;
        p[j] = a;
        mass += a;
    }
    if (mass > 0.0) {
        for (int j = 0; j < n; j++) p[j] /= mass;
        return;
    }
    int last = causal ? i : n - 1; /* keys the query can see */
    int count = 0;
    for (int j = 0; j <= last; j++)
        if (!(in_S && in_S[j])) count++;
    for (int j = 0; j < n; j++) p[j] = (j <= last && !(in_S && in_S[j]) && count > 0) ? 1.0 / count : 0.0;
}

int ss_kl_to_mean_head(const float *A, int H, int n, int causal, const unsigned char *in_S, const int *rows,
                       int n_rows, double *kl)
{
    if (H <= 0) return 0;
    int rc = -1;
    double *P = malloc((size_t)(H + 1) * (size_t)(n > 0 ? n : 1) * sizeof *P);
    if (!P) goto cleanup;
    double *bar = P + (long)H * n;
    for (int h = 0; h < H; h++) kl[h] = 0.0;
    for (int r = 0; r < n_rows; r++) {
        int i = rows[r];
        for (int j = 0; j < n; j++) bar[j] = 0.0;
        for (int h = 0; h < H; h++) {
            double *p = P + (long)h * n;
            distribution_row(A + (long)h * n * n, n, i, causal, in_S, p);
            for (int j = 0; j < n; j++) bar[j] += p[j];
        }
        for (int j = 0; j < n; j++) bar[j] /= (double)H;
        for (int h = 0; h < H; h++) {
            const double *p = P + (long)h * n;
            double d = 0.0;
            for (int j = 0; j < n; j++) {
                if (!(p[j] > 0.0)) continue;
                double qj = bar[j] > SS_KL_Q_FLOOR ? bar[j] : SS_KL_Q_FLOOR;
                d += p[j] * log(p[j] / qj);
            }
            kl[h] += d;
        }
    }
    for (int h = 0; h < H; h++) kl[h] = n_rows > 0 ? kl[h] / (double)n_rows : NAN;
    rc = 0;
cleanup:
    free(P);
    return rc;
}

int ss_kl_sink_reduction(const float *A, int H, int n, int causal, const unsigned char *in_S, const int *rows,
                         int n_rows, double *kl_with, double *kl_without, double *reduction)
{
    int rc = -1;
    double *w = malloc((size_t)(H > 0 ? H : 1) * 2 * sizeof *w);
    if (!w) goto cleanup;
    double *wo = w + (H > 0 ? H : 1);
    if (ss_kl_to_mean_head(A, H, n, causal, NULL, rows, n_rows, w) != 0) goto cleanup;
    if (ss_kl_to_mean_head(A, H, n, causal, in_S, rows, n_rows, wo) != 0) goto cleanup;
    for (int h = 0; h < H; h++) {
        if (kl_with) kl_with[h] = w[h];
        if (kl_without) kl_without[h] = wo[h];
        if (reduction) reduction[h] = w[h] - wo[h];
    }
    rc = 0;
cleanup:
    free(w);
    return rc;
}

void ss_row_entropy_nats(const float *A, int n_rows, int n_cols, float *H)
{
    const float e = 100.0f * FLT_EPSILON;
    for (int i = 0; i < n_rows; i++) {
        const float *row = A + (long)i * n_cols;
        double s = 0.0;
        int kept = 0;
        for (int j = 0; j < n_cols; j++)
            if (row[j] > e) {
                s += row[j];
                kept++;
            }
        if (kept == 0 || s < (double)e) {
            H[i] = 0.0f;
            continue;
        }
        double ent = 0.0;
        for (int j = 0; j < n_cols; j++) {
            if (!(row[j] > e)) continue;
            double p = (double)row[j] / s;
            if (p > (double)e) ent -= p * log(p);
        }
        H[i] = (float)ent;
    }
}
