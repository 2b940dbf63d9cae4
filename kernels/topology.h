/* topology.h: Vietoris-Rips persistent homology in dims 0 and 1 of a small finite metric (science.md b6, pitfall C4).
 * Plain CPU code, no TDA library; n <= SS_TOPO_MAX_POINTS = 64 points. Indices are 0-based.
 *
 * ---- Distances from one head's attention matrix A [n][n] (row i = query, column j = key) ----
 * Corrected rule (C4), ss_topo_dist_sym:
 *   D[i][j] = 1 - max(A[i][j], A[j][i])  for i != j,   D[i][i] = 0.
 *   Symmetric; a causal head's masked zero A[i][j] (j > i) never wins the max, so the pair (i, j) is at distance
 *   1 - A[max(i,j)][min(i,j)], the weight the later token gives the earlier one. Distances lie in [0, 1]; D is a
 *   dissimilarity, not necessarily a metric (the triangle inequality may fail; Rips persistence does not need it).
 * Authors' form (authors_compat), ss_topo_dist_compat: D[i][j] = 1 - A[i][j] for all i, j, as given: asymmetric, the
 *   masked entries of a causal head sit at distance 1, and the diagonal 1 - A[i][i] is non-zero.
 *
 * What the authors' call ripser(D, maxdim=1, distance_matrix=True) does with that D, read from the ripser.py source
 * (scikit-tda/ripser.py: src/ripser/ripser.py and its ripser.cpp), not from a run:
 *   - It reads only the STRICT UPPER triangle D[i][j], i < j (row < column), not the lower one. Dense path: it passes
 *     dm[row_grid > col_grid], row_grid, col_grid = np.meshgrid(arange(n), arange(n)) (column index > row index), to a
 *     compressed_upper_distance_matrix. Sparse path: the COO entries with row < col become edges. The lower triangle
 *     is ignored. ("Ripser reads the lower triangle" holds for other front ends, e.g. the Ripser CLI's lower-distance
 *     format or Ripser.jl, not for ripser.py, whose keyword distance_matrix=True the notebook uses.) For a causal head
 *     the upper triangle holds only masked zeros, so EVERY edge has length exactly 1 - 0 = 1.
 *   - A non-zero diagonal anywhere sends the matrix down the sparse (COO) path: D[i][i] becomes the birth time of
 *     vertex i, and off-diagonal entries equal to 0 are dropped by the dense -> COO conversion (edge absent, i.e. at
 *     +infinity). Dim 0 uses the elder rule: a merge by an edge w of components born at b_u, b_v gives the bar
 *     [max(b_u, b_v), w), kept only if w > max(b_u, b_v); the merged component is born at min(b_u, b_v).
 *   - Pairs with death <= birth are not reported, in either dimension.
 *   Consequence on decoders (causal A, every A[i][i] > 0): all edges at 1, vertex births 1 - A[i][i] in [0, 1), so
 *   dim 0 has n bars, [1 - A[i][i], 1) for every vertex but the oldest plus one infinite bar, whatever the attention
 *   pattern, and every dim-1 pair is (1, 1), so Betti1 = 0: the published Betti0 ~ token count and Betti1 = 0.
 *   ss_topo_ripser_view builds that effective input, so that ss_topo_persistence reproduces the authors' numbers.
 *
 * ---- Filtration and persistence (ss_topo_persistence) ----
 * Input: edge lengths w(i,j) = D[i][j] for i < j (only the strict upper triangle is read; give a symmetric D), values
 * in [0, +inf] (+INFINITY = the edge never appears; no NaN), and optional vertex births b[i] (NULL: all 0).
 * Complex: the Rips 2-skeleton on all n vertices: vertex i at b[i], edge {i,j} at w(i,j), triangle {i,j,k} at the max
 * of its three edge lengths. Edges are totally ordered by (w, i, j) with i < j (lexicographic, deterministic);
 * triangles by (rank of their longest edge, rank of the middle edge, rank of the shortest edge) in that edge order,
 * which is a filtration order (a triangle comes after its edges). The diagram does not depend on the tie-breaking.
 * Dim 0: Kruskal over the ordered edges with union-find and the elder rule above (with b = 0: the n-1 finite bars
 *   are [0, w_e) for the minimum-spanning-tree edges e, plus one infinite bar [0, +inf)). An edge that merges two
 *   components is "negative"; the others (n(n-1)/2 - (n-1) of them) are "positive" and create a 1-cycle.
 * Dim 1, reference (ss_topo_persistence_ref): Z/2 column reduction of the edge x triangle boundary matrix (rows =
 *   edges, columns = triangles, both in filtration order; bit-packed columns). Each reduced non-zero column t with
 *   lowest row (largest edge rank) e gives the pair (w_e, diam t). Every such e is a positive edge; once all positive
 *   edges are paired the remaining columns all reduce to zero and are skipped.
 * Dim 1, fast path (ss_topo_persistence): the same pairs by persistent cohomology (de Silva, Morozov and
 *   Vejdemo-Johansson 2011; Bauer's Ripser): the coboundary matrix, columns = edges in DECREASING filtration order,
 *   entries = their n-2 cofacet triangles, pivot = the earliest triangle; the negative (Kruskal) edges are cleared
 *   (their columns would reduce to zero), so only the n(n-1)/2 - (n-1) positive edges are reduced, as sparse sorted
 *   lists; a column with pivot t gives the pair (w_e, diam t).
 * Essential classes: with all triangles present, H1 of the full 2-skeleton is 0 (n >= 3), so every positive edge is
 *   paired and there are NO infinite dim-1 bars; `unpaired1` counts any that would remain (stored as [w_e, +inf)); it
 *   is 0 by construction (the tests check it). A pair born at a finite w whose triangle sits at +inf (missing edges)
 *   is stored with death +INFINITY.
 * Zero persistence: as ripser, pairs with death <= birth (death == birth from ties in the distances, e.g. a triangle
 *   whose three edges are equal; death < birth only with vertex births above an edge length) are NOT stored;
 *   zero0/zero1 count them. Hence n0 + zero0 = n, and n1 + zero1 = n(n-1)/2 - (n-1).
 * Cost, measured by the test on random points in [0,1]^3 (Release -O3, one core): n = 64 (2016 edges, 41664
 *   triangles): ref 12-16 ms (it reduces ~41600 triangle columns; pivot table 2016 x 32 words = 516 KB), fast path
 *   1.0-1.6 ms (1953 positive-edge columns, ~25 column additions; ~1 MB of stored columns); n = 30: ref 0.6-0.7 ms,
 *   fast 0.1-0.14 ms.
 *
 * ---- Summaries (ss_topo_summarise) ----
 * Authors' definitions (b6): betti0 = n0 and betti1 = n1, the counts of diagram points (infinite ones included);
 *   mean/max persistence over the finite bars (death < +inf).
 * Corrected (C4): per dimension, the count of bars with death - birth > floor (infinite bars count), the Betti numbers
 *   at a fixed scale r = #{bars: birth <= r < death}, and total persistence = sum over finite bars of (death - birth).
 * Compare models only within one convention (distance rule and summary). */
