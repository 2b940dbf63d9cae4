/* test_tiny_hf.c: parity with Hugging Face transformers (eager, fp32) for the five decoder families, on
 * the tiny random models of tests/fixtures/tiny/<family>/ and their expected.json (gpt2, llama, bloom,
 * gpt_neox: transformers 4.40.2, tests/fixtures/make_tiny_hf_fixtures.py; gemma3: transformers 4.53.2,
 * tests/fixtures/make_decoder_fixtures.py, 3 layers local/global/local with a window of 8, so its 17- and
 * 31-token sequences reach past the window). No tokenizer files, so the models are loaded with
 * ss_model_load_weights_only.
 *
 * For every family and every sequence (5, 17 and 31 tokens), with the fast (BLAS) kernels and again
 * with the reference kernels, max |HF − ours| ≤ 1e-4 on
 *   every attention probability            attentions [L][H][T][T]     vs cap.attn
 *   every hidden state                     hidden_states [L+1][T][d]   vs cap.hidden (HF's index L is
 *                                                                      after the final norm, and so is ours)
 *   the last layer's output before the final norm   last_layer_output [T][d] vs cap.hidden_prenorm
 * and for sequence 0 the capture layout (HF forward hooks + HF's rotary functions):
 *   q_pre, q [L][H][T][d_h], k_pre, k, v [L][H_kv][T][d_h], attn_out [L][T][d].
 * For gpt2 and llama, the fixture also holds sequence 0 as run inside a right-padded batch of two with
 * an attention mask; our unpadded single run must match that too (≤ 1e-4).
 * It also checks ss_model_probe's info per family, and the kernels' RoPE tables and ALiBi slopes
 * against Hugging Face's own (tests/fixtures/tiny/hf_reference.json). Exits 77 when the fixtures are
 * absent. */
#include <jansson.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "attention.h" /* ss_alibi_slopes */
#include "model/model.h"
#include "path.h" /* ss_kernels_set_path */
#include "model/safetensors.h" /* ss_st_open, the tiny Gemma-3's norm weights */
#include "rope.h"                /* ss_rope_tables, ss_rope_apply_ref */
#include "test_util.h"

#define TOL 1e-4

typedef struct {
    const char *family, *pos_encoding;
    int n_kv_heads;
    ss_bos_policy default_bos;
    int batched;
    int32_t bos_id, eos_id;
    int d_head; /* when expected.json has no d_head */
} family_spec;

static const family_spec g_families[] = {
    {"gpt2", "learned", 4, SS_BOS_NONE, 1, 1, 2, 0},  {"llama", "rope", 2, SS_BOS_ADD, 1, 1, 2, 0},
    {"bloom", "alibi", 6, SS_BOS_NONE, 0, 1, 2, 0},   {"gpt_neox", "rope", 4, SS_BOS_NONE, 0, 1, 2, 0},
    {"gemma3", "rope", 2, SS_BOS_ADD, 0, 2, 1, 8},
};

/* Max |fixture − ours| over a nested JSON array of numbers walked in row-major order against ours[0..n);
 * *count gets the number of leaves (must equal n). */
static void walk(const json_t *j, const float *ours, size_t n, size_t *count, double *maxd, int *bad)
{
    if (json_is_array(j)) {
        size_t i;
        const json_t *e;
        json_array_foreach(j, i, e) walk(e, ours, n, count, maxd, bad);
        return;
    }
    if (!json_is_number(j) || *count >= n) {
        *bad = 1;
        (*count)++;
        return;
    }
    double d = fabs(json_number_value(j) - (double)ours[*count]);
    if (!(d <= *maxd)) *maxd = d; /* NaN -> NaN, fails the bound */
    (*count)++;
}

static double compare(const json_t *obj, const char *field, const float *ours, size_t n, const char *what)
{
    size_t count = 0;
    double maxd = 0.0;
    int bad = 0;
    const json_t *j = json_object_get(obj, field);
    CHECK_MSG(json_is_array(j), "%s: field '%s' missing", what, field);
    if (!json_is_array(j)) return INFINITY;
    walk(j, ours, n, &count, &maxd, &bad);
    CHECK_MSG(!bad && count == n, "%s: field '%s' has %zu numbers, expected %zu", what, field, count, n);
    CHECK_MSG(maxd <= TOL, "%s: %s max abs diff %g > %g", what, field, maxd, TOL);
    return maxd;
}

