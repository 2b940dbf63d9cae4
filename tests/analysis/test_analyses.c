/* test_analyses.c: every registered analysis, through its declare/compute interface, on hand-built captures
 * whose answers follow from the definitions. The kernels have their own tests (test_graph, test_spectral, ...)
 * and a numpy parity test; this one checks the wiring: which matrix each analysis reads, which layer, which
 * head, how it fills its datasets, and that it survives the edge cases.
 *
 * Families (L = 2 layers, H = 2 heads, T = 6 tokens unless said otherwise; every head of a layer alike):
 *   star     every query attends to key 0 only (causal: row i = e_0). Sink_1^eps = 100%, every top key 0,
 *            reference set {0}, in-degree of key 0 = T-1 (the diagonal excluded): S_b = 1, Gini = (T-1)/T,
 *            centralisation 1; rows one-hot: entropy 0; identical heads: KL 0.
 *   uniform  bidirectional, A_ij = 1/T. No key above eps = 0.3: Sink_1 = 0; entropy ln T; every column the
 *            same: the top key is 0 (ties go to the lowest index).
 *   identity every query attends to itself: causal alpha_j = 1/(T-j): alpha_0 = 1/T; entropy 0.
 *   causal uniform  row i uniform over keys 0..i: alpha_0 = (1/T) Σ_i 1/(i+1) (the harmonic mean H_T / T),
 *            row entropy ln(i+1), mean over rows (1/T) Σ ln(i+1).
 *   two anchors  bidirectional, each row splits 0.5/0.5 between keys 0 and T-1: both have alpha 0.5 > 0.1 = tau,
 *            the reference set is {0, T-1} when the cap floor(0.3 T) allows two (T = 10), {0} when it is 1
 *            (T = 6: the tie goes to the lower position); raw top key 0.
 *   block diagonal  bidirectional, two blocks of T/2 with uniform attention inside: the symmetrised graph at
 *            tau below 1/(T/2) has two components: Fiedler value 0.
 * Edge cases: T = 1 (every analysis must run and leave NaN where a statistic needs two tokens); a NaN, a negative
 * entry and a row that does not sum to 1 are rejected by ss_capture_validate with the layer, head and row. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "analysis.h"
#include "test_util.h"

enum { L = 2, H = 2, DH = 4, D = H * DH };

typedef struct {
    ss_capture c;
    float *buf; /* everything, one block */
    int32_t win[L];
    uint8_t cls[64];
    int32_t tokens[64];
    const float *w_o[L];
} fixture;

static float g_wo[D * D]; /* identity W_O [d][H·d_h] */

/* A capture of T tokens with attention rows from fill(i, j) (then the rows as given), hidden states that
 * differ per token, and q/k/v from a fixed pattern. */
