/* test_train_grads.c: every backward of kernels/train_ops.h against central finite differences in double
 * precision on tiny shapes, with seeded inputs (issue 8).
 *
 * For an op y = f(x, θ) the scalar loss is L = Σ w ⊙ y with fixed random weights w (so dy = w); for the
 * cross-entropy, L is the loss itself. Each input and parameter element is perturbed by ±h and
 * (L(+h) − L(−h)) / 2h compared with the analytic gradient; the error reported is
 * ‖g − g_fd‖₂ / ‖g_fd‖₂ over the tensor, which must stay below 1e-6 (it is ~1e-10 in practice).
 * The float twins (_f) are checked against the double forms, and the attention forward against the engine's
 * ss_mha_ref + ss_rope_apply_ref, so that trained models follow the conventions the engine loads. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attention.h"
#include "rope.h"
#include "test_util.h"
#include "train_ops.h"

#define FD_H 1e-5
#define FD_TOL 1e-6

/* ------------------------------------------------------------------------------------------- helpers */

static uint64_t g_rng = 0x5eed5eed12345678ull;
static double urand(void) /* uniform in [−1, 1), xorshift64* */
{
    g_rng ^= g_rng >> 12;
    g_rng ^= g_rng << 25;
    g_rng ^= g_rng >> 27;
    return (double)((g_rng * 0x2545F4914F6CDD1Dull) >> 11) / 9007199254740992.0 * 2.0 - 1.0;
}
static double *rnd(size_t n, double scale)
{
    double *p = malloc(n * sizeof *p);
    for (size_t i = 0; i < n; i++) p[i] = scale * urand();
    return p;
}
static double *zeros(size_t n) { return calloc(n, sizeof(double)); }
static double dotw(const double *w, const double *y, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++) s += w[i] * y[i];
    return s;
}

typedef double (*loss_fn)(void);

/* Compares grad [n] with central differences of f over param [n]; returns the relative error. */
static double check_grad(const char *name, loss_fn f, double *param, const double *grad, size_t n)
{
    double num2 = 0.0, diff2 = 0.0;
    for (size_t i = 0; i < n; i++) {
        double keep = param[i];
        param[i] = keep + FD_H;
        double lp = f();
        param[i] = keep - FD_H;
        double lm = f();
        param[i] = keep;
        double g = (lp - lm) / (2.0 * FD_H);
        num2 += g * g;
        diff2 += (g - grad[i]) * (g - grad[i]);
    }
    double rel = sqrt(diff2) / (num2 > 0.0 ? sqrt(num2) : 1.0);
    printf("  %-38s n=%-4zu rel err %.3e\n", name, n, rel);
    CHECK_MSG(rel < FD_TOL, "%s: relative error %.3e", name, rel);
    CHECK_MSG(num2 > 0.0 || sqrt(diff2) < 1e-12, "%s: zero gradient", name);
    return rel;
}

/* ---------------------------------------------------------------------------------------------- linear */

enum { LN_N = 3, LN_IN = 5, LN_OUT = 4 };
static double *lx, *lW, *lb, *lw, *ly;
static double loss_linear(void)
{
    ss_tr_linear_fwd_d(ly, lx, lW, lb, LN_N, LN_IN, LN_OUT);
    return dotw(lw, ly, LN_N * LN_OUT);
}

