/* test_train_run.c: `sinkscope train` end to end through the library (engine/train/trainer.h), on the built-in
 * natural-text set (experiments/data/natural.txt: the first 40000 bytes for training, the rest held out):
 *   1. the loss falls: after 200 updates the held-out loss, recomputed here from the last checkpoint's weights,
 *      is clearly below the unigram byte entropy of the training text (computed here from byte counts);
 *   2. determinism: two runs of one config give bitwise identical weights and AdamW moments; a run stopped
 *      after update 21 and resumed from its last checkpoint (step 16) ends bitwise equal to the uninterrupted
 *      one, and its loss.csv holds each step once; a run directory of another config is refused;
 *   3. every checkpoint reloads through ss_model_load, and ss_model_forward's final hidden state times wteᵀ
 *      equals the trainer's logits (relative 1e-4), for the five encodings, pre- and post-LN.
 * Skips (77) when the text is missing. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "capture.h"
#include "model/model.h"
#include "model/safetensors.h"
#include "test_util.h"
#include "train/checkpoint.h"
#include "train/config.h"
#include "train/trainer.h"

static char g_dir[512];

static void write_file(const char *path, const unsigned char *b, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(b, 1, n, f) != n) SKIP("cannot write %s", path);
    fclose(f);
}

static unsigned char *read_all(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc((size_t)sz + 1);
    *n = fread(b, 1, (size_t)sz, f);
    fclose(f);
    return b;
}

/* Parses a config whose data paths are relative to g_dir. */
static int load_cfg(const char *text, ss_tr_config *cfg)
{
    char file[600];
    snprintf(file, sizeof file, "%s/cfg.yaml", g_dir);
    ss_diags d = {0};
    ss_status st = ss_tr_config_parse(text, strlen(text), file, cfg, &d);
    if (st != SS_OK) ss_diags_print(&d, file, stderr);
    ss_diags_free(&d);
    CHECK_MSG(st == SS_OK, "config: %s", ss_errmsg());
    return st == SS_OK;
}

static ss_status train(const ss_tr_config *cfg, const char *sub, int resume, uint64_t stop_at)
{
    char out[600];
    snprintf(out, sizeof out, "%s/%s", g_dir, sub);
    ss_tr_run_opts o = {.out_dir = out, .resume = resume, .stop_at = stop_at};
    return ss_tr_train(cfg, &o);
}

/* The trainer state of OUT/step_k: params, m, v [n] (malloc'd, concatenated) and the counters. */
static float *state_of(const char *sub, uint64_t k, const ss_tr_layout *L, ss_tr_counters *c)
{
    char out[600];
    snprintf(out, sizeof out, "%s/%s", g_dir, sub);
    char *dir = ss_tr_ckpt_dir(out, k);
    float *s = malloc(3 * L->n_params * sizeof *s);
    ss_status st = ss_tr_ckpt_read(dir, L, s, s + L->n_params, s + 2 * L->n_params, c);
    CHECK_MSG(st == SS_OK, "%s: %s", dir, ss_errmsg());
    free(dir);
    if (st != SS_OK) {
        free(s);
        return NULL;
    }
    return s;
}

/* ------------------------------------------------------------------------------------ 1. the loss falls */

static void test_loss_falls(const unsigned char *train_b, size_t n_train, const unsigned char *ho, size_t n_ho)
{
    /* unigram entropy of the training bytes, and the cross-entropy of the held-out bytes under it (nats) */
    double cnt[256] = {0};
    for (size_t i = 0; i < n_train; i++) cnt[train_b[i]]++;
    double H = 0.0;
    for (int b = 0; b < 256; b++)
        if (cnt[b] > 0) H -= cnt[b] / n_train * log(cnt[b] / n_train);
    ss_tr_config cfg;
    if (!load_cfg("model: {n_layers: 2, d_model: 64, n_heads: 4, n_ctx: 64}\n"
                  "data: {train: train.txt, heldout: heldout.txt, eval_windows: 8}\n"
                  "train: {steps: 200, batch_size: 8, lr: 3.0e-3, warmup: 20, seed: 7}\n",
                  &cfg))
        return;
    ss_status st = train(&cfg, "falls", 0, 0);
    CHECK_MSG(st == SS_OK, "%s", ss_errmsg());
    ss_tr_layout L;
    CHECK(ss_tr_layout_init(&L, &cfg.arch) == SS_OK);
    ss_tr_counters c;
    float *s = st == SS_OK ? state_of("falls", 200, &L, &c) : NULL;
    if (s) {
        /* the held-out loss over 32 evenly spaced windows of the held-out text, recomputed here */
        enum { NW = 32, T = 64 };
        int32_t ids[NW * T], tg[NW * T];
        for (int w = 0; w < NW; w++) {
            size_t start = (size_t)w * (n_ho - T - 1) / (NW - 1);
            for (int t = 0; t < T; t++) ids[w * T + t] = ho[start + t], tg[w * T + t] = ho[start + t + 1];
        }
        ss_tr_work_f *wk = NULL;
        CHECK(ss_tr_work_new_f(&L, NW, T, &wk) == SS_OK);
        double loss = ss_tr_forward_f(&L, s, wk, ids, tg, NW, T);
        printf("loss falls: unigram entropy %.3f nats, held-out loss after 200 updates %.3f (init ln 256 = %.3f)\n",
               H, loss, log(256.0));
        CHECK_MSG(loss < H - 0.3, "held-out loss %.3f is not clearly below the unigram entropy %.3f", loss, H);
        CHECK(c.step == 200 && c.windows == 200 * 8);
        ss_tr_work_free_f(wk);
        free(s);
    }
    ss_tr_layout_free(&L);
    ss_tr_config_free(&cfg);
}

