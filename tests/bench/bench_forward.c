/* bench_forward.c: tokens per second of the sinkscope forward pass (with attention capture), one
 * prompt at a time, like tests/bench/hf_minilm_bench.py does for Hugging Face.
 *
 * Usage: bench_forward MODEL_DIR PROMPTS_TXT [--n-prompts N] [--repeat R] [--reference]
 * PROMPTS_TXT holds one prompt per line; blank lines and lines starting with '#' are skipped. Each
 * prompt is tokenized with the model's tokenizer and framed [CLS] ... [SEP] (the model's default
 * BOS policy), cut to the model's max positions. One untimed warm-up pass over all prompts, then R
 * timed passes; the best is reported, on one line:
 *   sinkscope_minilm tokens=<n> seconds=<best> tokens_per_s=<x> threads=<OPENBLAS_NUM_THREADS>
 *                    prompts=<n> repeat=<R> kernels=<blas|reference>
 * Tokenization is not timed; the capture allocation and free are. Exit: 0 ok, 1 failure, 2 usage. */
#include <cblas.h> /* openblas_get_num_threads */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "model/model.h"
#include "path.h" /* ss_kernels_set_path */

typedef struct {
    int32_t *ids; /* [n] framed */
    int n;
} prompt;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int usage(void)
{
    fprintf(stderr, "usage: bench_forward MODEL_DIR PROMPTS_TXT [--n-prompts N] [--repeat R] [--reference]\n");
    return 2;
}

int main(int argc, char **argv)
{
    const char *model_dir = NULL, *prompts_path = NULL;
    int n_max = 0, repeat = 3, rc = 1;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--n-prompts") == 0 && i + 1 < argc)
            n_max = atoi(argv[++i]);
        else if (strcmp(argv[i], "--repeat") == 0 && i + 1 < argc)
            repeat = atoi(argv[++i]);
        else if (strcmp(argv[i], "--reference") == 0)
            ss_kernels_set_path(SS_KERNEL_REF);
        else if (argv[i][0] == '-')
            return usage();
        else if (!model_dir)
            model_dir = argv[i];
        else if (!prompts_path)
            prompts_path = argv[i];
        else
            return usage();
    }
    if (!model_dir || !prompts_path || n_max < 0 || repeat < 1) return usage();

    ss_model *m = NULL;
    prompt *ps = NULL;
    int np = 0, cap_p = 0;
    char *line = NULL;
    size_t line_cap = 0;
    FILE *f = NULL;

    if (ss_model_load(model_dir, &m) != SS_OK) {
        fprintf(stderr, "bench_forward: %s\n", ss_errmsg());
        goto done;
    }
    const ss_model_info *info = ss_model_get_info(m);
    int32_t pre[2], post[2];
    int n_pre, n_post;
    ss_model_frame(info, SS_BOS_MODEL_DEFAULT, pre, &n_pre, post, &n_post);

    f = fopen(prompts_path, "r");
    if (!f) {
        perror(prompts_path);
        rc = 2;
        goto done;
    }
    ssize_t len;
    while ((n_max == 0 || np < n_max) && (len = getline(&line, &line_cap, f)) >= 0) {
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = '\0';
        const char *s = line;
        while (*s == ' ' || *s == '\t') s++;
        if (!*s || *s == '#') continue;
        int32_t *content = NULL;
        int nc = 0;
        if (ss_tokenizer_encode(ss_model_tokenizer(m), line, &content, &nc) != SS_OK) {
            fprintf(stderr, "bench_forward: %s\n", ss_errmsg());
            goto done;
        }
        int room = info->max_positions - n_pre - n_post;
        if (nc > room) nc = room;
        if (np == cap_p) {
            cap_p = cap_p ? 2 * cap_p : 64;
            prompt *q = realloc(ps, (size_t)cap_p * sizeof *ps);
            if (!q) {
                free(content);
                goto done;
            }
            ps = q;
        }
        prompt *p = &ps[np];
        p->n = n_pre + nc + n_post;
        p->ids = malloc((size_t)p->n * sizeof *p->ids);
        if (!p->ids) {
            free(content);
            goto done;
        }
        memcpy(p->ids, pre, (size_t)n_pre * sizeof *pre);
        if (nc) memcpy(p->ids + n_pre, content, (size_t)nc * sizeof *content);
        memcpy(p->ids + n_pre + nc, post, (size_t)n_post * sizeof *post);
        np++;
        free(content);
    }
    if (np == 0) {
        fprintf(stderr, "bench_forward: no prompts in %s\n", prompts_path);
        rc = 2;
        goto done;
    }
    long tokens = 0;
    for (int i = 0; i < np; i++) tokens += ps[i].n;

    double best = -1.0;
    for (int r = 0; r <= repeat; r++) { /* r = 0 is the warm-up */
        double t0 = now();
        for (int i = 0; i < np; i++) {
            ss_capture cap;
            if (ss_model_forward(m, ps[i].ids, ps[i].n, &cap) != SS_OK) {
                fprintf(stderr, "bench_forward: prompt %d: %s\n", i, ss_errmsg());
                goto done;
            }
            ss_capture_free(&cap);
        }
        double dt = now() - t0;
        if (r > 0 && (best < 0 || dt < best)) best = dt;
    }
    const char *thr = getenv("OPENBLAS_NUM_THREADS");
    char thr_buf[32];
    if (!thr || !*thr) {
        snprintf(thr_buf, sizeof thr_buf, "%d", openblas_get_num_threads());
        thr = thr_buf;
    }
    printf("sinkscope_minilm tokens=%ld seconds=%.6f tokens_per_s=%.1f threads=%s prompts=%d repeat=%d kernels=%s\n",
           tokens, best, (double)tokens / best, thr, np, repeat, ss_kernel_path_name(ss_kernels_get_path()));
    rc = 0;
done:
    if (f) fclose(f);
    free(line);
    for (int i = 0; i < np; i++) free(ps[i].ids);
    free(ps);
    ss_model_free(m);
    return rc;
}
