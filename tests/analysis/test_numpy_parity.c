/* test_numpy_parity.c: every analysis kernel against an independent numpy/scipy computation on seeded random inputs.
 *
 * The fixtures tests/fixtures/analysis/{attention,geometry}.json are written by
 * tests/fixtures/make_analysis_fixtures.py (developers only; committed, so neither the build nor CI needs Python).
 * attention.json: 30 cases, T in {1, 2, 5, 17, 40} x {causal, bidirectional} x {random, planted sink, near-uniform},
 * H = 3 heads each. geometry.json: hidden-state geometry cases, q/k decompositions, massive activations (planted) and
 * subsample index sets.
 * Known convention (see the generator): ss_pca_correlation returns every r_k as NaN when n < 4, although the header's
 * per-component rule would define r_0 (n >= 2) and r_1 (n = 3); the fixtures follow the kernel (test_geometry.c
 * asserts it) and the header is silent on it.
 * Inputs are float32 values (read through a double and cast, exactly); the expected outputs are float64. Located
 * through SS_SOURCE_DIR (set by CTest); without it the test skips (77).
 *
 * Tolerances (|got - want| <= tol * max(|want|, scale); NaN must match NaN, +-inf must match exactly):
 *   TOL_F32  1e-6 relative   outputs stored as float (alpha, r, windowed alpha, head mean Abar, row entropy in nats):
 *                            double accumulation, then one fp32 rounding (2^-24 relative)
 *   TOL_D    1e-9 relative   double-accumulated scalars (graph metrics, KL, percentiles, concentrations, reference
 *                            influence, entropy in bits, geometry, q/k, Pearson r, MP pooled x); differences come from
 *                            the summation order only (~1e-15)
 *   TOL_SPEC 1e-9 x largest  singular values, Laplacian and eigen values (|l|), relative to the largest one;
 *                            ratios s_1/s_2 and |l_1|/|l_2| to TOL_SPEC * ratio^2 (the error of the denominator)
 *   TOL_MP   1e-8 relative   MP KL: the Python side integrates the MP density numerically (scipy quad, ~1e-13)
 *   TOL_PCA  1e-7 absolute   PCA correlations (they depend on singular vectors, not only values)
 *   exact                    integer outputs: top keys, candidate counts, reference sets, graph degrees and edge
 *                            counts, sink sets, KL row lists, Sink_k^eps counts, massive hits (token, channel, value),
 *                            Betti numbers, dim-0 death values (copies of fp32 distances), distances, subsamples. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "divergence.h"
#include "geometry.h"
#include "graph.h"
#include "massive.h"
#include "reference.h"
#include "sink.h"
#include "spectral.h"
#include "test_util.h"
#include "topology.h"

#define TOL_F32 1e-6
#define TOL_D 1e-9
#define TOL_SPEC 1e-9
#define TOL_MP 1e-8
#define TOL_PCA 1e-7
#define TINY 1e-30

static long g_checks;
static double g_worst;           /* largest |got - want| / allowed over the toleranced comparisons that passed */
static char g_worst_what[240];
static char g_ctx[160]; /* the case being checked, for messages */

/* ---------------------------------------------------------------- JSON helpers */

static const json_t *jget(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    if (!v) {
        fprintf(stderr, "%s: fixture key '%s' missing\n", g_ctx, key);
        g_test_failures++;
    }
    return v;
}

/* A JSON number, null (NaN) or "inf" / "-inf". */
static double jnum_value(const json_t *v)
{
    if (!v || json_is_null(v)) return NAN;
    if (json_is_string(v)) return json_string_value(v)[0] == '-' ? -INFINITY : INFINITY;
    return json_number_value(v);
}
static double jnum(const json_t *o, const char *key) { return jnum_value(jget(o, key)); }
static int jint(const json_t *o, const char *key) { return (int)json_integer_value(jget(o, key)); }
static int jnull(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    return !v || json_is_null(v);
}

static double *jdoubles(const json_t *arr, size_t *n)
{
    size_t m = json_array_size(arr);
    double *x = malloc((m ? m : 1) * sizeof *x);
    for (size_t i = 0; i < m; i++) x[i] = jnum_value(json_array_get(arr, i));
    if (n) *n = m;
    return x;
}
static float *jfloats(const json_t *arr, size_t *n)
{
    size_t m = json_array_size(arr);
    float *x = malloc((m ? m : 1) * sizeof *x);
    for (size_t i = 0; i < m; i++) x[i] = (float)jnum_value(json_array_get(arr, i));
    if (n) *n = m;
    return x;
}
static int *jints(const json_t *arr, size_t *n)
{
    size_t m = json_array_size(arr);
    int *x = malloc((m ? m : 1) * sizeof *x);
    for (size_t i = 0; i < m; i++) x[i] = (int)json_integer_value(json_array_get(arr, i));
    if (n) *n = m;
    return x;
}

/* ---------------------------------------------------------------- comparisons */