#ifndef SS_KERNEL_TOPOLOGY_H
#define SS_KERNEL_TOPOLOGY_H

#define SS_TOPO_MAX_POINTS 64
#define SS_TOPO_MAX_EDGES (SS_TOPO_MAX_POINTS * (SS_TOPO_MAX_POINTS - 1) / 2) /* 2016 */

/* Persistence diagram in dims 0 and 1. Bars are stored in the order found: dim 0 by increasing death (Kruskal order)
 * and then the infinite bars by vertex index; dim 1 by increasing death (triangle order). Infinite deaths are
 * +INFINITY. Birth and death are copies of input values (no arithmetic), hence float. */
typedef struct {
    int n;                              /* number of points */
    int n0;                             /* dim-0 bars stored (death > birth), infinite ones included */
    float birth0[SS_TOPO_MAX_POINTS];   /* [n0] */
    float death0[SS_TOPO_MAX_POINTS];   /* [n0] */
    int n1;                             /* dim-1 bars stored (death > birth) */
    float birth1[SS_TOPO_MAX_EDGES];    /* [n1] */
    float death1[SS_TOPO_MAX_EDGES];    /* [n1] */
    int zero0, zero1;                   /* pairs with death <= birth, not stored */
    int unpaired1;                      /* positive edges never paired (0 by construction; stored as [w, +inf)) */
    long columns_reduced;               /* columns reduced (diagnostics): ref = triangles, fast = positive edges */
} ss_topo_diagram;

