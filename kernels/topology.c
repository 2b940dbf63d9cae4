/* topology.c: Vietoris-Rips persistence in dims 0 (Kruskal + union-find) and 1 (reference: Z/2 reduction of the
 * edge x triangle boundary matrix, bit-packed; fast path: cohomology with clearing, sparse columns), distance builders
 * and summaries. Conventions in topology.h. */
#include "topology.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

void ss_topo_dist_sym(const float *A, int n, float *D)
{
    for (int i = 0; i < n; i++) {
        D[(long)i * n + i] = 0.0f;
        for (int j = i + 1; j < n; j++) {
            float a = A[(long)i * n + j], b = A[(long)j * n + i];
            float d = 1.0f - (a > b ? a : b);
            D[(long)i * n + j] = d;
            D[(long)j * n + i] = d;
        }
    }
}

void ss_topo_dist_compat(const float *A, int n, float *D)
{
    for (long k = 0; k < (long)n * n; k++) D[k] = 1.0f - A[k];
}

int ss_topo_ripser_view(const float *D, int n, float *W, float *vbirth)
{
    int sparse = 0;
    for (int i = 0; i < n; i++)
        if (D[(long)i * n + i] != 0.0f) sparse = 1;
    for (int i = 0; i < n; i++) {
        vbirth[i] = sparse ? D[(long)i * n + i] : 0.0f;
        W[(long)i * n + i] = 0.0f;
        for (int j = i + 1; j < n; j++) {
            float v = D[(long)i * n + j];
            if (sparse && v == 0.0f) v = INFINITY; /* scipy's COO conversion drops explicit zeros: no edge */
            W[(long)i * n + j] = v;
            W[(long)j * n + i] = v;
        }
    }
    return sparse;
}

int ss_topo_subsample(int n, int m, int *idx)
{
    if (n <= 0 || m <= 0) return 0;
    if (n <= m) {
        for (int k = 0; k < n; k++) idx[k] = k;
        return n;
    }
    if (m == 1) {
        idx[0] = 0;
        return 1;
    }
    for (int k = 0; k < m; k++) idx[k] = (int)(((long)k * (n - 1)) / (m - 1));
    return m;
}

typedef struct {
    float w;
    int i, j; /* i < j */
} topo_edge;

static int edge_cmp(const void *pa, const void *pb)
{
    const topo_edge *a = pa, *b = pb;
    if (a->w < b->w) return -1;
    if (a->w > b->w) return 1;
    if (a->i != b->i) return a->i < b->i ? -1 : 1;
    if (a->j != b->j) return a->j < b->j ? -1 : 1;
    return 0;
}

static int uf_find(int *parent, int x)
{
    while (parent[x] != x) {
        parent[x] = parent[parent[x]]; /* path halving */
        x = parent[x];
    }
    return x;
}

/* Largest set bit of col in words [0, top_word], or -1 if those words are all zero. */
static int col_low(const uint64_t *col, int top_word)
{
    for (int w = top_word; w >= 0; w--)
        if (col[w]) return w * 64 + 63 - __builtin_clzll(col[w]);
    return -1;
}

/* Work shared by both dim-1 paths: edges in filtration order, their ranks, dim 0 by Kruskal, the positive edges. */
typedef struct {
    int n, E;
    topo_edge *edges;         /* [E] filtration order (w, i, j) */
    int *rank;                /* [n][n] rank of edge {i,j} in that order (both halves), -1 on the diagonal */
    unsigned char *positive;  /* [E] 1: the edge closes a cycle (not a Kruskal merge) */
    int n_positive;
} topo_base;

static void base_free(topo_base *b)
{
    free(b->edges);
    free(b->rank);
    free(b->positive);
}