static void near(const char *what, double got, double want, double tol, double scale)
{
    g_checks++;
    int ok;
    if (isnan(want)) ok = isnan(got);
    else if (isinf(want)) ok = got == want;
    else {
        const double allowed = tol * fmax(fabs(want), scale), err = fabs(got - want);
        ok = err <= allowed;
        if (ok && allowed > 0 && err / allowed > g_worst) {
            g_worst = err / allowed;
            snprintf(g_worst_what, sizeof g_worst_what, "%s: %s", g_ctx, what);
        }
    }
    if (!ok) {
        fprintf(stderr, "%s: %s = %.17g, numpy %.17g (tol %g x max(|want|, %g))\n", g_ctx, what, got, want, tol, scale);
        g_test_failures++;
    }
}

static void near_key(const json_t *o, const char *key, double got, double tol, double scale)
{
    near(key, got, jnum(o, key), tol, scale);
}

static void exact(const char *what, long got, long want)
{
    g_checks++;
    if (got != want) {
        fprintf(stderr, "%s: %s = %ld, numpy %ld\n", g_ctx, what, got, want);
        g_test_failures++;
    }
}

static void near_array(const char *what, const double *got, const json_t *arr, size_t n, double tol, double scale)
{
    size_t m = 0;
    double *want = jdoubles(arr, &m);
    exact(what, (long)n, (long)m);
    char buf[96];
    for (size_t i = 0; i < n && i < m; i++) {
        snprintf(buf, sizeof buf, "%s[%zu]", what, i);
        near(buf, got[i], want[i], tol, scale);
    }
    free(want);
}

static void near_array_f(const char *what, const float *got, const json_t *arr, size_t n, double tol, double scale)
{
    double *g = malloc((n ? n : 1) * sizeof *g);
    for (size_t i = 0; i < n; i++) g[i] = got[i];
    near_array(what, g, arr, n, tol, scale);
    free(g);
}

static void exact_array(const char *what, const int *got, size_t n, const json_t *arr)
{
    size_t m = 0;
    int *want = jints(arr, &m);
    exact(what, (long)n, (long)m);
    char buf[96];
    for (size_t i = 0; i < n && i < m; i++) {
        snprintf(buf, sizeof buf, "%s[%zu]", what, i);
        exact(buf, got[i], want[i]);
    }
    free(want);
}

/* fp32 outputs that are copies or single roundings of fp32 values (distances, births): equal to the fixture's value
 * read as float, exactly. */
static void exact_array_f(const char *what, const float *got, const json_t *arr, size_t n)
{
    size_t m = 0;
    double *want = jdoubles(arr, &m);
    exact(what, (long)n, (long)m);
    char buf[96];
    for (size_t i = 0; i < n && i < m; i++) {
        snprintf(buf, sizeof buf, "%s[%zu]", what, i);
        near(buf, got[i], (float)want[i], 0.0, 0.0);
    }
    free(want);
}

/* Ratio a/b checked through its denominator's error: tol = TOL_SPEC * ratio^2. */
static void near_ratio(const char *what, double got, double want)
{
    near(what, got, want, TOL_SPEC * (isfinite(want) ? fabs(want) : 1.0), 1.0);
}

/* ---------------------------------------------------------------- sink.h, reference.h, spectral.h per head */