static void make(fixture *f, int T, int causal, float (*fill)(int i, int j, int T))
{
    memset(f, 0, sizeof *f);
    const size_t att = (size_t)L * H * T * T, hid = (size_t)(L + 1) * T * D, qk = (size_t)L * H * T * DH;
    f->buf = calloc(att + hid + (size_t)T * D + 5 * qk + (size_t)L * T * D, sizeof(float));
    if (!f->buf) abort();
    ss_capture *c = &f->c;
    c->n_layers = L;
    c->n_heads = H;
    c->n_kv_heads = H;
    c->n_tokens = T;
    c->d_model = D;
    c->d_head = DH;
    c->causal = causal;
    float *p = f->buf;
    c->attn = p;
    p += att;
    c->hidden = p;
    p += hid;
    c->hidden_prenorm = p;
    p += (size_t)T * D;
    c->q_pre = p;
    c->q = p + qk;
    c->k_pre = p + 2 * qk;
    c->k = p + 3 * qk;
    c->v = p + 4 * qk;
    p += 5 * qk;
    c->attn_out = p;
    for (int l = 0; l < L; l++)
        for (int h = 0; h < H; h++)
            for (int i = 0; i < T; i++)
                for (int j = 0; j < T; j++) c->attn[(((size_t)l * H + h) * T + i) * T + j] = fill(i, j, T);
    for (size_t e = 0; e < hid; e++) c->hidden[e] = (float)sin(0.7 * (double)e + 0.3) + (e % D == 0 ? 2.0f : 0.0f);
    for (size_t e = 0; e < (size_t)T * D; e++) c->hidden_prenorm[e] = c->hidden[(size_t)L * T * D + e];
    for (size_t e = 0; e < qk; e++) {
        c->q[e] = c->q_pre[e] = (float)cos(0.37 * (double)e);
        c->k[e] = c->k_pre[e] = (float)sin(0.23 * (double)e + 1.0);
        c->v[e] = (float)cos(0.11 * (double)e + 2.0);
    }
    for (int i = 0; i < D * D; i++) g_wo[i] = (i / D == i % D) ? 1.0f : 0.0f;
    for (int l = 0; l < L; l++) f->w_o[l] = g_wo;
    c->w_o = f->w_o;
    c->window = f->win;
    for (int t = 0; t < T; t++) {
        f->cls[t] = t == 0 ? SS_TOK_START : SS_TOK_CONTENT;
        f->tokens[t] = 100 + t;
    }
    c->token_class = f->cls;
    c->tokens = f->tokens;
}

static float f_star(int i, int j, int T) { (void)i, (void)T; return j == 0 ? 1.0f : 0.0f; }
static float f_uniform(int i, int j, int T) { (void)i, (void)j; return 1.0f / (float)T; }
static float f_identity(int i, int j, int T) { (void)T; return i == j ? 1.0f : 0.0f; }
static float f_causal_uniform(int i, int j, int T) { (void)T; return j <= i ? 1.0f / (float)(i + 1) : 0.0f; }
static float f_two(int i, int j, int T) { (void)i; return j == 0 || j == T - 1 ? 0.5f : 0.0f; }
static float f_blocks(int i, int j, int T) { return (i < T / 2) == (j < T / 2) ? 2.0f / (float)T : 0.0f; }

/* Runs analysis `type` (default parameters, from a one-line sweep) on the capture; returns the buffers
 * (caller frees with free_bufs) and the declarations. */
typedef struct {
    ss_dataset_decl decl[SS_MAX_DATASETS];
    void *bufs[SS_MAX_DATASETS];
    int n;
} outputs;

static ss_sweep *g_sweep;

static const ss_analysis_spec *spec_of(const char *type)
{
    for (int a = 0; a < g_sweep->n_analyses; a++)
        if (!strcmp(g_sweep->analyses[a].type, type)) return &g_sweep->analyses[a];
    return NULL;
}

static int run(const char *type, const ss_capture *c, outputs *o)
{
    const ss_analysis_type *t = ss_analysis_find(type);
    const ss_analysis_spec *sp = spec_of(type);
    const ss_model_dims dims = {c->n_layers, c->n_heads, c->n_tokens, c->causal};
    memset(o, 0, sizeof *o);
    if (!t || !sp || t->declare(sp, &dims, o->decl, &o->n) != SS_OK) return 0;
    for (int k = 0; k < o->n; k++) {
        const size_t ne = ss_dataset_elems(&o->decl[k]);
        o->bufs[k] = malloc(ne * 4 + 4);
        if (!o->bufs[k]) abort();
        for (size_t e = 0; e < ne; e++) {
            if (o->decl[k].dtype == SS_DT_F32) ((float *)o->bufs[k])[e] = NAN;
            else ((int32_t *)o->bufs[k])[e] = -1;
        }
    }
    const ss_status st = t->compute(sp, &dims, c, o->bufs);
    CHECK_MSG(st == SS_OK, "%s: %s", type, ss_errmsg());
    return st == SS_OK;
}

static void free_out(outputs *o)
{
    for (int k = 0; k < o->n; k++) free(o->bufs[k]);
}

