/* test_graph.c: attention-graph Laplacian metrics (kernels/graph.h) on hand-built graphs and random matrices.
 *
 * Hand values (0-based nodes, tau = 0.5, entries 1 = edge, 0 = none):
 *  - causal star, n = 6: rows i = 1..5 attend to key 0 (A[i][0] = 1), A[0][0] = 1 (the hub's self-attention).
 *    Diagonal excluded: d = (5,0,0,0,0,0), E = 5, rho = 5/36, S_b = 5/5 = 1,
 *    Gini: sorted d = (0,0,0,0,0,5): 2*6*5/(6*5) - 7/6 = 5/6 = (n-1)/n, C_d = 5*5/25 = 1,
 *    Var(d) = E[d^2] - mean^2 = 25/6 - 25/36 = 125/36. W = 1/2 on every spoke, so Lap = 1/2 * (star Laplacian,
 *    spectrum {0,1,1,1,1,6}) = {0, .5, .5, .5, .5, 3}; l2 = .5, gap = 0.
 *    Diagonal included: d_0 = 6, E = 6, S_b = 6/5, C_d = 30/25, spectrum unchanged (self-loops cancel in Lap).
 *  - two-way star, n = 7: Lap is the star Laplacian {0, 1 x5, 7}: l2 = 1, lmax = n.
 *  - complete graph K_5 (all off-diagonal entries 1): d_j = 4, G = 0, S_b = 1, C_d = 0, Var = 0,
 *    rho = 20/25 = 0.8 (effective); with the diagonal rho = 1 (not effective); spectrum {0, 5, 5, 5, 5}.
 *  - two disjoint triangles (K_3 + K_3): spectrum {0, 0, 3, 3, 3, 3}: l2 = 0, gap = 3.
 * Random: degrees, Gini (the mean-absolute-difference form sum_ij |d_i - d_j| / (2 n sum d), equal to the sorted
 * formula), C_d, Var and the spectrum's trace, trace of Lap^2 and number of zero eigenvalues (= connected
 * components, found by a BFS) against naive code here; invariance under a token permutation. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "graph.h"
#include "test_util.h"

static uint64_t g_rng = 0x9e3779b97f4a7c15ULL;

static double urand(void) /* xorshift64*, uniform in [0, 1) */
{
    g_rng ^= g_rng >> 12;
    g_rng ^= g_rng << 25;
    g_rng ^= g_rng >> 27;
    return (double)((g_rng * 0x2545F4914F6CDD1DULL) >> 11) / 9007199254740992.0;
}

static void check_spectrum(const double *eig, const double *want, int n, double tol)
{
    for (int k = 0; k < n; k++) CHECK_NEAR(eig[k], want[k], tol);
}

