/* test_topology.c: Rips persistence (dims 0, 1), distance builders, subsampling and summaries on hand-derived metrics,
 * plus randomized cross-checks against independent naive computations written here.
 *
 * Hand-derived cases:
 *  - Unit square 0-1-2-3 (sides 1, diagonals sqrt 2): dim 0 = three [0, 1) + [0, inf); the 4-cycle is born when its
 *    fourth side enters (1) and is filled by the triangles, which need a diagonal (sqrt 2): dim 1 = one [1, sqrt 2).
 *    Of the 3 positive edges (4th side, 2 diagonals) the diagonals pair with triangles at sqrt 2: zero1 = 2.
 *  - n points evenly on the unit circle, Euclidean chords c_k = 2 sin(pi k / n) for k steps apart: the MST is n-1
 *    sides (dim 0 = n-1 bars [0, c_1) + [0, inf)). The n-gon cycle is born at c_1; filling it needs a triangle whose
 *    three arcs (in steps) go round the circle, sum n, each <= k, so 3k >= n: it dies at k = ceil(n/3)
 *    (Adamaszek-Adams: VR(C_n; k) ~ S^1 for k/n < 1/3, and has H1 = 0 once k/n >= 1/3). Every other
 *    cycle (e.g. i, i+1, i+2 when edge {i, i+2} enters) dies at its own birth value: exactly one dim-1 bar
 *    [c_1, c_ceil(n/3)).
 *  - Three tight clusters far apart: n-3 tiny dim-0 bars, 2 long ones (the two shortest of the three cluster gaps), one
 *    infinite.
 *  - Path graph metric |i - j| (a tree metric; Rips complexes of tree metrics are contractible): no dim-1 bar.
 *  - Causal 4x4 head (test_sink's head 0), diagonal 1, 0.5, 0.25, 0.25 and lower triangle
 *      row 1: 0.5 | row 2: 0.5 0.25 | row 3: 0.25 0.25 0.25
 *    corrected D: D01 = D02 = 0.5, D03 = D12 = D13 = D23 = 0.75 -> MST 0.5, 0.5, 0.75: dim 0 = [0,.5) [0,.5) [0,.75)
 *    [0,inf); the 4 edges at 0.75 make 3 positive edges, all killed at 0.75 by triangles: dim 1 empty, zero1 = 3.
 *    authors' D = 1 - A through ripser.py: upper triangle all 1, vertex births 0, 0.5, 0.75, 0.75; all merges at 1 with
 *    the elder rule: dim 0 = [0.5,1) [0.75,1) [0.75,1) [0,inf) (4 = n points), dim 1 empty.
 * Randomized: dim-0 deaths vs a naive O(n^3) Prim MST; diagrams invariant under relabelling; Betti numbers at every
 * filtration value vs ranks of the Z/2 boundary matrices of the Rips complex (Gaussian elimination), n = 5..10, with
 * and without ties. Timing of n = 64 random points is printed. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "test_util.h"
#include "topology.h"

static uint64_t g_rng = 0x9e3779b97f4a7c15ull;
static double urand(void) /* xorshift64*, uniform in [0, 1) */
{
    g_rng ^= g_rng >> 12;
    g_rng ^= g_rng << 25;
    g_rng ^= g_rng >> 27;
    return (double)((g_rng * 2685821657736338717ull) >> 11) / 9007199254740992.0;
}

static ss_topo_diagram g_dg, g_dg2; /* ~16 KB each: static rather than on the stack */

static int cmp_pair(const void *pa, const void *pb)
{
    const float *a = pa, *b = pb;
    if (a[0] != b[0]) return a[0] < b[0] ? -1 : 1;
    if (a[1] != b[1]) return a[1] < b[1] ? -1 : 1;
    return 0;
}