static void test_linear(void)
{
    printf("linear\n");
    lx = rnd(LN_N * LN_IN, 1.0), lW = rnd(LN_OUT * LN_IN, 0.5), lb = rnd(LN_OUT, 0.5), lw = rnd(LN_N * LN_OUT, 1.0);
    ly = zeros(LN_N * LN_OUT);
    double *dx = zeros(LN_N * LN_IN), *dW = zeros(LN_OUT * LN_IN), *db = zeros(LN_OUT);
    loss_linear();
    ss_tr_linear_bwd_d(dx, dW, db, lw, lx, lW, LN_N, LN_IN, LN_OUT);
    check_grad("linear dx", loss_linear, lx, dx, LN_N * LN_IN);
    check_grad("linear dW", loss_linear, lW, dW, LN_OUT * LN_IN);
    check_grad("linear db", loss_linear, lb, db, LN_OUT);

    /* parameter gradients accumulate: a second backward doubles them */
    ss_tr_linear_bwd_d(NULL, dW, db, lw, lx, lW, LN_N, LN_IN, LN_OUT);
    double *dW1 = zeros(LN_OUT * LN_IN), *db1 = zeros(LN_OUT);
    ss_tr_linear_bwd_d(NULL, dW1, db1, lw, lx, lW, LN_N, LN_IN, LN_OUT);
    for (int i = 0; i < LN_OUT * LN_IN; i++) CHECK_NEAR(dW[i], 2.0 * dW1[i], 1e-12);
    for (int i = 0; i < LN_OUT; i++) CHECK_NEAR(db[i], 2.0 * db1[i], 1e-12);

    /* the float BLAS form against the double reference */
    float fx[LN_N * LN_IN], fW[LN_OUT * LN_IN], fb[LN_OUT], fw[LN_N * LN_OUT], fy[LN_N * LN_OUT];
    float fdx[LN_N * LN_IN], fdW[LN_OUT * LN_IN] = {0}, fdb[LN_OUT] = {0};
    for (int i = 0; i < LN_N * LN_IN; i++) fx[i] = (float)lx[i];
    for (int i = 0; i < LN_OUT * LN_IN; i++) fW[i] = (float)lW[i];
    for (int i = 0; i < LN_OUT; i++) fb[i] = (float)lb[i];
    for (int i = 0; i < LN_N * LN_OUT; i++) fw[i] = (float)lw[i];
    ss_tr_linear_fwd_f(fy, fx, fW, fb, LN_N, LN_IN, LN_OUT);
    ss_tr_linear_bwd_f(fdx, fdW, fdb, fw, fx, fW, LN_N, LN_IN, LN_OUT);
    loss_linear();
    for (int i = 0; i < LN_N * LN_OUT; i++) CHECK_NEAR(fy[i], ly[i], 1e-5);
    for (int i = 0; i < LN_N * LN_IN; i++) CHECK_NEAR(fdx[i], dx[i], 1e-5);
    for (int i = 0; i < LN_OUT * LN_IN; i++) CHECK_NEAR(fdW[i], dW1[i], 1e-5);
    for (int i = 0; i < LN_OUT; i++) CHECK_NEAR(fdb[i], db1[i], 1e-5);
    printf("  linear float vs double: ok\n");
    free(lx), free(lW), free(lb), free(lw), free(ly), free(dx), free(dW), free(db), free(dW1), free(db1);
}

/* ------------------------------------------------------------------------------------------- embedding */

enum { EM_V = 6, EM_D = 3, EM_N = 5 };
static const int32_t em_ids[EM_N] = {2, 0, 2, 5, 2}; /* 2 repeats: its gradient sums three rows */
static double *etab, *ew, *ey;
static double loss_embed(void)
{
    ss_tr_embed_fwd_d(ey, etab, em_ids, EM_N, EM_D);
    return dotw(ew, ey, EM_N * EM_D);
}

static void test_embed(void)
{
    printf("embedding\n");
    etab = rnd(EM_V * EM_D, 1.0), ew = rnd(EM_N * EM_D, 1.0), ey = zeros(EM_N * EM_D);
    double *dt = zeros(EM_V * EM_D);
    ss_tr_embed_bwd_d(dt, ew, em_ids, EM_N, EM_D);
    check_grad("embed dtable", loss_embed, etab, dt, EM_V * EM_D);
    for (int c = 0; c < EM_D; c++) CHECK(dt[1 * EM_D + c] == 0.0); /* unused rows get nothing */
    free(etab), free(ew), free(ey), free(dt);
}

/* ------------------------------------------------------------------------------------- LayerNorm/RMSNorm */