static const float *fds(const outputs *o, const char *name)
{
    for (int k = 0; k < o->n; k++)
        if (!strcmp(o->decl[k].name, name)) return o->bufs[k];
    fprintf(stderr, "no dataset %s\n", name);
    abort();
}

static const int32_t *ids(const outputs *o, const char *name) { return (const int32_t *)(const void *)fds(o, name); }

static void test_star(void)
{
    const int T = 6;
    fixture f;
    make(&f, T, 1, f_star);
    const ss_model_dims dims = {L, H, T, 1};
    CHECK(ss_capture_validate(&f.c, &dims) == SS_OK);
    outputs o;
    if (run("sink_rate", &f.c, &o)) {
        CHECK_NEAR(fds(&o, "sink_rate")[0], 100.0, 1e-4); /* Sink_1^0.3 */
        CHECK_NEAR(fds(&o, "sink_rate")[1], 0.0, 0);      /* key 1 gets nothing */
    }
    free_out(&o);
    if (run("top_keys", &f.c, &o))
        for (int e = 0; e < L * H; e++) {
            CHECK(ids(&o, "top_key")[e] == 0 && ids(&o, "top_key_alpha")[e] == 0);
            CHECK(ids(&o, "top_class_alpha")[e] == SS_TOK_START);
        }
    free_out(&o);
    if (run("reference_tokens", &f.c, &o))
        for (int l = 0; l < L; l++) {
            CHECK(ids(&o, "ref_count")[l] == 1 && ids(&o, "ref_count_raw")[l] == 1);
            CHECK(ids(&o, "ref_set")[l * (int)o.decl[2].dims[1]] == 0);
        }
    free_out(&o);
    if (run("attention_graph", &f.c, &o)) {
        const int n_tau = (int)o.decl[0].dims[2];
        for (int e = 0; e < L * H; e++) {
            CHECK_NEAR(fds(&o, "star_basic")[e * n_tau], 1.0, 1e-6);
            CHECK_NEAR(fds(&o, "gini")[e * n_tau], (T - 1.0) / T, 1e-6);
            CHECK_NEAR(fds(&o, "centralisation")[e * n_tau], 1.0, 1e-6);
        }
    }
    free_out(&o);
    if (run("attention_geometry", &f.c, &o))
        for (int e = 0; e < L * H; e++) CHECK_NEAR(fds(&o, "entropy")[e], 0.0, 1e-7);
    free_out(&o);
    if (run("head_kl", &f.c, &o))
        for (int e = 0; e < L * H; e++) CHECK_NEAR(fds(&o, "kl")[e], 0.0, 1e-9);
    free_out(&o);
    if (run("reference_influence", &f.c, &o))
        for (int l = 0; l < L; l++) { /* every output comes from key 0, which is R */
            CHECK_NEAR(fds(&o, "rm")[l], 1.0, 1e-6);
            CHECK_NEAR(fds(&o, "di")[l], 1.0, 1e-6);
            CHECK(ids(&o, "n_entered")[l] == T - 1);
        }
    free_out(&o);
    free(f.buf);
}