/* -------------------------------------------------------------------------------------- 2. determinism */

static void test_determinism(void)
{
    static const char *cfg_text = "model: {n_layers: 2, d_model: 32, n_heads: 4, n_ctx: 32, posenc: rope, bos: true}\n"
                                  "data: {train: train.txt, heldout: heldout.txt, eval_windows: 4}\n"
                                  "train: {steps: 24, batch_size: 4, lr: 2.0e-3, warmup: 4, seed: 11}\n";
    ss_tr_config cfg;
    if (!load_cfg(cfg_text, &cfg)) return;
    CHECK(train(&cfg, "det_a", 0, 0) == SS_OK);
    CHECK(train(&cfg, "det_b", 0, 0) == SS_OK);
    /* stopped after update 21 (checkpoints 0..16 written), then resumed: from step 16 */
    CHECK(train(&cfg, "det_c", 0, 21) == SS_OK);
    char p[700];
    struct stat sb;
    snprintf(p, sizeof p, "%s/det_c/step_000024", g_dir);
    CHECK(stat(p, &sb) != 0); /* the stopped run has not reached the end */
    CHECK(train(&cfg, "det_c", 1, 0) == SS_OK);
    /* resuming a finished run changes nothing and is not an error */
    CHECK(train(&cfg, "det_a", 0, 0) == SS_OK);

    ss_tr_layout L;
    CHECK(ss_tr_layout_init(&L, &cfg.arch) == SS_OK);
    ss_tr_counters ca, cb, cc;
    float *a = state_of("det_a", 24, &L, &ca), *b = state_of("det_b", 24, &L, &cb), *c = state_of("det_c", 24, &L, &cc);
    if (a && b && c) {
        size_t bytes = 3 * L.n_params * sizeof *a;
        CHECK_MSG(memcmp(a, b, bytes) == 0, "two runs of the same config differ");
        CHECK_MSG(memcmp(a, c, bytes) == 0, "the resumed run differs from the uninterrupted one");
        CHECK(ca.step == 24 && cc.step == 24 && ca.data_rng == cc.data_rng && ca.windows == cc.windows);
        CHECK(ca.data_rng == cb.data_rng);
        /* the weights moved: step 24 differs from step 0 */
        ss_tr_counters c0;
        float *z = state_of("det_a", 0, &L, &c0);
        CHECK(z && memcmp(z, a, L.n_params * sizeof *a) != 0 && c0.step == 0);
        free(z);
    }
    /* the exported model files are identical too */
    size_t na = 0, nc = 0;
    snprintf(p, sizeof p, "%s/det_a/step_000024/model.safetensors", g_dir);
    unsigned char *fa = read_all(p, &na);
    snprintf(p, sizeof p, "%s/det_c/step_000024/model.safetensors", g_dir);
    unsigned char *fc = read_all(p, &nc);
    CHECK(fa && fc && na == nc && na > 0 && memcmp(fa, fc, na) == 0);
    free(fa), free(fc);
    /* loss.csv of the resumed run: steps 0..24 once each, in order */
    snprintf(p, sizeof p, "%s/det_c/loss.csv", g_dir);
    size_t nl = 0;
    char *log = (char *)read_all(p, &nl);
    CHECK(log != NULL);
    if (log) {
        log[nl] = '\0';
        int expect = 0, rows = 0;
        for (char *line = strchr(log, '\n'); line && line[1]; line = strchr(line + 1, '\n')) {
            int k = -1;
            CHECK(sscanf(line + 1, "%d,", &k) == 1 && k == expect);
            expect++, rows++;
        }
        CHECK_MSG(rows == 25, "loss.csv has %d rows, expected 25 (steps 0..24)", rows);
        free(log);
    }
    /* another config on the same directory is refused */
    ss_tr_config other;
    if (load_cfg("model: {n_layers: 2, d_model: 32, n_heads: 4, n_ctx: 32, posenc: rope, bos: true}\n"
                 "data: {train: train.txt, heldout: heldout.txt, eval_windows: 4}\n"
                 "train: {steps: 24, batch_size: 4, lr: 2.0e-3, warmup: 4, seed: 12}\n",
                 &other)) {
        CHECK(train(&other, "det_a", 0, 0) == SS_ERR_INPUT);
        CHECK(strstr(ss_errmsg(), "another config") != NULL);
        ss_tr_config_free(&other);
    }
    /* --resume with nothing to resume */
    CHECK(train(&cfg, "det_empty", 1, 0) == SS_ERR_INPUT);
    free(a), free(b), free(c);
    ss_tr_layout_free(&L);
    ss_tr_config_free(&cfg);
}