enum { NM_N = 3, NM_D = 6 };
static double *nx, *ng, *nb, *nw, *ny, *nmean, *nrstd;
static double loss_layernorm(void)
{
    ss_tr_layernorm_fwd_d(ny, nmean, nrstd, nx, ng, nb, NM_N, NM_D, 1e-5);
    return dotw(nw, ny, NM_N * NM_D);
}
static double loss_rmsnorm(void)
{
    ss_tr_rmsnorm_fwd_d(ny, nrstd, nx, ng, NM_N, NM_D, 1e-6);
    return dotw(nw, ny, NM_N * NM_D);
}

static void test_norms(void)
{
    printf("LayerNorm, RMSNorm\n");
    nx = rnd(NM_N * NM_D, 2.0), ng = rnd(NM_D, 1.0), nb = rnd(NM_D, 1.0), nw = rnd(NM_N * NM_D, 1.0);
    for (int c = 0; c < NM_D; c++) ng[c] += 1.0;
    ny = zeros(NM_N * NM_D), nmean = zeros(NM_N), nrstd = zeros(NM_N);
    double *dx = zeros(NM_N * NM_D), *dg = zeros(NM_D), *db = zeros(NM_D);

    loss_layernorm();
    ss_tr_layernorm_bwd_d(dx, dg, db, nw, nx, nmean, nrstd, ng, NM_N, NM_D);
    check_grad("layernorm dx", loss_layernorm, nx, dx, NM_N * NM_D);
    check_grad("layernorm dg", loss_layernorm, ng, dg, NM_D);
    check_grad("layernorm db", loss_layernorm, nb, db, NM_D);

    memset(dg, 0, NM_D * sizeof *dg);
    loss_rmsnorm();
    ss_tr_rmsnorm_bwd_d(dx, dg, nw, nx, nrstd, ng, NM_N, NM_D);
    check_grad("rmsnorm dx", loss_rmsnorm, nx, dx, NM_N * NM_D);
    check_grad("rmsnorm dg", loss_rmsnorm, ng, dg, NM_D);
    free(nx), free(ng), free(nb), free(nw), free(ny), free(nmean), free(nrstd), free(dx), free(dg), free(db);
}

/* ------------------------------------------------------------------------------------------------ GELU */

enum { GE_N = 12 };
static double *gx, *gw, *gy;
static double loss_gelu(void)
{
    ss_tr_gelu_fwd_d(gy, gx, GE_N);
    return dotw(gw, gy, GE_N);
}

static void test_gelu(void)
{
    printf("GELU (tanh)\n");
    gx = rnd(GE_N, 3.0), gw = rnd(GE_N, 1.0), gy = zeros(GE_N);
    gx[0] = 0.0, gx[1] = -6.0, gx[2] = 6.0; /* the centre and both saturated ends */
    double *dx = zeros(GE_N);
    ss_tr_gelu_bwd_d(dx, gw, gx, GE_N);
    check_grad("gelu dx", loss_gelu, gx, dx, GE_N);
    /* spot value: GELU-tanh(1) = 0.841191990607...  */
    double one = 1.0, y1;
    ss_tr_gelu_fwd_d(&y1, &one, 1);
    CHECK_NEAR(y1, 0.8411919906082768, 1e-12);
    free(gx), free(gw), free(gy), free(dx);
}

/* ------------------------------------------------------------------------------------- cross-entropy */

enum { XE_N = 4, XE_V = 7 };
static const int32_t xe_t[XE_N] = {3, -1, 0, 6}; /* row 1 ignored */
static double *xz, *xp;
static double loss_xent(void) { return 0.7 * ss_tr_xent_fwd_d(xp, xz, xe_t, XE_N, XE_V); }

