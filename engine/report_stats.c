/* report_stats.c: mean and t-based 95% interval over prompts (see report_stats.h).
 *
 * t_{0.975, ν} solves P(T ≤ t) = 0.975. For t > 0 the Student-t CDF is 1 − ½·I_x(ν/2, ½) with x = ν / (ν + t²)
 * and I the regularized incomplete beta function, so t is the root of I_x(ν/2, ½) = 0.05. I is evaluated with
 * its continued fraction (modified Lentz), the root found by bisection on [1.959, 13] (t decreases with ν from
 * 12.706 at ν = 1 towards z = 1.95996) to 1e-12. Beyond ν = 1e5 the continued fraction needs O(√ν) terms and
 * lgamma's cancellation grows, so there the Cornish–Fisher expansion in 1/ν is used (its error is below 1e-15). */
#include "report_stats.h"

#include <math.h>

#define Z975 1.959963984540054 /* Φ^{-1}(0.975) */
#define T_EXACT_MAX_NU 100000

/* Continued fraction of I_x(a, b) (Numerical Recipes' betacf, modified Lentz); converges fast for
 * x < (a + 1) / (a + b + 2). y = 1 − x is passed separately so that x close to 1 keeps its precision. */
static double beta_cf(double a, double b, double x)
{
    const double tiny = 1e-300, eps = 1e-16;
    double qab = a + b, qap = a + 1.0, qam = a - 1.0;
    double c = 1.0, d = 1.0 - qab * x / qap;
    if (fabs(d) < tiny) d = tiny;
    d = 1.0 / d;
    double h = d;
    for (int m = 1; m <= 100000; m++) {
        double m2 = 2.0 * m;
        double aa = m * (b - m) * x / ((qam + m2) * (a + m2)); /* even step */
        d = 1.0 + aa * d;
        if (fabs(d) < tiny) d = tiny;
        c = 1.0 + aa / c;
        if (fabs(c) < tiny) c = tiny;
        d = 1.0 / d;
        h *= d * c;
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2)); /* odd step */
        d = 1.0 + aa * d;
        if (fabs(d) < tiny) d = tiny;
        c = 1.0 + aa / c;
        if (fabs(c) < tiny) c = tiny;
        d = 1.0 / d;
        double del = d * c;
        h *= del;
        if (fabs(del - 1.0) < eps) break;
    }
    return h;
}

/* Regularized incomplete beta I_x(a, b), x in [0, 1], y = 1 − x. */
static double ibeta(double a, double b, double x, double y)
{
    if (x <= 0.0) return 0.0;
    if (y <= 0.0) return 1.0;
    /* front = x^a y^b / (a B(a, b)) */
    double lfront = lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log(y);
    if (x < (a + 1.0) / (a + b + 2.0)) return exp(lfront) * beta_cf(a, b, x) / a;
    return 1.0 - exp(lfront) * beta_cf(b, a, y) / b;
}

/* Cornish–Fisher expansion of the t quantile around z (Abramowitz & Stegun 26.7.5), four terms. */
static double t_quantile_asymptotic(double z, double nu)
{
    double z2 = z * z, z3 = z2 * z, z5 = z3 * z2, z7 = z5 * z2, z9 = z7 * z2;
    double g1 = (z3 + z) / 4.0;
    double g2 = (5.0 * z5 + 16.0 * z3 + 3.0 * z) / 96.0;
    double g3 = (3.0 * z7 + 19.0 * z5 + 17.0 * z3 - 15.0 * z) / 384.0;
    double g4 = (79.0 * z9 + 776.0 * z7 + 1482.0 * z5 - 1920.0 * z3 - 945.0 * z) / 92160.0;
    return z + g1 / nu + g2 / (nu * nu) + g3 / (nu * nu * nu) + g4 / (nu * nu * nu * nu);
}

double ss_t_quantile975(int nu)
{
    if (nu < 1) return NAN;
    if (nu == 1) return tan(3.14159265358979323846 * 0.475); /* Cauchy: closed form */
    if (nu > T_EXACT_MAX_NU) return t_quantile_asymptotic(Z975, nu);
    double a = 0.5 * nu, lo = 1.959, hi = 13.0; /* tail(lo) > 0.05 > tail(hi) for every ν >= 2 */
    while (hi - lo > 1e-12) {
        double t = 0.5 * (lo + hi), t2 = t * t;
        double tail2 = ibeta(a, 0.5, nu / (nu + t2), t2 / (nu + t2)); /* P(|T| > t) */
        if (tail2 > 0.05)
            lo = t;
        else
            hi = t;
    }
    return 0.5 * (lo + hi);
}

ss_summary ss_summarise(const double *x, int n)
{
    ss_summary s = {.n = 0, .mean = NAN, .sd = NAN, .half = NAN};
    double sum = 0.0;
    for (int i = 0; i < n; i++)
        if (isfinite(x[i])) sum += x[i], s.n++;
    if (s.n == 0) return s;
    double m = sum / s.n;
    /* two-pass variance with the rounding-error correction (Σd)²/n */
    double ss = 0.0, sd = 0.0;
    for (int i = 0; i < n; i++) {
        if (!isfinite(x[i])) continue;
        double d = x[i] - m;
        ss += d * d;
        sd += d;
    }
    s.mean = m + sd / s.n;
    if (s.n < 2) return s;
    double var = (ss - sd * sd / s.n) / (s.n - 1);
    s.sd = sqrt(var > 0.0 ? var : 0.0);
    s.half = ss_t_quantile975(s.n - 1) * s.sd / sqrt((double)s.n);
    return s;
}
