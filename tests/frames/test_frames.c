/* test_frames.c: the frame classifier (engine/frames.c) on synthetic families with known labels.
 *
 * Each family is built from a chooser that gives every (prompt, layer, head) its top key's position; token ids and
 * classes follow from the prompt's tokens. Checked: the label of every family (centralized, bidirectional,
 * distributed, mixed, none), the per-layer labels and features, the margins, the confidence (1 on a clean family,
 * lower on a borderline one), the skip_layers rule, determinism under the seed, and the `frames:` YAML reader. */
#include "test_util.h"

#include <stdint.h>

#include "capture.h"
#include "frames.h"
#include "sweep.h"

enum { BOS = 1, CLS = 101, SEP = 102, COMMA = 7, TMAX = 32 };

typedef struct {
    int N, L, H, T, causal;
    int bos;           /* 1: position 0 holds BOS (or [CLS] for encoders) */
    int sep;           /* 1: position T-1 holds [SEP] */
    int repeated;      /* 1: every content token is the same id */
    int absolute;      /* 1: the encoding in effect has absolute positions (learned, sinusoidal, shuffled) */
    int32_t *pos, *cls, *tok, *ntok; /* [N][L][H], [N][L][H], [N][TMAX], [N] */
    float *R;          /* [N][L] or NULL */
} family;

typedef int (*chooser)(const family *f, int p, int l, int h); /* the top key's position, -1: none */

static int32_t token_at(const family *f, int p, int i)
{
    if (i == 0 && f->bos) return f->causal ? BOS : CLS;
    if (i == f->T - 1 && f->sep) return SEP;
    if (f->repeated) return 500;
    if (i % 5 == 4) return COMMA;
    return 1000 + p * TMAX + i; /* every content token of every prompt distinct */
}

static int class_of(int32_t id, int i)
{
    if (id == BOS || id == CLS) return SS_TOK_START;
    if (id == SEP) return SS_TOK_END;
    if (i == 0) return SS_TOK_FIRST;
    if (id == COMMA) return SS_TOK_PUNCT;
    return SS_TOK_CONTENT;
}

static void build(family *f, chooser pick)
{
    const size_t per = (size_t)f->L * f->H;
    f->pos = malloc((size_t)f->N * per * sizeof *f->pos + 1);
    f->cls = malloc((size_t)f->N * per * sizeof *f->cls + 1);
    f->tok = malloc((size_t)f->N * TMAX * sizeof *f->tok + 1);
    f->ntok = malloc((size_t)f->N * sizeof *f->ntok + 1);
    for (int p = 0; p < f->N; p++) {
        f->ntok[p] = f->T;
        for (int i = 0; i < TMAX; i++) f->tok[(size_t)p * TMAX + i] = i < f->T ? token_at(f, p, i) : -1;
        for (int l = 0; l < f->L; l++)
            for (int h = 0; h < f->H; h++) {
                const size_t k = (size_t)p * per + (size_t)l * f->H + h;
                const int at = pick(f, p, l, h);
                f->pos[k] = at;
                f->cls[k] = at >= 0 ? class_of(f->tok[(size_t)p * TMAX + at], at) : -1;
            }
    }
}

static void drop(family *f)
{
    free(f->pos);
    free(f->cls);
    free(f->tok);
    free(f->ntok);
    free(f->R);
}

static ss_frames_result run(const family *f, const ss_frames_params *p)
{
    static const int32_t specials[] = {BOS, CLS, SEP};
    ss_frames_input in = {.n_prompts = f->N, .L = f->L, .H = f->H, .causal = f->causal, .top_pos = f->pos,
                          .top_class = f->cls, .tokens = f->tok, .n_tokens = f->ntok, .tok_stride = TMAX,
                          .special_ids = specials, .n_special = 3, .ref_count = f->R,
                          .absolute_positions = f->absolute};
    ss_frames_result r;
    ss_status st = ss_frames_classify(&in, p, &r);
    CHECK_MSG(st == SS_OK, "%s", ss_errmsg());
    return r;
}

static ss_frames_params defaults(void)
{
    ss_frames_params p;
    ss_frames_params_default(&p);
    return p;
}

/* --- choosers */