static void check_head(const float *A, int T, int causal, const json_t *hd)
{
    float *alpha = malloc((size_t)T * sizeof *alpha), *r = malloc((size_t)T * sizeof *r);
    ss_column_importance(A, T, causal, alpha);
    ss_column_mean(A, T, r);
    near_array_f("alpha", alpha, jget(hd, "alpha"), (size_t)T, TOL_F32, TINY);
    near_array_f("r", r, jget(hd, "r"), (size_t)T, TOL_F32, TINY);

    /* b0 top keys, both conventions, with the candidate rule */
    const int m1 = ss_key_candidates(T, causal, 1), m4 = ss_key_candidates(T, causal, 4);
    exact("n_cand1", m1, jint(hd, "n_cand1"));
    exact("n_cand4", m4, jint(hd, "n_cand4"));
    exact("top_r", ss_argmax(r, T), jint(hd, "top_r"));
    exact("top_alpha", m4 > 0 ? ss_argmax(alpha, m4) : -1, jint(hd, "top_alpha"));

    /* b2 reference tokens: raw r (all keys; ceil and the notebook's floor fallback), alpha with candidates */
    int *R = malloc((size_t)(T + 1) * sizeof *R);
    int k = ss_reference_tokens(r, T, T, NULL, R);
    exact_array("ref_r", R, (size_t)(k < 0 ? 0 : k), jget(hd, "ref_r"));
    ss_reftok_params pf = SS_REFTOK_DEFAULTS;
    pf.fallback_floor = 1;
    k = ss_reference_tokens(r, T, T, &pf, R);
    exact_array("ref_r_floor", R, (size_t)(k < 0 ? 0 : k), jget(hd, "ref_r_floor"));
    k = ss_reference_tokens(alpha, T, m4, NULL, R);
    exact_array("ref_alpha", R, (size_t)(k < 0 ? 0 : k), jget(hd, "ref_alpha"));

    /* b3 reference influence, R and z from the fixture */
    const json_t *inf = jget(hd, "influence");
    size_t nz = 0, nR = 0;
    float *z = jfloats(jget(inf, "z"), &nz);
    int *Rf = jints(jget(inf, "R"), &nR);
    const int dz = (int)(nz / (size_t)T);
    double *RM = malloc((size_t)T * sizeof *RM), *DI = malloc((size_t)T * sizeof *DI);
    double *IC = malloc((size_t)T * sizeof *IC);
    ss_ref_influence_stats st;
    CHECK(ss_reference_influence(A, T, z, dz, dz, Rf, (int)nR, RM, DI, IC, &st) == 0);
    exact("n_entered", st.n_entered, jint(inf, "n_entered"));
    exact("n_reference", st.n_reference, jint(inf, "n_reference"));
    exact("n_degenerate", st.n_degenerate, jint(inf, "n_degenerate"));
    near_key(inf, "rm_mean", st.rm_mean, TOL_D, 1.0);
    near_key(inf, "di_mean", st.di_mean, TOL_D, 1.0);
    near_key(inf, "ic_mean", st.ic_mean, TOL_D, TINY);
    if (!jnull(inf, "RM")) {
        near_array("RM", RM, jget(inf, "RM"), (size_t)T, TOL_D, 1.0);
        near_array("DI", DI, jget(inf, "DI"), (size_t)T, TOL_D, 1.0);
        near_array("IC", IC, jget(inf, "IC"), (size_t)T, TOL_D, TINY);
    }

    /* b8 singular values and their metrics */
    const json_t *sv = jget(hd, "sv");
    double *s = malloc((size_t)T * sizeof *s);
    ss_sv_metrics m;
    CHECK(ss_sv_metrics_compute(A, T, T, s, &m) == 0);
    const double s1 = jnum(sv, "sigma1");
    near_array("s", s, jget(sv, "s"), (size_t)T, TOL_SPEC, s1);
    near_key(sv, "sigma1", m.sigma1, TOL_SPEC, s1);
    near_key(sv, "sigma2", m.sigma2, TOL_SPEC, s1);
    near_key(sv, "frob2", m.frob2, TOL_D, TINY);
    near_key(sv, "stable_rank", m.stable_rank, TOL_D, 1.0);
    near_key(sv, "participation", m.participation, TOL_D, 1.0);
    near_ratio("sigma_gap", m.sigma_gap, jnum(sv, "sigma_gap"));

    /* b8 eigenvalues (meaningful for bidirectional heads; a causal head's are its diagonal, checked all the same) */
    const json_t *eg = jget(hd, "eig");
    double *ab = malloc((size_t)T * sizeof *ab);
    ss_eig_metrics e;
    CHECK(ss_eig_metrics_compute(A, T, ab, &e) == 0);
    exact("triangular", e.triangular, jint(eg, "triangular"));
    size_t na = 0;
    double *abw = jdoubles(jget(eg, "abs"), &na);
    near_array("abs_eig", ab, jget(eg, "abs"), (size_t)T, TOL_SPEC, na ? abw[0] : 1.0);
    near("abs_l1", e.abs_l1, na ? abw[0] : NAN, TOL_SPEC, 1.0);
    near_ratio("eigen_gap", e.gap, jnum(eg, "gap"));
    near_key(eg, "participation", e.participation, TOL_SPEC * 10, 1.0);
    free(abw);

    /* b8 sink concentration and entropy (bits); b10 entropy (nats) per row */
    const json_t *sc = jget(hd, "sink_conc");
    double conc = NAN;
    int n_sink = -1;
    CHECK(ss_sink_concentration(A, T, SS_SINK_QUANTILE, &conc, &n_sink) == 0);
    near_key(sc, "conc", conc, TOL_D, 1.0);
    exact("n_sink", n_sink, jint(sc, "n_sink"));
    near_key(hd, "entropy_bits", ss_mean_row_entropy_bits(A, T), TOL_D, 1.0);
    float *Hn = malloc((size_t)T * sizeof *Hn);
    ss_row_entropy_nats(A, T, T, Hn);
    near_array_f("entropy_nats", Hn, jget(hd, "entropy_nats"), (size_t)T, TOL_F32, 1.0);

    /* sliding windows (causal only) */
    const json_t *win = json_object_get(hd, "window");
    for (size_t w = 0; w < json_array_size(win); w++) {
        const json_t *o = json_array_get(win, w);
        const int W = jint(o, "W");
        char what[64];
        ss_column_importance_window(A, T, 1, W, alpha);
        snprintf(what, sizeof what, "alpha_window(W=%d)", W);
        near_array_f(what, alpha, jget(o, "alpha"), (size_t)T, TOL_F32, TINY);
        snprintf(what, sizeof what, "n_cand_window(W=%d, 1)", W);
        exact(what, ss_key_candidates_window(T, 1, W, 1), jint(o, "n_cand1"));
        snprintf(what, sizeof what, "n_cand_window(W=%d, 4)", W);
        exact(what, ss_key_candidates_window(T, 1, W, 4), jint(o, "n_cand4"));
    }
    free(alpha), free(r), free(R), free(z), free(Rf), free(RM), free(DI), free(IC), free(s), free(ab), free(Hn);
}

/* ---------------------------------------------------------------- graph.h */

