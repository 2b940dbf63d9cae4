/* massive.h: massive activations in one layer's hidden states (science b11; Sun et al., arXiv 2402.17762).
 *
 * Input: h [n][d], the residual stream of n tokens (d channels) entering one layer (0-based token i,
 * channel c). Let N = n·d and m = median{|h[i][c]|} over all N entries, the exact median:
 *   N odd:  the value of rank (N-1)/2 (0-based) of the sorted |h|;
 *   N even: the mean of the two middle values, ranks N/2-1 and N/2 (the usual statistical convention,
 *           numpy.median's), computed in double.
 * An entry is massive when BOTH strict inequalities hold (the operational criterion, to verify):
 *   |h[i][c]| > abs_threshold (default 100)   AND   |h[i][c]| > rel_threshold (default 1000) · m.
 * Each one is reported as (token i, channel c, value h[i][c] with its sign, ratio |h[i][c]| / m); the ratio is
 * +INFINITY when m = 0. Entries are visited in row-major order (token, then channel); the first `cap`
 * massive entries in that order are stored, and the total count is returned whatever the cap.
 * token_flag[i] = 1 when token i carries at least one massive entry (counted over all of them, stored or
 * not), else 0. Also the largest |h| and where it sits (ties go to the first in row-major order).
 * Stricter variants (a MAD test, <= 3 outliers, persistence over >= 25% of layers) are left to the
 * analysis that sees every layer; this kernel looks at one layer. Inputs are assumed finite. */
#ifndef SS_KERNEL_MASSIVE_H
#define SS_KERNEL_MASSIVE_H

#define SS_MASSIVE_ABS_THRESHOLD 100.0
#define SS_MASSIVE_REL_THRESHOLD 1000.0

typedef struct {
    int token;    /* i, 0-based */
    int channel;  /* c, 0-based */
    float value;  /* h[i][c], signed */
    double ratio; /* |h[i][c]| / median |h| (+INFINITY when the median is 0) */
} ss_massive_hit;

typedef struct {
    double median_abs; /* exact median of |h| over all n·d entries (even count: mean of the two middle values) */
    float max_abs;     /* max |h[i][c]| */
    int max_token;     /* its i (first in row-major order on ties) */
    int max_channel;   /* its c */
    long n_massive;    /* total number of massive entries (may exceed the cap) */
    int n_stored;      /* min(n_massive, cap): entries written to hits */
    int n_tokens;      /* number of tokens with token_flag = 1 */
} ss_massive_result;

/* Finds the massive activations of h (see the header comment). n >= 1, d >= 1, cap >= 0.
 *   h           [n][d]  hidden states, row = token, column = channel
 *   hits        [cap]   output: the first cap massive entries in row-major order (may be NULL when cap = 0)
 *   token_flag  [n]     output: 1 if token i has any massive entry, else 0 (may be NULL)
 * Returns 0, or -1 when out of memory (the median needs a sorted copy of |h|). */
int ss_massive_activations(const float *h, int n, int d, double abs_threshold, double rel_threshold,
                           ss_massive_hit *hits, int cap, unsigned char *token_flag, ss_massive_result *out);

/* The exact median of |x| over x [count] (count >= 1; even count: mean of the two middle values), into *median.
 * Returns 0, or -1 when out of memory. */
int ss_median_abs(const float *x, long count, double *median);

#endif