static void test_xent(void)
{
    printf("softmax cross-entropy\n");
    xz = rnd(XE_N * XE_V, 3.0), xp = zeros(XE_N * XE_V);
    double *dz = zeros(XE_N * XE_V);
    loss_xent();
    ss_tr_xent_bwd_d(dz, xp, xe_t, XE_N, XE_V, 0.7);
    check_grad("xent dz", loss_xent, xz, dz, XE_N * XE_V);
    for (int v = 0; v < XE_V; v++) CHECK(dz[1 * XE_V + v] == 0.0);
    /* uniform logits: the loss is log V */
    double *u = zeros(XE_N * XE_V);
    CHECK_NEAR(ss_tr_xent_fwd_d(xp, u, xe_t, XE_N, XE_V), log((double)XE_V), 1e-14);
    /* a huge margin: no overflow, loss ~ the margin */
    u[0 * XE_V + 1] = 1000.0;
    int32_t t1[1] = {0};
    CHECK_NEAR(ss_tr_xent_fwd_d(xp, u, t1, 1, XE_V), 1000.0, 1e-9);
    free(xz), free(xp), free(dz), free(u);
}

/* ------------------------------------------------------------------------------------------------ RoPE */

enum { RP_T = 4, RP_D = 6 };
static double *rx, *rw, *ry, *rcos, *rsin;
static int r_rot;
static ss_rope_pairing r_pair;
static double loss_rope(void)
{
    memcpy(ry, rx, RP_T * RP_D * sizeof *ry);
    ss_tr_rope_fwd_d(ry, RP_T, RP_D, r_rot, r_pair, rcos, rsin);
    return dotw(rw, ry, RP_T * RP_D);
}

static void test_rope(void)
{
    printf("RoPE\n");
    rx = rnd(RP_T * RP_D, 1.0), rw = rnd(RP_T * RP_D, 1.0), ry = zeros(RP_T * RP_D);
    rcos = zeros(RP_T * RP_D / 2), rsin = zeros(RP_T * RP_D / 2);
    for (int pass = 0; pass < 3; pass++) {
        r_rot = pass == 2 ? 4 : RP_D;
        r_pair = pass == 1 ? SS_ROPE_ADJACENT : SS_ROPE_HALF;
        ss_tr_rope_tables_d(rcos, rsin, RP_T, r_rot, 10000.0);
        double *dx = malloc(RP_T * RP_D * sizeof *dx);
        memcpy(dx, rw, RP_T * RP_D * sizeof *dx);
        ss_tr_rope_bwd_d(dx, RP_T, RP_D, r_rot, r_pair, rcos, rsin);
        char name[64];
        snprintf(name, sizeof name, "rope dx (%s, r=%d)", ss_rope_pairing_name(r_pair), r_rot);
        check_grad(name, loss_rope, rx, dx, RP_T * RP_D);
        free(dx);
    }
    free(rx), free(rw), free(ry), free(rcos), free(rsin);
}

/* ------------------------------------------------------------------------------------------- attention */

enum { AT_T = 5, AT_D = 4 };
static ss_tr_attn_desc at;
static double *aq, *ak, *av, *aw, *aout, *aP, *aqr, *akr;
static double loss_attn(void)
{
    ss_tr_attn_fwd_d(&at, aout, aP, aqr, akr, aq, ak, av);
    return dotw(aw, aout, AT_T * AT_D);
}

/* The same forward through the engine's float kernels (rope.h tables, ss_mha_ref), for the conventions. */
static void engine_attn(float *out, const ss_tr_attn_desc *a)
{
    float q[AT_T * AT_D], k[AT_T * AT_D], v[AT_T * AT_D], P[AT_T * AT_T], cs[AT_T * AT_D], sn[AT_T * AT_D];
    for (int i = 0; i < AT_T * AT_D; i++) q[i] = (float)aq[i], k[i] = (float)ak[i], v[i] = (float)av[i];
    if (a->rot_dims > 0) {
        ss_rope_tables(cs, sn, AT_T, a->rot_dims, 10000.0);
        ss_rope_apply_ref(q, 1, AT_T, AT_D, a->rot_dims, a->pairing, cs, sn);
        ss_rope_apply_ref(k, 1, AT_T, AT_D, a->rot_dims, a->pairing, cs, sn);
    }
    float slope = (float)a->alibi_slope;
    ss_mha_desc m = {.T = AT_T, .H = 1, .H_kv = 1, .d_h = AT_D, .scale = (float)a->scale, .causal = a->causal,
                     .alibi = a->alibi_slope != 0.0 ? &slope : NULL, .window = 0};
    ss_mha_ref(&m, P, out, AT_D, q, k, v);
}