/* bars of one dimension as sorted (birth, death) pairs into out [nb][2] */
static int sorted_bars(const ss_topo_diagram *dg, int dim, float *out)
{
    int nb = dim ? dg->n1 : dg->n0;
    for (int k = 0; k < nb; k++) {
        out[2 * k] = dim ? dg->birth1[k] : dg->birth0[k];
        out[2 * k + 1] = dim ? dg->death1[k] : dg->death0[k];
    }
    qsort(out, (size_t)nb, 2 * sizeof(float), cmp_pair);
    return nb;
}

static void points_dist(const double *x, int n, int dim, float *D)
{
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            double s = 0.0;
            for (int c = 0; c < dim; c++) s += (x[i * dim + c] - x[j * dim + c]) * (x[i * dim + c] - x[j * dim + c]);
            D[i * n + j] = (float)sqrt(s);
        }
}

/* ---- independent brute force: Betti numbers of the Rips complex {simplices of diameter <= v} over Z/2 ---- */
static int rank_z2(unsigned char *M, int rows, int cols) /* M [rows][cols], destroyed */
{
    int rank = 0;
    for (int c = 0; c < cols && rank < rows; c++) {
        int p = -1;
        for (int r = rank; r < rows; r++)
            if (M[r * cols + c]) {
                p = r;
                break;
            }
        if (p < 0) continue;
        for (int k = 0; k < cols; k++) {
            unsigned char t = M[p * cols + k];
            M[p * cols + k] = M[rank * cols + k];
            M[rank * cols + k] = t;
        }
        for (int r = 0; r < rows; r++)
            if (r != rank && M[r * cols + c])
                for (int k = 0; k < cols; k++) M[r * cols + k] ^= M[rank * cols + k];
        rank++;
    }
    return rank;
}

static void brute_betti(const float *D, int n, float v, int *b0, int *b1)
{
    int eid[16][16], ne = 0, ei[120], ej[120];
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++)
            if (D[i * n + j] <= v) {
                eid[i][j] = eid[j][i] = ne;
                ei[ne] = i;
                ej[ne] = j;
                ne++;
            } else {
                eid[i][j] = eid[j][i] = -1;
            }
    unsigned char *d1 = calloc((size_t)(n * (ne ? ne : 1)), 1);
    for (int e = 0; e < ne; e++) d1[ei[e] * ne + e] = d1[ej[e] * ne + e] = 1;
    int r1 = rank_z2(d1, n, ne);
    int nt = 0;
    unsigned char *d2 = calloc((size_t)((ne ? ne : 1) * 560), 1); /* <= C(16,3) = 560 triangles */
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++)
            for (int k = j + 1; k < n; k++)
                if (eid[i][j] >= 0 && eid[i][k] >= 0 && eid[j][k] >= 0) {
                    d2[eid[i][j] * 560 + nt] = d2[eid[i][k] * 560 + nt] = d2[eid[j][k] * 560 + nt] = 1;
                    nt++;
                }
    int r2 = ne ? rank_z2(d2, ne, 560) : 0;
    *b0 = n - r1;
    *b1 = ne - r1 - r2;
    free(d1);
    free(d2);
}

static int alive(const ss_topo_diagram *dg, int dim, float v)
{
    int c = 0, nb = dim ? dg->n1 : dg->n0;
    for (int k = 0; k < nb; k++) {
        float b = dim ? dg->birth1[k] : dg->birth0[k], d = dim ? dg->death1[k] : dg->death0[k];
        if (b <= v && v < d) c++;
    }
    return c;
}

