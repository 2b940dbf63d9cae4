/* trainer.c: the training run (trainer.h). */
#include "trainer.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "../fsutil.h"         /* ss_path_join */
#include "../model/encoding.h" /* ss_splitmix64 */
#include "../progress.h"       /* ss_format_duration */
#include "checkpoint.h"

#define DATA_RNG_SALT 0x5851f42d4c957f2dull

typedef struct {
    unsigned char *bytes; /* [len] */
    size_t len;
} corpus;

static ss_status read_corpus(const char *path, const char *what, size_t need, corpus *c)
{
    memset(c, 0, sizeof *c);
    FILE *f = fopen(path, "rb");
    if (!f) return ss_fail(SS_ERR_INPUT, "cannot read the %s data %s: %s", what, path, strerror(errno));
    struct stat sb;
    if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode)) {
        fclose(f);
        return ss_fail(SS_ERR_INPUT, "the %s data %s is not a regular file", what, path);
    }
    c->len = (size_t)sb.st_size;
    c->bytes = malloc(c->len ? c->len : 1);
    if (!c->bytes) {
        fclose(f);
        return ss_fail(SS_ERR_NOMEM, "out of memory for %s (%zu bytes)", path, c->len);
    }
    size_t got = fread(c->bytes, 1, c->len, f);
    fclose(f);
    if (got != c->len) return ss_fail(SS_ERR_IO, "short read of %s", path);
    if (c->len < need)
        return ss_fail(SS_ERR_INPUT, "the %s data %s has %zu bytes, fewer than one window (%zu)", what, path, c->len,
                       need);
    return SS_OK;
}

/* ids, targets [T] of the window starting at byte `start` (trainer.h). */
static void make_window(const ss_tr_arch *a, const corpus *c, size_t start, int32_t *ids, int32_t *tg)
{
    int T = a->n_ctx;
    const unsigned char *b = c->bytes + start;
    if (a->bos_id >= 0) {
        ids[0] = a->bos_id;
        for (int t = 1; t < T; t++) ids[t] = b[t - 1];
        for (int t = 0; t < T; t++) tg[t] = b[t];
    } else {
        for (int t = 0; t < T; t++) ids[t] = b[t], tg[t] = b[t + 1];
    }
}

static size_t window_need(const ss_tr_arch *a) { return (size_t)a->n_ctx + (a->bos_id >= 0 ? 0 : 1); }

static int is_checkpoint(uint64_t k, uint64_t steps) { return k == 0 || (k & (k - 1)) == 0 || k == steps; }

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * ts.tv_nsec;
}

/* The mean loss over the fixed held-out windows, in batches of B. */
static double heldout_loss(const ss_tr_config *cfg, const ss_tr_layout *L, const float *p, ss_tr_work_f *w,
                           const corpus *h, int32_t *ids, int32_t *tg)
{
    const ss_tr_arch *a = &cfg->arch;
    int n = cfg->eval_windows, B = cfg->batch_size, T = a->n_ctx;
    size_t span = h->len - window_need(a);
    double total = 0.0;
    for (int i0 = 0; i0 < n; i0 += B) {
        int nb = n - i0 < B ? n - i0 : B;
        for (int j = 0; j < nb; j++) {
            int i = i0 + j;
            size_t start = n > 1 ? (size_t)((double)i * (double)span / (n - 1)) : 0;
            make_window(a, h, start, ids + (size_t)j * T, tg + (size_t)j * T);
        }
        total += ss_tr_forward_f(L, p, w, ids, tg, nb, T) * nb;
    }
    return total / n;
}

/* Reads path whole (NULL when absent). */
static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    struct stat sb;
    char *s = NULL;
    if (fstat(fileno(f), &sb) == 0 && (s = malloc((size_t)sb.st_size + 1)) != NULL) {
        size_t n = fread(s, 1, (size_t)sb.st_size, f);
        s[n] = '\0';
    }
    fclose(f);
    return s;
}

static ss_status write_text(const char *path, const char *text)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%.4000s.tmp", path);
    FILE *f = fopen(tmp, "wb");
    if (!f) return ss_fail(SS_ERR_IO, "cannot write %s: %s", tmp, strerror(errno));
    int ok = fputs(text, f) >= 0;
    ok &= fclose(f) == 0;
    if (!ok || rename(tmp, path) != 0) return ss_fail(SS_ERR_IO, "cannot write %s: %s", path, strerror(errno));
    return SS_OK;
}

static const char LOSS_HEADER[] = "step,lr,train_loss,grad_norm,heldout_loss,tokens_per_s\n";

