/* report_stats.h: summary statistics of the report: the mean over prompts with a 95% confidence interval.
 *
 * The interval is t-based: mean ± t_{0.975, n−1} · s / √n, with s the sample standard deviation (n − 1 in
 * the denominator) and t_{0.975, ν} the 97.5% quantile of Student's t with ν degrees of freedom, computed by
 * ss_t_quantile975 to 1e-6 (report_stats.c says how). NaN and ±inf values are left out (n counts the finite
 * ones). With n = 1 the interval is undefined (half-width NaN); with n = 0 the mean is NaN too. */
#ifndef SS_REPORT_STATS_H
#define SS_REPORT_STATS_H

typedef struct {
    int n;           /* finite values used */
    double mean;     /* NaN when n = 0 */
    double sd;       /* sample standard deviation; NaN when n < 2 */
    double half;     /* half-width of the 95% interval; NaN when n < 2 */
} ss_summary;

/* Summary of x [n] (non-finite entries skipped); x may be NULL when n = 0. */
ss_summary ss_summarise(const double *x, int n);
/* t_{0.975, nu} for nu >= 1 (12.7062047... at nu = 1, 1.959963985 as nu -> inf); NaN for nu < 1. */
double ss_t_quantile975(int nu);

#endif
