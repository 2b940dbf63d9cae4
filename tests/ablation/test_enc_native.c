/* test_enc_native.c: `native` restores the model as trained, bit for bit, after any other encoding.
 *
 * The runner switches encodings between tasks on one loaded model, so the state an ablation leaves
 * must be fully restorable. For every model (the four tiny decoders, the tiny BERT, MiniLM when
 * present) and both kernel paths: a native forward pass is the baseline; then each other ablation runs
 * (on a longer prompt too, so the scratch and any RoPE table grow while it is active) and must change
 * the hidden states (it acts); native again, and the NULL encoding, must reproduce every captured
 * buffer of the baseline exactly (memcmp). An ablation that does not apply (shuffled on a model
 * without learned rows) must say SS_ERR_UNSUPPORTED and also leave native intact. */
#include "ablation.h"

enum { T = 20, T_LONG = 33 };

int main(int argc, char **argv)
{
    abl_model ms[MAX_MODELS];
    const int n = abl_load_all(ms, argc, argv);
    const ss_encoding_type others[] = {SS_ENC_NONE, SS_ENC_ROPE, SS_ENC_ALIBI, SS_ENC_SINUSOIDAL, SS_ENC_SHUFFLED,
                                       SS_ENC_ROPE};
    for (int mi = 0; mi < n; mi++) {
        abl_model *am = &ms[mi];
        int32_t ids[T_LONG];
        abl_model_ids(am, ids, T_LONG, 99);
        for (int pass = 0; pass < 2; pass++) {
            ss_kernels_set_path(pass ? SS_KERNEL_REF : SS_KERNEL_FAST);
            ss_capture base, c;
            if (!abl_set(am, SS_ENC_NATIVE, 0, 0, 0) || !abl_forward(am, ids, T, &base)) continue;
            int restored = 1, acted = 1, n_skipped = 0;
            for (size_t e = 0; e < sizeof others / sizeof others[0]; e++) {
                /* rope: θ 500 on every column, then θ 10000 on 3/4 of each head */
                const double theta = e == 1 ? 500.0 : 10000.0, fraction = e == 1 ? 1.0 : 0.75;
                ss_encoding_spec spec = abl_spec(others[e], theta, fraction, 7);
                ss_status st = ss_model_set_encoding(am->m, &spec);
                if (st == SS_ERR_UNSUPPORTED) {
                    n_skipped++;
                    CHECK_MSG(others[e] == SS_ENC_SHUFFLED, "%s: %s unsupported: %s", am->label, spec.name,
                              ss_errmsg());
                } else {
                    CHECK_MSG(st == SS_OK, "%s: %s: %s", am->label, spec.name, ss_errmsg());
                    ss_capture lng;
                    if (abl_forward(am, ids, T_LONG, &lng)) ss_capture_free(&lng);
                    if (abl_forward(am, ids, T, &c)) {
                        const size_t nh = (size_t)(c.n_layers + 1) * T * c.d_model;
                        /* (alibi is BLOOM's own encoding) */
                        const int is_native = others[e] == SS_ENC_ALIBI && strcmp(am->label, "bloom") == 0;
                        if ((abl_max_abs_diff(c.hidden, base.hidden, nh) < 1e-3) != is_native) {
                            acted = 0;
                            fprintf(stderr, "%s: %s %s the hidden states of native\n", am->label, spec.name,
                                    is_native ? "changes" : "leaves");
                        }
                        ss_capture_free(&c);
                    }
                }
                /* back to native, alternately explicitly and through NULL */
                if (e % 2 == 0) {
                    if (!abl_set(am, SS_ENC_NATIVE, 0, 0, 0)) continue;
                } else {
                    CHECK(ss_model_set_encoding(am->m, NULL) == SS_OK);
                }
                if (abl_forward(am, ids, T, &c)) {
                    if (!abl_capture_identical(&base, &c)) {
                        restored = 0;
                        fprintf(stderr, "%s: native after %s differs from the first native run\n", am->label,
                                spec.name);
                    }
                    ss_capture_free(&c);
                }
            }
            printf("%-8s %-9s native after none, rope (2x), alibi, sinusoidal, shuffled: %s; every ablation "
                   "acts: %s; %d unsupported\n",
                   am->label, ss_kernel_path_name(ss_kernels_get_path()), restored ? "bit-identical" : "DIFFERS",
                   acted ? "yes" : "NO", n_skipped);
            CHECK_MSG(restored, "%s: native is not restored", am->label);
            CHECK_MSG(acted, "%s: an ablation did not change the forward pass", am->label);
            /* shuffled applies exactly to the models with learned rows */
            const int learned = strcmp(am->label, "gpt2") == 0 || abl_is_bert(am);
            CHECK_MSG(n_skipped == (learned ? 0 : 1), "%s: %d ablations unsupported", am->label, n_skipped);
            ss_capture_free(&base);
        }
        ss_kernels_set_path(SS_KERNEL_FAST);
    }
    abl_free_all(ms, n);
    TEST_END();
}