static int32_t *read_ids(const json_t *arr, int *T)
{
    *T = (int)json_array_size(arr);
    int32_t *ids = malloc((size_t)(*T ? *T : 1) * sizeof *ids);
    if (!ids) exit(1);
    for (int t = 0; t < *T; t++) ids[t] = (int32_t)json_integer_value(json_array_get(arr, (size_t)t));
    return ids;
}

static double g_worst;
static void note(double d)
{
    if (!(d <= g_worst)) g_worst = d;
}

static void run_family(const char *src, const family_spec *fs)
{
    char dir[4096], path[4200];
    snprintf(dir, sizeof dir, "%s/tests/fixtures/tiny/%s", src, fs->family);
    snprintf(path, sizeof path, "%s/expected.json", dir);
    json_error_t jerr;
    json_t *root = json_load_file(path, 0, &jerr);
    CHECK_MSG(root != NULL, "%s: %s", path, jerr.text);
    if (!root) return;

    ss_model_info info;
    CHECK_MSG(ss_model_probe(dir, &info) == SS_OK, "%s: probe: %s", dir, ss_errmsg());
    const int L = (int)json_integer_value(json_object_get(root, "n_layers"));
    const int H = (int)json_integer_value(json_object_get(root, "n_heads"));
    const int Hkv = (int)json_integer_value(json_object_get(root, "n_kv_heads"));
    const int d = (int)json_integer_value(json_object_get(root, "d_model"));
    const int dh = json_object_get(root, "d_head") ? (int)json_integer_value(json_object_get(root, "d_head"))
                                                   : fs->d_head;
    CHECK_STREQ(info.arch, fs->family);
    CHECK_STREQ(info.pos_encoding, fs->pos_encoding);
    CHECK(info.causal == 1 && info.default_bos == fs->default_bos);
    CHECK(info.n_layers == L && info.n_heads == H && info.n_kv_heads == Hkv && info.n_kv_heads == fs->n_kv_heads);
    CHECK(info.d_model == d && info.d_head == dh && info.n_vocab == 128);
    CHECK(info.bos_id == fs->bos_id && info.eos_id == fs->eos_id && info.cls_id == -1 && info.sep_id == -1);

    /* no tokenizer files: the full load refuses, the weights-only load works */
    ss_model *m = NULL;
    CHECK(ss_model_load(dir, &m) != SS_OK && m == NULL);
    ss_status st = ss_model_load_weights_only(dir, &m);
    CHECK_MSG(st == SS_OK, "%s: load: %s", dir, ss_errmsg());
    if (st != SS_OK) {
        json_decref(root);
        return;
    }
    CHECK(ss_model_tokenizer(m) == NULL);

    const json_t *seqs = json_object_get(root, "sequences");
    for (int pass = 0; pass < 2; pass++) {
        ss_kernels_set_path(pass == 0 ? SS_KERNEL_FAST : SS_KERNEL_REF);
        const char *kp = ss_kernel_path_name(ss_kernels_get_path());
        size_t k;
        const json_t *seq;
        json_array_foreach(seqs, k, seq)
        {
            int T;
            int32_t *ids = read_ids(json_object_get(seq, "ids"), &T);
            ss_capture cap;
            st = ss_model_forward(m, ids, T, &cap);
            CHECK_MSG(st == SS_OK, "%s seq %zu: forward: %s", fs->family, k, ss_errmsg());
            if (st == SS_OK) {
                char what[128];
                snprintf(what, sizeof what, "%s/%s seq %zu (T=%d)", fs->family, kp, k, T);
                CHECK(cap.n_layers == L && cap.n_heads == H && cap.n_kv_heads == Hkv && cap.n_tokens == T);
                CHECK(cap.d_model == d && cap.d_head == dh && cap.causal == 1);
                const size_t td = (size_t)T * d;
                double da = compare(seq, "attentions", cap.attn, (size_t)L * H * T * T, what);
                double dhid = compare(seq, "hidden_states", cap.hidden, (size_t)(L + 1) * td, what);
                double dpre = compare(seq, "last_layer_output", cap.hidden_prenorm, td, what);
                note(da);
                note(dhid);
                note(dpre);
                printf("%-9s %-9s seq %zu T=%-3d attentions %-9.3g hidden_states %-9.3g last_layer_output %-9.3g\n",
                       fs->family, kp, k, T, da, dhid, dpre);
                const json_t *capj = json_object_get(seq, "capture");
                if (capj) {
                    const size_t qn = (size_t)L * H * T * dh, kn = (size_t)L * Hkv * T * dh;
                    double c[6] = {compare(capj, "q_pre", cap.q_pre, qn, what),
                                   compare(capj, "q", cap.q, qn, what),
                                   compare(capj, "k_pre", cap.k_pre, kn, what),
                                   compare(capj, "k", cap.k, kn, what),
                                   compare(capj, "v", cap.v, kn, what),
                                   compare(capj, "attn_out", cap.attn_out, (size_t)L * td, what)};
                    for (int i = 0; i < 6; i++) note(c[i]);
                    printf("%-9s %-9s seq %zu capture: q_pre %.3g q %.3g k_pre %.3g k %.3g v %.3g attn_out %.3g\n",
                           fs->family, kp, k, c[0], c[1], c[2], c[3], c[4], c[5]);
                }
            }
            ss_capture_free(&cap);
            free(ids);
        }
        const json_t *bj = json_object_get(root, "batched");
        CHECK_MSG((bj != NULL) == (fs->batched != 0), "%s: batched section", fs->family);
        if (bj) {
            int T;
            int32_t *ids = read_ids(json_object_get(bj, "ids"), &T);
            ss_capture cap;
            st = ss_model_forward(m, ids, T, &cap);
            CHECK(st == SS_OK);
            if (st == SS_OK) {
                char what[128];
                snprintf(what, sizeof what, "%s/%s batched seq 0 (T=%d)", fs->family, kp, T);
                double da = compare(bj, "attentions", cap.attn, (size_t)L * H * T * T, what);
                double dhid = compare(bj, "hidden_states", cap.hidden, (size_t)(L + 1) * T * d, what);
                note(da);
                note(dhid);
                const json_t *hf = json_object_get(bj, "max_abs_diff_vs_single");
                printf("%-9s %-9s padded batch seq 0 T=%-3d attentions %-9.3g hidden_states %-9.3g (HF batch vs "
                       "single: %.3g, %.3g)\n",
                       fs->family, kp, T, da, dhid, json_number_value(json_object_get(hf, "attentions")),
                       json_number_value(json_object_get(hf, "hidden_states")));
            }
            ss_capture_free(&cap);
            free(ids);
        }
    }
    ss_kernels_set_path(SS_KERNEL_FAST);
    ss_model_free(m);
    json_decref(root);
}