/* Keeps loss.csv's header and its rows of steps <= last; opens it for appending. */
static ss_status open_loss_log(const char *path, int fresh, uint64_t last, FILE **out)
{
    char *old = fresh ? NULL : slurp(path);
    FILE *f = fopen(path, "wb");
    if (!f) {
        free(old);
        return ss_fail(SS_ERR_IO, "cannot write %s: %s", path, strerror(errno));
    }
    fputs(LOSS_HEADER, f);
    if (old) {
        char *line = strchr(old, '\n'); /* skip the old header */
        while (line && *++line) {
            char *end = strchr(line, '\n');
            unsigned long long k;
            if (!end || sscanf(line, "%llu,", &k) != 1 || k > last) break;
            fwrite(line, 1, (size_t)(end - line) + 1, f);
            line = end;
        }
        free(old);
    }
    fflush(f);
    *out = f;
    return SS_OK;
}

ss_status ss_tr_train(const ss_tr_config *cfg, const ss_tr_run_opts *o)
{
    ss_status st = SS_OK;
    const ss_tr_arch *a = &cfg->arch;
    ss_tr_layout L;
    int have_layout = 0;
    corpus tr = {0}, ho = {0};
    ss_tr_work_f *w = NULL;
    float *p = NULL, *g = NULL, *m = NULL, *v = NULL; /* [n_params] each */
    int32_t *ids = NULL, *tg = NULL;                  /* [B][T] */
    char *cfg_json = NULL, *cfg_path = NULL, *old_json = NULL, *log_path = NULL, *ckpt = NULL;
    FILE *log = NULL;
    int B = cfg->batch_size, T = a->n_ctx;
    uint64_t steps = (uint64_t)cfg->opt.steps;

    SS_TRY(ss_tr_layout_init(&L, a));
    have_layout = 1;
    size_t n = L.n_params, need = window_need(a);
    SS_TRY(read_corpus(cfg->train_path, "training", need, &tr));
    if (cfg->heldout_path) SS_TRY(read_corpus(cfg->heldout_path, "held-out", need, &ho));
    SS_TRY(ss_tr_work_new_f(&L, B, T, &w));
    p = malloc(n * sizeof *p), g = malloc(n * sizeof *g), m = calloc(n, sizeof *m), v = calloc(n, sizeof *v);
    ids = malloc((size_t)B * T * sizeof *ids), tg = malloc((size_t)B * T * sizeof *tg);
    cfg_json = ss_tr_config_json(cfg);
    cfg_path = ss_path_join(o->out_dir, "train_config.json");
    log_path = ss_path_join(o->out_dir, "loss.csv");
    if (!p || !g || !m || !v || !ids || !tg || !cfg_json || !cfg_path || !log_path)
        SS_TRY(ss_fail(SS_ERR_NOMEM, "out of memory for a model of %zu parameters", n));

    /* the run directory: fresh, or the same config's run to resume */
    if (mkdir(o->out_dir, 0755) != 0 && errno != EEXIST)
        SS_TRY(ss_fail(SS_ERR_IO, "cannot create %s: %s", o->out_dir, strerror(errno)));
    uint64_t last = 0;
    int have_ckpt = ss_tr_ckpt_latest(o->out_dir, &last);
    old_json = slurp(cfg_path);
    if ((have_ckpt || old_json) && (!old_json || strcmp(old_json, cfg_json) != 0))
        SS_TRY(ss_fail(SS_ERR_INPUT,
                       "%s already holds a training run of another config (%s differs); use a new output directory",
                       o->out_dir, old_json ? cfg_path : "train_config.json is missing and"));
    if (o->resume && !have_ckpt) SS_TRY(ss_fail(SS_ERR_INPUT, "--resume: %s holds no checkpoint", o->out_dir));
    ss_tr_counters c = {0};
    if (have_ckpt) {
        ckpt = ss_tr_ckpt_dir(o->out_dir, last);
        if (!ckpt) SS_TRY(ss_fail(SS_ERR_NOMEM, "out of memory"));
        SS_TRY(ss_tr_ckpt_read(ckpt, &L, p, m, v, &c));
        if (c.step != last) SS_TRY(ss_fail(SS_ERR_FORMAT, "%s holds the state of step %llu", ckpt,
                                           (unsigned long long)c.step));
        if (o->progress)
            fprintf(stderr, "sinkscope train: resuming %s from step %llu of %llu\n", o->out_dir,
                    (unsigned long long)last, (unsigned long long)steps);
    } else {
        SS_TRY(write_text(cfg_path, cfg_json));
        ss_tr_init_params(&L, p, cfg->seed);
        c.data_rng = cfg->seed ^ DATA_RNG_SALT;
    }
    SS_TRY(open_loss_log(log_path, !have_ckpt, c.step, &log));
    double ho_loss = 0.0;
    char meta[512];
    if (!have_ckpt) { /* step 0: the initial weights */
        if (ho.bytes) ho_loss = heldout_loss(cfg, &L, p, w, &ho, ids, tg);
        if (ho.bytes)
            fprintf(log, "0,,,,%.6f,\n", ho_loss);
        else
            fprintf(log, "0,,,,,\n");
        fflush(log);
        if (ho.bytes)
            snprintf(meta, sizeof meta, "{\"step\": 0, \"seed\": %llu, \"heldout_loss\": %.6f}",
                     (unsigned long long)cfg->seed, ho_loss);
        else
            snprintf(meta, sizeof meta, "{\"step\": 0, \"seed\": %llu}", (unsigned long long)cfg->seed);
        SS_TRY(ss_tr_ckpt_write(o->out_dir, &L, p, m, v, &c, meta));
    }
    double t_start = now_s(), t_last_print = 0.0;
    uint64_t first = c.step;
    if (o->progress && c.step >= steps)
        fprintf(stderr, "sinkscope train: %s is complete (%llu steps)\n", o->out_dir, (unsigned long long)steps);
    size_t span = tr.len - need + 1;
    while (c.step < steps && !(o->stop_at && c.step >= o->stop_at)) {
        double t0 = now_s();
        for (int b = 0; b < B; b++) {
            size_t start = (size_t)(ss_splitmix64(&c.data_rng) % span);
            make_window(a, &tr, start, ids + (size_t)b * T, tg + (size_t)b * T);
            c.windows++;
        }
        memset(g, 0, n * sizeof *g);
        double loss = ss_tr_forward_f(&L, p, w, ids, tg, B, T);
        ss_tr_backward_f(&L, p, g, w, ids, tg, B, T);
        double gnorm = ss_tr_clip_grads(g, n, cfg->opt.clip);
        double lr = ss_tr_lr_at(&cfg->opt, (int)c.step);
        ss_tr_adamw_step(&L, &cfg->opt, p, g, m, v, (long)c.step + 1, lr);
        c.step++;
        double tps = (double)B * T / (now_s() - t0);
        int ck = is_checkpoint(c.step, steps);
        if (ck && ho.bytes) ho_loss = heldout_loss(cfg, &L, p, w, &ho, ids, tg);
        fprintf(log, "%llu,%.6g,%.6f,%.6f,", (unsigned long long)c.step, lr, loss, gnorm);
        if (ck && ho.bytes) fprintf(log, "%.6f", ho_loss);
        fprintf(log, ",%.1f\n", tps);
        fflush(log);
        if (ck) {
            if (ho.bytes)
                snprintf(meta, sizeof meta,
                         "{\"step\": %llu, \"seed\": %llu, \"train_loss\": %.6f, \"heldout_loss\": %.6f}",
                         (unsigned long long)c.step, (unsigned long long)cfg->seed, loss, ho_loss);
            else
                snprintf(meta, sizeof meta, "{\"step\": %llu, \"seed\": %llu, \"train_loss\": %.6f}",
                         (unsigned long long)c.step, (unsigned long long)cfg->seed, loss);
            SS_TRY(ss_tr_ckpt_write(o->out_dir, &L, p, m, v, &c, meta));
        }
        double t = now_s();
        if (o->progress && (t - t_last_print >= 1.0 || c.step == steps || ck)) {
            char eta[32];
            double rate = (double)(c.step - first) / (t - t_start);
            ss_format_duration(rate > 0 ? (double)(steps - c.step) / rate : 0.0, eta, sizeof eta);
            fprintf(stderr, "step %llu/%llu  loss %.4f  lr %.3g  |g| %.3f  %.0f tok/s  eta %s%s\n",
                    (unsigned long long)c.step, (unsigned long long)steps, loss, lr, gnorm, tps, eta,
                    ck ? "  (checkpoint)" : "");
            t_last_print = t;
        }
    }
done:
    if (log) fclose(log);
    if (have_layout) ss_tr_layout_free(&L);
    ss_tr_work_free_f(w);
    free(tr.bytes), free(ho.bytes), free(p), free(g), free(m), free(v), free(ids), free(tg);
    free(cfg_json), free(cfg_path), free(old_json), free(log_path), free(ckpt);
    return st;
}