static void test_attention(void)
{
    printf("attention (one head)\n");
    aq = rnd(AT_T * AT_D, 1.5), ak = rnd(AT_T * AT_D, 1.5), av = rnd(AT_T * AT_D, 1.0), aw = rnd(AT_T * AT_D, 1.0);
    aout = zeros(AT_T * AT_D), aP = zeros(AT_T * AT_T), aqr = zeros(AT_T * AT_D), akr = zeros(AT_T * AT_D);
    double *dq = zeros(AT_T * AT_D), *dk = zeros(AT_T * AT_D), *dv = zeros(AT_T * AT_D), ws[AT_T];
    double *cs = zeros(AT_T * AT_D / 2), *sn = zeros(AT_T * AT_D / 2);
    struct {
        const char *name;
        int causal;
        double slope;
        int rot;
        ss_rope_pairing pairing;
    } cases[] = {
        {"causal", 1, 0.0, 0, SS_ROPE_HALF},
        {"causal+alibi", 1, 0.25, 0, SS_ROPE_HALF},
        {"causal+rope(half)", 1, 0.0, AT_D, SS_ROPE_HALF},
        {"causal+rope(adjacent)", 1, 0.0, AT_D, SS_ROPE_ADJACENT},
        {"causal+alibi+rope(half,r=2)", 1, 0.5, 2, SS_ROPE_HALF},
        {"bidirectional", 0, 0.0, 0, SS_ROPE_HALF},
    };
    for (size_t ci = 0; ci < sizeof cases / sizeof cases[0]; ci++) {
        at = (ss_tr_attn_desc){.T = AT_T, .d_h = AT_D, .scale = 1.0 / sqrt((double)AT_D), .causal = cases[ci].causal,
                               .alibi_slope = cases[ci].slope, .rot_dims = cases[ci].rot,
                               .pairing = cases[ci].pairing, .rope_cos = cs, .rope_sin = sn};
        if (at.rot_dims > 0) ss_tr_rope_tables_d(cs, sn, AT_T, at.rot_dims, 10000.0);
        loss_attn();
        /* probabilities: rows sum to 1, masked keys exactly 0 */
        for (int i = 0; i < AT_T; i++) {
            double s = 0.0;
            for (int j = 0; j < AT_T; j++) {
                s += aP[i * AT_T + j];
                if (at.causal && j > i) CHECK(aP[i * AT_T + j] == 0.0);
            }
            CHECK_NEAR(s, 1.0, 1e-14);
        }
        /* the engine's float forward agrees (ALiBi sign, RoPE pairing, scale) */
        float eout[AT_T * AT_D];
        engine_attn(eout, &at);
        double maxd = 0.0;
        for (int i = 0; i < AT_T * AT_D; i++) maxd = fmax(maxd, fabs(eout[i] - aout[i]));
        CHECK_MSG(maxd < 1e-5, "%s: engine forward differs by %.3e", cases[ci].name, maxd);

        ss_tr_attn_bwd_d(&at, dq, dk, dv, aw, aP, aqr, akr, av, ws);
        char name[96];
        snprintf(name, sizeof name, "attn dq %s", cases[ci].name);
        check_grad(name, loss_attn, aq, dq, AT_T * AT_D);
        snprintf(name, sizeof name, "attn dk %s", cases[ci].name);
        check_grad(name, loss_attn, ak, dk, AT_T * AT_D);
        snprintf(name, sizeof name, "attn dv %s", cases[ci].name);
        check_grad(name, loss_attn, av, dv, AT_T * AT_D);
    }
    free(aq), free(ak), free(av), free(aw), free(aout), free(aP), free(aqr), free(akr);
    free(dq), free(dk), free(dv), free(cs), free(sn);
}