static void test_uniform_and_identity(void)
{
    const int T = 6;
    fixture f;
    outputs o;
    make(&f, T, 0, f_uniform);
    if (run("sink_rate", &f.c, &o)) CHECK_NEAR(fds(&o, "sink_rate")[0], 0.0, 0);
    free_out(&o);
    if (run("attention_geometry", &f.c, &o))
        for (int e = 0; e < L * H; e++) CHECK_NEAR(fds(&o, "entropy")[e], log((double)T), 1e-6);
    free_out(&o);
    if (run("top_keys", &f.c, &o)) CHECK(ids(&o, "top_key")[0] == 0);
    free_out(&o);
    if (run("spectral", &f.c, &o)) { /* a rank-1 matrix: stable rank 1, eigenvalues (1, 0, ...) */
        CHECK_NEAR(fds(&o, "stable_rank")[0], 1.0, 1e-6);
        CHECK_NEAR(fds(&o, "sigma1")[0], 1.0, 1e-6);
    }
    free_out(&o);
    free(f.buf);

    make(&f, T, 1, f_identity);
    if (run("sink_rate", &f.c, &o)) {
        CHECK_NEAR(fds(&o, "alpha")[0], 1.0 / T, 1e-7); /* alpha_0 = A_00 / T */
        CHECK_NEAR(fds(&o, "sink_rate")[T - 1], 100.0, 1e-4); /* the last key: alpha = A_{T-1,T-1} = 1 */
    }
    free_out(&o);
    if (run("spectral", &f.c, &o)) {
        CHECK_NEAR(fds(&o, "stable_rank")[0], (double)T, 1e-6);
        CHECK(isnan(fds(&o, "eig_gap")[0])); /* causal: no eigenvalue metrics (C3) */
    }
    free_out(&o);
    free(f.buf);
}

static void test_causal_uniform_two_anchors_blocks(void)
{
    const int T = 6;
    fixture f;
    outputs o;
    make(&f, T, 1, f_causal_uniform);
    double harm = 0.0, ent = 0.0;
    for (int i = 0; i < T; i++) {
        harm += 1.0 / (i + 1);
        ent += log(i + 1.0);
    }
    if (run("sink_rate", &f.c, &o)) CHECK_NEAR(fds(&o, "alpha")[0], harm / T, 1e-6);
    free_out(&o);
    if (run("attention_geometry", &f.c, &o)) CHECK_NEAR(fds(&o, "entropy")[0], ent / T, 1e-6);
    free_out(&o);
    free(f.buf);

    make(&f, 10, 0, f_two); /* T = 10: the cap floor(0.3·T) = 3 leaves room for both anchors */
    if (run("reference_tokens", &f.c, &o)) {
        const int Rc = (int)o.decl[2].dims[1];
        CHECK(ids(&o, "ref_count")[0] == 2);
        CHECK(ids(&o, "ref_set")[0] == 0 && Rc >= 2 && ids(&o, "ref_set")[1] == 9);
    }
    free_out(&o);
    free(f.buf);
    make(&f, T, 0, f_two); /* T = 6: the cap is 1, the tie goes to the lower position */
    if (run("reference_tokens", &f.c, &o)) CHECK(ids(&o, "ref_count")[0] == 1 && ids(&o, "ref_set")[0] == 0);
    free_out(&o);
    if (run("top_keys", &f.c, &o)) CHECK(ids(&o, "top_key")[0] == 0);
    free_out(&o);
    free(f.buf);

    make(&f, T, 0, f_blocks);
    if (run("attention_graph", &f.c, &o)) {
        const int n_tau = (int)o.decl[0].dims[2];
        /* tau = 0.2 (the grid's last) < 1/3: two complete blocks of 3 without self-loops, 2·3·2 = 12 edges of 36:
         * effective, and disconnected */
        CHECK_NEAR(fds(&o, "fiedler")[n_tau - 1], 0.0, 1e-9);
        CHECK_NEAR(fds(&o, "density_mean_head")[n_tau - 1], 12.0 / 36.0, 1e-7);
    }
    free_out(&o);
    if (run("topology", &f.c, &o)) {
        /* distance 1 − 1/3 inside a block, 1 across: the 6 points merge by 4 edges at 2/3 and one at 1, so
         * the finite dim-0 bars total 4·(2/3) + 1; every triangle fills at once: no dim-1 bar */
        CHECK_NEAR(fds(&o, "total0")[0], 4.0 * (2.0 / 3.0) + 1.0, 1e-6);
        CHECK(ids(&o, "betti0")[0] == 6 && ids(&o, "betti1")[0] == 0);
    }
    free_out(&o);
    free(f.buf);
}

