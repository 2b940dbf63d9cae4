/* test_enc_rope.c: `rope` {theta, fraction} puts RoPE with base θ on the first r = floor(fraction·d_h)
 * (rounded down to even) columns of every head in place of the model's own positional signal.
 *
 * 1. The rotation, by hand (random input, every model): the captured q, k are q_pre, k_pre turned,
 *    pair (c, c + r/2) of row t by the angle t·θ^(−2c/r) (half-split pairs: Hugging Face checkpoints),
 *    computed here in double; columns r..d_h−1 pass through exactly. θ = 100, fraction 0.75 (r = 6 of
 *    8, 2 of 4, 24 of 32) and θ = 1e6, fraction 0.3 (r = 2, 0 → unsupported, 8).
 * 2. Relative positions (repeated token, θ = 10000, fraction 1, every model): q_pre and k_pre have
 *    equal rows, so the score q_i·k_j = q̄·R_{j−i} k̄ depends on i − j only: S[i][j] = S[i+1][j+1] (all i,
 *    j for BERT, j <= i for the causal models), while S[i][0] changes with i (RoPE acts). The rest of
 *    the model's signal is gone, or the rows of the attention would not shift.
 * 3. RoPE models: rope with the model's own θ and fraction equals native bit for bit (llama: 10000,
 *    fraction 1; gpt_neox: 10000, fraction 0.5), also after another θ switched the tables.
 * 4. A fraction that rotates no column (bloom's d_h = 4 with 0.3: floor(1.2) = 1 → 0) is
 *    SS_ERR_UNSUPPORTED naming the fraction and the model, and leaves the previous encoding in force. */
#include "ablation.h"

enum { T = 14 };

/* 1. Returns max |q − R q_pre| over every row of q and k, relative to the largest |q_pre|; *pass
 * gets the largest change of a pass-through column. */
static double check_rotation(const ss_capture *c, int r, double theta, double *pass)
{
    const int L = c->n_layers, Tn = c->n_tokens, dh = c->d_head, half = r / 2;
    double worst = 0.0, scale = 1e-30;
    *pass = 0.0;
    for (int which = 0; which < 2; which++) {
        const int nh = which ? c->n_kv_heads : c->n_heads;
        const float *x = which ? c->k : c->q, *x0 = which ? c->k_pre : c->q_pre; /* [L][nh][T][d_h] */
        for (size_t row = 0; row < (size_t)L * nh * Tn; row++) {
            const int t = (int)(row % (size_t)Tn);
            const float *y = x + row * dh, *y0 = x0 + row * dh;
            for (int i = 0; i < half; i++) {
                const double phi = t * pow(theta, -2.0 * i / r), a = y0[i], b = y0[i + half];
                worst = fmax(worst, fabs(y[i] - (a * cos(phi) - b * sin(phi))));
                worst = fmax(worst, fabs(y[i + half] - (b * cos(phi) + a * sin(phi))));
            }
            for (int i = 0; i < dh; i++) scale = fmax(scale, fabs(y0[i]));
            *pass = fmax(*pass, abl_max_abs_diff(y + r, y0 + r, (size_t)(dh - r)));
        }
    }
    return worst / scale;
}

/* 2. */
static void check_relative(abl_model *am, const ss_capture *c)
{
    const int L = c->n_layers, H = c->n_heads, Tn = c->n_tokens, dh = c->d_head;
    double shift = 0.0, vary = 0.0, scale = 1e-30;
    for (int l = 0; l < L; l++)
        for (int h = 0; h < H; h++) {
            const float *q = abl_q(c, c->q, l, h), *k = abl_k(c, c->k, l, h);
            const double s00 = abl_dot(q, k, dh);
            for (int i = 0; i + 1 < Tn; i++) {
                const int nj = c->causal ? i + 1 : Tn - 1;
                for (int j = 0; j < nj; j++) {
                    const double sij = abl_dot(q + (size_t)i * dh, k + (size_t)j * dh, dh);
                    shift = fmax(shift, fabs(sij - abl_dot(q + (size_t)(i + 1) * dh, k + (size_t)(j + 1) * dh, dh)));
                    scale = fmax(scale, fabs(sij));
                }
                vary = fmax(vary, fabs(abl_dot(q + (size_t)i * dh, k, dh) - s00));
            }
        }
    printf("%-8s rope, repeated token (%s): max |S[i][j] - S[i+1][j+1]| %.3g (max |S| %.3g); S[i][0] varies by "
           "%.3g\n",
           am->label, ss_kernel_path_name(ss_kernels_get_path()), shift, scale, vary);
    CHECK_MSG(shift <= 1e-5 * scale, "%s: rope scores are not relative (%g)", am->label, shift);
    CHECK_MSG(vary > 1e-3 * scale, "%s: rope does not act (%g)", am->label, vary);
}