static void check_graph(const float *A, int T, const json_t *g)
{
    const double tau = jnum(g, "tau");
    const int diag = jint(g, "diag");
    int *deg = malloc((size_t)T * sizeof *deg);
    double *eig = malloc((size_t)T * sizeof *eig);
    ss_graph_metrics gm;
    CHECK(ss_graph_metrics_compute(A, T, (float)tau, diag, NULL, deg, eig, &gm) == 0);
    char ctx[sizeof g_ctx];
    memcpy(ctx, g_ctx, sizeof ctx);
    snprintf(g_ctx + strlen(g_ctx), sizeof g_ctx - strlen(g_ctx), " graph tau=%g diag=%d", tau, diag);
    exact("n_edges", gm.n_edges, jint(g, "n_edges"));
    exact("effective", gm.effective, jint(g, "effective"));
    exact("degree_max", gm.degree_max, jint(g, "degree_max"));
    exact_array("deg", deg, (size_t)T, jget(g, "deg"));
    near_key(g, "density", gm.density, TOL_D, TINY);
    near_key(g, "degree_mean", gm.degree_mean, TOL_D, TINY);
    near_key(g, "degree_var", gm.degree_var, TOL_D, 1.0);
    near_key(g, "star_basic", gm.star_basic, TOL_D, 1.0);
    near_key(g, "gini", gm.gini, TOL_D, 1.0);
    near_key(g, "star", gm.star, TOL_D, 1.0);
    near_key(g, "centralisation", gm.centralisation, TOL_D, 1.0);
    const double lmax = jnum(g, "lambda_max");
    near_key(g, "lambda_max", gm.lambda_max, TOL_SPEC, 1.0);
    near_key(g, "fiedler", gm.fiedler, TOL_SPEC, fmax(1.0, lmax));
    near_key(g, "spectral_gap", gm.spectral_gap, TOL_SPEC, fmax(1.0, lmax));
    if (!jnull(g, "eig")) near_array("laplacian_eig", eig, jget(g, "eig"), (size_t)T, TOL_SPEC, fmax(1.0, lmax));
    memcpy(g_ctx, ctx, sizeof ctx);
    free(deg), free(eig);
}

/* ---------------------------------------------------------------- divergence.h */

static void check_divergence(const float *A, int H, int T, const json_t *dv)
{
    if (!jnull(dv, "Abar")) {
        float *Abar = malloc((size_t)T * T * sizeof *Abar);
        ss_head_mean(A, H, T, Abar);
        near_array_f("Abar", Abar, jget(dv, "Abar"), (size_t)T * T, TOL_F32, TINY);
        free(Abar);
    }
    double *c = malloc((size_t)T * sizeof *c);
    ss_layer_column_sums(A, H, T, c);
    near_array("c", c, jget(dv, "c"), (size_t)T, TOL_D, TINY);
    unsigned char *in_S = malloc((size_t)T);
    int *in_Si = malloc((size_t)T * sizeof *in_Si), *rows = malloc((size_t)T * sizeof *rows);
    double *kw = malloc((size_t)H * sizeof *kw), *kwo = malloc((size_t)H * sizeof *kwo);
    double *red = malloc((size_t)H * sizeof *red), *conc = malloc((size_t)H * sizeof *conc);
    const json_t *sets = jget(dv, "sets");
    char ctx[sizeof g_ctx];
    memcpy(ctx, g_ctx, sizeof ctx);
    for (size_t k = 0; k < json_array_size(sets); k++) {
        const json_t *e = json_array_get(sets, k);
        const double q = jnum(e, "q");
        memcpy(g_ctx, ctx, sizeof ctx);
        snprintf(g_ctx + strlen(g_ctx), sizeof g_ctx - strlen(g_ctx), " q=%g", q);
        double p = NAN, thr = NAN, pct = NAN;
        int nS = -1;
        CHECK(ss_percentile_linear(c, T, q, &p) == 0);
        near_key(e, "percentile", p, TOL_D, TINY);
        CHECK(ss_sink_set(c, T, q, in_S, &nS, &thr, &pct) == 0);
        for (int j = 0; j < T; j++) in_Si[j] = in_S[j];
        exact_array("in_S", in_Si, (size_t)T, jget(e, "in_S"));
        exact("n_S", nS, jint(e, "n_S"));
        near("threshold", thr, jnum(e, "percentile"), TOL_D, TINY);
        near_key(e, "sink_pct", pct, TOL_D, 1.0);
        ss_sink_head_concentration(A, H, T, in_S, conc);
        near_array("head_conc", conc, jget(e, "conc"), (size_t)H, TOL_D, 1.0);
        const json_t *runs = jget(e, "runs");
        for (size_t u = 0; u < json_array_size(runs); u++) {
            const json_t *run = json_array_get(runs, u);
            const int kc = jint(run, "causal"), fast = jint(run, "fast");
            char what[64];
            const int nr = ss_kl_rows(T, kc, fast, rows);
            snprintf(what, sizeof what, "kl_rows(causal=%d, fast=%d)", kc, fast);
            exact_array(what, rows, (size_t)nr, jget(run, "rows"));
            CHECK(ss_kl_sink_reduction(A, H, T, kc, in_S, rows, nr, kw, kwo, red) == 0);
            size_t nh = 0;
            double *ww = jdoubles(jget(run, "kl_with"), &nh), *wwo = jdoubles(jget(run, "kl_without"), NULL);
            double *wr = jdoubles(jget(run, "reduction"), NULL);
            for (int h = 0; h < H && h < (int)nh; h++) {
                snprintf(what, sizeof what, "kl_with[%d](causal=%d, fast=%d)", h, kc, fast);
                near(what, kw[h], ww[h], TOL_D, TINY);
                snprintf(what, sizeof what, "kl_without[%d](causal=%d, fast=%d)", h, kc, fast);
                near(what, kwo[h], wwo[h], TOL_D, TINY);
                snprintf(what, sizeof what, "kl_reduction[%d](causal=%d, fast=%d)", h, kc, fast);
                near(what, red[h], wr[h], TOL_D, fmax(fabs(ww[h]), fabs(wwo[h])));
            }
            free(ww), free(wwo), free(wr);
        }
    }
    memcpy(g_ctx, ctx, sizeof ctx);
    free(c), free(in_S), free(in_Si), free(rows), free(kw), free(kwo), free(red), free(conc);
}