static int pick_first(const family *f, int p, int l, int h) { return (void)f, (void)p, (void)l, (void)h, 0; }

/* a different content position for every (layer, head, prompt): top keys spread over many token ids */
static int pick_spread(const family *f, int p, int l, int h)
{
    int i = 1 + (p * 7 + l * 3 + h * 5) % (f->T - 2);
    if (i % 5 == 4) i = i > 1 ? i - 1 : i + 1; /* content, not the comma */
    return i;
}

/* encoder: [CLS] in 4 of 5 heads of the first third, [SEP] in 4 of 5 heads after it; the rest content/punct */
static int pick_bidir(const family *f, int p, int l, int h)
{
    const int first_third = (f->L + 2) / 3;
    if (h < 4) return l < first_third ? 0 : f->T - 1;
    return l < first_third ? pick_spread(f, p, l, h) : 4; /* 4: the comma */
}

/* BOS in 7 of 10 heads, content otherwise */
static int pick_mixed(const family *f, int p, int l, int h) { return h < 7 ? 0 : pick_spread(f, p, l, h); }

/* BOS in 8 or 10 of 10 heads on alternate prompts: share exactly 0.9, on the threshold */
static int pick_border(const family *f, int p, int l, int h)
{
    return (p % 2 == 0 || h < 8) ? 0 : pick_spread(f, p, l, h);
}

/* content spread in layers 0 and 1, BOS from layer 2 on */
static int pick_late(const family *f, int p, int l, int h) { return l < 2 ? pick_spread(f, p, l, h) : 0; }

static int pick_none(const family *f, int p, int l, int h) { return (void)f, (void)p, (void)l, (void)h, -1; }

/* half the heads on BOS, half on the comma at position 4 */
static int pick_half(const family *f, int p, int l, int h) { return (void)f, (void)p, (void)l, h % 2 ? 4 : 0; }

/* --- tests */

static void test_centralized(void)
{
    family f = {.N = 20, .L = 8, .H = 4, .T = 24, .causal = 1, .bos = 1};
    build(&f, pick_first);
    ss_frames_params p = defaults();
    ss_frames_result r = run(&f, &p);
    CHECK_STREQ(ss_frame_name(r.label), "centralized");
    CHECK_NEAR(r.confidence, 1.0, 0);
    CHECK_NEAR(r.central_fraction, 1.0, 1e-12);
    CHECK(r.central_class == SS_TOK_START);
    CHECK_NEAR(r.margin_centralized, 0.1, 1e-12);
    CHECK(r.n_used == 20 && r.n_repeated == 0 && r.skip_effective == 2);
    for (int l = 0; l < f.L; l++) {
        CHECK(r.labels[l] == SS_FRAME_CENTRALIZED);
        CHECK(r.anchor_id[l] == BOS && r.anchor_class[l] == SS_TOK_START);
        CHECK_NEAR(r.shares[l * SS_TOK_N_CLASSES + SS_TOK_START], 1.0, 1e-12);
        CHECK_NEAR(r.m_l[l], 1.0, 1e-12);
        CHECK_NEAR(r.entropy[l], 0.0, 1e-12);
        CHECK_NEAR(r.constant_heads[l], 1.0, 1e-12);
        CHECK_NEAR(r.margins[l * 3 + SS_FRAME_MARGIN_CENTRALIZED], 0.1, 1e-12);
        CHECK(r.n_pairs[l] == 20 * 4);
        CHECK(r.counted[l] == (l >= 2));
        CHECK(isnan(r.mean_R[l]));
    }
    CHECK(r.r_rule == 0 && isnan(r.margin_distributed_R));
    ss_frames_result_free(&r);

    /* no BOS: the first position (a content word) dominates -> centralized on the class "first position" */
    drop(&f);
    f = (family){.N = 20, .L = 8, .H = 4, .T = 24, .causal = 1, .bos = 0};
    build(&f, pick_first);
    r = run(&f, &p);
    CHECK_STREQ(ss_frame_name(r.label), "centralized");
    CHECK(r.central_class == SS_TOK_FIRST);
    CHECK_NEAR(r.m_l[3], 1.0 / 20, 1e-12); /* the first word differs per prompt: no dominant token id */
    ss_frames_result_free(&r);
    drop(&f);
}