static int base_init(topo_base *b, const float *D, const float *vbirth, int n, ss_topo_diagram *dg)
{
    memset(b, 0, sizeof *b);
    memset(dg, 0, sizeof *dg);
    if (n < 1 || n > SS_TOPO_MAX_POINTS) return -1;
    dg->n = b->n = n;
    const int E = b->E = n * (n - 1) / 2;
    b->edges = malloc((size_t)(E > 0 ? E : 1) * sizeof *b->edges);
    b->rank = malloc((size_t)n * n * sizeof *b->rank);
    b->positive = calloc((size_t)(E > 0 ? E : 1), 1);
    if (!b->edges || !b->rank || !b->positive) return -1;

    int e = 0;
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++) b->edges[e++] = (topo_edge){D[(long)i * n + j], i, j};
    qsort(b->edges, (size_t)E, sizeof *b->edges, edge_cmp);
    for (int r = 0; r < E; r++) {
        b->rank[b->edges[r].i * n + b->edges[r].j] = r;
        b->rank[b->edges[r].j * n + b->edges[r].i] = r;
    }
    for (int i = 0; i < n; i++) b->rank[i * n + i] = -1;

    /* dim 0: Kruskal with the elder rule */
    int parent[SS_TOPO_MAX_POINTS];
    float cbirth[SS_TOPO_MAX_POINTS]; /* birth of the component rooted at a vertex (elder rule: min) */
    for (int v = 0; v < n; v++) {
        parent[v] = v;
        cbirth[v] = vbirth ? vbirth[v] : 0.0f;
    }
    for (int r = 0; r < E; r++) {
        int u = uf_find(parent, b->edges[r].i), v = uf_find(parent, b->edges[r].j);
        if (u == v) {
            b->positive[r] = 1;
            b->n_positive++;
            continue;
        }
        float young = cbirth[u] > cbirth[v] ? cbirth[u] : cbirth[v];
        float old = cbirth[u] > cbirth[v] ? cbirth[v] : cbirth[u];
        if (b->edges[r].w > young) {
            dg->birth0[dg->n0] = young;
            dg->death0[dg->n0] = b->edges[r].w;
            dg->n0++;
        } else {
            dg->zero0++;
        }
        parent[u] = v;
        cbirth[v] = old;
    }
    for (int v = 0; v < n; v++)
        if (uf_find(parent, v) == v) {
            dg->birth0[dg->n0] = cbirth[v];
            dg->death0[dg->n0] = INFINITY;
            dg->n0++;
        }
    return 0;
}

static void add_pair1(ss_topo_diagram *dg, float birth, float death)
{
    if (death > birth) {
        dg->birth1[dg->n1] = birth;
        dg->death1[dg->n1] = death;
        dg->n1++;
    } else {
        dg->zero1++;
    }
}

/* essential dim-1 classes: none for a full 2-skeleton on n >= 3 points (H1 = 0); kept for completeness */
static void add_unpaired(const topo_base *b, const unsigned char *paired, ss_topo_diagram *dg)
{
    for (int r = 0; r < b->E; r++)
        if (b->positive[r] && !paired[r]) {
            dg->unpaired1++;
            add_pair1(dg, b->edges[r].w, INFINITY);
        }
}

int ss_topo_persistence_ref(const float *D, const float *vbirth, int n, ss_topo_diagram *dg)
{
    topo_base b;
    int rc = -1;
    unsigned char *paired = NULL;
    uint64_t *pivots = NULL, *col = NULL;
    if (base_init(&b, D, vbirth, n, dg)) goto cleanup;
    const int E = b.E;
    const int W = E > 0 ? (E + 63) / 64 : 1; /* words per column */
    paired = calloc((size_t)(E > 0 ? E : 1), 1);                       /* [E] edge is the low of a reduced column */
    pivots = calloc((size_t)(E > 0 ? E : 1) * W, sizeof *pivots);      /* [E][W] reduced column with low e */
    col = calloc((size_t)W, sizeof *col);                               /* [W] working column */
    if (!paired || !pivots || !col) goto cleanup;

    /* triangles grouped by their longest edge (rank r, ascending), within a group by (middle, shortest) rank */
    int n_paired = 0;
    for (int r = 0; r < E && n_paired < b.n_positive; r++) {
        const int a = b.edges[r].i, c = b.edges[r].j;
        int mid[SS_TOPO_MAX_POINTS], low[SS_TOPO_MAX_POINTS], nt = 0;
        for (int k = 0; k < n; k++) {
            if (k == a || k == c) continue;
            int r1 = b.rank[a * n + k], r2 = b.rank[c * n + k];
            if (r1 > r || r2 > r) continue; /* r is not the longest edge of this triangle */
            int hi = r1 > r2 ? r1 : r2, lo = r1 > r2 ? r2 : r1;
            int p = nt++; /* insertion sort by (mid, low) */
            while (p > 0 && (mid[p - 1] > hi || (mid[p - 1] == hi && low[p - 1] > lo))) {
                mid[p] = mid[p - 1];
                low[p] = low[p - 1];
                p--;
            }
            mid[p] = hi;
            low[p] = lo;
        }
        for (int t = 0; t < nt && n_paired < b.n_positive; t++) {
            memset(col, 0, (size_t)(r / 64 + 1) * sizeof *col);
            col[r / 64] ^= 1ull << (r % 64);
            col[mid[t] / 64] ^= 1ull << (mid[t] % 64);
            col[low[t] / 64] ^= 1ull << (low[t] % 64);
            int lw = r;
            while (lw >= 0 && paired[lw]) {
                const uint64_t *p = pivots + (size_t)lw * W;
                for (int w = 0; w <= lw / 64; w++) col[w] ^= p[w];
                lw = col_low(col, lw / 64);
            }
            dg->columns_reduced++;
            if (lw < 0) continue; /* a 2-cycle is born: not tracked (dim 2 not computed) */
            memcpy(pivots + (size_t)lw * W, col, (size_t)(lw / 64 + 1) * sizeof *col);
            paired[lw] = 1;
            n_paired++;
            add_pair1(dg, b.edges[lw].w, b.edges[r].w);
        }
    }
    add_unpaired(&b, paired, dg);
    rc = 0;

cleanup:
    base_free(&b);
    free(paired);
    free(pivots);
    free(col);
    return rc;
}