/* ------------------------------------------------------------------------- composition: a tiny LM step
 * embed → RMSNorm → linear → GELU → linear (LM head) → cross-entropy, chained through the backwards
 * exactly as the trainer will, checked end to end against finite differences on every parameter. */

enum { CM_V = 5, CM_D = 4, CM_F = 6, CM_N = 4 };
static const int32_t cm_ids[CM_N] = {1, 3, 3, 0}, cm_tg[CM_N] = {3, 3, 0, 4};
static double *cE, *cg, *cW1, *cb1, *cW2;
static double cx[CM_N * CM_D], cr[CM_N], cxn[CM_N * CM_D], ch[CM_N * CM_F], ca[CM_N * CM_F], cz[CM_N * CM_V],
    cp[CM_N * CM_V];
static double loss_chain(void)
{
    ss_tr_embed_fwd_d(cx, cE, cm_ids, CM_N, CM_D);
    ss_tr_rmsnorm_fwd_d(cxn, cr, cx, cg, CM_N, CM_D, 1e-6);
    ss_tr_linear_fwd_d(ch, cxn, cW1, cb1, CM_N, CM_D, CM_F);
    ss_tr_gelu_fwd_d(ca, ch, CM_N * CM_F);
    ss_tr_linear_fwd_d(cz, ca, cW2, NULL, CM_N, CM_F, CM_V);
    return ss_tr_xent_fwd_d(cp, cz, cm_tg, CM_N, CM_V);
}

static void test_chain(void)
{
    printf("composition (embed, RMSNorm, MLP, LM head, cross-entropy)\n");
    cE = rnd(CM_V * CM_D, 1.0), cg = rnd(CM_D, 0.3), cW1 = rnd(CM_F * CM_D, 0.7), cb1 = rnd(CM_F, 0.3);
    cW2 = rnd(CM_V * CM_F, 0.7);
    for (int c = 0; c < CM_D; c++) cg[c] += 1.0;
    double *dE = zeros(CM_V * CM_D), *dg = zeros(CM_D), *dW1 = zeros(CM_F * CM_D), *db1 = zeros(CM_F);
    double *dW2 = zeros(CM_V * CM_F);
    double dz[CM_N * CM_V], da[CM_N * CM_F], dxn[CM_N * CM_D], dx[CM_N * CM_D];
    loss_chain();
    ss_tr_xent_bwd_d(dz, cp, cm_tg, CM_N, CM_V, 1.0);
    ss_tr_linear_bwd_d(da, dW2, NULL, dz, ca, cW2, CM_N, CM_F, CM_V);
    ss_tr_gelu_bwd_d(da, da, ch, CM_N * CM_F); /* in place */
    ss_tr_linear_bwd_d(dxn, dW1, db1, da, cxn, cW1, CM_N, CM_D, CM_F);
    ss_tr_rmsnorm_bwd_d(dx, dg, dxn, cx, cr, cg, CM_N, CM_D);
    ss_tr_embed_bwd_d(dE, dx, cm_ids, CM_N, CM_D);
    check_grad("chain dE", loss_chain, cE, dE, CM_V * CM_D);
    check_grad("chain dg", loss_chain, cg, dg, CM_D);
    check_grad("chain dW1", loss_chain, cW1, dW1, CM_F * CM_D);
    check_grad("chain db1", loss_chain, cb1, db1, CM_F);
    check_grad("chain dW2", loss_chain, cW2, dW2, CM_V * CM_F);
    free(cE), free(cg), free(cW1), free(cb1), free(cW2), free(dE), free(dg), free(dW1), free(db1), free(dW2);
}


/* ------------------------------------------------------------------------------------ float twins
 * Each _f op against its double form on the same inputs (rounded to float first): relative error of every
 * output and gradient, ‖f − d‖₂ / ‖d‖₂, below 1e-5 (float rounding, ~1e-7 in practice). */

#define TWIN_TOL 1e-5