/* ---------------------------------------------------------------- geometry.h */

static void check_hidden(const json_t *g, float **h_out, float **hp_out, double **M_out)
{
    const int n = jint(g, "n"), d = jint(g, "d");
    float *h = jfloats(jget(g, "h"), NULL), *hp = jfloats(jget(g, "h_post"), NULL);
    double *v = malloc((size_t)n * sizeof *v), x = NAN;
    ss_row_norms(h, n, d, v);
    near_array("norms", v, jget(g, "norms"), (size_t)n, TOL_D, TINY);
    ss_cos_to_anchor(h, n, d, 0, v);
    near_array("cos_first", v, jget(g, "cos_first"), (size_t)n, TOL_D, 1.0);
    ss_cos_to_anchor(h, n, d, n - 1, v);
    near_array("cos_last", v, jget(g, "cos_last"), (size_t)n, TOL_D, 1.0);
    near_key(g, "ratio_first", ss_norm_ratio(h, n, d, 0), TOL_D, TINY);
    near_key(g, "ratio_last", ss_norm_ratio(h, n, d, n - 1), TOL_D, TINY);
    CHECK(ss_anisotropy(h, n, d, &x) == 0);
    near_key(g, "aniso", x, TOL_D, 1.0);
    CHECK(ss_effective_rank(h, n, d, 0, &x) == 0);
    near_key(g, "erank", x, TOL_D, 1.0);
    CHECK(ss_effective_rank(h, n, d, 1, &x) == 0);
    near_key(g, "erank_centered", x, TOL_D, 1.0);
    ss_transformation_magnitude(h, hp, n, d, 1, v);
    near_array("M_compat", v, jget(g, "M_compat"), (size_t)n, TOL_D, TINY);
    ss_transformation_magnitude(h, hp, n, d, 0, v);
    near_array("M", v, jget(g, "M"), (size_t)n, TOL_D, TINY);
    if (h_out) {
        *h_out = h, *hp_out = hp, *M_out = v;
    } else {
        free(h), free(hp), free(v);
    }
}

static void check_attention_geometry(const float *A, int T, const json_t *g)
{
    float *h = NULL, *hp = NULL;
    double *M = NULL;
    check_hidden(g, &h, &hp, &M);
    const int d = jint(g, "d");
    double r = NAN, rk[3], mean = NAN;
    CHECK(ss_geometric_alignment(A, h, T, d, 0, &r) == 0);
    near_key(g, "align_causal0", r, TOL_D, 1.0);
    CHECK(ss_geometric_alignment(A, h, T, d, 1, &r) == 0);
    near_key(g, "align_causal1", r, TOL_D, 1.0);
    CHECK(ss_pca_correlation(A, h, T, d, rk, &mean) == 0);
    near_array("pca_r", rk, jget(g, "pca_r"), 3, TOL_PCA, 1.0);
    near_key(g, "pca_mean", mean, TOL_PCA, 1.0);
    float *ent = jfloats(jget(g, "entropy_in"), NULL);
    near_key(g, "ent_mag_r", ss_entropy_magnitude_r(ent, M, T), TOL_D, 1.0);
    free(h), free(hp), free(M), free(ent);
}

/* ---------------------------------------------------------------- topology.h */

/* Finite dim-0 deaths of dg, sorted ascending, against the numpy MST weights (exact: both are fp32 distances). */
static void check_dim0(const ss_topo_diagram *dg, int n, const json_t *mst, int zero0_want, double total0_want,
                       const char *tag)
{
    char what[80];
    size_t nm = 0;
    double *w = jdoubles(mst, &nm);
    double deaths[SS_TOPO_MAX_POINTS];
    int nd = 0, ninf = 0;
    for (int b = 0; b < dg->n0; b++) {
        if (isinf(dg->death0[b])) ninf++;
        else deaths[nd++] = dg->death0[b];
    }
    for (int a = 1; a < nd; a++) /* insertion sort */
        for (int b = a; b > 0 && deaths[b - 1] > deaths[b]; b--) {
            double t = deaths[b];
            deaths[b] = deaths[b - 1], deaths[b - 1] = t;
        }
    snprintf(what, sizeof what, "%s n0", tag);
    exact(what, dg->n0, n - zero0_want);
    snprintf(what, sizeof what, "%s zero0", tag);
    exact(what, dg->zero0, zero0_want);
    snprintf(what, sizeof what, "%s infinite dim-0 bars", tag);
    exact(what, ninf, 1);
    snprintf(what, sizeof what, "%s unpaired1", tag);
    exact(what, dg->unpaired1, 0);
    /* the numpy list includes the zero-length MST edges, the diagram does not */
    snprintf(what, sizeof what, "%s finite dim-0 bars", tag);
    exact(what, nd, (long)nm - zero0_want);
    for (int b = 0; b < nd && b + zero0_want < (int)nm; b++) {
        snprintf(what, sizeof what, "%s death0[%d]", tag, b);
        near(what, deaths[b], w[b + zero0_want], 0.0, 0.0);
    }
    ss_topo_summary s;
    ss_topo_summarise(dg, 0.01, 0.5, &s);
    snprintf(what, sizeof what, "%s total0", tag);
    near(what, s.total0, total0_want, TOL_D, TINY);
    free(w);
}

