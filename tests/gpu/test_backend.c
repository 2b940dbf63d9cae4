/* test_backend.c: the backend table without a GPU: selection (auto, cpu, cuda), and the CPU fallback of a table
 * with gaps (its results are the CPU's, each missing operation is logged once and counted on every call). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend.h"
#include "device.h"
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

    /* A table with every entry missing: the dispatchers run the CPU's operations. */
    ss_backend_ops none;
    memset(&none, 0, sizeof none);
    ss_backend *gap = NULL;
    CHECK(ss_backend_custom("gappy", &none, &gap) == SS_OK);
    CHECK(!ss_backend_has(gap, SS_OP_RMSNORM));
    enum { T = 3, D = 8 };
    float x[T * D], g[D], y1[T * D], y2[T * D];
    for (int i = 0; i < T * D; i++) x[i] = (float)(i % 7) - 3.0f;
    for (int i = 0; i < D; i++) g[i] = 1.0f + 0.1f * (float)i;
    ss_rmsnorm_ref(y1, x, g, T, D, 1e-6f);

    /* stderr into a file, to count the log lines */
    char path[] = "/tmp/ss_backend_logXXXXXX";
    const int fd = mkstemp(path), saved = dup(2);
    CHECK(fd >= 0 && saved >= 0);
    fflush(stderr);
    dup2(fd, 2);
    for (int rep = 0; rep < 3; rep++) CHECK(ss_be_rmsnorm(gap, y2, x, g, T, D, 1e-6f) == SS_OK);
    float a[4] = {-1, 0, 1, 2};
    CHECK(ss_be_gelu_tanh(gap, a, 4) == SS_OK);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    CHECK(memcmp(y1, y2, sizeof y1) == 0);
    CHECK(ss_backend_fallbacks(gap) == 4);
    FILE *f = fopen(path, "r");
    int n_rms = 0, n_gelu = 0;
    char line[256];
    while (f && fgets(line, sizeof line, f)) {
        fputs(line, stdout);
        n_rms += strstr(line, "backend gappy has no rmsnorm") != NULL;
        n_gelu += strstr(line, "backend gappy has no gelu_tanh") != NULL;
    }
    if (f) fclose(f);
    close(fd);
    unlink(path);
    CHECK(n_rms == 1 && n_gelu == 1);
    for (int op = 0; op < SS_OP_COUNT; op++) CHECK(strcmp(ss_op_name((ss_op)op), "?") != 0);
    ss_backend_custom_free(gap);
    TEST_END();
}
