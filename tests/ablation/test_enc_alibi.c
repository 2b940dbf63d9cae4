/* test_enc_alibi.c: `alibi` puts ALiBi biases, with Hugging Face's (BLOOM's) slope schedule for the
 * model's head count, in place of the model's own positional signal.
 *
 * 1. Repeated token (every model, both kernel paths): q_pre has equal rows and so does k_pre, and
 *    nothing rotates them, so q_i·k_j is one number per head and the attention is the softmax of the
 *    bias alone: causal A[i][j] = e^(−m(i−j)) / Σ_{j'<=i} e^(−m(i−j')); BERT, with the symmetric variant
 *    −m·|i − j| (MosaicBERT's), A[i][j] = e^(−m|i−j|) / Σ_{j'} e^(−m|i−j'|), in every layer. The slopes,
 *    written out by hand: 4 heads: 2^−2, 2^−4, 2^−6, 2^−8 (n = 4, b = 2^(−8/4)); 6 heads (bloom):
 *    2^−2, 2^−4, 2^−6, 2^−8, then 2^−1, 2^−3 (b' = 2^(−4/4), odd powers); 12 heads (MiniLM): 2^−1 ..
 *    2^−8, then 2^−0.5, 2^−1.5, 2^−2.5, 2^−3.5.
 * 2. Random input (every model): q = q_pre, k = k_pre exactly (no RoPE left), and cap.attn is the
 *    softmax of q·k/√d_h − m_h|i − j| recomputed from the captured q and k. */
#include "ablation.h"

enum { T = 15 };

static void hand_slopes(double *m, int H)
{
    if (H == 4) {
        for (int h = 0; h < 4; h++) m[h] = pow(2.0, -2.0 * (h + 1));
    } else if (H == 6) {
        const double s[6] = {0.25, 0.0625, 0.015625, 0.00390625, 0.5, 0.125};
        memcpy(m, s, sizeof s);
    } else if (H == 12) {
        for (int h = 0; h < 8; h++) m[h] = pow(2.0, -(h + 1));
        for (int e = 0; e < 4; e++) m[8 + e] = pow(2.0, -0.5 - e);
    } else {
        fprintf(stderr, "no hand-written slopes for %d heads\n", H);
        exit(1);
    }
}

/* Max |cap.attn − softmax_j(score(i, j) − m_h|i − j|)| over the kept keys (masked ones must be 0), with
 * the score q_i·k_j/√d_h from the captured q, k, or 0 when bias_only (the bias alone). */
static double alibi_diff(const ss_capture *c, const double *m, int bias_only)
{
    const int L = c->n_layers, H = c->n_heads, Tn = c->n_tokens, dh = c->d_head;
    double worst = 0.0, s[T];
    for (int l = 0; l < L; l++)
        for (int h = 0; h < H; h++)
            for (int i = 0; i < Tn; i++) {
                const int nj = c->causal ? i + 1 : Tn, lo = abl_first_key(c, l, i);
                double mx = -INFINITY, z = 0.0;
                for (int j = lo; j < nj; j++) {
                    const double qk = bias_only ? 0.0
                                                : abl_dot(abl_q(c, c->q, l, h) + (size_t)i * dh,
                                                          abl_k(c, c->k, l, h) + (size_t)j * dh, dh) /
                                                      sqrt((double)dh);
                    s[j] = qk - m[h] * abs(i - j);
                    mx = fmax(mx, s[j]);
                }
                for (int j = lo; j < nj; j++) z += exp(s[j] - mx);
                const float *row = abl_attn(c, l, h) + (size_t)i * Tn;
                for (int j = 0; j < lo; j++) worst = fmax(worst, fabs(row[j])); /* outside the window: 0 */
                for (int j = lo; j < nj; j++) worst = fmax(worst, fabs(exp(s[j] - mx) / z - row[j]));
                for (int j = nj; j < Tn; j++) worst = fmax(worst, fabs(row[j])); /* masked: 0 */
            }
    return worst;
}

int main(int argc, char **argv)
{
    abl_model ms[MAX_MODELS];
    const int n = abl_load_all(ms, argc, argv);
    for (int mi = 0; mi < n; mi++) {
        abl_model *am = &ms[mi];
        const int H = am->in->n_heads;
        double m[12];
        hand_slopes(m, H);
        int32_t ids[T], rep[T];
        abl_model_ids(am, ids, T, 77);
        for (int t = 0; t < T; t++) rep[t] = 42;
        ss_capture c;
        if (!abl_set(am, SS_ENC_ALIBI, 0, 0, 0)) continue;

        /* 1. */
        for (int pass = 0; pass < 2; pass++) {
            ss_kernels_set_path(pass ? SS_KERNEL_REF : SS_KERNEL_FAST);
            if (!abl_forward(am, rep, T, &c)) continue;
            const double d = alibi_diff(&c, m, 1);
            printf("%-8s alibi, repeated token (%s, %s): max |A - softmax(-m_h |i - j|)| %.3g\n", am->label,
                   ss_kernel_path_name(ss_kernels_get_path()), c.causal ? "causal" : "symmetric", d);
            CHECK_MSG(d <= 1e-5, "%s: attention is not the ALiBi pattern (%g)", am->label, d);
            ss_capture_free(&c);
        }
        ss_kernels_set_path(SS_KERNEL_FAST);

        /* 2. */
        if (abl_forward(am, ids, T, &c)) {
            const size_t qn = (size_t)c.n_layers * H * T * c.d_head;
            const size_t kn = (size_t)c.n_layers * c.n_kv_heads * T * c.d_head;
            const int same = abl_same_bits(c.q, c.q_pre, qn) && abl_same_bits(c.k, c.k_pre, kn);
            const double d = alibi_diff(&c, m, 0);
            printf("%-8s alibi, random input: q,k = q_pre,k_pre %s; attention vs softmax(q.k/sqrt(d_h) - m|i-j|) "
                   "%.3g\n",
                   am->label, same ? "exactly" : "NO", d);
            CHECK_MSG(same, "%s: alibi left a rotation", am->label);
            CHECK_MSG(d <= 1e-5, "%s: attention differs from the ALiBi scores (%g)", am->label, d);
            ss_capture_free(&c);
        }
        CHECK(ss_model_set_encoding(am->m, NULL) == SS_OK);
    }
    abl_free_all(ms, n);
    TEST_END();
}