/* the reference and the fast path give the same diagram (as sorted multisets) and counts */
static void check_ref_fast(const float *D, const float *vb, int n)
{
    static float b1[2 * SS_TOPO_MAX_EDGES], b2[2 * SS_TOPO_MAX_EDGES];
    CHECK(ss_topo_persistence_ref(D, vb, n, &g_dg2) == 0);
    CHECK(ss_topo_persistence(D, vb, n, &g_dg) == 0);
    CHECK(g_dg.zero0 == g_dg2.zero0 && g_dg.zero1 == g_dg2.zero1 && g_dg.unpaired1 == g_dg2.unpaired1);
    for (int dim = 0; dim < 2; dim++) {
        int n1 = sorted_bars(&g_dg, dim, b1), n2 = sorted_bars(&g_dg2, dim, b2);
        CHECK_MSG(n1 == n2, "ref vs fast n=%d dim %d: %d vs %d bars", n, dim, n2, n1);
        if (n1 == n2) CHECK(memcmp(b1, b2, (size_t)n1 * 2 * sizeof(float)) == 0);
    }
}

static void check_brute(const float *D, int n)
{
    check_ref_fast(D, NULL, n);
    CHECK(g_dg.unpaired1 == 0);
    CHECK(g_dg.n0 + g_dg.zero0 == n);
    CHECK(g_dg.n1 + g_dg.zero1 == (n - 1) * (n - 2) / 2);
    int b0, b1;
    brute_betti(D, n, 0.0f, &b0, &b1);
    CHECK(alive(&g_dg, 0, 0.0f) == b0);
    CHECK(alive(&g_dg, 1, 0.0f) == b1);
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++) {
            float v = D[i * n + j];
            brute_betti(D, n, v, &b0, &b1);
            CHECK_MSG(alive(&g_dg, 0, v) == b0, "n=%d v=%g dim0 %d vs %d", n, v, alive(&g_dg, 0, v), b0);
            CHECK_MSG(alive(&g_dg, 1, v) == b1, "n=%d v=%g dim1 %d vs %d", n, v, alive(&g_dg, 1, v), b1);
        }
}

/* naive Prim: the n-1 MST edge weights, sorted */
static void prim_weights(const float *D, int n, float *w)
{
    int in[SS_TOPO_MAX_POINTS] = {0};
    float best[SS_TOPO_MAX_POINTS];
    in[0] = 1;
    for (int v = 1; v < n; v++) best[v] = D[v];
    for (int s = 0; s < n - 1; s++) {
        int u = -1;
        for (int v = 0; v < n; v++)
            if (!in[v] && (u < 0 || best[v] < best[u])) u = v;
        w[s] = best[u];
        in[u] = 1;
        for (int v = 0; v < n; v++)
            if (!in[v] && D[u * n + v] < best[v]) best[v] = D[u * n + v];
    }
    for (int a = 1; a < n - 1; a++) /* insertion sort */
        for (int b = a; b > 0 && w[b - 1] > w[b]; b--) {
            float t = w[b];
            w[b] = w[b - 1];
            w[b - 1] = t;
        }
}