static void test_causal_star(void)
{
    enum { N = 6 };
    float A[N][N] = {{0}};
    for (int i = 0; i < N; i++) A[i][0] = 1.0f;
    ss_graph_metrics g;
    int deg[N];
    double eig[N];
    CHECK(ss_graph_metrics_compute(&A[0][0], N, 0.5f, 0, NULL, deg, eig, &g) == 0);
    const double want[N] = {0, 0.5, 0.5, 0.5, 0.5, 3};
    check_spectrum(eig, want, N, 1e-12);
    CHECK(deg[0] == 5);
    for (int j = 1; j < N; j++) CHECK(deg[j] == 0);
    CHECK(g.n == N && g.include_diag == 0 && g.n_edges == 5 && g.degree_max == 5);
    CHECK_NEAR(g.density, 5.0 / 36.0, 1e-15);
    CHECK(g.effective == 1);
    CHECK_NEAR(g.star_basic, 1.0, 1e-15);
    CHECK_NEAR(g.gini, 5.0 / 6.0, 1e-15);
    CHECK_NEAR(g.star, 0.3 + 0.7 * 5.0 / 6.0, 1e-15);
    CHECK_NEAR(g.centralisation, 1.0, 1e-15);
    CHECK_NEAR(g.degree_mean, 5.0 / 6.0, 1e-15);
    CHECK_NEAR(g.degree_var, 125.0 / 36.0, 1e-13);
    CHECK_NEAR(g.fiedler, 0.5, 1e-12);
    CHECK_NEAR(g.spectral_gap, 0.0, 1e-12);
    CHECK_NEAR(g.lambda_max, 3.0, 1e-12);

    /* The authors' compat rule: the hub's self-loop counts. */
    CHECK(ss_graph_metrics_compute(&A[0][0], N, 0.5f, 1, NULL, deg, eig, &g) == 0);
    check_spectrum(eig, want, N, 1e-12);
    CHECK(deg[0] == 6 && g.n_edges == 6 && g.include_diag == 1);
    CHECK_NEAR(g.star_basic, 6.0 / 5.0, 1e-15);
    CHECK_NEAR(g.centralisation, 30.0 / 25.0, 1e-15);
    CHECK_NEAR(g.density, 6.0 / 36.0, 1e-15);
    CHECK_NEAR(g.gini, 5.0 / 6.0, 1e-15); /* one nonzero degree: 2*6*6/(6*6) - 7/6 */

    /* Threshold is strict: entries equal to tau are no edges; tau above everything gives the empty graph. */
    CHECK(ss_graph_metrics_compute(&A[0][0], N, 1.0f, 0, NULL, deg, eig, &g) == 0);
    CHECK(g.n_edges == 0 && g.degree_max == 0 && g.effective == 0);
    CHECK(g.gini == 0.0 && g.star_basic == 0.0 && g.centralisation == 0.0 && g.degree_var == 0.0);
    for (int k = 0; k < N; k++) CHECK_NEAR(eig[k], 0.0, 1e-15);
}

static void test_two_way_star(void)
{
    enum { N = 7 };
    float A[N][N] = {{0}};
    for (int i = 1; i < N; i++) A[i][0] = A[0][i] = 0.9f;
    ss_graph_metrics g;
    double eig[N];
    CHECK(ss_graph_metrics_compute(&A[0][0], N, 0.5f, 0, NULL, NULL, eig, &g) == 0);
    const double want[N] = {0, 1, 1, 1, 1, 1, N};
    check_spectrum(eig, want, N, 1e-12);
    CHECK_NEAR(g.fiedler, 1.0, 1e-12);
    CHECK_NEAR(g.lambda_max, (double)N, 1e-12);
    /* In-degrees: hub 6, leaves 1 each. S_b = 1; C_d = 6*5/36; mean 12/7; G from sorted (1,1,1,1,1,1,6):
     * 2*(21 + 42)/(7*12) - 8/7 = 126/84 - 8/7 = 3/2 - 8/7 = 5/14. */
    CHECK_NEAR(g.star_basic, 1.0, 1e-15);
    CHECK_NEAR(g.centralisation, 30.0 / 36.0, 1e-15);
    CHECK_NEAR(g.gini, 5.0 / 14.0, 1e-14);
    CHECK_NEAR(g.density, 12.0 / 49.0, 1e-15);
}

