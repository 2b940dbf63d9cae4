/* test_train_model.c: the trainer's whole decoder (engine/train/model.h) against finite differences, in double,
 * for every positional encoding and for pre- and post-LN; then the float path against the double path on the
 * same weights (issue 8).
 *
 * Tiny models: 2 layers (1 for the post-LN cases), d = 8, 2 heads, d_ff = 16, T = 5, V = 11, a batch of 2
 * windows. Every parameter tensor is perturbed element by element (central differences, h = 1e-5); the
 * relative error ‖g − g_fd‖ / ‖g_fd‖ of each tensor must stay below 1e-6. The float forward and backward on the
 * same weights (rounded to float) must agree with the double ones within 1e-4 (loss, logits, each tensor's
 * gradient, relative to the tensor's norm). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_util.h"
#include "train/model.h"

#define FD_H 1e-5
#define FD_TOL 1e-6
#define F32_TOL 1e-4

enum { B = 2, T = 5, V = 11, D = 8, NH = 2, DFF = 16 };

static uint64_t g_rng = 0x7a11ab1e5eed0001ull;
static double urand(void) /* uniform in [−1, 1), xorshift64* */
{
    g_rng ^= g_rng >> 12;
    g_rng ^= g_rng << 25;
    g_rng ^= g_rng >> 27;
    return (double)((g_rng * 0x2545F4914F6CDD1Dull) >> 11) / 9007199254740992.0 * 2.0 - 1.0;
}

static const ss_tr_layout *cur_L;
static double *cur_p;
static ss_tr_work_d *cur_w;
static int32_t ids[B * T], tg[B * T];

static double loss_now(void) { return ss_tr_forward_d(cur_L, cur_p, cur_w, ids, tg, B, T); }

static double rel_err(const double *g, const double *ref, size_t n, double *ref_norm)
{
    double num = 0.0, diff = 0.0;
    for (size_t i = 0; i < n; i++) {
        num += ref[i] * ref[i];
        diff += (g[i] - ref[i]) * (g[i] - ref[i]);
    }
    if (ref_norm) *ref_norm = sqrt(num);
    return sqrt(diff) / (num > 0.0 ? sqrt(num) : 1.0);
}

/* The key bias adds q·b_k to every score of a query's row, which the softmax cancels: its gradient is exactly
 * zero, except under RoPE, where the rotation makes the added term depend on the key's position. */
static int zero_grad(const ss_tr_arch *a, const ss_tr_tensor *t)
{
    size_t k = strlen(t->name);
    return a->pe != SS_TR_PE_ROPE && k >= 3 && strcmp(t->name + k - 3, ".bk") == 0;
}