int main(void)
{
    static float D[64 * 64], P[64 * 64], A[64 * 64], W[64 * 64];
    static float bars[2 * SS_TOPO_MAX_EDGES], bars2[2 * SS_TOPO_MAX_EDGES];
    const float s2 = sqrtf(2.0f);

    /* ---- unit square ---- */
    {
        const float sq[16] = {0, 1, s2, 1, 1, 0, 1, s2, s2, 1, 0, 1, 1, s2, 1, 0};
        CHECK(ss_topo_persistence(sq, NULL, 4, &g_dg) == 0);
        CHECK(g_dg.n0 == 4 && g_dg.zero0 == 0);
        int nb = sorted_bars(&g_dg, 0, bars);
        for (int k = 0; k < 3 && nb == 4; k++) CHECK(bars[2 * k] == 0.0f && bars[2 * k + 1] == 1.0f);
        CHECK(bars[6] == 0.0f && isinf(bars[7]));
        CHECK(g_dg.n1 == 1 && g_dg.zero1 == 2 && g_dg.unpaired1 == 0);
        CHECK(g_dg.birth1[0] == 1.0f && g_dg.death1[0] == s2);

        ss_topo_summary s;
        ss_topo_summarise(&g_dg, 0.01, 1.2, &s);
        CHECK(s.betti0 == 4 && s.betti1 == 1 && s.inf0 == 1 && s.inf1 == 0);
        CHECK(s.long0 == 4 && s.long1 == 1);
        CHECK(s.betti0_at_r == 1 && s.betti1_at_r == 1); /* at 1.2: connected, the 4-cycle still open */
        CHECK_NEAR(s.total0, 3.0, 0);
        CHECK_NEAR(s.mean0, 1.0, 0);
        CHECK_NEAR(s.max0, 1.0, 0);
        CHECK_NEAR(s.total1, (double)s2 - 1.0, 0);
        CHECK_NEAR(s.mean1, (double)s2 - 1.0, 0);
        CHECK_NEAR(s.max1, (double)s2 - 1.0, 0);
        ss_topo_summarise(&g_dg, 0.5, 1.0, &s); /* at r = 1 the sides are in: [0,1) is dead, [1, sqrt2) alive */
        CHECK(s.betti0_at_r == 1 && s.betti1_at_r == 1);
        CHECK(s.long0 == 4 && s.long1 == 0); /* sqrt2 - 1 = 0.414 < 0.5 */
        ss_topo_summarise(&g_dg, 0.01, 0.5, &s);
        CHECK(s.betti0_at_r == 4 && s.betti1_at_r == 0);
        ss_topo_summarise(&g_dg, 0.01, 1.5, &s);
        CHECK(s.betti0_at_r == 1 && s.betti1_at_r == 0);
        check_brute(sq, 4);
    }

    /* ---- evenly spaced points on the unit circle ---- */
    for (int n = 4; n <= 40; n++) {
        float c[64];
        for (int k = 0; k <= n / 2; k++) c[k] = (float)(2.0 * sin(3.14159265358979323846 * k / n));
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) {
                int k = abs(i - j);
                D[i * n + j] = c[k < n - k ? k : n - k];
            }
        CHECK(ss_topo_persistence(D, NULL, n, &g_dg) == 0);
        CHECK(g_dg.n0 == n && g_dg.zero0 == 0);
        int nb = sorted_bars(&g_dg, 0, bars);
        for (int k = 0; k < nb - 1; k++) CHECK(bars[2 * k] == 0.0f && bars[2 * k + 1] == c[1]);
        CHECK(isinf(bars[2 * (nb - 1) + 1]));
        CHECK_MSG(g_dg.n1 == 1, "circle n=%d: %d dim-1 bars", n, g_dg.n1);
        CHECK(g_dg.unpaired1 == 0);
        if (g_dg.n1 == 1) {
            CHECK(g_dg.birth1[0] == c[1]);
            CHECK_MSG(g_dg.death1[0] == c[(n + 2) / 3], "circle n=%d: death %g, want %g", n, g_dg.death1[0],
                      c[(n + 2) / 3]);
        }
        check_ref_fast(D, NULL, n);
        if (n <= 10) check_brute(D, n);
    }

    /* ---- three well separated clusters in the plane ---- */
    {
        const int n = 15;
        double x[30];
        const double cx[3] = {0, 10, 0}, cy[3] = {0, 0, 10};
        for (int i = 0; i < n; i++) {
            x[2 * i] = cx[i % 3] + 0.2 * (urand() - 0.5);
            x[2 * i + 1] = cy[i % 3] + 0.2 * (urand() - 0.5);
        }
        points_dist(x, n, 2, D);
        float gap[3] = {INFINITY, INFINITY, INFINITY}; /* min distance between clusters (0,1), (0,2), (1,2) */
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) {
                int a = i % 3, b = j % 3;
                if (a >= b) continue;
                int g = a + b - 1;
                if (D[i * n + j] < gap[g]) gap[g] = D[i * n + j];
            }
        for (int a = 1; a < 3; a++)
            for (int b = a; b > 0 && gap[b - 1] > gap[b]; b--) {
                float t = gap[b];
                gap[b] = gap[b - 1];
                gap[b - 1] = t;
            }
        CHECK(ss_topo_persistence(D, NULL, n, &g_dg) == 0);
        int nb = sorted_bars(&g_dg, 0, bars), nlong = 0;
        CHECK(nb == n);
        for (int k = 0; k < nb; k++) {
            float d = bars[2 * k + 1];
            if (d > 1.0f && !isinf(d)) nlong++;
            if (d <= 1.0f) CHECK(d < 0.3f); /* within a cluster: diameter <= 0.2 sqrt 2 */
        }
        CHECK(nlong == 2);
        CHECK(bars[2 * (n - 3) + 1] == gap[0] && bars[2 * (n - 2) + 1] == gap[1] && isinf(bars[2 * (n - 1) + 1]));
        ss_topo_summary s;
        ss_topo_summarise(&g_dg, 1.0, 5.0, &s);
        CHECK(s.long0 == 3 && s.inf0 == 1); /* 2 long finite + the infinite one */
        CHECK(s.betti0_at_r == 3);          /* at r = 5: the three clusters */
        CHECK(s.max0 == (double)gap[1]);
        for (int k = 0; k < g_dg.n1; k++) CHECK(g_dg.death1[k] < 0.3f); /* no long cycle */
        check_ref_fast(D, NULL, n);
    }

    /* ---- tree metrics: the path graph |i - j| and a random weighted tree ---- */
    {
        const int n = 12;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) D[i * n + j] = (float)abs(i - j);
        CHECK(ss_topo_persistence(D, NULL, n, &g_dg) == 0);
        CHECK(g_dg.n1 == 0 && g_dg.unpaired1 == 0 && g_dg.zero1 == (n - 1) * (n - 2) / 2);
        CHECK(g_dg.n0 == n);
        for (int k = 0; k < n - 1; k++) CHECK(g_dg.birth0[k] == 0.0f && g_dg.death0[k] == 1.0f);
    }
    for (int trial = 0; trial < 20; trial++) {
        const int n = 5 + trial % 6;
        int par[16];
        double wt[16], dist[16][16];
        for (int v = 1; v < n; v++) {
            par[v] = (int)(urand() * v);
            wt[v] = trial % 2 ? (double)(1 + (int)(urand() * 3)) : 0.1 + urand();
        }
        for (int v = 0; v < n; v++) dist[v][v] = 0.0;
        for (int v = 1; v < n; v++) /* parent already placed: d(v, u) = w_v + d(par v, u) */
            for (int u = 0; u < v; u++) dist[v][u] = dist[u][v] = wt[v] + (u == par[v] ? 0.0 : dist[par[v]][u]);
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) D[i * n + j] = (float)dist[i][j];
        CHECK(ss_topo_persistence(D, NULL, n, &g_dg) == 0);
        CHECK_MSG(g_dg.n1 == 0, "tree trial %d: %d dim-1 bars", trial, g_dg.n1);
        check_brute(D, n);
    }
    {
        const int n = 10;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) D[i * n + j] = (float)abs(i - j);
        check_brute(D, n);
    }

    /* ---- dim 0 vs naive Prim on random symmetric matrices ---- */
    for (int trial = 0; trial < 30; trial++) {
        const int n = 2 + (trial * 7) % 63;
        for (int i = 0; i < n; i++) {
            D[i * n + i] = 0.0f;
            for (int j = i + 1; j < n; j++) D[i * n + j] = D[j * n + i] = (float)(0.01 + urand());
        }
        CHECK(ss_topo_persistence(D, NULL, n, &g_dg) == 0);
        CHECK(g_dg.n0 == n && g_dg.zero0 == 0 && g_dg.unpaired1 == 0);
        CHECK(g_dg.n1 + g_dg.zero1 == (n - 1) * (n - 2) / 2);
        float w[64];
        prim_weights(D, n, w);
        int nb = sorted_bars(&g_dg, 0, bars);
        CHECK(isinf(bars[2 * (nb - 1) + 1]));
        for (int k = 0; k < n - 1; k++) CHECK(bars[2 * k] == 0.0f && bars[2 * k + 1] == w[k]);
        check_ref_fast(D, NULL, n);
    }

    /* ---- invariance under relabelling ---- */
    for (int trial = 0; trial < 6; trial++) {
        const int n = 8 + trial * 9;
        double x[64 * 3];
        for (int i = 0; i < 3 * n; i++) x[i] = trial % 2 ? (double)(int)(urand() * 4) : urand(); /* odd: grid ties */
        points_dist(x, n, 3, D);
        int perm[64];
        for (int i = 0; i < n; i++) perm[i] = i;
        for (int i = n - 1; i > 0; i--) {
            int j = (int)(urand() * (i + 1)), t = perm[i];
            perm[i] = perm[j];
            perm[j] = t;
        }
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) P[i * n + j] = D[perm[i] * n + perm[j]];
        CHECK(ss_topo_persistence(D, NULL, n, &g_dg) == 0);
        CHECK(ss_topo_persistence(P, NULL, n, &g_dg2) == 0);
        for (int dim = 0; dim < 2; dim++) {
            int n1 = sorted_bars(&g_dg, dim, bars), n2 = sorted_bars(&g_dg2, dim, bars2);
            CHECK_MSG(n1 == n2, "relabel n=%d dim %d: %d vs %d bars", n, dim, n1, n2);
            if (n1 == n2) CHECK(memcmp(bars, bars2, (size_t)n1 * 2 * sizeof(float)) == 0);
        }
        CHECK(g_dg.zero1 == g_dg2.zero1 && g_dg.unpaired1 == 0 && g_dg2.unpaired1 == 0);
        check_ref_fast(D, NULL, n);
        check_ref_fast(P, NULL, n);
    }

    /* ---- dim 0 and dim 1 vs brute-force Betti numbers on small random metrics ---- */
    for (int trial = 0; trial < 120; trial++) {
        const int n = 5 + trial % 6;
        if (trial % 3 == 0) { /* Euclidean points */
            double x[32];
            for (int i = 0; i < 2 * n; i++) x[i] = urand();
            points_dist(x, n, 2, D);
        } else { /* arbitrary symmetric dissimilarities; every second one with heavy ties (values 1..4) */
            for (int i = 0; i < n; i++) {
                D[i * n + i] = 0.0f;
                for (int j = i + 1; j < n; j++)
                    D[i * n + j] = D[j * n + i] = trial % 3 == 1 ? (float)urand() : (float)(1 + (int)(urand() * 4));
            }
        }
        check_brute(D, n);
    }

    /* ---- distance builders and the authors' ripser.py view on a causal head ---- */
    {
        const float Ac[16] = {1, 0, 0, 0, 0.5f, 0.5f, 0, 0, 0.5f, 0.25f, 0.25f, 0, 0.25f, 0.25f, 0.25f, 0.25f};
        ss_topo_dist_sym(Ac, 4, D);
        const float want[16] = {0,     0.5f,  0.5f, 0.75f, 0.5f,  0,     0.75f, 0.75f,
                                0.5f,  0.75f, 0,    0.75f, 0.75f, 0.75f, 0.75f, 0};
        for (int k = 0; k < 16; k++) CHECK(D[k] == want[k]);
        CHECK(ss_topo_persistence(D, NULL, 4, &g_dg) == 0);
        int nb = sorted_bars(&g_dg, 0, bars);
        CHECK(nb == 4 && bars[1] == 0.5f && bars[3] == 0.5f && bars[5] == 0.75f && isinf(bars[7]));
        CHECK(g_dg.n1 == 0 && g_dg.zero1 == 3);

        ss_topo_dist_compat(Ac, 4, D);
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 4; j++) CHECK(D[i * 4 + j] == 1.0f - Ac[i * 4 + j]);
        float vb[4];
        CHECK(ss_topo_ripser_view(D, 4, W, vb) == 1); /* non-zero diagonal: sparse path */
        CHECK(vb[0] == 0.0f && vb[1] == 0.5f && vb[2] == 0.75f && vb[3] == 0.75f);
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 4; j++) CHECK(W[i * 4 + j] == (i == j ? 0.0f : 1.0f));
        CHECK(ss_topo_persistence(W, vb, 4, &g_dg) == 0);
        nb = sorted_bars(&g_dg, 0, bars);
        CHECK(nb == 4 && g_dg.zero0 == 0);
        CHECK(bars[0] == 0.0f && isinf(bars[1]));
        CHECK(bars[2] == 0.5f && bars[3] == 1.0f && bars[4] == 0.75f && bars[5] == 1.0f);
        CHECK(bars[6] == 0.75f && bars[7] == 1.0f);
        CHECK(g_dg.n1 == 0);
        check_ref_fast(W, vb, 4);

        /* zero diagonal: dense path, the upper triangle mirrored, zeros kept as edges at 0 */
        const float Du[9] = {0, 0, 2, 5, 0, 3, 7, 8, 0};
        CHECK(ss_topo_ripser_view(Du, 3, W, vb) == 0);
        const float wu[9] = {0, 0, 2, 0, 0, 3, 2, 3, 0};
        for (int k = 0; k < 9; k++) CHECK(W[k] == wu[k]);
        CHECK(vb[0] == 0.0f && vb[1] == 0.0f && vb[2] == 0.0f);
        /* sparse path: an upper zero is a missing edge -> +inf; the graph 0-2, 1-2 stays connected, no cycle */
        const float Ds[9] = {0.5f, 0, 2, 5, 0, 3, 7, 8, 0};
        CHECK(ss_topo_ripser_view(Ds, 3, W, vb) == 1);
        CHECK(isinf(W[1]) && isinf(W[3]) && W[2] == 2.0f && W[5] == 3.0f);
        CHECK(ss_topo_persistence(W, vb, 3, &g_dg) == 0);
        /* births 0.5, 0, 0; edge {0,2} at 2 merges births 0.5 and 0: [0.5, 2); edge {1,2} at 3: [0, 3); the
         * missing edge {0,1} (+inf) closes the only cycle, and its triangle is at +inf too: a (inf, inf) pair */
        nb = sorted_bars(&g_dg, 0, bars);
        CHECK(nb == 3 && g_dg.zero0 == 0);
        CHECK(bars[0] == 0.0f && bars[1] == 3.0f && bars[2] == 0.0f && isinf(bars[3]));
        CHECK(bars[4] == 0.5f && bars[5] == 2.0f);
        CHECK(g_dg.n1 == 0 && g_dg.zero1 == 1 && g_dg.unpaired1 == 0);
        check_ref_fast(W, vb, 3);
    }

    /* ---- C4 on a random causal head: authors' convention gives n dim-0 points and no dim-1 point ---- */
    {
        const int n = 30;
        for (int i = 0; i < n; i++) {
            double s = 0.0;
            for (int j = 0; j < n; j++) {
                A[i * n + j] = j <= i ? (float)exp(3.0 * urand()) : 0.0f;
                s += A[i * n + j];
            }
            for (int j = 0; j <= i; j++) A[i * n + j] = (float)(A[i * n + j] / s);
        }
        float vb[64];
        ss_topo_dist_compat(A, n, D);
        CHECK(ss_topo_ripser_view(D, n, W, vb) == 1);
        CHECK(ss_topo_persistence(W, vb, n, &g_dg) == 0);
        ss_topo_summary s;
        ss_topo_summarise(&g_dg, 0.01, 0.5, &s);
        CHECK(s.betti0 == n && s.betti1 == 0);
        for (int k = 0; k < g_dg.n0; k++) CHECK(g_dg.death0[k] == 1.0f || isinf(g_dg.death0[k]));
        check_ref_fast(W, vb, n);
        ss_topo_dist_sym(A, n, D);
        CHECK(ss_topo_persistence(D, NULL, n, &g_dg) == 0);
        CHECK(g_dg.n0 + g_dg.zero0 == n && g_dg.unpaired1 == 0);
        for (int i = 0; i < 8; i++) /* the corrected D of 8 evenly spaced tokens, brute-forced */
            for (int j = 0; j < 8; j++) P[i * 8 + j] = D[(i * 29 / 7) * n + (j * 29 / 7)];
        check_brute(P, 8);
    }

    /* ---- subsampling ---- */
    {
        int idx[64];
        CHECK(ss_topo_subsample(48, 30, idx) == 30);
        CHECK(idx[0] == 0 && idx[1] == 1 && idx[2] == 3 && idx[15] == 24 && idx[29] == 47); /* floor(47k/29) */
        for (int k = 1; k < 30; k++) CHECK(idx[k] > idx[k - 1]);
        CHECK(ss_topo_subsample(20, 30, idx) == 20);
        for (int k = 0; k < 20; k++) CHECK(idx[k] == k);
        CHECK(ss_topo_subsample(31, 30, idx) == 30 && idx[29] == 30 && idx[28] == 28); /* floor(30*28/29) = 28 */
        CHECK(ss_topo_subsample(10, 1, idx) == 1 && idx[0] == 0);
        CHECK(ss_topo_subsample(0, 30, idx) == 0 && ss_topo_subsample(5, 0, idx) == 0);
    }

    /* ---- limits and timing at n = 64 ---- */
    CHECK(ss_topo_persistence(D, NULL, 0, &g_dg) == -1);
    CHECK(ss_topo_persistence(D, NULL, 65, &g_dg) == -1);
    CHECK(ss_topo_persistence_ref(D, NULL, 65, &g_dg) == -1);
    CHECK(ss_topo_persistence_ref(D, NULL, 2, &g_dg) == 0 && g_dg.n0 == 2 && g_dg.n1 == 0);
    CHECK(ss_topo_persistence(D, NULL, 1, &g_dg) == 0 && g_dg.n0 == 1 && isinf(g_dg.death0[0]) && g_dg.n1 == 0);
    for (int n = 30; n <= 64; n += 34) {
        const int reps = 20;
        double x[64 * 3], ms[2];
        for (int i = 0; i < 3 * n; i++) x[i] = urand();
        points_dist(x, n, 3, D);
        long cols[2];
        for (int path = 0; path < 2; path++) {
            struct timespec t0, t1;
            clock_gettime(CLOCK_MONOTONIC, &t0);
            for (int r = 0; r < reps; r++) {
                int rc = path ? ss_topo_persistence(D, NULL, n, &g_dg) : ss_topo_persistence_ref(D, NULL, n, &g_dg);
                CHECK(rc == 0);
            }
            clock_gettime(CLOCK_MONOTONIC, &t1);
            ms[path] = ((double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-6) / reps;
            cols[path] = g_dg.columns_reduced;
            CHECK(g_dg.n0 == n && g_dg.unpaired1 == 0 && g_dg.n1 + g_dg.zero1 == (n - 1) * (n - 2) / 2);
        }
        printf("n = %d random points in [0,1]^3, %d dim-1 bars: ref %.3f ms (%ld of %d triangle columns), "
               "fast %.3f ms (%ld positive-edge columns)\n",
               n, g_dg.n1, ms[0], cols[0], n * (n - 1) * (n - 2) / 6, ms[1], cols[1]);
        check_ref_fast(D, NULL, n);
    }
    TEST_END();
}
