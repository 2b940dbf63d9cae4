/* test_train_export.c: ss_tr_export (engine/train/export.h). For each positional encoding (learned, sinusoidal,
 * rope, alibi, none), pre-LN and post-LN, with and without a BOS token: a small seeded random model is exported,
 * loaded back through ss_model_load, run by ss_model_forward, and its last hidden state (and embedding output)
 * compared with an independent double-precision forward pass of export.h's model semantics written here with
 * plain loops (post-LN runs through the sinkscope_post_ln extension of gpt2.c, neox.c and bloom.c). The exported
 * tokenizer must encode UTF-8 text to its bytes (and the BOS string to 256), the config must carry the sizes,
 * special ids and metadata; a combination no loader supports and inconsistent models are refused before
 * anything is written. */
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "model/model.h"
#include "test_util.h" /* CHECK, CHECK_MSG, CHECK_STREQ, TEST_END */
#include "train/export.h"

enum { L = 2, D = 24, H = 3, DH = D / H, DFF = 4 * D, CTX = 16, T = 13 };

static char g_dir[] = "/tmp/ss_test_train_export_XXXXXX";
/* SS_EXPORT_KEEP_DIR=path (by hand, for tests/train/check_export_hf.py): export there, keep the models, and write
 * each one's input ids and engine hidden states beside it as <checkpoint>.engine.json. */
static const char *g_keep;

/* ------------------------------------------------------------------------------------------ random model */

static uint64_t g_rng;
static double urand(void) /* uniform in [0, 1) from a 64-bit LCG (Knuth's MMIX constants) */
{
    g_rng = g_rng * 6364136223846793005ull + 1442695040888963407ull;
    return (double)(g_rng >> 11) / 9007199254740992.0;
}
static float *rnd(size_t n, double lo, double hi)
{
    float *p = malloc(n * sizeof *p);
    if (!p) exit(1);
    for (size_t i = 0; i < n; i++) p[i] = (float)(lo + (hi - lo) * urand());
    return p;
}

typedef struct {
    ss_tr_export_model m;
    ss_tr_export_layer layers[L];
    float *bufs[64];
    int n_bufs;
} tiny;

static float *keep(tiny *t, float *p)
{
    t->bufs[t->n_bufs++] = p;
    return p;
}

static void tiny_init(tiny *t, ss_tr_posenc pe, int post_ln, int bos, uint64_t seed)
{
    memset(t, 0, sizeof *t);
    g_rng = seed;
    ss_tr_export_model *m = &t->m;
    m->n_layers = L;
    m->d_model = D;
    m->n_heads = H;
    m->d_ff = DFF;
    m->n_ctx = CTX;
    m->bos_id = bos ? 256 : -1;
    m->n_vocab = bos ? 257 : 256;
    m->pe = pe;
    m->post_ln = post_ln;
    m->ln_eps = 1e-5f;
    m->wte = keep(t, rnd((size_t)m->n_vocab * D, -1.0, 1.0));
    if (pe == SS_TR_PE_LEARNED) m->wpe = keep(t, rnd((size_t)CTX * D, -0.5, 0.5));
    if (pe == SS_TR_PE_SINUSOIDAL) { /* Vaswani et al.: sin at even columns 2i, cos at 2i+1, 10000^(2i/d) */
        float *w = keep(t, rnd((size_t)CTX * D, 0, 0));
        for (int p = 0; p < CTX; p++)
            for (int i = 0; i < D / 2; i++) {
                double a = p / pow(10000.0, 2.0 * i / D);
                w[p * D + 2 * i] = (float)sin(a);
                w[p * D + 2 * i + 1] = (float)cos(a);
            }
        m->wpe = w;
    }
    if (pe == SS_TR_PE_ALIBI) {
        m->emb_ln_g = keep(t, rnd(D, 0.5, 1.5));
        m->emb_ln_b = keep(t, rnd(D, -0.2, 0.2));
    }
    for (int l = 0; l < L; l++) {
        ss_tr_export_layer *y = &t->layers[l];
        y->ln1_g = keep(t, rnd(D, 0.5, 1.5));
        y->ln1_b = keep(t, rnd(D, -0.2, 0.2));
        y->wq = keep(t, rnd(D * D, -0.5, 0.5));
        y->bq = keep(t, rnd(D, -0.2, 0.2));
        y->wk = keep(t, rnd(D * D, -0.5, 0.5));
        y->bk = keep(t, rnd(D, -0.2, 0.2));
        y->wv = keep(t, rnd(D * D, -0.5, 0.5));
        y->bv = keep(t, rnd(D, -0.2, 0.2));
        y->wo = keep(t, rnd(D * D, -0.3, 0.3));
        y->bo = keep(t, rnd(D, -0.2, 0.2));
        y->ln2_g = keep(t, rnd(D, 0.5, 1.5));
        y->ln2_b = keep(t, rnd(D, -0.2, 0.2));
        y->w_fc = keep(t, rnd((size_t)DFF * D, -0.4, 0.4));
        y->b_fc = keep(t, rnd(DFF, -0.2, 0.2));
        y->w_proj = keep(t, rnd((size_t)D * DFF, -0.2, 0.2));
        y->b_proj = keep(t, rnd(D, -0.2, 0.2));
    }
    if (!post_ln) {
        m->lnf_g = keep(t, rnd(D, 0.5, 1.5));
        m->lnf_b = keep(t, rnd(D, -0.2, 0.2));
    }
    m->layers = t->layers;
}