static void check_betti(const ss_topo_diagram *dg, const json_t *list, const char *tag)
{
    char what[96];
    for (size_t k = 0; k < json_array_size(list); k++) {
        const json_t *e = json_array_get(list, k);
        const double r = jnum_value(json_array_get(e, 0));
        const int b0 = (int)json_integer_value(json_array_get(e, 1));
        const int b1 = (int)json_integer_value(json_array_get(e, 2));
        ss_topo_summary s;
        ss_topo_summarise(dg, 0.01, r, &s);
        snprintf(what, sizeof what, "%s betti0 at r=%.6g", tag, r);
        exact(what, s.betti0_at_r, b0);
        if (b1 >= 0) {
            snprintf(what, sizeof what, "%s betti1 at r=%.6g", tag, r);
            exact(what, s.betti1_at_r, b1);
        }
    }
}

static void check_topology(const float *A, int T, const json_t *tp)
{
    ss_topo_diagram *dg = malloc(sizeof *dg);
    float *D = malloc((size_t)T * T * sizeof *D);
    ss_topo_dist_sym(A, T, D);
    if (!jnull(tp, "D")) exact_array_f("D_sym", D, jget(tp, "D"), (size_t)T * T);
    const int zero0 = jint(tp, "zero0");
    CHECK(ss_topo_persistence(D, NULL, T, dg) == 0);
    check_dim0(dg, T, jget(tp, "mst"), zero0, jnum(tp, "total0"), "full fast");
    CHECK(ss_topo_persistence_ref(D, NULL, T, dg) == 0);
    check_dim0(dg, T, jget(tp, "mst"), zero0, jnum(tp, "total0"), "full ref");

    /* the subsample (<= 9 points): Betti numbers at a few scales from brute-force Z/2 ranks */
    int idx[SS_TOPO_MAX_POINTS];
    const int n = ss_topo_subsample(T, 9, idx);
    exact_array("sub_idx", idx, (size_t)n, jget(tp, "sub_idx"));
    float *As = malloc((size_t)n * n * sizeof *As), *Ds = malloc((size_t)n * n * sizeof *Ds);
    float *W = malloc((size_t)n * n * sizeof *W), vb[SS_TOPO_MAX_POINTS];
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) As[i * n + j] = A[idx[i] * T + idx[j]];
    ss_topo_dist_sym(As, n, Ds);
    CHECK(ss_topo_persistence(Ds, NULL, n, dg) == 0);
    size_t nm = 0;
    double *w = jdoubles(jget(tp, "sub_mst"), &nm);
    int z0 = 0;
    for (size_t k = 0; k < nm; k++) z0 += w[k] <= 0;
    free(w);
    check_dim0(dg, n, jget(tp, "sub_mst"), z0, jnum(tp, "sub_total0"), "sub fast");
    check_betti(dg, jget(tp, "betti"), "sub fast");
    CHECK(ss_topo_persistence_ref(Ds, NULL, n, dg) == 0);
    check_betti(dg, jget(tp, "betti"), "sub ref");

    /* the authors' D = 1 - A as ripser.py sees it */
    ss_topo_dist_compat(As, n, Ds);
    exact("compat_sparse", ss_topo_ripser_view(Ds, n, W, vb), jint(tp, "compat_sparse"));
    exact_array_f("compat_W", W, jget(tp, "compat_W"), (size_t)n * n);
    exact_array_f("compat_vbirth", vb, jget(tp, "compat_vbirth"), (size_t)n);
    CHECK(ss_topo_persistence(W, vb, n, dg) == 0);
    check_betti(dg, jget(tp, "compat_betti"), "compat fast");
    CHECK(ss_topo_persistence_ref(W, vb, n, dg) == 0);
    check_betti(dg, jget(tp, "compat_betti"), "compat ref");
    free(dg), free(D), free(As), free(Ds), free(W);
}

/* ---------------------------------------------------------------- one attention case */

