/* test_enc_shuffled.c: `shuffled` {seed} permutes the learned position rows that a prompt uses: a
 * prompt of T tokens gets row perm[t] at position t, perm = ss_seeded_permutation(T, seed).
 *
 * 1. The generator: splitmix64 from state 0 gives its published first outputs 0xe220a8397b1dcdaf,
 *    0x6e789e6aa1b965f4, 0x06c45d188009454f; the permutations of 10 for seeds 7 and 8 are the ones
 *    worked out from the documented algorithm (Fisher–Yates from the end, j = next mod (i+1)); every
 *    output for n = 1..300 is a permutation; one seed always gives the same permutation, two seeds
 *    give different ones.
 * 2. GPT-2: hidden[0] row t = wte[id_t] + wpe[perm[t]], exactly (the same fp32 sum), with wte and wpe
 *    read from the weights.
 * 3. BERT (tiny, MiniLM): hidden[0] row t = LayerNorm(word[id_t] + pos[perm[t]] + type[0]) in double;
 *    and on a repeated token, the shuffled hidden[0] row t is the native hidden[0] row perm[t], bit for
 *    bit (the same sum and the same row-wise LayerNorm).
 * 4. Seeds: the same seed twice gives identical captures; another seed gives another hidden[0].
 * 5. The models without learned rows (llama, bloom, gpt_neox): SS_ERR_UNSUPPORTED naming the model and
 *    the reason "no learned position embeddings to shuffle", and the encoding in force before (alibi)
 *    stays in force, bit for bit. */
#include "ablation.h"
#include "model/encoding.h"

enum { T = 18 };

static int is_permutation(const int32_t *p, int n)
{
    char *seen = calloc((size_t)n + 1, 1);
    int ok = seen != NULL;
    for (int i = 0; ok && i < n; i++) {
        if (p[i] < 0 || p[i] >= n || seen[p[i]]) ok = 0;
        else seen[p[i]] = 1;
    }
    free(seen);
    return ok;
}

/* 1. */
static void check_generator(void)
{
    uint64_t s = 0;
    const uint64_t a = ss_splitmix64(&s), b = ss_splitmix64(&s), c = ss_splitmix64(&s);
    printf("splitmix64(0): %016llx %016llx %016llx\n", (unsigned long long)a, (unsigned long long)b,
           (unsigned long long)c);
    CHECK(a == 0xe220a8397b1dcdafull && b == 0x6e789e6aa1b965f4ull && c == 0x06c45d188009454full);
    static const int32_t want7[10] = {8, 1, 5, 9, 0, 4, 3, 2, 6, 7}, want8[10] = {5, 7, 0, 3, 6, 4, 8, 1, 9, 2};
    int32_t p[300], q[300];
    ss_seeded_permutation(p, 10, 7);
    CHECK(memcmp(p, want7, sizeof want7) == 0);
    ss_seeded_permutation(p, 10, 8);
    CHECK(memcmp(p, want8, sizeof want8) == 0);
    int all_perm = 1, n_same = 0, n_differ = 0;
    for (int n = 1; n <= 300; n++) {
        ss_seeded_permutation(p, n, (uint64_t)n * 1000003u);
        ss_seeded_permutation(q, n, (uint64_t)n * 1000003u);
        all_perm &= is_permutation(p, n);
        n_same += memcmp(p, q, (size_t)n * sizeof *p) == 0;
        ss_seeded_permutation(q, n, (uint64_t)n * 1000003u + 1);
        n_differ += n >= 8 && memcmp(p, q, (size_t)n * sizeof *p) != 0;
    }
    printf("permutations n = 1..300: all permutations %s; same seed identical %d/300; seed+1 differs %d/293\n",
           all_perm ? "yes" : "NO", n_same, n_differ);
    CHECK(all_perm && n_same == 300 && n_differ == 293);
}

static int32_t g_perm[T];
static const float *g_pos;
static int g_d;
static const float *perm_row(void *ctx, int t)
{
    (void)ctx;
    return g_pos + (size_t)g_perm[t] * g_d;
}

