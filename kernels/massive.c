/* massive.c: massive activations (exact median of |h|, the two-threshold criterion, per-token flags). */
#include "massive.h"

#include <math.h>
#include <stdlib.h>

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

int ss_median_abs(const float *x, long count, double *median)
{
    float *tmp = malloc((size_t)count * sizeof *tmp);
    if (!tmp) return -1;
    for (long k = 0; k < count; k++) tmp[k] = fabsf(x[k]);
    qsort(tmp, (size_t)count, sizeof *tmp, cmp_float);
    if (count % 2)
        *median = (double)tmp[count / 2];
    else
        *median = 0.5 * ((double)tmp[count / 2 - 1] + (double)tmp[count / 2]);
    free(tmp);
    return 0;
}

int ss_massive_activations(const float *h, int n, int d, double abs_threshold, double rel_threshold,
                           ss_massive_hit *hits, int cap, unsigned char *token_flag, ss_massive_result *out)
{
    long count = (long)n * d;
    double m;
    if (ss_median_abs(h, count, &m) != 0) return -1;

    out->median_abs = m;
    out->max_abs = fabsf(h[0]);
    out->max_token = 0;
    out->max_channel = 0;
    out->n_massive = 0;
    out->n_stored = 0;
    out->n_tokens = 0;
    double rel = rel_threshold * m;
    for (int i = 0; i < n; i++) {
        int flagged = 0;
        for (int c = 0; c < d; c++) {
            float v = h[(long)i * d + c];
            float a = fabsf(v);
            if (a > out->max_abs) {
                out->max_abs = a;
                out->max_token = i;
                out->max_channel = c;
            }
            if ((double)a > abs_threshold && (double)a > rel) {
                if (out->n_stored < cap) {
                    ss_massive_hit *hit = &hits[out->n_stored++];
                    hit->token = i;
                    hit->channel = c;
                    hit->value = v;
                    hit->ratio = m > 0.0 ? (double)a / m : INFINITY;
                }
                out->n_massive++;
                flagged = 1;
            }
        }
        if (token_flag) token_flag[i] = (unsigned char)flagged;
        out->n_tokens += flagged;
    }
    return 0;
}