static void run_case(ss_tr_posenc pe, const char *pe_name, int post_ln)
{
    ss_tr_arch a = {.n_layers = post_ln ? 1 : 2, .d_model = D, .n_heads = NH, .d_ff = DFF, .n_ctx = T, .n_vocab = V,
                    .pe = pe, .post_ln = post_ln, .ln_eps = 1e-5f, .bos_id = -1};
    ss_tr_layout L;
    CHECK(ss_tr_layout_init(&L, &a) == SS_OK);
    printf("%s, %s-LN: %d tensors, %zu parameters\n", pe_name, post_ln ? "post" : "pre", L.n_tensors, L.n_params);
    size_t n = L.n_params;
    double *p = malloc(n * sizeof *p), *g = calloc(n, sizeof *g), *gfd = malloc(n * sizeof *gfd);
    float *pf = malloc(n * sizeof *pf), *gf = calloc(n, sizeof *gf);
    /* weights well away from the init's small scale, so every path carries gradient */
    for (int i = 0; i < L.n_tensors; i++) {
        const ss_tr_tensor *t = &L.tensors[i];
        size_t k = strlen(t->name);
        int gain = k >= 2 && strcmp(t->name + k - 2, "_g") == 0;
        for (size_t j = 0; j < t->n; j++)
            p[t->off + j] = gain ? 1.0 + 0.2 * urand() : (t->n_dims == 2 ? 0.5 : 0.2) * urand();
    }
    for (size_t j = 0; j < n; j++) pf[j] = (float)p[j], p[j] = pf[j]; /* the same weights in both precisions */
    for (int i = 0; i < B * T; i++) ids[i] = (int32_t)((urand() + 1.0) * 0.5 * V) % V;
    for (int i = 0; i < B * T; i++) tg[i] = i % T == T - 1 ? -1 : ids[i + 1]; /* last position ignored */
    ss_tr_work_d *w = NULL;
    ss_tr_work_f *wf = NULL;
    CHECK(ss_tr_work_new_d(&L, B, T, &w) == SS_OK);
    CHECK(ss_tr_work_new_f(&L, B, T, &wf) == SS_OK);
    if (!w || !wf) exit(1);
    cur_L = &L, cur_p = p, cur_w = w;

    double loss = loss_now();
    CHECK(isfinite(loss) && loss > 0.0);
    ss_tr_backward_d(&L, p, g, w, ids, tg, B, T);
    for (size_t j = 0; j < n; j++) {
        double keep = p[j];
        p[j] = keep + FD_H;
        double lp = loss_now();
        p[j] = keep - FD_H;
        double lm = loss_now();
        p[j] = keep;
        gfd[j] = (lp - lm) / (2.0 * FD_H);
    }
    double worst = 0.0;
    for (int i = 0; i < L.n_tensors; i++) {
        const ss_tr_tensor *t = &L.tensors[i];
        double norm;
        double e = rel_err(g + t->off, gfd + t->off, t->n, &norm);
        if (zero_grad(&a, t)) { /* exactly 0 in theory: both the analytic and the numerical gradient vanish */
            double gn = 0.0;
            for (size_t j = 0; j < t->n; j++) gn = fmax(gn, fabs(g[t->off + j]));
            CHECK_MSG(gn < 1e-12 && norm < 1e-8, "%s %s: expected a zero gradient, got %.3e (fd %.3e)", pe_name,
                      t->name, gn, norm);
            continue;
        }
        worst = fmax(worst, e);
        CHECK_MSG(e < FD_TOL, "%s %s-LN %s: relative error %.3e", pe_name, post_ln ? "post" : "pre", t->name, e);
        CHECK_MSG(norm > 1e-8, "%s %s-LN %s: no gradient reaches it", pe_name, post_ln ? "post" : "pre", t->name);
    }
    printf("  double backward vs finite differences: worst tensor rel err %.3e\n", worst);

    /* float vs double, same weights */
    double loss_d = loss_now();
    const double *zd = ss_tr_logits_d(w);
    double lf = ss_tr_forward_f(&L, pf, wf, ids, tg, B, T);
    const float *zf = ss_tr_logits_f(wf);
    CHECK_MSG(fabs(lf - loss_d) <= F32_TOL * fabs(loss_d), "%s: float loss %.9g vs double %.9g", pe_name, lf, loss_d);
    double zdiff = 0.0, znorm = 0.0;
    for (int i = 0; i < B * T * V; i++) {
        zdiff = fmax(zdiff, fabs(zf[i] - zd[i]));
        znorm = fmax(znorm, fabs(zd[i]));
    }
    CHECK_MSG(zdiff <= F32_TOL * znorm, "%s: float logits differ by %.3e (max |z| %.3g)", pe_name, zdiff, znorm);
    ss_tr_backward_f(&L, pf, gf, wf, ids, tg, B, T);
    double *gfd2 = malloc(n * sizeof *gfd2);
    for (size_t j = 0; j < n; j++) gfd2[j] = gf[j];
    double worst_f = 0.0;
    for (int i = 0; i < L.n_tensors; i++) {
        const ss_tr_tensor *t = &L.tensors[i];
        if (zero_grad(&a, t)) {
            double gn = 0.0;
            for (size_t j = 0; j < t->n; j++) gn = fmax(gn, fabs(gfd2[t->off + j]));
            CHECK_MSG(gn < 1e-6, "%s %s: float gradient should vanish, got %.3e", pe_name, t->name, gn);
            continue;
        }
        double e = rel_err(gfd2 + t->off, g + t->off, t->n, NULL);
        worst_f = fmax(worst_f, e);
        CHECK_MSG(e < F32_TOL, "%s %s-LN %s: float gradient rel err %.3e", pe_name, post_ln ? "post" : "pre", t->name,
                  e);
    }
    printf("  float vs double: loss %.3e, logits %.3e, worst gradient tensor %.3e\n", fabs(lf - loss_d) / loss_d,
           zdiff / znorm, worst_f);
    ss_tr_work_free_d(w);
    ss_tr_work_free_f(wf);
    ss_tr_layout_free(&L);
    free(p), free(g), free(gfd), free(gfd2), free(pf), free(gf);
}

int main(void)
{
    static const struct {
        ss_tr_posenc pe;
        const char *name;
    } encs[] = {{SS_TR_PE_LEARNED, "learned"},
                {SS_TR_PE_SINUSOIDAL, "sinusoidal"},
                {SS_TR_PE_ROPE, "rope"},
                {SS_TR_PE_ALIBI, "alibi"},
                {SS_TR_PE_NONE, "none"}};
    for (size_t i = 0; i < sizeof encs / sizeof encs[0]; i++)
        for (int post = 0; post <= 1; post++) run_case(encs[i].pe, encs[i].name, post);
    TEST_END();
}