static void tiny_free(tiny *t)
{
    for (int i = 0; i < t->n_bufs; i++) free(t->bufs[i]);
}

/* ------------------------------------------------------------------------------------------ reference */

static void ln(double *y, const double *x, const float *g, const float *b, double eps) /* one row [D] */
{
    double mu = 0, var = 0;
    for (int i = 0; i < D; i++) mu += x[i];
    mu /= D;
    for (int i = 0; i < D; i++) var += (x[i] - mu) * (x[i] - mu);
    var /= D;
    double r = 1.0 / sqrt(var + eps);
    for (int i = 0; i < D; i++) y[i] = (x[i] - mu) * r * g[i] + b[i];
}

static void linear(double *y, const double *x, const float *w, const float *b, int n_out, int n_in) /* one row */
{
    for (int o = 0; o < n_out; o++) {
        double s = b[o];
        for (int i = 0; i < n_in; i++) s += (double)w[(size_t)o * n_in + i] * x[i];
        y[o] = s;
    }
}

/* BLOOM's ALiBi slopes: n = the largest power of 2 <= H; slopes (2^(-8/n))^k, k = 1..n; the rest
 * (2^(-4/n))^(2j+1), j = 0..H-n-1. */
static void alibi_slopes(double *s)
{
    int n = 1;
    while (2 * n <= H) n *= 2;
    for (int k = 1; k <= n; k++) s[k - 1] = pow(2.0, -8.0 * k / n);
    for (int j = 0; j < H - n; j++) s[n + j] = pow(2.0, -4.0 * (2 * j + 1) / n);
}

static void rope(double *v, int pos) /* one head [DH], rotate_half pairs (i, i + DH/2), θ = 10000 */
{
    for (int i = 0; i < DH / 2; i++) {
        double a = pos * pow(10000.0, -2.0 * i / DH), c = cos(a), s = sin(a);
        double x = v[i], y = v[i + DH / 2];
        v[i] = x * c - y * s;
        v[i + DH / 2] = y * c + x * s;
    }
}

