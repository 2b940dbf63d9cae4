/* massive.c: massive activations (exact median of |h|, the two-threshold criterion, per-token flags). */
#include "massive.h"

#include <math.h>
#include <stdlib.h>

/* Rearranges a[0..n) so that a[k] is the k-th smallest (0-based), everything before it <= a[k] and everything
 * after it >= a[k] (Hoare's selection with a median-of-three pivot), and returns a[k]. No NaN in a. */
static float select_kth(float *a, long n, long k)
{
    long lo = 0, hi = n - 1;
    while (hi > lo) {
        const long mid = lo + (hi - lo) / 2;
        float x = a[lo], y = a[mid], z = a[hi];
        const float pivot = x < y ? (y < z ? y : (x < z ? z : x)) : (x < z ? x : (y < z ? z : y));
        long i = lo, j = hi;
        while (i <= j) {
            while (a[i] < pivot) i++;
            while (a[j] > pivot) j--;
            if (i <= j) {
                const float t = a[i];
                a[i] = a[j];
                a[j] = t;
                i++;
                j--;
            }
        }
        if (k <= j) hi = j;
        else if (k >= i) lo = i;
        else return a[k];
    }
    return a[k];
}

int ss_median_abs(const float *x, long count, double *median)
{
    float *tmp = malloc((size_t)count * sizeof *tmp);
    if (!tmp) return -1;
    for (long k = 0; k < count; k++) tmp[k] = fabsf(x[k]);
    /* the order statistic count/2 by selection (expected O(count), where sorting cost a third of the
     * massive-activation analysis); for an even count the lower middle is the largest of the left part */
    const long hi_k = count / 2;
    const float hi = select_kth(tmp, count, hi_k);
    if (count % 2) {
        *median = (double)hi;
    } else {
        float lo = tmp[0];
        for (long k = 1; k < hi_k; k++)
            if (tmp[k] > lo) lo = tmp[k];
        *median = 0.5 * ((double)lo + (double)hi);
    }
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