static void check_attention_case(const json_t *cs)
{
    const int T = jint(cs, "T"), causal = jint(cs, "causal"), H = jint(cs, "H");
    snprintf(g_ctx, sizeof g_ctx, "%s", json_string_value(jget(cs, "name")));
    size_t nA = 0;
    float *A = jfloats(jget(cs, "A"), &nA);
    if (nA != (size_t)H * T * T) {
        fprintf(stderr, "%s: A has %zu values, want %d\n", g_ctx, nA, H * T * T);
        g_test_failures++;
        free(A);
        return;
    }
    const json_t *heads = jget(cs, "heads");
    char base[sizeof g_ctx];
    memcpy(base, g_ctx, sizeof base);
    for (int h = 0; h < H; h++) {
        snprintf(g_ctx, sizeof g_ctx, "%.140s head %d", base, h);
        check_head(A + (size_t)h * T * T, T, causal, json_array_get(heads, (size_t)h));
    }
    memcpy(g_ctx, base, sizeof base);

    /* b1 Sink_k^eps over the heads: counts of alpha_k > eps (compared in fp32, as the sink_rate analysis does) */
    const json_t *sr = jget(cs, "sink_rate");
    float *alpha = malloc((size_t)H * T * sizeof *alpha);
    for (int h = 0; h < H; h++) ss_column_importance(A + (size_t)h * T * T, T, causal, alpha + (size_t)h * T);
    const json_t *eps = jget(sr, "eps"), *cnt = jget(sr, "count");
    for (size_t e = 0; e < json_array_size(eps); e++) {
        const float ef = (float)jnum_value(json_array_get(eps, e));
        int *count = calloc((size_t)T, sizeof *count);
        for (int h = 0; h < H; h++)
            for (int k = 0; k < T; k++) count[k] += alpha[(size_t)h * T + k] > ef;
        char what[48];
        snprintf(what, sizeof what, "sink_count(eps=%g)", (double)ef);
        exact_array(what, count, (size_t)T, json_array_get(cnt, e));
        free(count);
    }
    free(alpha);

    /* b8 / C5 Marchenko-Pastur KL of the pooled normalised squared singular values */
    const json_t *mp = jget(cs, "mp");
    double *xc = malloc((size_t)H * T * sizeof *xc);
    for (int h = 0; h < H; h++) {
        CHECK(ss_singular_values(A + (size_t)h * T * T, T, T, xc + (size_t)h * T) == 0);
        ss_sv_normalise_sq(xc + (size_t)h * T, T, xc + (size_t)h * T);
    }
    near_array("mp_x", xc, jget(mp, "x"), (size_t)H * T, TOL_D, 1.0);
    size_t nx = 0;
    double *x = jdoubles(jget(mp, "x"), &nx);
    const json_t *kls = jget(mp, "kl");
    for (size_t k = 0; k < json_array_size(kls); k++) {
        const json_t *e = json_array_get(kls, k);
        const double gamma = jnum_value(json_array_get(e, 0)), want = jnum_value(json_array_get(e, 2));
        const int nb = (int)json_integer_value(json_array_get(e, 1));
        double kl = NAN;
        CHECK(ss_mp_kl(x, (long)nx, gamma, nb, &kl) == 0);
        char what[64];
        snprintf(what, sizeof what, "mp_kl(gamma=%g, bins=%d)", gamma, nb);
        near(what, kl, want, TOL_MP, 1e-6);
    }
    free(xc), free(x);

    /* b4 graph metrics of head 0 over the threshold grid, both diagonal rules */
    const json_t *gr = jget(cs, "graph");
    for (size_t k = 0; k < json_array_size(gr); k++) check_graph(A, T, json_array_get(gr, k));

    /* rectangular singular values: head 0's z [T][8] */
    const json_t *svr = jget(cs, "sv_rect");
    const json_t *inf0 = jget(json_array_get(heads, 0), "influence");
    size_t nz = 0;
    float *z = jfloats(jget(inf0, "z"), &nz);
    const int dz = (int)(nz / (size_t)T);
    const int kk = T < dz ? T : dz;
    double *s = malloc((size_t)kk * sizeof *s);
    ss_sv_metrics m;
    CHECK(ss_sv_metrics_compute(z, T, dz, s, &m) == 0);
    const double s1 = jnum(svr, "sigma1");
    exact("rect k", m.k, kk);
    near_array("rect s", s, jget(svr, "s"), (size_t)kk, TOL_SPEC, s1);
    near("rect stable_rank", m.stable_rank, jnum(svr, "stable_rank"), TOL_D, 1.0);
    near("rect participation", m.participation, jnum(svr, "participation"), TOL_D, 1.0);
    near("rect frob2", m.frob2, jnum(svr, "frob2"), TOL_D, TINY);
    near_ratio("rect sigma_gap", m.sigma_gap, jnum(svr, "sigma_gap"));
    free(z), free(s);

    check_divergence(A, H, T, jget(cs, "divergence"));
    check_attention_geometry(A, T, jget(cs, "geometry"));
    check_topology(A, T, jget(cs, "topology"));
    free(A);
}

/* ---------------------------------------------------------------- geometry.json */