static void test_complete_and_disconnected(void)
{
    enum { N = 5 };
    float K[N][N];
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) K[i][j] = 0.2f; /* uniform attention; tau 0.1 */
    ss_graph_metrics g;
    double eig[N];
    CHECK(ss_graph_metrics_compute(&K[0][0], N, 0.1f, 0, NULL, NULL, eig, &g) == 0);
    const double want[N] = {0, N, N, N, N};
    check_spectrum(eig, want, N, 1e-12);
    CHECK(g.n_edges == 20 && g.degree_max == 4 && g.effective == 1);
    CHECK_NEAR(g.density, 0.8, 1e-15);
    CHECK(g.gini == 0.0);
    CHECK_NEAR(g.star_basic, 1.0, 1e-15);
    CHECK_NEAR(g.star, 0.3, 1e-15);
    CHECK(g.centralisation == 0.0 && g.degree_var == 0.0);
    CHECK_NEAR(g.spectral_gap, 0.0, 1e-12);
    CHECK(ss_graph_metrics_compute(&K[0][0], N, 0.1f, 1, NULL, NULL, eig, &g) == 0);
    CHECK(g.n_edges == 25 && g.density == 1.0 && g.effective == 0);
    check_spectrum(eig, want, N, 1e-12);

    enum { M = 6 }; /* two triangles {0,1,2} and {3,4,5} */
    float D[M][M] = {{0}};
    for (int i = 0; i < M; i++)
        for (int j = 0; j < M; j++)
            if (i != j && i / 3 == j / 3) D[i][j] = 1.0f;
    double eig2[M];
    CHECK(ss_graph_metrics_compute(&D[0][0], M, 0.5f, 0, NULL, NULL, eig2, &g) == 0);
    const double want2[M] = {0, 0, 3, 3, 3, 3};
    check_spectrum(eig2, want2, M, 1e-12);
    CHECK_NEAR(g.fiedler, 0.0, 1e-12);
    CHECK_NEAR(g.spectral_gap, 3.0, 1e-12);

    /* Small n: NaN where the quantity needs more nodes. */
    float one = 1.0f, two[4] = {0, 1, 1, 0};
    CHECK(ss_graph_metrics_compute(&one, 1, 0.5f, 0, NULL, NULL, NULL, &g) == 0);
    CHECK(isnan(g.star_basic) && isnan(g.fiedler) && isnan(g.spectral_gap) && g.gini == 0.0);
    CHECK(ss_graph_metrics_compute(two, 2, 0.5f, 0, NULL, NULL, NULL, &g) == 0);
    CHECK_NEAR(g.fiedler, 2.0, 1e-12); /* K_2: {0, 2} */
    CHECK(isnan(g.spectral_gap));
    CHECK(ss_graph_metrics_compute(two, 0, 0.5f, 0, NULL, NULL, NULL, &g) == -1);
}

/* Connected components of the undirected graph W != 0 (BFS). */
static int components(const int *B, int n)
{
    int *seen = calloc((size_t)n, sizeof(int)), *queue = malloc((size_t)n * sizeof(int)), comps = 0;
    for (int s = 0; s < n; s++) {
        if (seen[s]) continue;
        comps++;
        int head = 0, tail = 0;
        queue[tail++] = s;
        seen[s] = 1;
        while (head < tail) {
            int u = queue[head++];
            for (int v = 0; v < n; v++)
                if (!seen[v] && (B[u * n + v] || B[v * n + u])) {
                    seen[v] = 1;
                    queue[tail++] = v;
                }
        }
    }
    free(seen);
    free(queue);
    return comps;
}