int main(int argc, char **argv)
{
    abl_model ms[MAX_MODELS];
    const int n = abl_load_all(ms, argc, argv);
    for (int mi = 0; mi < n; mi++) {
        abl_model *am = &ms[mi];
        const int dh = am->in->d_head;
        int32_t ids[T], rep[T];
        abl_model_ids(am, ids, T, 21);
        for (int t = 0; t < T; t++) rep[t] = 42;
        ss_capture c, c0;

        /* 1. */
        static const double thetas[2] = {100.0, 1e6}, fractions[2] = {0.75, 0.3};
        for (int v = 0; v < 2; v++) {
            const int r = ((int)floor(fractions[v] * dh)) & ~1; /* by hand: floor, then even */
            ss_encoding_spec e = abl_spec(SS_ENC_ROPE, thetas[v], fractions[v], 0);
            ss_status st = ss_model_set_encoding(am->m, &e);
            if (r == 0) {
                /* 4. */
                char want[64];
                snprintf(want, sizeof want, "fraction %g", fractions[v]);
                printf("%-8s rope fraction %g of d_h %d: %s\n", am->label, fractions[v], dh, ss_errmsg());
                CHECK_MSG(st == SS_ERR_UNSUPPORTED, "%s: rope with 0 rotated dims gives %s", am->label,
                          ss_status_name(st));
                CHECK_MSG(strstr(ss_errmsg(), want) && strstr(ss_errmsg(), am->in->arch),
                          "%s: the message names neither the fraction nor the model: %s", am->label, ss_errmsg());
                /* the previous encoding (rope θ 100, fraction 0.75) is still in force */
                if (abl_forward(am, ids, T, &c0)) {
                    double pass, rel = check_rotation(&c0, ((int)floor(0.75 * dh)) & ~1, 100.0, &pass);
                    CHECK_MSG(rel <= 2e-5 && pass == 0.0, "%s: a refused encoding changed the model", am->label);
                    ss_capture_free(&c0);
                }
                continue;
            }
            CHECK_MSG(st == SS_OK, "%s: rope: %s", am->label, ss_errmsg());
            if (st != SS_OK || !abl_forward(am, ids, T, &c)) continue;
            double pass, rel = check_rotation(&c, r, thetas[v], &pass);
            printf("%-8s rope theta %g fraction %g (r = %d of %d): max |q - R q_pre| %.3g relative; pass-through "
                   "columns change by %.3g\n",
                   am->label, thetas[v], fractions[v], r, dh, rel, pass);
            CHECK_MSG(rel <= 2e-5, "%s: q, k are not q_pre, k_pre rotated by hand (%g)", am->label, rel);
            CHECK_MSG(pass == 0.0, "%s: columns past r changed", am->label);
            ss_capture_free(&c);
        }

        /* 2. */
        if (abl_set(am, SS_ENC_ROPE, 10000.0, 1.0, 0)) {
            for (int pass = 0; pass < 2; pass++) {
                ss_kernels_set_path(pass ? SS_KERNEL_REF : SS_KERNEL_FAST);
                if (abl_forward(am, rep, T, &c)) {
                    check_relative(am, &c);
                    ss_capture_free(&c);
                }
            }
            ss_kernels_set_path(SS_KERNEL_FAST);
        }

        /* 3. */
        const double own_fraction = strcmp(am->label, "llama") == 0      ? 1.0
                                    : strcmp(am->label, "gpt_neox") == 0 ? 0.5
                                                                         : 0.0;
        if (own_fraction > 0.0) {
            if (abl_set(am, SS_ENC_NATIVE, 0, 0, 0) && abl_forward(am, ids, T, &c0)) {
                if (abl_set(am, SS_ENC_ROPE, 500.0, 0.5, 0) && abl_set(am, SS_ENC_ROPE, 10000.0, own_fraction, 0) &&
                    abl_forward(am, ids, T, &c)) {
                    const int same = abl_capture_identical(&c0, &c);
                    printf("%-8s rope theta 10000 fraction %g (its own) vs native: %s\n", am->label, own_fraction,
                           same ? "bit-identical" : "DIFFERENT");
                    CHECK_MSG(same, "%s: rope with the model's own theta and fraction is not native", am->label);
                    ss_capture_free(&c);
                }
                ss_capture_free(&c0);
            }
        }
        CHECK(ss_model_set_encoding(am->m, NULL) == SS_OK);
    }
    abl_free_all(ms, n);
    TEST_END();
}