static void test_bidirectional(void)
{
    family f = {.N = 12, .L = 6, .H = 5, .T = 20, .causal = 0, .bos = 1, .sep = 1};
    build(&f, pick_bidir);
    ss_frames_params p = defaults();
    ss_frames_result r = run(&f, &p);
    CHECK_STREQ(ss_frame_name(r.label), "bidirectional");
    CHECK_NEAR(r.confidence, 1.0, 0);
    CHECK(r.first_third == 2);
    CHECK_NEAR(r.bidir_start, 0.8, 1e-12);
    CHECK_NEAR(r.bidir_end, 0.8, 1e-12);
    CHECK_NEAR(r.margin_bidirectional, 0.3, 1e-12);
    CHECK(r.margin_centralized < 0);
    for (int l = 0; l < f.L; l++) {
        CHECK(r.labels[l] == SS_FRAME_BIDIRECTIONAL);
        CHECK(r.anchor_id[l] == (l < 2 ? CLS : SEP));
        CHECK_NEAR(r.anchor_share[l], 0.8, 1e-12);
        CHECK_NEAR(r.margins[l * 3 + SS_FRAME_MARGIN_BIDIRECTIONAL], 0.3, 1e-12);
        if (l >= 2) {
            CHECK(r.anchor2_id[l] == COMMA);
            CHECK_NEAR(r.anchor2_share[l], 0.2, 1e-12);
            CHECK_NEAR(r.shares[l * SS_TOK_N_CLASSES + SS_TOK_PUNCT], 0.2, 1e-12);
        }
    }
    ss_frames_result_free(&r);
    /* the same attention in a causal model: the bidirectional rule does not apply -> mixed */
    f.causal = 1;
    r = run(&f, &p);
    CHECK_STREQ(ss_frame_name(r.label), "mixed");
    CHECK_NEAR(r.margin_bidirectional, 0.3, 1e-12); /* the score is still reported */
    ss_frames_result_free(&r);
    drop(&f);
}

static void test_distributed(void)
{
    family f = {.N = 30, .L = 6, .H = 4, .T = 24, .causal = 1, .bos = 0};
    build(&f, pick_spread);
    f.R = malloc((size_t)f.N * f.L * sizeof *f.R);
    for (int i = 0; i < f.N * f.L; i++) f.R[i] = 3;
    ss_frames_params p = defaults();
    ss_frames_result r = run(&f, &p);
    CHECK_STREQ(ss_frame_name(r.label), "distributed");
    CHECK_NEAR(r.confidence, 1.0, 0);
    CHECK(r.r_rule == 1);
    CHECK_NEAR(r.mean_R_all, 3.0, 1e-12);
    CHECK_NEAR(r.margin_distributed_R, 2.0, 1e-12);
    CHECK_NEAR(r.distributed_fraction, 1.0, 1e-12);
    CHECK_NEAR(r.constant_heads_all, 0.0, 1e-12);
    CHECK(r.margin_distributed > 0);
    for (int l = 0; l < f.L; l++) {
        CHECK(r.labels[l] == SS_FRAME_DISTRIBUTED);
        CHECK(r.m_l[l] < 0.2);
        CHECK(r.entropy[l] > 3.0);
        CHECK_NEAR(r.mean_R[l], 3.0, 1e-12);
    }
    ss_frames_result_free(&r);
    /* |R| = 1 everywhere: the strict |R| > 1 condition fails -> mixed, margin 0 */
    for (int i = 0; i < f.N * f.L; i++) f.R[i] = 1;
    r = run(&f, &p);
    CHECK_STREQ(ss_frame_name(r.label), "mixed");
    CHECK_NEAR(r.margin_distributed_R, 0.0, 1e-12);
    CHECK_NEAR(r.margin_distributed, 0.0, 1e-12);
    ss_frames_result_free(&r);
    /* no |R|: the condition is skipped */
    free(f.R);
    f.R = NULL;
    r = run(&f, &p);
    CHECK_STREQ(ss_frame_name(r.label), "distributed");
    CHECK(r.r_rule == 0);
    ss_frames_result_free(&r);
    /* one prompt: every head is constant, so the identity does not vary -> mixed */
    f.N = 1;
    r = run(&f, &p);
    CHECK_STREQ(ss_frame_name(r.label), "mixed");
    CHECK_NEAR(r.constant_heads_all, 1.0, 1e-12);
    ss_frames_result_free(&r);
    drop(&f);
}