/* ---- cohomology: columns = positive edges in decreasing filtration order, entries = their cofacet triangles,
 * each named by key (r_max * E + r_mid) * E + r_min (ranks of its edges, r_max > r_mid > r_min), which orders the
 * triangles exactly as the filtration does; the pivot of a column is its smallest key. */
typedef struct {
    uint64_t *keys; /* [cap] 0 = empty (a real key has r_max >= 2 and so is > 0) */
    int *val;       /* [cap] */
    size_t mask;
} topo_hash;

static int *hash_slot(topo_hash *h, uint64_t key, int insert)
{
    size_t s = (size_t)((key * 0x9e3779b97f4a7c15ull) >> 20) & h->mask;
    while (h->keys[s] && h->keys[s] != key) s = (s + 1) & h->mask;
    if (h->keys[s] == key) return &h->val[s];
    if (!insert) return NULL;
    h->keys[s] = key;
    return &h->val[s];
}

static void sort_keys(uint64_t *v, size_t len) /* insertion sort: columns are short (n - 2 <= 62 keys at first) */
{
    for (size_t a = 1; a < len; a++) {
        uint64_t x = v[a];
        size_t p = a;
        for (; p > 0 && v[p - 1] > x; p--) v[p] = v[p - 1];
        v[p] = x;
    }
}

