/* test_gpu_ops.c: every CUDA operation (kernels/cuda/ops.h) against its CPU reference, with per-op tolerances,
 * NaN/Inf checks and out-of-bounds write checks, including the forward pass's glue and the cuBLAS dense layers.
 * (The whole forward pass on the CUDA backend is checked by test_fwd_mirror.) Skips (exit 77, with the reason) where the build has no CUDA or the machine no device.
 *
 * Guard bands: every device buffer is allocated with GUARD floats before and after it, and every output buffer
 * (guards and interior) is first filled with a sentinel NaN bit pattern. After the operation the guards must
 * still hold the sentinel bit for bit (no write out of bounds), and every element the operation should write
 * must no longer hold it (no element skipped): a skipped element reads as NaN and fails the finiteness check. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "activation.h"
#include "attention.h"
#include "conv1d.h"
#include "glue.h"
#include "matmul.h"
#include "device.h"
#include "divergence.h"
#include "norm.h"
#include "ops.h"
#include "rope.h"
#include "sink.h"
#include "test_util.h"

enum { GUARD = 1024 };
static const uint32_t SENTINEL = 0x7fc0dead; /* a quiet NaN with a payload no kernel produces */

/* ------------------------------------------------------------------------------------------ helpers */

static uint64_t g_rng = 0x9e3779b97f4a7c15ull;
static float frand(float lo, float hi)
{
    g_rng ^= g_rng << 13, g_rng ^= g_rng >> 7, g_rng ^= g_rng << 17;
    return lo + (hi - lo) * (float)((g_rng >> 40) * (1.0 / 16777216.0));
}
static void fill(float *x, size_t n, float lo, float hi)
{
    for (size_t i = 0; i < n; i++) x[i] = frand(lo, hi);
}

/* A guarded device buffer of n 4-byte elements: base [GUARD + n + GUARD], p = base + GUARD. */
typedef struct {
    uint32_t *base;
    void *p;
    size_t n;
} gbuf;

static void die_cuda(const char *what)
{
    fprintf(stderr, "FATAL: %s: %s\n", what, ss_cu_errmsg());
    exit(1);
}

/* src: the interior's contents (n elements), or NULL for an output (all sentinel). */
static gbuf gb_new(const void *src, size_t n)
{
    gbuf g = {NULL, NULL, n};
    const size_t total = n + 2 * GUARD;
    uint32_t *h = malloc(total * 4); /* [total] */
    if (!h) die_cuda("out of host memory");
    for (size_t i = 0; i < total; i++) h[i] = SENTINEL;
    if (src) memcpy(h + GUARD, src, n * 4);
    if (ss_cu_malloc((void **)&g.base, total * 4) || ss_cu_h2d(g.base, h, total * 4)) die_cuda("gb_new");
    g.p = g.base + GUARD;
    free(h);
    return g;
}

/* Copies the interior to out [n] (may be NULL) and returns the number of guard elements overwritten. */
static size_t gb_get(const gbuf *g, void *out)
{
    const size_t total = g->n + 2 * GUARD;
    uint32_t *h = malloc(total * 4); /* [total] */
    if (!h) die_cuda("out of host memory");
    if (ss_cu_sync() || ss_cu_d2h(h, g->base, total * 4)) die_cuda("gb_get");
    size_t bad = 0;
    for (size_t i = 0; i < GUARD; i++) bad += (h[i] != SENTINEL) + (h[GUARD + g->n + i] != SENTINEL);
    if (out) memcpy(out, h + GUARD, g->n * 4);
    free(h);
    return bad;
}

static void gb_free(gbuf *g)
{
    ss_cu_free(g->base);
    g->base = NULL;
}

static int g_ops, g_ops_failed;

/* Compares got [n] with want [n]: |got − want| <= atol + rtol·|want| everywhere, got finite where want is, exact
 * zeros where want is exactly 0 and zero_exact is set (masked attention entries), and no guard overwritten. */