int main(int argc, char **argv)
{
    check_generator();
    abl_model ms[MAX_MODELS];
    const int n = abl_load_all(ms, argc, argv);
    const uint64_t seed = 5;
    ss_seeded_permutation(g_perm, T, seed);
    for (int mi = 0; mi < n; mi++) {
        abl_model *am = &ms[mi];
        const int d = am->in->d_model, V = am->in->n_vocab;
        int32_t ids[T], rep[T];
        abl_model_ids(am, ids, T, 13);
        for (int t = 0; t < T; t++) rep[t] = 42;
        ss_capture c, c2;
        const int bert = abl_is_bert(am), gpt2 = strcmp(am->label, "gpt2") == 0;

        if (!bert && !gpt2) {
            /* 5. */
            ss_capture before, after;
            if (!abl_set(am, SS_ENC_ALIBI, 0, 0, 0) || !abl_forward(am, ids, T, &before)) continue;
            ss_encoding_spec e = abl_spec(SS_ENC_SHUFFLED, 0, 0, seed);
            e.name = (char *)"shuf5";
            ss_status st = ss_model_set_encoding(am->m, &e);
            printf("%-8s shuffled: %s: %s\n", am->label, ss_status_name(st), ss_errmsg());
            CHECK_MSG(st == SS_ERR_UNSUPPORTED, "%s: shuffled gives %s", am->label, ss_status_name(st));
            CHECK_MSG(strstr(ss_errmsg(), am->in->arch) && strstr(ss_errmsg(), "shuf5") &&
                          strstr(ss_errmsg(), "no learned position embeddings to shuffle"),
                      "%s: the message does not name the encoding, the model and the reason: %s", am->label,
                      ss_errmsg());
            if (abl_forward(am, ids, T, &after)) {
                CHECK_MSG(abl_capture_identical(&before, &after), "%s: a refused shuffled changed the model",
                          am->label);
                ss_capture_free(&after);
            }
            ss_capture_free(&before);
            CHECK(ss_model_set_encoding(am->m, NULL) == SS_OK);
            continue;
        }
        if (!abl_set(am, SS_ENC_SHUFFLED, 0, 0, seed) || !abl_forward(am, ids, T, &c)) continue;
        if (gpt2) {
            /* 2. */
            const float *wte = abl_tensor(am, "wte.weight", V, d);
            const float *wpe = abl_tensor(am, "wpe.weight", am->in->max_positions, d);
            int exact = 1;
            for (int t = 0; t < T; t++)
                for (int i = 0; i < d; i++)
                    exact &= c.hidden[(size_t)t * d + i] ==
                             wte[(size_t)ids[t] * d + i] + wpe[(size_t)g_perm[t] * d + i];
            printf("%-8s shuffled seed %llu: hidden[0][t] = wte[id] + wpe[perm[t]] %s\n", am->label,
                   (unsigned long long)seed, exact ? "exactly" : "NO");
            CHECK_MSG(exact, "%s: hidden[0] is not wte + wpe[perm]", am->label);
        } else {
            /* 3. */
            g_pos = abl_tensor(am, "embeddings.position_embeddings.weight", am->in->max_positions, d);
            g_d = d;
            const double diff = abl_bert_embed_diff(am, &c, ids, perm_row, NULL);
            printf("%-8s shuffled: max |hidden[0] - LayerNorm(word + pos[perm[t]] + type)| %.3g\n", am->label, diff);
            CHECK_MSG(diff <= 1e-5, "%s: hidden[0] is not LayerNorm(word + pos[perm] + type) (%g)", am->label,
                      diff);
            ss_capture cn, cr;
            if (abl_forward(am, rep, T, &cr)) {
                if (abl_set(am, SS_ENC_NATIVE, 0, 0, 0) && abl_forward(am, rep, T, &cn)) {
                    int same = 1;
                    for (int t = 0; t < T; t++)
                        same &= abl_same_bits(cr.hidden + (size_t)t * d, cn.hidden + (size_t)g_perm[t] * d, (size_t)d);
                    printf("%-8s shuffled, repeated token: hidden[0][t] = native hidden[0][perm[t]] %s\n", am->label,
                           same ? "bit for bit" : "NO");
                    CHECK_MSG(same, "%s: the shuffled rows are not the native rows permuted", am->label);
                    ss_capture_free(&cn);
                }
                ss_capture_free(&cr);
            }
        }
        /* 4. */
        if (abl_set(am, SS_ENC_SHUFFLED, 0, 0, seed) && abl_forward(am, ids, T, &c2)) {
            CHECK_MSG(abl_capture_identical(&c, &c2), "%s: the same seed gave another forward pass", am->label);
            ss_capture_free(&c2);
        }
        if (abl_set(am, SS_ENC_SHUFFLED, 0, 0, seed + 1) && abl_forward(am, ids, T, &c2)) {
            const double diff = abl_max_abs_diff(c.hidden, c2.hidden, (size_t)T * d);
            printf("%-8s shuffled: seed %llu vs %llu: hidden[0] differs by %.3g\n", am->label,
                   (unsigned long long)seed, (unsigned long long)seed + 1, diff);
            CHECK_MSG(diff > 1e-3, "%s: another seed gave the same hidden[0]", am->label);
            ss_capture_free(&c2);
        }
        ss_capture_free(&c);
        CHECK(ss_model_set_encoding(am->m, NULL) == SS_OK);
    }
    abl_free_all(ms, n);
    TEST_END();
}