static void test_mixed_and_entropy(void)
{
    family f = {.N = 20, .L = 6, .H = 10, .T = 24, .causal = 1, .bos = 1};
    build(&f, pick_mixed);
    ss_frames_params p = defaults();
    ss_frames_result r = run(&f, &p);
    CHECK_STREQ(ss_frame_name(r.label), "mixed");
    CHECK_NEAR(r.confidence, 1.0, 0);
    CHECK_NEAR(r.central_fraction, 0.0, 1e-12);
    CHECK_NEAR(r.margin_centralized, -0.9, 1e-12);
    CHECK_NEAR(r.distributed_fraction, 0.0, 1e-12);
    for (int l = 0; l < f.L; l++) {
        CHECK(r.labels[l] == SS_FRAME_MIXED);
        CHECK_NEAR(r.margins[l * 3 + SS_FRAME_MARGIN_CENTRALIZED], 0.7 - 0.9, 1e-12);
        CHECK_NEAR(r.margins[l * 3 + SS_FRAME_MARGIN_DISTRIBUTED], 0.5 - 0.7, 1e-12);
    }
    ss_frames_result_free(&r);
    drop(&f);

    /* two token ids, half the pairs each: entropy ln 2, shares 0.5 / 0.5 */
    f = (family){.N = 4, .L = 2, .H = 4, .T = 10, .causal = 1, .bos = 1};
    build(&f, pick_half);
    r = run(&f, &p);
    for (int l = 0; l < f.L; l++) {
        CHECK_NEAR(r.entropy[l], log(2.0), 1e-12);
        CHECK(r.anchor_id[l] == BOS && r.anchor2_id[l] == COMMA); /* a tie goes to the smaller id */
        CHECK_NEAR(r.shares[l * SS_TOK_N_CLASSES + SS_TOK_START], 0.5, 1e-12);
        CHECK_NEAR(r.shares[l * SS_TOK_N_CLASSES + SS_TOK_PUNCT], 0.5, 1e-12);
    }
    ss_frames_result_free(&r);
    drop(&f);
}