static int compare(const char *name, const float *got, const float *want, size_t n, double atol, double rtol,
                   size_t guard_bad, int zero_exact)
{
    double max_abs = 0.0, max_rel = 0.0;
    size_t bad = 0, nonfinite = 0, zeros = 0;
    for (size_t i = 0; i < n; i++) {
        if (isfinite(want[i]) && !isfinite(got[i])) {
            nonfinite++;
            continue;
        }
        if (zero_exact && want[i] == 0.0f && got[i] != 0.0f) zeros++;
        const double d = fabs((double)got[i] - want[i]);
        if (d > max_abs) max_abs = d;
        if (want[i] != 0.0f && d / fabs(want[i]) > max_rel) max_rel = d / fabs(want[i]);
        if (!(d <= atol + rtol * fabs(want[i]))) bad++;
    }
    const int ok = bad == 0 && nonfinite == 0 && zeros == 0 && guard_bad == 0;
    printf("%-44s n=%-9zu max_abs=%-10.3g max_rel=%-10.3g %s", name, n, max_abs, max_rel, ok ? "ok" : "FAIL");
    if (!ok)
        printf(" (%zu beyond atol %.1g + rtol %.1g, %zu non-finite, %zu masked not 0, %zu guard words hit)", bad, atol,
               rtol, nonfinite, zeros, guard_bad);
    printf("\n");
    g_ops++;
    if (!ok) g_ops_failed++;
    CHECK_MSG(ok, "%s", name);
    return ok;
}

static int compare_int(const char *name, const int *got, const int *want, size_t n, size_t guard_bad)
{
    size_t bad = 0;
    for (size_t i = 0; i < n; i++) bad += got[i] != want[i];
    const int ok = bad == 0 && guard_bad == 0;
    printf("%-44s n=%-9zu exact %s", name, n, ok ? "ok" : "FAIL");
    if (!ok) printf(" (%zu differ, %zu guard words hit)", bad, guard_bad);
    printf("\n");
    g_ops++;
    if (!ok) g_ops_failed++;
    CHECK_MSG(ok, "%s", name);
    return ok;
}