/* T = 1: nothing to correlate, nothing to rank; every analysis must run. */
static void test_one_token(void)
{
    fixture f;
    outputs o;
    for (int causal = 0; causal <= 1; causal++) {
        make(&f, 1, causal, f_star);
        const ss_analysis_type *const *all = ss_analysis_all();
        for (int a = 0; all[a]; a++) {
            if (!strcmp(all[a]->type, "fisher")) continue; /* needs the model's weights: test_fisher */
            CHECK_MSG(run(all[a]->type, &f.c, &o), "%s fails on one token", all[a]->type);
            free_out(&o);
        }
        if (run("sink_rate", &f.c, &o)) CHECK_NEAR(fds(&o, "sink_rate")[0], 100.0, 1e-4); /* alpha_0 = 1 */
        free_out(&o);
        if (run("attention_geometry", &f.c, &o)) CHECK(isnan(fds(&o, "alignment")[0]));
        free_out(&o);
        free(f.buf);
    }
}

static void test_rejected(void)
{
    const int T = 5;
    fixture f;
    const ss_model_dims dims = {L, H, T, 1};
    make(&f, T, 1, f_causal_uniform);
    CHECK(ss_capture_validate(&f.c, &dims) == SS_OK);
    f.c.attn[((size_t)1 * H + 1) * T * T + 3 * T + 1] = NAN; /* layer 1, head 1, query 3 */
    CHECK(ss_capture_validate(&f.c, &dims) == SS_ERR_RANGE && strstr(ss_errmsg(), "layer 1 head 1 (query 3"));
    f.c.attn[((size_t)1 * H + 1) * T * T + 3 * T + 1] = 0.25f;
    CHECK(ss_capture_validate(&f.c, &dims) == SS_OK);
    f.c.attn[2 * T + 0] = 0.5f; /* layer 0 head 0 row 2: 0.5 + 1/3 + 1/3 */
    CHECK(ss_capture_validate(&f.c, &dims) == SS_ERR_RANGE && strstr(ss_errmsg(), "row 2 of layer 0 head 0 sums to"));
    f.c.attn[2 * T + 0] = -1.0f / 3.0f; /* sums to 1/3 but negative: rejected for the sign first */
    CHECK(ss_capture_validate(&f.c, &dims) == SS_ERR_RANGE && strstr(ss_errmsg(), "negative"));
    free(f.buf);
    const ss_model_dims small = {L, H, T - 1, 1};
    make(&f, T, 1, f_causal_uniform);
    CHECK(ss_capture_validate(&f.c, &small) == SS_ERR_FORMAT); /* longer than the file's layout */
    free(f.buf);
}

int main(void)
{
    /* every registered analysis with its defaults, through the sweep parser (model path: this test's source
     * directory exists; it is never opened) */
    const char *src = getenv("SS_SOURCE_DIR");
    if (!src) SKIP("SS_SOURCE_DIR is not set (CTest sets it)");
    char yaml[4096];
    int o = snprintf(yaml, sizeof yaml,
                     "name: t\ngrid:\n  model: [{name: m, path: '%s/tests/fixtures/tiny/llama'}]\n  prompts: [{name: r, "
                     "generator: random, count: 1, length: 8}]\n  encoding: [native]\nanalyses:\n",
                     src);
    const ss_analysis_type *const *all = ss_analysis_all();
    for (int a = 0; all[a]; a++) o += snprintf(yaml + o, sizeof yaml - (size_t)o, "  - {name: a%d, type: %s}\n", a, all[a]->type);
    ss_diags diags = {0};
    if (ss_sweep_parse(yaml, strlen(yaml), "t.yaml", &g_sweep, &diags) != SS_OK) {
        ss_diags_print(&diags, "t.yaml", stderr);
        return 1;
    }
    test_star();
    test_uniform_and_identity();
    test_causal_uniform_two_anchors_blocks();
    test_one_token();
    test_rejected();
    ss_sweep_free(g_sweep);
    ss_diags_free(&diags);
    TEST_END();
}