static void test_random(void)
{
    const float taus[4] = {0.01f, 0.05f, 0.1f, 0.2f};
    int max_n = 40;
    void *ws = malloc(ss_graph_workspace_bytes(max_n));
    float *A = malloc(sizeof(float) * max_n * max_n), *PA = malloc(sizeof(float) * max_n * max_n);
    int *B = malloc(sizeof(int) * max_n * max_n), *deg = malloc(sizeof(int) * max_n);
    int *perm = malloc(sizeof(int) * max_n);
    double *eig = malloc(sizeof(double) * max_n), *eigp = malloc(sizeof(double) * max_n);
    double *L = malloc(sizeof(double) * max_n * max_n);
    for (int trial = 0; trial < 24; trial++) {
        int n = 3 + (int)(urand() * (max_n - 2)), causal = trial % 2, diag = (trial / 2) % 2;
        float tau = taus[trial % 4];
        for (int i = 0; i < n; i++) { /* softmax-like rows with a few sharp peaks */
            double s = 0.0;
            for (int j = 0; j < n; j++) {
                double v = (causal && j > i) ? 0.0 : exp(4.0 * urand() * urand());
                A[i * n + j] = (float)v;
                s += v;
            }
            for (int j = 0; j < n; j++) A[i * n + j] = (float)(A[i * n + j] / s);
        }
        ss_graph_metrics g, gp;
        CHECK(ss_graph_metrics_compute(A, n, tau, diag, trial % 3 ? ws : NULL, deg, eig, &g) == 0);

        /* naive degrees and statistics */
        long E = 0;
        int dmax = 0, want_deg[64];
        for (int j = 0; j < n; j++) want_deg[j] = 0;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) {
                B[i * n + j] = A[i * n + j] > tau && (diag || i != j);
                want_deg[j] += B[i * n + j];
                E += B[i * n + j];
            }
        double sumd = 0, mad = 0, cen = 0, var = 0;
        for (int j = 0; j < n; j++) {
            CHECK(deg[j] == want_deg[j]);
            if (want_deg[j] > dmax) dmax = want_deg[j];
            sumd += want_deg[j];
        }
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) mad += abs(want_deg[i] - want_deg[j]);
            cen += dmax - want_deg[i];
            var += (want_deg[i] - sumd / n) * (want_deg[i] - sumd / n);
        }
        double gini = sumd > 0 ? mad / (2.0 * n * sumd) : 0.0;
        CHECK(g.n_edges == E && g.degree_max == dmax);
        CHECK_NEAR(g.density, (double)E / (n * n), 1e-15);
        CHECK(g.effective == (g.density >= 0.05 && g.density <= 0.95));
        CHECK_NEAR(g.gini, gini, 1e-12);
        CHECK_NEAR(g.star_basic, (double)dmax / (n - 1), 1e-15);
        CHECK_NEAR(g.star, 0.3 * dmax / (n - 1) + 0.7 * gini, 1e-12);
        CHECK_NEAR(g.centralisation, cen / ((n - 1.0) * (n - 1.0)), 1e-12);
        CHECK_NEAR(g.degree_var, var / n, 1e-12);

        /* spectrum invariants: trace(Lap) = sum l, trace(Lap^2) = sum l^2, zero multiplicity = components */
        for (int i = 0; i < n * n; i++) L[i] = 0.0;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                if (i != j) {
                    double w = 0.5 * ((A[i * n + j] > tau) + (A[j * n + i] > tau));
                    L[i * n + j] = -w;
                    L[i * n + i] += w;
                }
        double tr = 0, fro = 0, sl = 0, sl2 = 0;
        for (int i = 0; i < n; i++) tr += L[i * n + i];
        for (int i = 0; i < n * n; i++) fro += L[i] * L[i];
        int zeros = 0;
        for (int k = 0; k < n; k++) {
            sl += eig[k];
            sl2 += eig[k] * eig[k];
            if (k) CHECK(eig[k] >= eig[k - 1]);
            if (fabs(eig[k]) < 1e-9) zeros++;
        }
        CHECK_NEAR(sl, tr, 1e-9 * (1 + tr));
        CHECK_NEAR(sl2, fro, 1e-9 * (1 + fro));
        CHECK_NEAR(eig[0], 0.0, 1e-10);
        CHECK(zeros == components(B, n));
        CHECK((g.fiedler > 1e-9) == (components(B, n) == 1));
        CHECK(g.fiedler == eig[1] && g.spectral_gap == eig[2] - eig[1] && g.lambda_max == eig[n - 1]);

        /* token permutation P: A'[i][j] = A[p_i][p_j] gives the same graph up to relabelling */
        for (int i = 0; i < n; i++) perm[i] = i;
        for (int i = n - 1; i > 0; i--) {
            int k = (int)(urand() * (i + 1)), t = perm[i];
            perm[i] = perm[k];
            perm[k] = t;
        }
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) PA[i * n + j] = A[perm[i] * n + perm[j]];
        CHECK(ss_graph_metrics_compute(PA, n, tau, diag, ws, NULL, eigp, &gp) == 0);
        for (int k = 0; k < n; k++) CHECK_NEAR(eigp[k], eig[k], 1e-10);
        CHECK(gp.n_edges == g.n_edges && gp.degree_max == g.degree_max);
        CHECK_NEAR(gp.gini, g.gini, 1e-12);
        CHECK_NEAR(gp.degree_var, g.degree_var, 1e-12);
    }
    free(ws);
    free(A);
    free(PA);
    free(B);
    free(deg);
    free(perm);
    free(eig);
    free(eigp);
    free(L);
}

int main(void)
{
    test_causal_star();
    test_two_way_star();
    test_complete_and_disconnected();
    test_random();
    TEST_END();
}