#define CU(call)                                                                                               \
    do {                                                                                                       \
        if ((call) != 0) {                                                                                     \
            fprintf(stderr, "%s:%d: %s failed: %s\n", __FILE__, __LINE__, #call, ss_cu_errmsg());              \
            g_test_failures++;                                                                                 \
        }                                                                                                      \
    } while (0)

/* ------------------------------------------------------------------------------------------ the ops */

static void test_norms(void)
{
    static const int Ds[] = {1, 33, 576, 2048};
    const int T = 7;
    for (int di = 0; di < 4; di++) {
        const int d = Ds[di];
        const size_t n = (size_t)T * d;
        float *x = malloc(n * 4), *g = malloc(d * 4), *b = malloc(d * 4), *want = malloc(n * 4), *got = malloc(n * 4);
        fill(x, n, -3, 3), fill(g, d, 0.5f, 1.5f), fill(b, d, -0.5f, 0.5f);
        gbuf dx = gb_new(x, n), dg = gb_new(g, d), db = gb_new(b, d), dy = gb_new(NULL, n);
        char name[96];
        for (int ln = 0; ln < 2; ln++) {
            if (ln) ss_layernorm_ref(want, x, g, b, T, d, 1e-5f);
            else ss_rmsnorm_ref(want, x, g, T, d, 1e-6f);
            /* out of place into the sentinel-filled y, then in place on a copy of x */
            if (ln) CU(ss_cu_layernorm(dy.p, dx.p, dg.p, db.p, T, d, 1e-5f));
            else CU(ss_cu_rmsnorm(dy.p, dx.p, dg.p, T, d, 1e-6f));
            snprintf(name, sizeof name, "%s T=%d d=%d", ln ? "layernorm" : "rmsnorm", T, d);
            compare(name, got, want, n, 1e-6, 1e-6, gb_get(&dy, got) + gb_get(&dg, NULL) + gb_get(&db, NULL), 0);
            gbuf dxi = gb_new(x, n);
            if (ln) CU(ss_cu_layernorm(dxi.p, dxi.p, dg.p, db.p, T, d, 1e-5f));
            else CU(ss_cu_rmsnorm(dxi.p, dxi.p, dg.p, T, d, 1e-6f));
            snprintf(name, sizeof name, "%s in place T=%d d=%d", ln ? "layernorm" : "rmsnorm", T, d);
            compare(name, got, want, n, 1e-6, 1e-6, gb_get(&dxi, got), 0);
            gb_free(&dxi);
        }
        gb_free(&dx), gb_free(&dg), gb_free(&db), gb_free(&dy);
        free(x), free(g), free(b), free(want), free(got);
    }
}

static void test_activations(void)
{
    const size_t n = 100003; /* not a multiple of any block size */
    float *x = malloc(n * 4), *up = malloc(n * 4), *want = malloc(n * 4), *got = malloc(n * 4);
    fill(x, n, -12, 12), fill(up, n, -2, 2);
    static const char *const names[] = {"gelu_erf", "gelu_tanh", "silu", "swiglu", "geglu"};
    for (int k = 0; k < 5; k++) {
        memcpy(want, x, n * 4);
        switch (k) {
        case 0: ss_gelu_erf_ref(want, n); break;
        case 1: ss_gelu_tanh_ref(want, n); break;
        case 2: ss_silu_ref(want, n); break;
        case 3: ss_swiglu_ref(want, up, n); break;
        default:
            ss_gelu_tanh_ref(want, n);
            for (size_t i = 0; i < n; i++) want[i] *= up[i];
        }
        gbuf dx = gb_new(x, n), du = gb_new(up, n);
        switch (k) {
        case 0: CU(ss_cu_gelu_erf(dx.p, n)); break;
        case 1: CU(ss_cu_gelu_tanh(dx.p, n)); break;
        case 2: CU(ss_cu_silu(dx.p, n)); break;
        case 3: CU(ss_cu_swiglu(dx.p, du.p, n)); break;
        default: CU(ss_cu_geglu(dx.p, du.p, n));
        }
        /* CUDA's erff/tanhf/expf are within 2 ulp; products add one rounding */
        compare(names[k], got, want, n, 1e-7, 1e-6, gb_get(&dx, got) + gb_get(&du, NULL), 0);
        gb_free(&dx), gb_free(&du);
    }
    free(x), free(up), free(want), free(got);
}

static void test_rope(void)
{
    static const struct {
        int n, T, d_h, rot;
    } C[] = {{3, 37, 64, 64}, {2, 19, 80, 20}, {1, 2048, 128, 128}};
    for (int c = 0; c < 3; c++)
        for (int pairing = 0; pairing < 2; pairing++) {
            const int n = C[c].n, T = C[c].T, d_h = C[c].d_h, r = C[c].rot;
            const size_t nx = (size_t)n * T * d_h, nt = (size_t)T * (r / 2);
            float *x = malloc(nx * 4), *cs = malloc(nt * 4), *sn = malloc(nt * 4), *got = malloc(nx * 4);
            fill(x, nx, -2, 2);
            ss_rope_tables(cs, sn, T, r, 10000.0);
            gbuf dx = gb_new(x, nx), dc = gb_new(cs, nt), ds = gb_new(sn, nt);
            CU(ss_cu_rope_apply(dx.p, n, T, d_h, r, (ss_rope_pairing)pairing, dc.p, ds.p));
            ss_rope_apply_ref(x, n, T, d_h, r, (ss_rope_pairing)pairing, cs, sn);
            char name[96];
            snprintf(name, sizeof name, "rope %s n=%d T=%d d_h=%d rot=%d (exact)", ss_rope_pairing_name(pairing), n, T,
                     d_h, r);
            compare(name, got, x, nx, 0.0, 0.0, gb_get(&dx, got) + gb_get(&dc, NULL) + gb_get(&ds, NULL), 0);
            gb_free(&dx), gb_free(&dc), gb_free(&ds);
            free(x), free(cs), free(sn), free(got);
        }
}

typedef struct {
    int T, H, H_kv, d_h, causal, window, alibi;
} mha_case;

static void test_mha(void)
{
    static const mha_case C[] = {
        {1, 1, 1, 64, 1, 0, 0},    {37, 4, 4, 64, 1, 0, 0},  {37, 4, 2, 64, 0, 0, 0},   {100, 6, 2, 64, 1, 16, 0},
        {100, 4, 4, 32, 1, 0, 1},  {77, 4, 4, 64, 0, 0, 1},  {130, 2, 1, 256, 1, 0, 0}, {300, 3, 1, 64, 1, 100, 0},
        {513, 2, 2, 128, 1, 0, 0}, {65, 8, 1, 64, 1, 64, 0},
    };
    static const ss_cu_mha_shape shapes[] = {{0, 0, 0}, {16, 32, 128}, {7, 13, 96}, {64, 64, 512}};
    for (size_t c = 0; c < sizeof C / sizeof C[0]; c++) {
        const mha_case m = C[c];
        const int ld_out = m.H * m.d_h + 3; /* 3 padding columns the kernel must not write */
        const size_t nq = (size_t)m.H * m.T * m.d_h, nkv = (size_t)m.H_kv * m.T * m.d_h;
        const size_t nP = (size_t)m.H * m.T * m.T, nout = (size_t)m.T * ld_out;
        float *q = malloc(nq * 4), *k = malloc(nkv * 4), *v = malloc(nkv * 4), slopes[64];
        float *P = malloc(nP * 4), *out = malloc(nout * 4), *gP = malloc(nP * 4), *gout = malloc(nout * 4);
        fill(q, nq, -1, 1), fill(k, nkv, -1, 1), fill(v, nkv, -1, 1);
        ss_alibi_slopes(slopes, m.H);
        ss_mha_desc d = {m.T, m.H, m.H_kv, m.d_h, 1.0f / sqrtf((float)m.d_h), m.causal, m.alibi ? slopes : NULL,
                         m.window};
        for (size_t i = 0; i < nout; i++) memcpy(&out[i], &SENTINEL, 4);
        ss_mha_ref(&d, P, out, ld_out, q, k, v);
        gbuf dq = gb_new(q, nq), dk = gb_new(k, nkv), dv = gb_new(v, nkv), dal = gb_new(slopes, m.H);
        ss_mha_desc dd = d;
        dd.alibi = m.alibi ? dal.p : NULL;
        for (int ver = 1; ver <= SS_CU_MHA_VERSIONS; ver++)
            for (int s = 0; s < (ver == 1 ? 1 : 4); s++) {
                gbuf dP = gb_new(NULL, nP), dout = gb_new(NULL, nout);
                const int rc = ss_cu_mha_version(ver, shapes[s], &dd, dP.p, dout.p, ld_out, dq.p, dk.p, dv.p);
                if (rc == -1 && strstr(ss_cu_errmsg(), "shared memory")) { /* a shape this device cannot hold */
                    printf("mha v%d shape [%d,%d,%d] d_h=%d: not run (%s)\n", ver, shapes[s].block_q,
                           shapes[s].block_k, shapes[s].threads, m.d_h, ss_cu_errmsg());
                    gb_free(&dP), gb_free(&dout);
                    continue;
                }
                CHECK_MSG(rc == 0, "ss_cu_mha_version: %s", ss_cu_errmsg());
                const size_t gbad = gb_get(&dP, gP) + gb_get(&dout, gout) + gb_get(&dq, NULL) + gb_get(&dk, NULL) +
                                    gb_get(&dv, NULL) + gb_get(&dal, NULL);
                /* the padding columns of out keep the sentinel */
                size_t pad_hit = 0;
                for (int t = 0; t < m.T; t++)
                    for (int j = m.H * m.d_h; j < ld_out; j++)
                        pad_hit += memcmp(&gout[(size_t)t * ld_out + j], &SENTINEL, 4) != 0;
                char name[128];
                snprintf(name, sizeof name, "mha v%d [%d,%d,%d] T=%d H=%d/%d d=%d c%d w%d a%d P", ver,
                         shapes[s].block_q, shapes[s].block_k, shapes[s].threads, m.T, m.H, m.H_kv, m.d_h, m.causal,
                         m.window, m.alibi);
                compare(name, gP, P, nP, 1e-5, 1e-4, gbad, 1);
                name[strlen(name) - 1] = 'O';
                /* compare the written columns only: put the reference's values into the padding */
                for (int t = 0; t < m.T; t++)
                    for (int j = m.H * m.d_h; j < ld_out; j++) gout[(size_t)t * ld_out + j] = 0.0f;
                for (int t = 0; t < m.T; t++)
                    for (int j = m.H * m.d_h; j < ld_out; j++) out[(size_t)t * ld_out + j] = 0.0f;
                compare(name, gout, out, nout, 1e-5, 1e-4, pad_hit, 0);
                for (size_t i = 0; i < nout; i++)
                    if (i % ld_out >= (size_t)m.H * m.d_h) memcpy(&out[i], &SENTINEL, 4);
                gb_free(&dP), gb_free(&dout);
            }
        gb_free(&dq), gb_free(&dk), gb_free(&dv), gb_free(&dal);
        free(q), free(k), free(v), free(P), free(out), free(gP), free(gout);
    }
}

static void test_reductions(void)
{
    const int T = 97, H = 6, d_h = 32;
    const size_t nP = (size_t)H * T * T;
    const size_t nqkv = (size_t)H * T * d_h;
    float *q = malloc(nqkv * 4), *k = malloc(nqkv * 4), *v = malloc(nqkv * 4);
    float *P = malloc(nP * 4), *out = malloc((size_t)T * H * d_h * 4);
    float *alpha = malloc((size_t)H * T * 4), *galpha = malloc((size_t)H * T * 4);
    fill(q, (size_t)H * T * d_h, -3, 3), fill(k, (size_t)H * T * d_h, -3, 3), fill(v, (size_t)H * T * d_h, -1, 1);
    char name[96];
    for (int variant = 0; variant < 3; variant++) {
        const int causal = variant > 0, window = variant == 2 ? 16 : 0;
        ss_mha_desc d = {T, H, H, d_h, 1.0f / sqrtf((float)d_h), causal, NULL, window};
        ss_mha_ref(&d, P, out, H * d_h, q, k, v);
        for (int h = 0; h < H; h++)
            ss_column_importance_window(P + (size_t)h * T * T, T, causal, window, alpha + (size_t)h * T);
        gbuf dA = gb_new(P, nP), dal = gb_new(NULL, (size_t)H * T);
        CU(ss_cu_column_importance(dA.p, H, T, causal, window, dal.p));
        snprintf(name, sizeof name, "column_importance T=%d causal=%d window=%d", T, causal, window);
        compare(name, galpha, alpha, (size_t)H * T, 1e-7, 1e-6, gb_get(&dal, galpha) + gb_get(&dA, NULL), 0);

        /* Sink counts from the CPU's alpha (so the comparison is exact), two thresholds accumulated */
        int *want = calloc(T, sizeof *want), *got = malloc(T * sizeof *got);
        const float eps[2] = {0.3f, 0.02f};
        gbuf dalpha = gb_new(alpha, (size_t)H * T), dcount = gb_new(NULL, T);
        CU(ss_cu_memset(dcount.p, 0, (size_t)T * 4));
        for (int e = 0; e < 2; e++) {
            CU(ss_cu_sink_count(dalpha.p, H, T, eps[e], dcount.p));
            for (int h = 0; h < H; h++)
                for (int j = 0; j < T; j++) want[j] += alpha[(size_t)h * T + j] > eps[e];
        }
        snprintf(name, sizeof name, "sink_count T=%d causal=%d window=%d", T, causal, window);
        compare_int(name, got, want, T, gb_get(&dcount, got) + gb_get(&dalpha, NULL));

        /* top keys: argmax of each head's alpha over the candidates, with a planted tie */
        const int nc = ss_key_candidates_window(T, causal, window, 4);
        alpha[3] = alpha[5] = 2.0f; /* head 0: a tie between keys 3 and 5 */
        int wantk[8], gotk[8];
        for (int h = 0; h < H; h++) wantk[h] = ss_argmax(alpha + (size_t)h * T, nc);
        gbuf dv2 = gb_new(alpha, (size_t)H * T), didx = gb_new(NULL, H);
        CU(ss_cu_argmax_rows(dv2.p, H, T, nc, didx.p));
        snprintf(name, sizeof name, "argmax_rows (top key) n=%d causal=%d", nc, causal);
        compare_int(name, gotk, wantk, H, gb_get(&didx, gotk) + gb_get(&dv2, NULL));

        /* row entropy of every row of every head, plus a zero row and a row of tiny values */
        float *A = malloc((nP + 2 * T) * 4);                                       /* [H·T + 2][T] */
        float *Hw = malloc(((size_t)H * T + 2) * 4), *Hg = malloc(((size_t)H * T + 2) * 4); /* [H·T + 2] */
        memcpy(A, P, nP * 4);
        for (int j = 0; j < T; j++) A[nP + j] = 0.0f, A[nP + T + j] = j % 2 ? 1e-6f : 0.0f;
        const int rows = H * T + 2;
        ss_row_entropy_nats(A, rows, T, Hw);
        gbuf dE = gb_new(A, (size_t)rows * T), dH = gb_new(NULL, rows);
        CU(ss_cu_row_entropy(dE.p, rows, T, dH.p));
        snprintf(name, sizeof name, "row_entropy rows=%d T=%d causal=%d window=%d", rows, T, causal, window);
        compare(name, Hg, Hw, rows, 1e-6, 1e-5, gb_get(&dH, Hg) + gb_get(&dE, NULL), 0);

        gb_free(&dA), gb_free(&dal), gb_free(&dalpha), gb_free(&dcount), gb_free(&dv2), gb_free(&didx);
        gb_free(&dE), gb_free(&dH);
        free(want), free(got), free(A), free(Hw), free(Hg);
    }
    free(q), free(k), free(v), free(P), free(out), free(alpha), free(galpha);
}

/* The glue (glue.cu) against its CPU forms (glue.h), bit for bit, and the cuBLAS dense layers (gemm.cu) against
 * the double-accumulating CPU references, both weight layouts, with and without bias. */
static void test_glue_and_gemm(void)
{
    char name[160];
    const int T = 37, d = 80, V = 50, H = 3, d_h = 16, ld = 3 * H * d_h;
    const size_t n = (size_t)T * d;
    float *x = malloc(n * 4), *y = malloc(n * 4), *want = malloc(n * 4), *got = malloc(n * 4);
    float *row = malloc(d * 4), *table = malloc((size_t)V * d * 4);
    int32_t *ids = malloc(T * 4);
    fill(x, n, -2, 2), fill(y, n, -2, 2), fill(row, d, -1, 1), fill(table, (size_t)V * d, -1, 1);
    for (int t = 0; t < T; t++) ids[t] = (t * 17 + 3) % V;

    gbuf dt = gb_new(table, (size_t)V * d), di = gb_new(ids, T), dx = gb_new(NULL, n);
    ss_embed(want, table, ids, T, d);
    CU(ss_cu_embed(dx.p, dt.p, di.p, T, d));
    compare("embed (bit for bit)", got, want, n, 0.0, 0.0, gb_get(&dx, got) + gb_get(&dt, NULL), 0);
    gb_free(&dx);

    /* y += x, y *= x, y += row, y *= s: each on a fresh copy of y */
    for (int kind = 0; kind < 4; kind++) {
        gbuf dy = gb_new(y, n), dxx = gb_new(x, n), dr = gb_new(row, d);
        memcpy(want, y, n * 4);
        if (kind == 0) {
            ss_add_inplace(want, x, n);
            CU(ss_cu_add(dy.p, dxx.p, n));
        }
        if (kind == 1) {
            ss_mul_inplace(want, x, n);
            CU(ss_cu_mul(dy.p, dxx.p, n));
        }
        if (kind == 2) {
            ss_add_rows(want, row, T, d);
            CU(ss_cu_add_rows(dy.p, dr.p, T, d));
        }
        if (kind == 3) {
            ss_scale_inplace(want, 0.3f, n);
            CU(ss_cu_scale(dy.p, 0.3f, n));
        }
        static const char *const names[] = {"add", "mul", "add_rows", "scale"};
        snprintf(name, sizeof name, "%s (bit for bit)", names[kind]);
        compare(name, got, want, n, 0.0, 0.0, gb_get(&dy, got) + gb_get(&dxx, NULL) + gb_get(&dr, NULL), 0);
        gb_free(&dy), gb_free(&dxx), gb_free(&dr);
    }

    /* gather heads out of a fused per-head q|k|v projection [T][3·H·d_h] (offset d_h, stride 3·d_h), and copy */
    float *proj = malloc((size_t)T * ld * 4), *hw = malloc((size_t)H * T * d_h * 4), *hg = malloc((size_t)H * T * d_h * 4);
    fill(proj, (size_t)T * ld, -1, 1);
    ss_gather_heads(hw, proj, T, H, d_h, ld, d_h, 3 * d_h);
    gbuf dp = gb_new(proj, (size_t)T * ld), dh = gb_new(NULL, (size_t)H * T * d_h), dc = gb_new(NULL, (size_t)H * T * d_h);
    CU(ss_cu_gather_heads(dh.p, dp.p, T, H, d_h, ld, d_h, 3 * d_h));
    compare("gather_heads (bit for bit)", hg, hw, (size_t)H * T * d_h, 0.0, 0.0, gb_get(&dh, hg) + gb_get(&dp, NULL), 0);
    CU(ss_cu_copy(dc.p, dh.p, (size_t)H * T * d_h * 4));
    compare("copy (bit for bit)", hg, hw, (size_t)H * T * d_h, 0.0, 0.0, gb_get(&dc, hg), 0);
    gb_free(&dp), gb_free(&dh), gb_free(&dc);

    /* dense layers */
    char why[200] = "";
    if (!ss_cu_blas_available(why, sizeof why)) {
        CHECK_MSG(0, "cuBLAS: %s", why);
    } else {
        const int in = 72, out = 136;
        float *xi = malloc((size_t)T * in * 4), *W = malloc((size_t)in * out * 4), *b = malloc(out * 4);
        float *yw = malloc((size_t)T * out * 4), *yg = malloc((size_t)T * out * 4);
        fill(xi, (size_t)T * in, -1, 1), fill(W, (size_t)in * out, -1, 1), fill(b, out, -1, 1);
        gbuf dxi = gb_new(xi, (size_t)T * in), dW = gb_new(W, (size_t)in * out), db = gb_new(b, out);
        for (int layout = 0; layout < 2; layout++)
            for (int bias = 0; bias < 2; bias++) {
                gbuf dy = gb_new(NULL, (size_t)T * out);
                if (layout) ss_conv1d_ref(yw, xi, W, bias ? b : NULL, T, in, out);
                else ss_matmul_ref(yw, xi, W, bias ? b : NULL, T, in, out);
                CU(ss_cu_matmul(dy.p, dxi.p, dW.p, bias ? db.p : NULL, T, in, out, layout));
                snprintf(name, sizeof name, "matmul cuBLAS %s bias=%d T=%d %dx%d", layout ? "W[in][out]" : "W[out][in]",
                         bias, T, in, out);
                compare(name, yg, yw, (size_t)T * out, 1e-5, 1e-5, gb_get(&dy, yg) + gb_get(&dW, NULL), 0);
                gb_free(&dy);
            }
        gb_free(&dxi), gb_free(&dW), gb_free(&db);
        free(xi), free(W), free(b), free(yw), free(yg);
    }
    gb_free(&dt), gb_free(&di);
    free(x), free(y), free(want), free(got), free(row), free(table), free(ids), free(proj), free(hw), free(hg);
}

int main(void)
{
    char why[160] = "";
    if (!ss_cuda_built()) SKIP("this sinkscope was built without CUDA (-DENABLE_CUDA=OFF or no nvcc)");
    const int n_dev = ss_cuda_device_count(why, sizeof why);
    if (n_dev <= 0) SKIP("no CUDA device: %s", why);
    char dev[96];
    ss_cuda_device_name(0, dev, sizeof dev);
    printf("test_gpu_ops on %s (%d device(s))\n", dev, n_dev);
    test_norms();
    test_activations();
    test_rope();
    test_mha();
    test_reductions();
    test_glue_and_gemm();
    printf("%d of %d comparisons passed\n", g_ops - g_ops_failed, g_ops);
    TEST_END();
}