/* out [T][D] = the model's last hidden state; emb [T][D] = the embedding output (hidden[0]). */
static void reference(const ss_tr_export_model *m, const int32_t *ids, double *out, double *emb)
{
    static double x[T][D], a[T][D], q[T][D], k[T][D], v[T][D], ctx[T][D], o[T][D], f[T][DFF];
    double slopes[H];
    alibi_slopes(slopes);
    for (int t = 0; t < T; t++) {
        for (int i = 0; i < D; i++) x[t][i] = m->wte[(size_t)ids[t] * D + i] + (m->wpe ? m->wpe[t * D + i] : 0.0);
        if (m->pe == SS_TR_PE_ALIBI) ln(x[t], x[t], m->emb_ln_g, m->emb_ln_b, m->ln_eps);
    }
    memcpy(emb, x, sizeof x);
    for (int l = 0; l < L; l++) {
        const ss_tr_export_layer *y = &m->layers[l];
        for (int t = 0; t < T; t++) {
            if (m->post_ln)
                memcpy(a[t], x[t], sizeof a[t]);
            else
                ln(a[t], x[t], y->ln1_g, y->ln1_b, m->ln_eps);
            linear(q[t], a[t], y->wq, y->bq, D, D);
            linear(k[t], a[t], y->wk, y->bk, D, D);
            linear(v[t], a[t], y->wv, y->bv, D, D);
            if (m->pe == SS_TR_PE_ROPE)
                for (int h = 0; h < H; h++) {
                    rope(q[t] + h * DH, t);
                    rope(k[t] + h * DH, t);
                }
        }
        for (int h = 0; h < H; h++)
            for (int i = 0; i < T; i++) {
                double s[T], mx = -1e300, z = 0;
                for (int j = 0; j <= i; j++) {
                    double dot = 0;
                    for (int c = 0; c < DH; c++) dot += q[i][h * DH + c] * k[j][h * DH + c];
                    s[j] = dot / sqrt((double)DH) + (m->pe == SS_TR_PE_ALIBI ? slopes[h] * (j - i) : 0.0);
                    if (s[j] > mx) mx = s[j];
                }
                for (int j = 0; j <= i; j++) z += (s[j] = exp(s[j] - mx));
                for (int c = 0; c < DH; c++) {
                    double acc = 0;
                    for (int j = 0; j <= i; j++) acc += s[j] / z * v[j][h * DH + c];
                    ctx[i][h * DH + c] = acc;
                }
            }
        for (int t = 0; t < T; t++) {
            linear(o[t], ctx[t], y->wo, y->bo, D, D);
            for (int i = 0; i < D; i++) x[t][i] += o[t][i];
            if (m->post_ln) ln(x[t], x[t], y->ln1_g, y->ln1_b, m->ln_eps);
            if (m->post_ln)
                memcpy(a[t], x[t], sizeof a[t]);
            else
                ln(a[t], x[t], y->ln2_g, y->ln2_b, m->ln_eps);
            linear(f[t], a[t], y->w_fc, y->b_fc, DFF, D);
            for (int i = 0; i < DFF; i++) {
                double u = f[t][i];
                f[t][i] = 0.5 * u * (1.0 + tanh(sqrt(2.0 / 3.14159265358979323846) * (u + 0.044715 * u * u * u)));
            }
            linear(o[t], f[t], y->w_proj, y->b_proj, D, DFF);
            for (int i = 0; i < D; i++) x[t][i] += o[t][i];
            if (m->post_ln) ln(x[t], x[t], y->ln2_g, y->ln2_b, m->ln_eps);
        }
    }
    for (int t = 0; t < T; t++)
        if (m->post_ln)
            memcpy(out + t * D, x[t], sizeof x[t]);
        else
            ln(out + t * D, x[t], m->lnf_g, m->lnf_b, m->ln_eps);
}

/* ------------------------------------------------------------------------------------------ checks */

static int has_tmp_files(const char *dir)
{
    static const char *names[] = {"config.json.tmp", "tokenizer.json.tmp", "model.safetensors.tmp"};
    char p[640];
    struct stat sb;
    for (int i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%.600s/%s", dir, names[i]);
        if (stat(p, &sb) == 0) return 1;
    }
    return 0;
}

static void check_tokenizer(const ss_model *model, int bos)
{
    const ss_tokenizer *tok = ss_model_tokenizer(model);
    CHECK(tok != NULL);
    if (!tok) return;
    CHECK(ss_tokenizer_vocab_size(tok) == (bos ? 257 : 256));
    /* ASCII 1..127, then non-ASCII UTF-8 (2, 3 and 4 bytes): the ids are the bytes */
    char text[256];
    int n = 0;
    for (int c = 1; c < 128; c++) text[n++] = (char)c;
    const char *utf8 = "é€😀 ☃ñ";
    memcpy(text + n, utf8, strlen(utf8) + 1);
    int32_t *ids = NULL;
    int n_ids = 0;
    CHECK(ss_tokenizer_encode(tok, text, &ids, &n_ids) == SS_OK);
    CHECK_MSG(n_ids == (int)strlen(text), "%d ids for %zu bytes", n_ids, strlen(text));
    for (int i = 0; ids && i < n_ids && i < (int)strlen(text); i++)
        CHECK_MSG(ids[i] == (unsigned char)text[i], "id %d = %d, byte 0x%02x", i, ids[i], (unsigned char)text[i]);
    free(ids);
    /* the BOS string: one token 256 with a BOS, its 13 bytes without */
    CHECK(ss_tokenizer_encode(tok, "a<|endoftext|>b", &ids, &n_ids) == SS_OK);
    if (bos) {
        CHECK(n_ids == 3 && ids[0] == 'a' && ids[1] == 256 && ids[2] == 'b');
        CHECK(ss_tokenizer_is_special(tok, 256));
        CHECK(ss_tokenizer_id(tok, "<|endoftext|>") == 256);
    } else {
        CHECK(n_ids == 15 && ids[1] == '<' && ids[13] == '>');
    }
    free(ids);
}