/* The kernels' fp32 RoPE tables and ALiBi slopes against transformers' own. */
static void check_hf_reference(const char *src)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/tests/fixtures/tiny/hf_reference.json", src);
    json_error_t jerr;
    json_t *root = json_load_file(path, 0, &jerr);
    CHECK_MSG(root != NULL, "%s: %s", path, jerr.text);
    if (!root) return;
    size_t i;
    const json_t *e;
    json_array_foreach(json_object_get(root, "rope"), i, e)
    {
        const int r = (int)json_integer_value(json_object_get(e, "rot_dims"));
        const double theta = json_number_value(json_object_get(e, "theta"));
        const json_t *pos = json_object_get(e, "positions");
        const int maxp = (int)json_integer_value(json_array_get(pos, json_array_size(pos) - 1));
        float *cs = malloc((size_t)(maxp + 1) * (r / 2) * sizeof *cs),
              *sn = malloc((size_t)(maxp + 1) * (r / 2) * sizeof *sn);
        if (!cs || !sn) exit(1);
        ss_rope_tables(cs, sn, maxp + 1, r, theta);
        double worst = 0.0;
        for (size_t p = 0; p < json_array_size(pos); p++) {
            int t = (int)json_integer_value(json_array_get(pos, p));
            for (int c = 0; c < r / 2; c++) {
                double hc = json_number_value(json_array_get(json_array_get(json_object_get(e, "cos"), p), (size_t)c));
                double hs = json_number_value(json_array_get(json_array_get(json_object_get(e, "sin"), p), (size_t)c));
                worst =
                    fmax(worst, fmax(fabs(hc - cs[(size_t)t * (r / 2) + c]), fabs(hs - sn[(size_t)t * (r / 2) + c])));
            }
        }
        printf("RoPE tables vs HF %s (r=%d, theta=%g, positions to %d): max abs diff %.3g\n",
               json_string_value(json_object_get(e, "source")), r, theta, maxp, worst);
        /* fp32 cos/sin of the same fp32 angle: libm vs torch differ by an ulp or so */
        CHECK_MSG(worst <= 1e-6, "RoPE tables r=%d theta=%g: %g", r, theta, worst);
        free(cs);
        free(sn);
    }
    json_array_foreach(json_object_get(root, "alibi"), i, e)
    {
        const int H = (int)json_integer_value(json_object_get(e, "n_heads"));
        float *s = malloc((size_t)H * sizeof *s);
        if (!s) exit(1);
        ss_alibi_slopes(s, H);
        double worst = 0.0;
        for (int h = 0; h < H; h++)
            worst =
                fmax(worst, fabs(json_number_value(json_array_get(json_object_get(e, "slopes"), (size_t)h)) - s[h]));
        printf("ALiBi slopes vs HF, %3d heads: max abs diff %.3g\n", H, worst);
        CHECK_MSG(worst <= 1e-7, "ALiBi slopes H=%d: %g", H, worst);
        free(s);
    }
    json_decref(root);
}