int ss_topo_persistence(const float *D, const float *vbirth, int n, ss_topo_diagram *dg)
{
    topo_base b;
    int rc = -1;
    unsigned char *paired = NULL, *col_sorted = NULL;
    uint64_t *cur = NULL, *tmp = NULL, *pool = NULL;
    size_t *start = NULL;
    topo_hash h = {0};
    if (base_init(&b, D, vbirth, n, dg)) goto cleanup;
    const int E = b.E;
    const uint64_t E64 = (uint64_t)E;
    const size_t T = n >= 3 ? (size_t)n * (n - 1) * (n - 2) / 6 : 1; /* bound on a column's length */
    size_t cap = 64;
    while (cap < 2 * (size_t)b.n_positive + 2) cap *= 2;
    h.mask = cap - 1;
    h.keys = calloc(cap, sizeof *h.keys);
    h.val = malloc(cap * sizeof *h.val);
    paired = calloc((size_t)(E > 0 ? E : 1), 1);                     /* [E] positive edge with a non-zero column */
    cur = malloc(T * sizeof *cur);                                   /* [T] working column (keys; sorted once reduced) */
    tmp = malloc(T * sizeof *tmp);                                   /* [T] scratch for the symmetric difference */
    start = malloc(((size_t)b.n_positive + 1) * sizeof *start);      /* [n_positive + 1] stored column offsets */
    col_sorted = malloc((size_t)b.n_positive + 1);                  /* [n_positive] stored column is sorted */
    size_t pool_cap = (size_t)b.n_positive * (n >= 2 ? n - 2 : 0) + 64, pool_len = 0;
    pool = malloc(pool_cap * sizeof *pool);                          /* [pool_cap] stored reduced columns */
    if (!h.keys || !h.val || !paired || !cur || !tmp || !start || !pool || !col_sorted) goto cleanup;

    int n_stored = 0;
    start[0] = 0;
    for (int e = E - 1; e >= 0; e--) {
        if (!b.positive[e]) continue; /* clearing: a Kruskal edge's column reduces to zero */
        const int i = b.edges[e].i, j = b.edges[e].j;
        size_t len = 0;
        for (int k = 0; k < n; k++) { /* coboundary: the triangles {i, j, k} */
            if (k == i || k == j) continue;
            uint64_t r1 = (uint64_t)b.rank[i * n + k], r2 = (uint64_t)b.rank[j * n + k];
            uint64_t hi = r1 > r2 ? r1 : r2, lo = r1 > r2 ? r2 : r1, top = (uint64_t)e;
            if (hi > top) { /* the sorted ranks are (hi, max(e, lo), min(e, lo)) */
                cur[len++] = (hi * E64 + (lo > top ? lo : top)) * E64 + (lo > top ? top : lo);
            } else {
                cur[len++] = (top * E64 + hi) * E64 + lo;
            }
        }
        dg->columns_reduced++;
        /* Most columns are never added to anything (their pivot is new): keep them unsorted, with the pivot (the
         * smallest key) swapped to the front, and sort a column only when a reduction touches it. */
        size_t amin = 0;
        for (size_t a = 1; a < len; a++)
            if (cur[a] < cur[amin]) amin = a;
        uint64_t sw0 = cur[0];
        cur[0] = cur[amin];
        cur[amin] = sw0;
        int is_sorted = len <= 2;
        int *owner;
        while (len > 0 && (owner = hash_slot(&h, cur[0], 0)) != NULL) {
            if (!is_sorted) {
                sort_keys(cur, len);
                is_sorted = 1;
            }
            uint64_t *o = pool + start[*owner], *oe = pool + start[*owner + 1];
            if (!col_sorted[*owner]) {
                sort_keys(o, (size_t)(oe - o));
                col_sorted[*owner] = 1;
            }
            const uint64_t *c = cur, *ce = cur + len;
            size_t m = 0;
            while (c < ce && o < oe) { /* symmetric difference of two sorted lists (Z/2 column sum) */
                if (*c < *o) {
                    tmp[m++] = *c++;
                } else if (*o < *c) {
                    tmp[m++] = *o++;
                } else {
                    c++;
                    o++;
                }
            }
            while (c < ce) tmp[m++] = *c++;
            while (o < oe) tmp[m++] = *o++;
            uint64_t *sw = cur;
            cur = tmp;
            tmp = sw;
            len = m;
        }
        if (len == 0) continue; /* essential class: reported by add_unpaired (never happens, see the header) */
        if (pool_len + len > pool_cap) {
            while (pool_len + len > pool_cap) pool_cap *= 2;
            uint64_t *np = realloc(pool, pool_cap * sizeof *pool);
            if (!np) goto cleanup;
            pool = np;
        }
        memcpy(pool + pool_len, cur, len * sizeof *cur);
        pool_len += len;
        start[n_stored + 1] = pool_len;
        col_sorted[n_stored] = (unsigned char)is_sorted;
        *hash_slot(&h, cur[0], 1) = n_stored++;
        paired[e] = 1;
        add_pair1(dg, b.edges[e].w, b.edges[cur[0] / (E64 * E64)].w);
    }
    add_unpaired(&b, paired, dg);
    rc = 0;

cleanup:
    base_free(&b);
    free(h.keys);
    free(h.val);
    free(paired);
    free(cur);
    free(tmp);
    free(start);
    free(pool);
    free(col_sorted);
    return rc;
}

void ss_topo_summarise(const ss_topo_diagram *dg, double floor, double r, ss_topo_summary *s)
{
    memset(s, 0, sizeof *s);
    for (int dim = 0; dim < 2; dim++) {
        const int nb = dim ? dg->n1 : dg->n0;
        const float *bi = dim ? dg->birth1 : dg->birth0, *de = dim ? dg->death1 : dg->death0;
        int inf = 0, lng = 0, alive = 0, fin = 0;
        double total = 0.0, mx = 0.0;
        for (int k = 0; k < nb; k++) {
            double b = bi[k], d = de[k];
            if ((double)b <= r && r < d) alive++;
            if (isinf(d)) {
                inf++;
                lng++;
                continue;
            }
            double p = d - b;
            if (p > floor) lng++;
            total += p;
            if (p > mx) mx = p;
            fin++;
        }
        if (dim == 0) {
            s->betti0 = nb;
            s->inf0 = inf;
            s->long0 = lng;
            s->betti0_at_r = alive;
            s->total0 = total;
            s->mean0 = fin ? total / fin : 0.0;
            s->max0 = mx;
        } else {
            s->betti1 = nb;
            s->inf1 = inf;
            s->long1 = lng;
            s->betti1_at_r = alive;
            s->total1 = total;
            s->mean1 = fin ? total / fin : 0.0;
            s->max1 = mx;
        }
    }
}