static void check_geometry_file(const json_t *root)
{
    const json_t *hid = jget(root, "hidden");
    for (size_t k = 0; k < json_array_size(hid); k++) {
        const json_t *g = json_array_get(hid, k);
        snprintf(g_ctx, sizeof g_ctx, "hidden %s", json_string_value(json_object_get(g, "name")));
        check_hidden(g, NULL, NULL, NULL);
    }
    const json_t *qk = jget(root, "qk");
    for (size_t k = 0; k < json_array_size(qk); k++) {
        const json_t *o = json_array_get(qk, k);
        const int n = jint(o, "n"), d = jint(o, "d"), s = jint(o, "s"), causal = jint(o, "causal");
        snprintf(g_ctx, sizeof g_ctx, "qk n=%d s=%d causal=%d", n, s, causal);
        float *q = jfloats(jget(o, "q"), NULL), *kv = jfloats(jget(o, "k"), NULL), *v = jfloats(jget(o, "v"), NULL);
        ss_qk_decomp r;
        ss_qk_decompose(q, kv, v, n, d, s, causal, &r);
        near_key(o, "k_norm_ratio", r.k_norm_ratio, TOL_D, TINY);
        near_key(o, "v_norm_ratio", r.v_norm_ratio, TOL_D, TINY);
        near_key(o, "cos_sink", r.cos_sink, TOL_D, 1.0);
        near_key(o, "cos_other", r.cos_other, TOL_D, 1.0);
        near_key(o, "q_norm_mean", r.q_norm_mean, TOL_D, TINY);
        exact("n_queries", r.n_queries, jint(o, "n_queries"));
        free(q), free(kv), free(v);
    }
    const json_t *ms = jget(root, "massive");
    for (size_t k = 0; k < json_array_size(ms); k++) {
        const json_t *o = json_array_get(ms, k);
        const int n = jint(o, "n"), d = jint(o, "d"), cap = jint(o, "cap");
        snprintf(g_ctx, sizeof g_ctx, "massive %zu (%dx%d, cap %d)", k, n, d, cap);
        float *h = jfloats(jget(o, "h"), NULL);
        ss_massive_hit *hits = malloc((size_t)(cap + 1) * sizeof *hits);
        unsigned char *flag = malloc((size_t)n);
        int *flagi = malloc((size_t)n * sizeof *flagi);
        ss_massive_result res;
        CHECK(ss_massive_activations(h, n, d, SS_MASSIVE_ABS_THRESHOLD, SS_MASSIVE_REL_THRESHOLD, hits, cap, flag,
                                     &res) == 0);
        double med = NAN;
        CHECK(ss_median_abs(h, (long)n * d, &med) == 0);
        near_key(o, "median", med, 1e-15, TINY);
        near_key(o, "median", res.median_abs, 1e-15, TINY);
        near_key(o, "max_abs", res.max_abs, 0.0, 0.0);
        exact("max_token", res.max_token, jint(o, "max_token"));
        exact("max_channel", res.max_channel, jint(o, "max_channel"));
        exact("n_massive", res.n_massive, jint(o, "n_massive"));
        exact("n_tokens", res.n_tokens, jint(o, "n_tokens"));
        for (int i = 0; i < n; i++) flagi[i] = flag[i];
        exact_array("token_flag", flagi, (size_t)n, jget(o, "token_flag"));
        const json_t *hl = jget(o, "hits");
        exact("n_stored", res.n_stored, (long)json_array_size(hl));
        for (int i = 0; i < res.n_stored && i < (int)json_array_size(hl); i++) {
            const json_t *e = json_array_get(hl, (size_t)i);
            char what[48];
            snprintf(what, sizeof what, "hit[%d].token", i);
            exact(what, hits[i].token, (long)json_integer_value(json_array_get(e, 0)));
            snprintf(what, sizeof what, "hit[%d].channel", i);
            exact(what, hits[i].channel, (long)json_integer_value(json_array_get(e, 1)));
            snprintf(what, sizeof what, "hit[%d].value", i);
            near(what, hits[i].value, jnum_value(json_array_get(e, 2)), 0.0, 0.0);
            snprintf(what, sizeof what, "hit[%d].ratio", i);
            near(what, hits[i].ratio, jnum_value(json_array_get(e, 3)), 1e-12, TINY);
        }
        free(h), free(hits), free(flag), free(flagi);
    }
    const json_t *sub = jget(root, "subsample");
    for (size_t k = 0; k < json_array_size(sub); k++) {
        const json_t *e = json_array_get(sub, k);
        const int n = (int)json_integer_value(json_array_get(e, 0)), m = (int)json_integer_value(json_array_get(e, 1));
        snprintf(g_ctx, sizeof g_ctx, "subsample n=%d m=%d", n, m);
        int idx[128];
        const int c = ss_topo_subsample(n, m, idx);
        exact_array("idx", idx, (size_t)(c < 0 ? 0 : c), json_array_get(e, 2));
    }
}

static json_t *load(const char *dir, const char *name)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/tests/fixtures/analysis/%s", dir, name);
    json_error_t err;
    json_t *root = json_load_file(path, 0, &err);
    if (!root) {
        fprintf(stderr, "cannot read %s: %s (line %d)\n", path, err.text, err.line);
        g_test_failures++;
    }
    return root;
}

int main(void)
{
    const char *src = getenv("SS_SOURCE_DIR");
    if (!src || !*src) SKIP("SS_SOURCE_DIR is not set (CTest sets it): cannot locate tests/fixtures/analysis");
    json_t *att = load(src, "attention.json"), *geo = load(src, "geometry.json");
    if (att) {
        const json_t *cases = json_object_get(att, "cases");
        CHECK(json_array_size(cases) > 0);
        for (size_t k = 0; k < json_array_size(cases); k++) check_attention_case(json_array_get(cases, k));
        printf("attention.json: %zu cases\n", json_array_size(cases));
    }
    if (geo) check_geometry_file(geo);
    json_decref(att);
    json_decref(geo);
    printf("%ld comparisons against numpy/scipy; worst error / tolerance %.3g (%s)\n", g_checks, g_worst,
           g_worst_what);
    TEST_END();
}