/* ------------------------------------------------------------------ 3. checkpoints load in the engine */

static void test_reload(const char *posenc, const char *norm)
{
    char text[600], sub[64];
    snprintf(text, sizeof text,
             "model: {n_layers: 2, d_model: 32, n_heads: 4, n_ctx: 24, posenc: %s, norm: %s, bos: true}\n"
             "data: {train: train.txt}\n"
             "train: {steps: 3, batch_size: 2, lr: 1.0e-2, seed: 5}\n",
             posenc, norm);
    snprintf(sub, sizeof sub, "reload_%s_%s", posenc, norm);
    ss_tr_config cfg;
    if (!load_cfg(text, &cfg)) return;
    CHECK_MSG(train(&cfg, sub, 0, 0) == SS_OK, "%s", ss_errmsg());
    ss_tr_layout L;
    CHECK(ss_tr_layout_init(&L, &cfg.arch) == SS_OK);
    ss_tr_counters c;
    float *s = state_of(sub, 3, &L, &c);
    char dir[700];
    snprintf(dir, sizeof dir, "%s/%s/step_000003", g_dir, sub);
    ss_model *model = NULL;
    ss_status st = ss_model_load(dir, &model);
    CHECK_MSG(st == SS_OK, "%s: %s", dir, ss_errmsg());
    if (s && st == SS_OK) {
        enum { T = 24 };
        int d = cfg.arch.d_model, V = cfg.arch.n_vocab;
        int32_t ids[T], tg[T];
        static const char text_in[] = "The engine loads it too.";
        ids[0] = 256;
        for (int t = 1; t < T; t++) ids[t] = (unsigned char)text_in[t - 1];
        for (int t = 0; t < T; t++) tg[t] = t + 1 < T ? ids[t + 1] : -1;
        ss_tr_work_f *wk = NULL;
        CHECK(ss_tr_work_new_f(&L, 1, T, &wk) == SS_OK);
        ss_tr_forward_f(&L, s, wk, ids, tg, 1, T);
        const float *want = ss_tr_logits_f(wk); /* [T][V] */
        ss_capture cap = {0};
        st = ss_model_forward(model, ids, T, &cap);
        CHECK_MSG(st == SS_OK, "%s", ss_errmsg());
        if (st == SS_OK) {
            const float *h = cap.hidden + (size_t)cfg.arch.n_layers * T * d; /* [T][d] the last hidden state */
            const float *wte = s + L.wte;                                  /* [V][d] */
            double err = 0.0, scale = 0.0;
            for (int t = 0; t < T; t++)
                for (int v = 0; v < V; v++) {
                    double z = 0.0;
                    for (int i = 0; i < d; i++) z += (double)h[(size_t)t * d + i] * wte[(size_t)v * d + i];
                    err = fmax(err, fabs(z - want[(size_t)t * V + v]));
                    scale = fmax(scale, fabs(want[(size_t)t * V + v]));
                }
            printf("reload %-10s %s-LN: max |engine logits - trainer logits| %.2e (max |z| %.3f)\n", posenc, norm,
                   err, scale);
            CHECK_MSG(err <= 1e-4 * fmax(scale, 1.0), "%s %s: logits differ by %.3e", posenc, norm, err);
            CHECK(scale > 0.1);
        }
        ss_capture_free(&cap);
        ss_tr_work_free_f(wk);
    }
    ss_model_free(model);
    free(s);
    ss_tr_layout_free(&L);
    ss_tr_config_free(&cfg);
}

int main(void)
{
    const char *src = getenv("SS_SOURCE_DIR");
    char path[600];
    snprintf(path, sizeof path, "%s/experiments/data/natural.txt", src ? src : ".");
    size_t n = 0;
    unsigned char *text = read_all(path, &n);
    if (!text || n < 45000) SKIP("the built-in text %s is missing or short", path);
    const char *base = getenv("SS_BINARY_DIR");
    snprintf(g_dir, sizeof g_dir, "%s/train_run_XXXXXX", base ? base : "/tmp");
    if (!mkdtemp(g_dir)) SKIP("cannot create a work directory under %s", base ? base : "/tmp");
    char p[700];
    snprintf(p, sizeof p, "%s/train.txt", g_dir);
    write_file(p, text, 40000);
    snprintf(p, sizeof p, "%s/heldout.txt", g_dir);
    write_file(p, text + 40000, n - 40000);

    test_loss_falls(text, 40000, text + 40000, n - 40000);
    test_determinism();
    static const char *const encs[] = {"learned", "sinusoidal", "rope", "alibi", "none"};
    for (int i = 0; i < 5; i++) test_reload(encs[i], "pre");
    for (int i = 0; i < 5; i++) test_reload(encs[i], "post");
    free(text);
    if (g_test_failures == 0) { /* keep the directory for a look when something failed */
        char cmd[700];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
        if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", g_dir);
    }
    TEST_END();
}