static void check_config(const char *dir, const ss_tr_export_model *m)
{
    char p[640];
    snprintf(p, sizeof p, "%.600s/config.json", dir);
    json_error_t jerr;
    json_t *c = json_load_file(p, 0, &jerr);
    CHECK(c != NULL);
    json_t *meta = json_object_get(c, "sinkscope_train");
    CHECK(json_integer_value(json_object_get(meta, "step")) == 42);
    CHECK_STREQ(json_string_value(json_object_get(c, "sinkscope_positional_encoding")), ss_tr_posenc_name(m->pe));
    json_t *bos = json_object_get(c, "bos_token_id");
    CHECK(m->bos_id >= 0 ? json_integer_value(bos) == 256 : json_is_null(bos));
    json_decref(c);
}

static void write_engine_json(const char *dir, const int32_t *ids, const ss_capture *cap)
{
    char p[640];
    snprintf(p, sizeof p, "%.600s.engine.json", dir);
    FILE *f = fopen(p, "w");
    CHECK(f != NULL);
    if (!f) return;
    fprintf(f, "{\"ids\": [");
    for (int i = 0; i < T; i++) fprintf(f, "%s%d", i ? ", " : "", ids[i]);
    fprintf(f, "],\n \"hidden\": [");
    for (int l = 0; l <= L; l++)
        for (int i = 0; i < T * D; i++) fprintf(f, "%s%.9g", l || i ? ", " : "", cap->hidden[(size_t)l * T * D + i]);
    fprintf(f, "]}\n");
    fclose(f);
}

static void run_case(ss_tr_posenc pe, int post_ln, int bos)
{
    static const char *arch[] = {"gpt2", "gpt2", "gpt_neox", "bloom", "gpt_neox"};
    /* the engine reports the encoding a checkpoint was trained with (config.json sinkscope_positional_encoding) */
    static const char *pos[] = {"learned", "sinusoidal", "rope", "alibi", "none"};
    char dir[600], label[64];
    snprintf(label, sizeof label, "%.12s%s_%s", ss_tr_posenc_name(pe), post_ln ? "_post" : "", bos ? "bos" : "nobos");
    snprintf(dir, sizeof dir, "%.500s/%s/step_000042", g_keep ? g_keep : g_dir, label);
    tiny t;
    tiny_init(&t, pe, post_ln, bos, 1000u + 10u * (unsigned)pe + 2u * (unsigned)post_ln + (unsigned)bos);
    t.m.metadata_json = "{\"step\": 42, \"seed\": 7, \"loss\": 5.5}";
    ss_status st = ss_tr_export(dir, &t.m);
    CHECK_MSG(st == SS_OK, "%s: %s", dir, ss_errmsg());
    CHECK(!has_tmp_files(dir));
    check_config(dir, &t.m);

    ss_model *model = NULL;
    st = ss_model_load(dir, &model);
    CHECK_MSG(st == SS_OK, "%s: %s", dir, ss_errmsg());
    if (st != SS_OK) {
        tiny_free(&t);
        return;
    }
    const ss_model_info *in = ss_model_get_info(model);
    CHECK_STREQ(in->arch, arch[pe]);
    CHECK_STREQ(in->pos_encoding, pos[pe]);
    CHECK(in->n_layers == L && in->d_model == D && in->n_heads == H && in->d_head == DH && in->d_ff == DFF);
    CHECK(in->n_vocab == t.m.n_vocab && in->max_positions == CTX && in->causal == 1);
    CHECK(in->bos_id == t.m.bos_id && in->eos_id == t.m.bos_id);
    CHECK(in->default_bos == SS_BOS_NONE);
    int32_t pre[2], post[2];
    int n_pre = 0, n_post = 0;
    ss_model_frame(in, SS_BOS_ADD, pre, &n_pre, post, &n_post);
    CHECK(bos ? n_pre == 1 && pre[0] == 256 : n_pre == 0);
    CHECK(n_post == 0);
    check_tokenizer(model, bos);

    int32_t ids[T];
    for (int i = 0; i < T; i++) ids[i] = (int32_t)(urand() * t.m.n_vocab);
    if (bos) ids[0] = 256;
    ss_capture cap = {0};
    st = ss_model_forward(model, ids, T, &cap);
    CHECK_MSG(st == SS_OK, "%s", ss_errmsg());
    if (st == SS_OK) {
        static double want[T * D], emb[T * D];
        reference(&t.m, ids, want, emb);
        const float *got = cap.hidden + (size_t)L * T * D; /* [T][D] hidden[L] */
        double err = 0, err0 = 0, scale = 0;
        for (int i = 0; i < T * D; i++) {
            err = fmax(err, fabs(got[i] - want[i]));
            err0 = fmax(err0, fabs(cap.hidden[i] - emb[i]));
            scale = fmax(scale, fabs(want[i]));
        }
        CHECK_MSG(err < 1e-4 && err0 < 1e-5, "%s: max |engine - reference| %.3g (last), %.3g (embedding)", dir, err,
                  err0);
        CHECK(scale > 0.5); /* the comparison is not of near-zero values */
        printf("%-22s max|diff| last %.2e, embedding %.2e (max |h| %.2f)\n", label, err, err0,
               scale);
        if (g_keep) write_engine_json(dir, ids, &cap);
    }
    ss_capture_free(&cap);
    ss_model_free(model);
    tiny_free(&t);
}

