/* test_enc_none.c: `none` removes every positional signal (learned rows zero, RoPE skipped, ALiBi
 * dropped), on every model.
 *
 * 1. Repeated token (Gu et al.'s propositions, science.md (e)): the input is one id repeated T times,
 *    no BOS. Without positions the embeddings are equal at every position; a row of attention sums to
 *    1, so each attention output is Σ_j A_ij v_j = v whatever A is (causal or bidirectional), and the
 *    rest acts row by row: every hidden state hidden[l], l = 0..L, has identical rows, up to fp32
 *    rounding (4e-6 of the largest |hidden|). Control: natively, the models with learned positions
 *    (gpt2, BERT) do have different rows in hidden[0].
 * 2. No rotation and no bias (random input): q = q_pre and k = k_pre exactly, and the attention
 *    recomputed from the captured q, k without any bias is cap.attn.
 * 3. Order blindness (random input): without positions, attention sees a set of keys. BERT: reversing
 *    the input reverses the rows of every hidden state (checked on the last). Causal: swapping tokens
 *    0 and 1 leaves the first layer's output hidden[1] unchanged at every position >= 2 (its keys and
 *    values are the same set; on a sliding-window layer, except the query whose window starts at
 *    key 1); deeper layers would see rows 0 and 1 changed. Both up to rounding (1e-4
 *    relative), and natively both fail (the control). */
#include "ablation.h"

enum { T = 16 };

/* 2. */
static void check_no_positional(abl_model *am, const ss_capture *c)
{
    const int L = c->n_layers, H = c->n_heads, Tn = c->n_tokens, dh = c->d_head;
    const size_t qn = (size_t)L * H * Tn * dh, kn = (size_t)L * c->n_kv_heads * Tn * dh;
    const int same = abl_same_bits(c->q, c->q_pre, qn) && abl_same_bits(c->k, c->k_pre, kn);
    double worst = 0.0, s[T];
    for (int l = 0; l < L; l++)
        for (int h = 0; h < H; h++)
            for (int i = 0; i < Tn; i++) {
                const int nj = c->causal ? i + 1 : Tn, lo = abl_first_key(c, l, i);
                double mx = -INFINITY, z = 0.0;
                for (int j = lo; j < nj; j++) {
                    s[j] = abl_dot(abl_q(c, c->q, l, h) + (size_t)i * dh, abl_k(c, c->k, l, h) + (size_t)j * dh, dh) /
                           sqrt((double)dh);
                    mx = fmax(mx, s[j]);
                }
                for (int j = lo; j < nj; j++) z += exp(s[j] - mx);
                for (int j = 0; j < lo; j++) worst = fmax(worst, fabs(abl_attn(c, l, h)[(size_t)i * Tn + j]));
                for (int j = lo; j < nj; j++)
                    worst = fmax(worst, fabs(exp(s[j] - mx) / z - abl_attn(c, l, h)[(size_t)i * Tn + j]));
            }
    printf("%-8s none, random input: q,k = q_pre,k_pre %s; attention vs softmax(q·k/sqrt(d_h)) %.3g\n", am->label,
           same ? "exactly" : "NO", worst);
    CHECK_MSG(same, "%s: none still rotates q or k", am->label);
    CHECK_MSG(worst <= 1e-5, "%s: none still biases the scores (%g)", am->label, worst);
}

/* 3. Max difference of hidden[l] (BERT: l = L; causal: l = 1) between the run on ids and on the
 * reordered ids, over the rows that must agree, relative to the largest |value|. */
static double order_diff(abl_model *am, const int32_t *ids)
{
    const int d = am->in->d_model, bert = abl_is_bert(am);
    int32_t alt[T];
    for (int t = 0; t < T; t++) alt[t] = bert ? ids[T - 1 - t] : ids[t];
    if (!bert) {
        alt[0] = ids[1];
        alt[1] = ids[0];
    }
    ss_capture a, b;
    double worst = -1.0, scale = 1e-30;
    if (abl_forward(am, ids, T, &a)) {
        if (abl_forward(am, alt, T, &b)) {
            const size_t l = bert ? (size_t)a.n_layers : 1;
            const float *ha = a.hidden + l * T * d, *hb = b.hidden + l * T * d; /* [T][d] */
            worst = 0.0;
            for (int t = bert ? 0 : 2; t < T; t++) {
                /* a window that shows query t exactly one of keys 0 and 1 shows it a different set */
                if (!bert && abl_first_key(&a, 0, t) == 1) continue;
                const int u = bert ? T - 1 - t : t; /* the row of b that holds a's row t */
                worst = fmax(worst, abl_max_abs_diff(ha + (size_t)t * d, hb + (size_t)u * d, (size_t)d));
                for (int i = 0; i < d; i++) scale = fmax(scale, fabs(ha[(size_t)t * d + i]));
            }
            ss_capture_free(&b);
        }
        ss_capture_free(&a);
    }
    return worst / scale;
}

int main(int argc, char **argv)
{
    abl_model ms[MAX_MODELS];
    const int n = abl_load_all(ms, argc, argv);
    for (int mi = 0; mi < n; mi++) {
        abl_model *am = &ms[mi];
        int32_t rep[T], ids[T];
        for (int t = 0; t < T; t++) rep[t] = 42;
        abl_model_ids(am, ids, T, 5);
        ss_capture c;
        double scale;
        const int learned = strcmp(am->label, "gpt2") == 0 || abl_is_bert(am);

        /* control: native */
        if (abl_set(am, SS_ENC_NATIVE, 0, 0, 0) && abl_forward(am, rep, T, &c)) {
            const double spread = abl_row_spread(&c, &scale);
            if (learned) {
                printf("%-8s native, repeated token: rows differ by %.3g (learned positions)\n", am->label, spread);
                CHECK_MSG(spread > 1e-2, "%s: learned positions should make the rows differ", am->label);
            }
            ss_capture_free(&c);
        }
        const double native_order = order_diff(am, ids);

        /* 1. */
        if (!abl_set(am, SS_ENC_NONE, 0, 0, 0)) continue;
        for (int pass = 0; pass < 2; pass++) {
            ss_kernels_set_path(pass ? SS_KERNEL_REF : SS_KERNEL_FAST);
            if (!abl_forward(am, rep, T, &c)) continue;
            const double spread = abl_row_spread(&c, &scale);
            printf("%-8s none, repeated token (%s): max |hidden[l][i] - hidden[l][0]| %.3g (max |hidden| %.3g)\n",
                   am->label, ss_kernel_path_name(ss_kernels_get_path()), spread, scale);
            CHECK_MSG(spread <= 4e-6 * scale, "%s: none leaves rows that differ by %g", am->label, spread);
            ss_capture_free(&c);
        }
        ss_kernels_set_path(SS_KERNEL_FAST);

        /* 2. */
        if (abl_forward(am, ids, T, &c)) {
            check_no_positional(am, &c);
            ss_capture_free(&c);
        }

        /* 3. */
        const double none_order = order_diff(am, ids);
        printf("%-8s %s: relative change of the rows that must not move: none %.3g, native %.3g\n", am->label,
               abl_is_bert(am) ? "reversed input" : "tokens 0 and 1 swapped", none_order, native_order);
        CHECK_MSG(none_order >= 0.0 && none_order <= 1e-4, "%s: none is not blind to the order (%g)", am->label,
                  none_order);
        CHECK_MSG(native_order > 1e-3, "%s: natively the order should matter (%g)", am->label, native_order);
        CHECK(ss_model_set_encoding(am->m, NULL) == SS_OK);
    }
    abl_free_all(ms, n);
    TEST_END();
}