static void test_none(void)
{
    ss_frames_params p = defaults();
    family f = {.N = 0, .L = 4, .H = 2, .T = 10, .causal = 1, .bos = 1};
    build(&f, pick_first);
    ss_frames_result r = run(&f, &p);
    CHECK_STREQ(ss_frame_name(r.label), "none");
    CHECK(strstr(r.none_reason, "no usable prompts") != NULL);
    CHECK_NEAR(r.confidence, 1.0, 0);
    for (int l = 0; l < f.L; l++) CHECK(r.labels[l] == SS_FRAME_NONE && r.anchor_id[l] == -1 && isnan(r.m_l[l]));
    ss_frames_result_free(&r);
    drop(&f);
    /* one id repeated at every position, RoPE/NoPE/ALiBi (absolute 0): no sink by construction (Gu et al.
     * Props. 1-4), no frame is read even if the first position took every head */
    f = (family){.N = 6, .L = 4, .H = 2, .T = 16, .causal = 1, .repeated = 1};
    build(&f, pick_first);
    r = run(&f, &p);
    CHECK_STREQ(ss_frame_name(r.label), "none");
    CHECK(r.n_repeated == 6 && r.n_repeated_kept == 0 && r.n_used == 0);
    CHECK(strstr(r.none_reason, "no sink by construction") != NULL);
    ss_frames_result_free(&r);
    drop(&f);
    /* the same with a prepended BOS: position 1 holds another token, the premise fails and a sink can form on it,
     * so the prompts are classified (here: every head on BOS -> centralized) */
    f = (family){.N = 6, .L = 4, .H = 2, .T = 16, .causal = 1, .bos = 1, .repeated = 1};
    build(&f, pick_first);
    r = run(&f, &p);
    CHECK_STREQ(ss_frame_name(r.label), "centralized");
    CHECK(r.n_repeated == 0 && r.n_repeated_kept == 6 && r.n_used == 6);
    CHECK(r.central_class == SS_TOK_START);
    ss_frames_result_free(&r);
    drop(&f);
    /* learned absolute positions: even one id at every position keeps its positional cue (p_1 differs), a sink can
     * form, and the prompts are classified: the first position takes every head -> centralized */
    f = (family){.N = 6, .L = 4, .H = 2, .T = 16, .causal = 1, .repeated = 1, .absolute = 1};
    build(&f, pick_first);
    r = run(&f, &p);
    CHECK_STREQ(ss_frame_name(r.label), "centralized");
    CHECK(r.n_repeated == 0 && r.n_repeated_kept == 6 && r.n_used == 6);
    CHECK(r.central_class == SS_TOK_FIRST && r.shares[0 * SS_TOK_N_CLASSES + SS_TOK_FIRST] == 1.0);
    ss_frames_result_free(&r);
    drop(&f);
    /* an encoder with learned positions on [CLS] x..x [SEP] (MiniLM native): classified, not none */
    f = (family){.N = 6, .L = 6, .H = 5, .T = 16, .causal = 0, .bos = 1, .sep = 1, .repeated = 1, .absolute = 1};
    build(&f, pick_bidir);
    r = run(&f, &p);
    CHECK(r.label != SS_FRAME_NONE && r.n_repeated == 0 && r.n_used == 6);
    ss_frames_result_free(&r);
    drop(&f);
    /* a mix: repeated prompts left out, the natural ones (same family without repetition) are not */
    f = (family){.N = 4, .L = 4, .H = 2, .T = 16, .causal = 1, .repeated = 1};
    build(&f, pick_first);
    for (int q = 0; q < 2; q++) f.tok[(size_t)q * TMAX + 3] = 777; /* prompts 0 and 1 are no longer repeated */
    r = run(&f, &p);
    CHECK(r.n_repeated == 2 && r.n_repeated_kept == 0 && r.n_used == 2);
    ss_frames_result_free(&r);
    drop(&f);
    /* no head has a top key (too short for the alpha convention) */
    f = (family){.N = 5, .L = 4, .H = 2, .T = 3, .causal = 1, .bos = 1};
    build(&f, pick_none);
    r = run(&f, &p);
    CHECK_STREQ(ss_frame_name(r.label), "none");
    CHECK(strstr(r.none_reason, "no head has a top key") != NULL);
    ss_frames_result_free(&r);
    drop(&f);
}

static void test_borderline_and_seed(void)
{
    family f = {.N = 20, .L = 6, .H = 10, .T = 24, .causal = 1, .bos = 1};
    build(&f, pick_border);
    ss_frames_params p = defaults();
    p.seed = 7;
    ss_frames_result r = run(&f, &p);
    CHECK_STREQ(ss_frame_name(r.label), "centralized"); /* share exactly theta_c: >= holds */
    CHECK_NEAR(r.margins[3 * 3 + SS_FRAME_MARGIN_CENTRALIZED], 0.0, 1e-12);
    CHECK_MSG(r.confidence > 0.2 && r.confidence < 0.9, "borderline confidence %g", r.confidence);
    printf("borderline family: confidence %.3f\n", r.confidence);
    /* the same seed gives the same result, to the bit */
    ss_frames_result r2 = run(&f, &p);
    CHECK(r2.confidence == r.confidence && r2.label == r.label);
    CHECK(memcmp(r.shares, r2.shares, (size_t)f.L * SS_TOK_N_CLASSES * sizeof *r.shares) == 0);
    CHECK(memcmp(r.labels, r2.labels, (size_t)f.L * sizeof *r.labels) == 0);
    ss_frames_result_free(&r2);
    /* no bootstrap: no confidence, the same label */
    p.bootstrap = 0;
    r2 = run(&f, &p);
    CHECK(isnan(r2.confidence) && r2.label == r.label);
    ss_frames_result_free(&r2);
    /* a lower theta_c moves the family off the border: every resample agrees */
    p.bootstrap = 200;
    p.theta_c = 0.8;
    r2 = run(&f, &p);
    CHECK_NEAR(r2.confidence, 1.0, 0);
    CHECK_NEAR(r2.margins[0 * 3 + SS_FRAME_MARGIN_CENTRALIZED], 0.1, 1e-12);
    ss_frames_result_free(&r2);
    ss_frames_result_free(&r);
    drop(&f);
}

