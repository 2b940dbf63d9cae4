/* test_backend.c: the backend table without a GPU: selection (auto, cpu, cuda); a custom table needs its memory
 * functions; and the CPU fallback of a table with gaps on non-host memory (the mirror of mirror_backend.h): its
 * results are the CPU's, each missing operation is logged once and counted on every call, and a host pointer
 * handed to the mirror is refused. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend.h"
#include "device.h"
#include "mirror_backend.h"
#include "activation.h"
#include "norm.h"
#include "test_util.h"

int main(void)
{
    const ss_backend *b = NULL;
    char why[256] = "";
    CHECK(ss_backend_select(SS_BACKEND_CPU, &b, why, sizeof why) == SS_OK);
    CHECK_STREQ(ss_backend_name(b), "cpu");
    char reason[160];
    const int n_dev = ss_cuda_device_count(reason, sizeof reason);
    CHECK(ss_backend_select(SS_BACKEND_AUTO, &b, why, sizeof why) == SS_OK);
    CHECK_STREQ(ss_backend_name(b), n_dev > 0 ? "cuda" : "cpu");
    CHECK_MSG(strstr(why, n_dev > 0 ? "CUDA device found" : "no CUDA device") != NULL, "auto: %s", why);
    const ss_status st = ss_backend_select(SS_BACKEND_CUDA, &b, why, sizeof why);
    if (n_dev > 0) {
        CHECK(st == SS_OK);
    } else {
        CHECK(st == SS_ERR_UNSUPPORTED);
        CHECK_MSG(strstr(ss_errmsg(), "backend cuda was requested") != NULL, "%s", ss_errmsg());
        CHECK_STREQ(ss_backend_name(b), "cpu");
    }
    for (int op = 0; op < SS_OP_COUNT; op++) CHECK(ss_backend_has(ss_backend_cpu(), (ss_op)op));

    /* A custom table without memory functions is refused. */
    ss_backend_ops none;
    memset(&none, 0, sizeof none);
    ss_backend *bad = NULL;
    CHECK(ss_backend_custom("nomem", &none, 0, &bad) == SS_ERR_INPUT && bad == NULL);

    /* The mirror without operations: the dispatchers download, run the CPU's operation, upload. */
    ss_backend *gap = mirror_backend_new(1);
    CHECK(gap != NULL);
    CHECK(!ss_backend_has(gap, SS_OP_RMSNORM) && !ss_backend_is_host(gap));
    enum { T = 3, D = 8 };
    float x[T * D], g[D], y1[T * D], y2[T * D];
    for (int i = 0; i < T * D; i++) x[i] = (float)(i % 7) - 3.0f;
    for (int i = 0; i < D; i++) g[i] = 1.0f + 0.1f * (float)i;
    ss_rmsnorm_ref(y1, x, g, T, D, 1e-6f);
    float *dx = NULL, *dg = NULL, *dy = NULL, *da = NULL; /* on the mirror: [T][D], [D], [T][D], [4] */
    CHECK(ss_be_alloc(gap, (void **)&dx, sizeof x) == SS_OK && ss_be_alloc(gap, (void **)&dg, sizeof g) == SS_OK &&
          ss_be_alloc(gap, (void **)&dy, sizeof y2) == SS_OK && ss_be_alloc(gap, (void **)&da, 4 * sizeof(float)) == SS_OK);
    CHECK(ss_be_upload(gap, dx, x, sizeof x) == SS_OK && ss_be_upload(gap, dg, g, sizeof g) == SS_OK);

    /* stderr into a file, to count the log lines */
    char path[] = "/tmp/ss_backend_logXXXXXX";
    const int fd = mkstemp(path), saved = dup(2);
    CHECK(fd >= 0 && saved >= 0);
    fflush(stderr);
    dup2(fd, 2);
    for (int rep = 0; rep < 3; rep++) CHECK(ss_be_rmsnorm(gap, dy, dx, dg, T, D, 1e-6f) == SS_OK);
    float a[4] = {-1, 0, 1, 2}, a_ref[4] = {-1, 0, 1, 2};
    CHECK(ss_be_upload(gap, da, a, sizeof a) == SS_OK);
    CHECK(ss_be_gelu_tanh(gap, da, 4) == SS_OK);
    /* a host pointer is not backend memory: the mirror refuses it */
    CHECK(ss_be_gelu_tanh(gap, a, 4) != SS_OK);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    CHECK(ss_be_download(gap, y2, dy, sizeof y2) == SS_OK && ss_be_download(gap, a, da, sizeof a) == SS_OK);
    CHECK(memcmp(y1, y2, sizeof y1) == 0);
    ss_gelu_tanh(a_ref, 4);
    CHECK(memcmp(a, a_ref, sizeof a) == 0);
    CHECK(ss_backend_fallbacks(gap) == 5);
    CHECK(mirror_violations() == 1);
    FILE *f = fopen(path, "r");
    int n_rms = 0, n_gelu = 0;
    char line[256];
    while (f && fgets(line, sizeof line, f)) {
        fputs(line, stdout);
        n_rms += strstr(line, "backend mirror-gappy has no rmsnorm") != NULL;
        n_gelu += strstr(line, "backend mirror-gappy has no gelu_tanh") != NULL;
    }
    if (f) fclose(f);
    close(fd);
    unlink(path);
    CHECK(n_rms == 1 && n_gelu == 1);
    for (int op = 0; op < SS_OP_COUNT; op++) CHECK(strcmp(ss_op_name((ss_op)op), "?") != 0);
    ss_be_release(gap, dx);
    ss_be_release(gap, dg);
    ss_be_release(gap, dy);
    ss_be_release(gap, da);
    CHECK(mirror_live_allocs() == 0);
    mirror_backend_free(gap);
    TEST_END();
}