static float *to_f(const double *x, size_t n)
{
    float *f = malloc(n * sizeof *f);
    for (size_t i = 0; i < n; i++) f[i] = (float)x[i];
    return f;
}
static double *round_f(double *x, size_t n) /* x rounded to float values, in place */
{
    for (size_t i = 0; i < n; i++) x[i] = (float)x[i];
    return x;
}
static void twin(const char *name, const float *f, const double *d, size_t n)
{
    double num = 0.0, diff = 0.0;
    for (size_t i = 0; i < n; i++) {
        num += d[i] * d[i];
        diff += (f[i] - d[i]) * (f[i] - d[i]);
    }
    double rel = sqrt(diff) / (num > 0.0 ? sqrt(num) : 1.0);
    printf("  %-38s n=%-4zu rel err %.3e\n", name, n, rel);
    CHECK_MSG(rel < TWIN_TOL && num > 0.0, "%s: float twin differs, relative %.3e", name, rel);
}

static void test_float_twins(void)
{
    printf("float twins against the double forms\n");
    enum { N = 4, D = 7, V = 9, NG = 240 };
    /* embedding */
    static const int32_t ids[N] = {3, 1, 3, 8};
    double *tab = round_f(rnd(V * D, 1.0), V * D), *dy = round_f(rnd(N * D, 1.0), N * D);
    double yd[N * D], dtd[V * D] = {0};
    float yf[N * D], dtf[V * D] = {0}, *tabf = to_f(tab, V * D), *dyf = to_f(dy, N * D);
    ss_tr_embed_fwd_d(yd, tab, ids, N, D);
    ss_tr_embed_fwd_f(yf, tabf, ids, N, D);
    ss_tr_embed_bwd_d(dtd, dy, ids, N, D);
    ss_tr_embed_bwd_f(dtf, dyf, ids, N, D);
    twin("embed y", yf, yd, N * D);
    twin("embed dtable", dtf, dtd, V * D);
    /* LayerNorm */
    double *x = round_f(rnd(N * D, 2.0), N * D), *g = round_f(rnd(D, 0.3), D), *b = round_f(rnd(D, 0.5), D);
    for (int c = 0; c < D; c++) g[c] = (float)(g[c] + 1.0);
    double md[N], rd[N], dxd[N * D], dgd[D] = {0}, dbd[D] = {0};
    float mf[N], rf[N], dxf[N * D], dgf[D] = {0}, dbf[D] = {0};
    float *xf = to_f(x, N * D), *gf = to_f(g, D), *bf = to_f(b, D);
    ss_tr_layernorm_fwd_d(yd, md, rd, x, g, b, N, D, 1e-5);
    ss_tr_layernorm_fwd_f(yf, mf, rf, xf, gf, bf, N, D, 1e-5);
    ss_tr_layernorm_bwd_d(dxd, dgd, dbd, dy, x, md, rd, g, N, D);
    ss_tr_layernorm_bwd_f(dxf, dgf, dbf, dyf, xf, mf, rf, gf, N, D);
    twin("layernorm y", yf, yd, N * D);
    twin("layernorm dx", dxf, dxd, N * D);
    twin("layernorm dg", dgf, dgd, D);
    twin("layernorm db", dbf, dbd, D);
    /* GELU over [−6, 6] */
    double gx[NG], gy[NG], gdy[NG], gdx[NG];
    float gxf[NG], gyf[NG], gdyf[NG], gdxf[NG];
    for (int i = 0; i < NG; i++) {
        gx[i] = (float)(-6.0 + 12.0 * i / (NG - 1)), gxf[i] = (float)gx[i];
        gdy[i] = (float)urand(), gdyf[i] = (float)gdy[i];
    }
    ss_tr_gelu_fwd_d(gy, gx, NG);
    ss_tr_gelu_fwd_f(gyf, gxf, NG);
    ss_tr_gelu_bwd_d(gdx, gdy, gx, NG);
    ss_tr_gelu_bwd_f(gdxf, gdyf, gxf, NG);
    twin("gelu y", gyf, gy, NG);
    twin("gelu dx", gdxf, gdx, NG);
    /* cross-entropy, one row ignored */
    static const int32_t tg[N] = {2, -1, 8, 0};
    double *z = round_f(rnd(N * V, 3.0), N * V), pd[N * V], dzd[N * V];
    float *zf = to_f(z, N * V), pf[N * V], dzf[N * V];
    double ld = ss_tr_xent_fwd_d(pd, z, tg, N, V), lf = ss_tr_xent_fwd_f(pf, zf, tg, N, V);
    CHECK_MSG(fabs(lf - ld) < 1e-6 * ld, "xent loss %.9g vs %.9g", lf, ld);
    ss_tr_xent_bwd_d(dzd, pd, tg, N, V, 0.7);
    ss_tr_xent_bwd_f(dzf, pf, tg, N, V, 0.7);
    twin("xent probs", pf, pd, N * V);
    twin("xent dz", dzf, dzd, N * V);
    free(tab), free(dy), free(tabf), free(dyf), free(x), free(g), free(b), free(xf), free(gf), free(bf), free(z),
        free(zf);
    /* attention: causal; ALiBi; RoPE (half pairing, all columns) */
    enum { T = 6, DH = 4 };
    double cs[T * DH / 2], sn[T * DH / 2];
    ss_tr_rope_tables_d(cs, sn, T, DH, 10000.0);
    for (int k = 0; k < 3; k++) {
        ss_tr_attn_desc a = {.T = T, .d_h = DH, .scale = 0.5, .causal = 1, .alibi_slope = k == 1 ? 0.25 : 0.0,
                             .rot_dims = k == 2 ? DH : 0, .pairing = SS_ROPE_HALF, .rope_cos = cs, .rope_sin = sn};
        size_t n = T * DH;
        double *q = round_f(rnd(n, 1.5), n), *kk = round_f(rnd(n, 1.5), n), *v = round_f(rnd(n, 1.0), n);
        double *dout = round_f(rnd(n, 1.0), n);
        double out[T * DH], P[T * T], qr[T * DH], kr[T * DH], dq[T * DH], dk[T * DH], dv[T * DH], ws[T];
        float *qf = to_f(q, n), *kf = to_f(kk, n), *vf = to_f(v, n), *doutf = to_f(dout, n);
        float outf[T * DH], Pf[T * T], qrf[T * DH], krf[T * DH], dqf[T * DH], dkf[T * DH], dvf[T * DH], wsf[T * T];
        ss_tr_attn_fwd_d(&a, out, P, qr, kr, q, kk, v);
        ss_tr_attn_fwd_f(&a, outf, Pf, qrf, krf, qf, kf, vf);
        ss_tr_attn_bwd_d(&a, dq, dk, dv, dout, P, qr, kr, v, ws);
        ss_tr_attn_bwd_f(&a, dqf, dkf, dvf, doutf, Pf, qrf, krf, vf, wsf);
        static const char *const names[3] = {"causal", "alibi", "rope"};
        char nm[64];
        snprintf(nm, sizeof nm, "attn %s out", names[k]);
        twin(nm, outf, out, n);
        snprintf(nm, sizeof nm, "attn %s P", names[k]);
        twin(nm, Pf, P, T * T);
        for (int i = 0; i < T; i++)
            for (int j = i + 1; j < T; j++) CHECK(Pf[i * T + j] == 0.0f); /* masked: exact zeros */
        snprintf(nm, sizeof nm, "attn %s dq", names[k]);
        twin(nm, dqf, dq, n);
        snprintf(nm, sizeof nm, "attn %s dk", names[k]);
        twin(nm, dkf, dk, n);
        snprintf(nm, sizeof nm, "attn %s dv", names[k]);
        twin(nm, dvf, dv, n);
        free(q), free(kk), free(v), free(dout), free(qf), free(kf), free(vf), free(doutf);
    }
}

int main(void)
{
    test_linear();
    test_embed();
    test_norms();
    test_gelu();
    test_xent();
    test_rope();
    test_attention();
    test_chain();
    test_float_twins();
    TEST_END();
}