/* Refused before anything is written: the directory is not created. */
static void check_refused(void)
{
    char dir[600];
    snprintf(dir, sizeof dir, "%s/refused", g_dir);
    struct stat sb;
    tiny t;
    tiny_init(&t, SS_TR_PE_ROPE, 1, 0, 5);
    t.m.emb_ln_g = t.m.wte; /* ignored outside alibi */
    t.m.n_ctx = 0;
    CHECK(ss_tr_export(dir, &t.m) == SS_ERR_INPUT);
    tiny_free(&t);
    tiny_init(&t, SS_TR_PE_ALIBI, 0, 0, 5);
    t.m.d_ff = 2 * D;
    CHECK(ss_tr_export(dir, &t.m) == SS_ERR_UNSUPPORTED); /* BLOOM's MLP is 4d */
    t.m.d_ff = DFF;
    t.m.emb_ln_g = NULL;
    CHECK(ss_tr_export(dir, &t.m) == SS_ERR_INPUT);
    tiny_free(&t);
    tiny_init(&t, SS_TR_PE_LEARNED, 0, 1, 5);
    t.m.metadata_json = "[1, 2]";
    CHECK(ss_tr_export(dir, &t.m) == SS_ERR_INPUT);
    t.m.metadata_json = "{\"step\": ";
    CHECK(ss_tr_export(dir, &t.m) == SS_ERR_INPUT);
    t.m.metadata_json = NULL;
    t.m.n_vocab = 256; /* with a BOS the vocabulary is 257 */
    CHECK(ss_tr_export(dir, &t.m) == SS_ERR_INPUT);
    t.m.n_vocab = 257;
    t.m.n_heads = 5; /* 24 is not a multiple of 5 */
    CHECK(ss_tr_export(dir, &t.m) == SS_ERR_INPUT);
    t.m.n_heads = H;
    t.m.lnf_g = NULL;
    CHECK(ss_tr_export(dir, &t.m) == SS_ERR_INPUT);
    tiny_free(&t);
    CHECK(stat(dir, &sb) != 0);
}

int main(void)
{
    if (!mkdtemp(g_dir)) {
        perror("mkdtemp");
        return 1;
    }
    g_keep = getenv("SS_EXPORT_KEEP_DIR");
    for (int bos = 0; bos < 2; bos++) {
        for (int post_ln = 0; post_ln < 2; post_ln++)
            for (int pe = SS_TR_PE_LEARNED; pe <= SS_TR_PE_NONE; pe++) run_case((ss_tr_posenc)pe, post_ln, bos);
    }
    check_refused();
    /* keep the directories for inspection only on failure */
    if (!g_test_failures) {
        char cmd[700];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
        if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", g_dir);
    } else {
        fprintf(stderr, "exported models kept in %s\n", g_dir);
    }
    TEST_END();
}
