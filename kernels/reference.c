/* reference.c: reference-token detector (b2) and reference-point influence (b3). See reference.h. */
#include "reference.h"

#include <math.h>
#include <stdlib.h>

typedef struct {
    float s;
    int j;
} ss_scored_key;

/* s descending, NaN last, then index ascending: a strict total order, so qsort's result is unique. */
static int cmp_scored_key(const void *pa, const void *pb)
{
    const ss_scored_key *a = pa, *b = pb;
    int na = isnan(a->s), nb = isnan(b->s);
    if (na != nb) return na - nb;
    if (!na && a->s != b->s) return a->s > b->s ? -1 : 1;
    return (a->j > b->j) - (a->j < b->j);
}

static int cmp_int(const void *pa, const void *pb)
{
    int a = *(const int *)pa, b = *(const int *)pb;
    return (a > b) - (a < b);
}

int ss_reference_tokens(const float *s, int n, int n_candidates, const ss_reftok_params *params, int *R)
{
    ss_reftok_params p = params ? *params : SS_REFTOK_DEFAULTS;
    int m = n_candidates < n ? n_candidates : n;
    if (m <= 0) return 0;
    ss_scored_key *order = malloc((size_t)m * sizeof *order);
    if (!order) return -1;
    const float tau = (float)p.tau;
    int above = 0;
    for (int j = 0; j < m; j++) {
        order[j].s = s[j];
        order[j].j = j;
        if (s[j] > tau) above++;
    }
    qsort(order, (size_t)m, sizeof *order, cmp_scored_key);
    int k = above;
    if (k == 0) {
        double want = p.fallback_floor ? floor(p.frac * (double)n) : ceil(p.frac * (double)n);
        k = want < 1.0 ? 1 : (want > (double)n ? n : (int)want);
    }
    double capd = floor(p.cap_frac * (double)n);
    int cap = capd < 1.0 ? 1 : (capd > (double)n ? n : (int)capd);
    if (k > cap) k = cap;
    if (k > m) k = m;
    /* the keys above tau are exactly the first `above` of the order, so the first k are R in every case */
    for (int r = 0; r < k; r++) R[r] = order[r].j;
    qsort(R, (size_t)k, sizeof *R, cmp_int);
    free(order);
    return k;
}

/* RM, DI and IC of one query from its output t [dz] and reference part rho [dz]; 0 when |t| = 0. */
static int influence_one(const double *t, const double *rho, int dz, double *rm, double *di, double *ic)
{
    double tt = 0.0, rr = 0.0, rt = 0.0;
    for (int c = 0; c < dz; c++) {
        tt += t[c] * t[c];
        rr += rho[c] * rho[c];
        rt += rho[c] * t[c];
    }
    const double nt = sqrt(tt), nr = sqrt(rr);
    if (!(nt > 0.0)) return 0;
    *rm = nr / nt > 1.0 ? 1.0 : nr / nt;
    double cosv = nr > 0.0 ? rt / (nr * nt) : 0.0;
    if (cosv > 1.0) cosv = 1.0;
    if (cosv < -1.0) cosv = -1.0;
    *di = (cosv + 1.0) / 2.0;
    *ic = nr > 1e6 ? 1e6 : nr;
    return 1;
}

int ss_reference_influence_parts(const float *t, const float *rho, int n, int d, const unsigned char *in_R,
                                 ss_ref_influence_stats *stats)
{
    double *tq = malloc((size_t)(d > 0 ? d : 1) * 2 * sizeof *tq); /* [d] t_i, then [d] rho_i */
    if (!tq) return -1;
    double *rq = tq + (d > 0 ? d : 1);
    ss_ref_influence_stats st = {0, 0, 0, 0.0, 0.0, 0.0};
    for (int i = 0; i < n; i++) {
        if (in_R && in_R[i]) {
            st.n_reference++;
            continue;
        }
        for (int c = 0; c < d; c++) {
            tq[c] = t[(long)i * d + c];
            rq[c] = rho[(long)i * d + c];
        }
        double rm, di, ic;
        if (!influence_one(tq, rq, d, &rm, &di, &ic)) {
            st.n_degenerate++;
            continue;
        }
        st.n_entered++;
        st.rm_mean += rm;
        st.di_mean += di;
        st.ic_mean += ic;
    }
    if (st.n_entered > 0) {
        st.rm_mean /= st.n_entered;
        st.di_mean /= st.n_entered;
        st.ic_mean /= st.n_entered;
    } else {
        st.rm_mean = st.di_mean = st.ic_mean = NAN;
    }
    *stats = st;
    free(tq);
    return 0;
}

int ss_reference_influence(const float *A, int n, const float *z, int dz, int ld_z, const int *R, int n_R, double *RM,
                           double *DI, double *IC, ss_ref_influence_stats *stats)
{
    int rc = -1;
    unsigned char *in_R = calloc(n > 0 ? (size_t)n : 1, 1);
    double *t = malloc((size_t)(dz > 0 ? dz : 1) * 2 * sizeof *t);
    if (!in_R || !t) goto cleanup;
    double *rho = t + (dz > 0 ? dz : 1);
    for (int r = 0; r < n_R; r++)
        if (R[r] >= 0 && R[r] < n) in_R[R[r]] = 1;

    ss_ref_influence_stats st = {0, 0, 0, 0.0, 0.0, 0.0};
    for (int i = 0; i < n; i++) {
        double rm = NAN, di = NAN, ic = NAN;
        if (in_R[i]) {
            st.n_reference++;
            goto store;
        }
        const float *row = A + (long)i * n;
        double mass = 0.0;
        for (int j = 0; j < n; j++)
            if (row[j] > 0.0f && isfinite(row[j])) mass += row[j];
        for (int c = 0; c < dz; c++) t[c] = rho[c] = 0.0;
        if (mass > 0.0) {
            for (int j = 0; j < n; j++) {
                if (!(row[j] > 0.0f && isfinite(row[j]))) continue;
                double a = (double)row[j] / mass;
                const float *zj = z + (long)j * ld_z;
                for (int c = 0; c < dz; c++) t[c] += a * zj[c];
                if (in_R[j])
                    for (int c = 0; c < dz; c++) rho[c] += a * zj[c];
            }
        }
        if (!influence_one(t, rho, dz, &rm, &di, &ic)) {
            st.n_degenerate++;
            goto store;
        }
        st.n_entered++;
        st.rm_mean += rm;
        st.di_mean += di;
        st.ic_mean += ic;
    store:
        if (RM) RM[i] = rm;
        if (DI) DI[i] = di;
        if (IC) IC[i] = ic;
    }
    if (st.n_entered > 0) {
        st.rm_mean /= st.n_entered;
        st.di_mean /= st.n_entered;
        st.ic_mean /= st.n_entered;
    } else {
        st.rm_mean = st.di_mean = st.ic_mean = NAN;
    }
    if (stats) *stats = st;
    rc = 0;
cleanup:
    free(in_R);
    free(t);
    return rc;
}

void ss_head_output_vectors(const float *v, int n, int d_h, int ld_v, const float *W_O, int d_model, int H, int h,
                            float *z)
{
    const long ld_w = (long)H * d_h;
    for (int j = 0; j < n; j++) {
        const float *vj = v + (long)j * ld_v;
        float *zj = z + (long)j * d_model;
        for (int r = 0; r < d_model; r++) {
            const float *w = W_O + (long)r * ld_w + (long)h * d_h;
            double acc = 0.0;
            for (int c = 0; c < d_h; c++) acc += (double)w[c] * vj[c];
            zj[r] = (float)acc;
        }
    }
}