static void test_skip_layers(void)
{
    family f = {.N = 20, .L = 10, .H = 4, .T = 24, .causal = 1, .bos = 1};
    build(&f, pick_late);
    ss_frames_params p = defaults(); /* skip_layers 2 */
    ss_frames_result r = run(&f, &p);
    CHECK_STREQ(ss_frame_name(r.label), "centralized");
    CHECK_NEAR(r.central_fraction, 1.0, 1e-12);
    CHECK(r.labels[0] == SS_FRAME_DISTRIBUTED && r.labels[1] == SS_FRAME_DISTRIBUTED);
    CHECK(r.labels[2] == SS_FRAME_CENTRALIZED);
    CHECK(r.counted[0] == 0 && r.counted[1] == 0 && r.counted[2] == 1);
    ss_frames_result_free(&r);
    p.skip_layers = 0; /* 8 of 10 layers: 0.8 < phi */
    r = run(&f, &p);
    CHECK_STREQ(ss_frame_name(r.label), "mixed");
    CHECK_NEAR(r.central_fraction, 0.8, 1e-12);
    CHECK_NEAR(r.margin_centralized, -0.1, 1e-12);
    CHECK_NEAR(r.distributed_fraction, 0.2, 1e-12);
    ss_frames_result_free(&r);
    p.phi = 0.8; /* a looser phi accepts it */
    r = run(&f, &p);
    CHECK_STREQ(ss_frame_name(r.label), "centralized");
    ss_frames_result_free(&r);
    p = defaults();
    p.skip_layers = 10; /* as many as the layers: none is skipped */
    r = run(&f, &p);
    CHECK(r.skip_effective == 0);
    CHECK_STREQ(ss_frame_name(r.label), "mixed");
    ss_frames_result_free(&r);
    drop(&f);
}

static void test_yaml(void)
{
    ss_frames_params p;
    ss_diags d = {0};
    int present = -1;
    const char *t1 = "name: x\nfoo: [1, 2]\n";
    CHECK(ss_sweep_parse_frames(t1, strlen(t1), "t1", &p, &present, &d) == SS_OK);
    CHECK(present == 0 && p.theta_c == 0.9 && p.phi == 0.9 && p.theta_b == 0.5 && p.theta_d == 0.5);
    CHECK(p.skip_layers == 2 && p.bootstrap == 200 && p.seed == 0);
    const char *t2 = "name: x\nframes:\n  theta_c: 0.85\n  phi: 1\n  skip_layers: 0\n  bootstrap: 50\n  seed: 9\n";
    CHECK(ss_sweep_parse_frames(t2, strlen(t2), "t2", &p, &present, &d) == SS_OK);
    CHECK(present == 1 && p.theta_c == 0.85 && p.phi == 1.0 && p.skip_layers == 0 && p.bootstrap == 50 && p.seed == 9);
    CHECK(p.theta_b == 0.5 && p.theta_d == 0.5);
    const char *t3 = "frames:\n  theta_cc: 0.85\n  theta_d: 2\n";
    CHECK(ss_sweep_parse_frames(t3, strlen(t3), "t3", &p, &present, &d) == SS_ERR_INPUT);
    CHECK(d.n == 2);
    if (d.n == 2) {
        CHECK_STREQ(d.items[0].msg, "unknown key 'theta_cc' in frames; did you mean 'theta_c'?");
        CHECK(d.items[0].loc.line == 2 && d.items[0].loc.col == 3);
        CHECK_STREQ(d.items[1].msg, "'theta_d' must be in [0.1, 0.9], got 2");
    }
    ss_diags_free(&d);
    double lo, hi;
    CHECK(ss_frames_param_range("phi", &lo, &hi) == 0 && lo == 0.5 && hi == 1.0);
    CHECK(ss_frames_param_range("nope", &lo, &hi) == -1);
}

int main(void)
{
    test_centralized();
    test_bidirectional();
    test_distributed();
    test_mixed_and_entropy();
    test_none();
    test_borderline_and_seed();
    test_skip_layers();
    test_yaml();
    TEST_END();
}