typedef struct {
    int betti0, betti1;                 /* authors: number of diagram points (n0, n1) */
    int inf0, inf1;                     /* infinite bars */
    int long0, long1;                   /* bars with death - birth > floor (infinite bars included) */
    int betti0_at_r, betti1_at_r;       /* bars with birth <= r < death */
    double total0, total1;              /* sum of (death - birth) over finite bars */
    double mean0, mean1;                /* mean of (death - birth) over finite bars; 0 when there are none */
    double max0, max1;                  /* max of (death - birth) over finite bars; 0 when there are none */
} ss_topo_summary;

/* Corrected distance: D[i][j] = 1 - max(A[i][j], A[j][i]) (i != j), D[i][i] = 0.
 * A: [n][n] row = query, column = key. D: [n][n] symmetric output. */
void ss_topo_dist_sym(const float *A, int n, float *D);

/* Authors' distance: D[i][j] = 1 - A[i][j] for all i, j (asymmetric, non-zero diagonal).
 * A: [n][n] row = query, column = key. D: [n][n] output. */
void ss_topo_dist_compat(const float *A, int n, float *D);

/* The input ripser.py effectively sees for the dense matrix D (see the header): W[i][j] = W[j][i] = D[min][max]
 * (strict upper triangle), W[i][i] = 0. If some D[i][i] != 0 (ripser's sparse path): vbirth[i] = D[i][i] and upper
 * entries equal to 0 become +INFINITY (dropped by the COO conversion); otherwise vbirth = 0.
 * Returns 1 if the sparse path applies, else 0. D: [n][n]. W: [n][n] output. vbirth: [n] output. */
int ss_topo_ripser_view(const float *D, int n, float *W, float *vbirth);

/* Evenly spaced subsample of 0..n-1 to at most m points (the authors keep <= 30 tokens): if n <= m, idx = 0..n-1;
 * else idx[k] = floor(k (n-1) / (m-1)), k = 0..m-1, in exact integer arithmetic (first and last index kept,
 * strictly increasing; numpy's linspace(0, n-1, m).astype(int) agrees except where float rounding of k*step lands
 * just below an integer). m == 1: idx = {0}. Returns the number of indices (min(n, m); 0 if n <= 0 or m <= 0).
 * idx: [min(n, m)] output. */
int ss_topo_subsample(int n, int m, int *idx);

/* Rips persistence in dims 0 and 1 of the distances D (upper triangle read) with optional vertex births.
 * D: [n][n] (D[i][j], i < j, read; values in [0, +inf], no NaN). vbirth: [n] or NULL (all 0). dg: output.
 * Returns 0, or -1 on out-of-memory or n outside [1, SS_TOPO_MAX_POINTS].
 * ss_topo_persistence_ref: dim 1 by the homology reduction (bit-packed edge x triangle columns, early stop);
 * ss_topo_persistence: dim 1 by the cohomology reduction with clearing (the fast path). Same diagram as multisets;
 * the order of the dim-1 bars differs (ref: increasing death; fast: decreasing birth). */
int ss_topo_persistence_ref(const float *D, const float *vbirth, int n, ss_topo_diagram *dg);
int ss_topo_persistence(const float *D, const float *vbirth, int n, ss_topo_diagram *dg);

/* Summaries of a diagram (authors' and corrected; see the header). floor: persistence floor (e.g. 0.01).
 * r: the fixed scale. s: output. */
void ss_topo_summarise(const ss_topo_diagram *dg, double floor, double r, ss_topo_summary *s);

#endif