/* Gemma-3's capture and masks, beyond the parity above (tiny model: layers local, global, local; window
 * 8; head 8; RoPE bases 1e4 local, 1e6 global), on the 31-token sequence:
 *   - local layers: A[l][h][i][j] is exactly 0 for j <= i − 8 (and j > i), and > 0 inside the window;
 *     the global layer: > 0 for every j <= i;
 *   - q_pre / k_pre are taken after the QK-norm: every (head, token) row divided by (1 + w) of q_norm /
 *     k_norm has unit RMS (up to ε);
 *   - q / k are RoPE(q_pre / k_pre) with the layer's own base (half-split pairs), and not with the other. */
static void check_gemma3_capture(const char *src)
{
    char dir[4096], path[4200];
    snprintf(dir, sizeof dir, "%s/tests/fixtures/tiny/gemma3", src);
    snprintf(path, sizeof path, "%s/expected.json", dir);
    json_error_t jerr;
    json_t *root = json_load_file(path, 0, &jerr);
    ss_model *m = NULL;
    ss_safetensors *sf = NULL;
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    if (!root || ss_model_load_weights_only(dir, &m) != SS_OK || ss_st_open(path, &sf) != SS_OK) {
        CHECK_MSG(0, "gemma3: cannot load the fixture: %s", root ? ss_errmsg() : jerr.text);
        json_decref(root);
        ss_model_free(m);
        return;
    }
    int T;
    int32_t *ids = read_ids(json_object_get(json_array_get(json_object_get(root, "sequences"), 2), "ids"), &T);
    ss_capture cap;
    CHECK(T == 31);
    if (ss_model_forward(m, ids, T, &cap) != SS_OK) {
        CHECK_MSG(0, "gemma3 forward: %s", ss_errmsg());
        goto out;
    }
    const int L = cap.n_layers, H = cap.n_heads, Hkv = cap.n_kv_heads, dh = cap.d_head, W = 8;
    static const int sliding[3] = {1, 0, 1};
    static const double theta[2] = {1e6, 1e4}; /* [sliding] */
    CHECK(L == 3 && dh == 8);
    int mask_ok = 1;
    for (int l = 0; l < L; l++)
        for (int h = 0; h < H; h++)
            for (int i = 0; i < T; i++)
                for (int j = 0; j < T; j++) {
                    float p = cap.attn[(((size_t)l * H + h) * T + i) * T + j];
                    int visible = j <= i && (!sliding[l] || j > i - W);
                    if (visible ? !(p > 0.0f) : p != 0.0f) mask_ok = 0;
                }
    printf("gemma3 masks: local layers see exactly keys i-7..i, the global layer every key <= i: %s\n",
           mask_ok ? "yes" : "NO");
    CHECK(mask_ok);

    float *cs = malloc((size_t)T * dh / 2 * sizeof *cs), *sn = malloc((size_t)T * dh / 2 * sizeof *sn);
    float *buf = malloc((size_t)H * T * dh * sizeof *buf); /* [H][T][d_h] */
    if (!cs || !sn || !buf) exit(1);
    for (int l = 0; l < L; l++)
        for (int which = 0; which < 2; which++) { /* 0: q, 1: k */
            const int n = which ? Hkv : H;
            const size_t off = (size_t)l * n * T * dh;
            const float *pre = (which ? cap.k_pre : cap.q_pre) + off, *post = (which ? cap.k : cap.q) + off;
            char name[128];
            snprintf(name, sizeof name, "model.layers.%d.self_attn.%s_norm.weight", l, which ? "k" : "q");
            const float *w = NULL;
            const int64_t dims[1] = {dh};
            CHECK_MSG(ss_st_get_f32(sf, name, 1, dims, &w) == SS_OK, "%s", ss_errmsg());
            if (!w) continue;
            double worst_rms = 0.0;
            for (size_t r = 0; r < (size_t)n * T; r++) {
                double ms = 0.0;
                for (int c = 0; c < dh; c++) {
                    double x = pre[r * dh + c] / (1.0 + w[c]);
                    ms += x * x;
                }
                worst_rms = fmax(worst_rms, fabs(sqrt(ms / dh) - 1.0));
            }
            double diff[2];
            for (int t = 0; t < 2; t++) { /* t = 1: the layer's own base, t = 0: the other one */
                ss_rope_tables(cs, sn, T, dh, theta[t ? sliding[l] : !sliding[l]]);
                memcpy(buf, pre, (size_t)n * T * dh * sizeof *buf);
                ss_rope_apply_ref(buf, n, T, dh, dh, SS_ROPE_HALF, cs, sn);
                diff[t] = 0.0;
                for (size_t i = 0; i < (size_t)n * T * dh; i++) diff[t] = fmax(diff[t], fabs(buf[i] - post[i]));
            }
            printf("gemma3 layer %d %s: |RMS(%s_pre / (1+w)) - 1| <= %.2g; |%s - RoPE(%s_pre, own base)| %.3g, "
                   "other base %.3g\n",
                   l, sliding[l] ? "local " : "global", which ? "k" : "q", worst_rms, which ? "k" : "q",
                   which ? "k" : "q", diff[1], diff[0]);
            CHECK(worst_rms <= 1e-4);
            CHECK(diff[1] <= 1e-6 && diff[0] > 1e-2);
        }
    free(cs);
    free(sn);
    free(buf);
    ss_capture_free(&cap);
out:
    free(ids);
    ss_st_free(sf);
    ss_model_free(m);
    json_decref(root);
}

int main(void)
{
    const char *src = test_env("SS_SOURCE_DIR", NULL);
    if (!src) SKIP("SS_SOURCE_DIR is not set (CTest sets it)");
    char path[4200];
    struct stat sb;
    for (size_t f = 0; f < sizeof g_families / sizeof g_families[0]; f++) {
        snprintf(path, sizeof path, "%s/tests/fixtures/tiny/%s/expected.json", src, g_families[f].family);
        if (stat(path, &sb) != 0) SKIP("fixture %s is absent (tests/fixtures/make_tiny_hf_fixtures.py)", path);
    }
    check_hf_reference(src);
    for (size_t f = 0; f < sizeof g_families / sizeof g_families[0]; f++) run_family(src, &g_families[f]);
    check_gemma3_capture(src);
    printf("worst max abs diff vs Hugging Face: %.3g (tolerance %g)\n", g_worst, TOL);
    TEST_END();
}
