/* test_results.c: the parallel results file. Every rank writes the tasks t with t % size == rank
 * (one on purpose as failed), the file is read back serially and checked value by value; then it
 * is reopened for resume, refused for a different sweep, and replaced (not deleted) with force.
 * usage: mpiexec -n N test_results TINY_MODEL_DIR OUT_PREFIX */
#include <dirent.h>
#include <hdf5.h>
#include <libgen.h>
#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "plan.h"
#include "results.h"
#include "sweep.h"
#include "test_util.h"

static const char *k_yaml = "name: results_test\n"
                            "grid:\n"
                            "  model:\n"
                            "    - {name: tiny, path: %s}\n"
                            "  prompts:\n"
                            "    - {name: nat, generator: natural, count: 5}\n"
                            "    - {name: rnd, generator: random, count: 3, length: 12}\n"
                            "  encoding: [native]\n"
                            "analyses:\n"
                            "  - {name: sink, type: sink_rate, epsilon: [%s]}\n"
                            "  - {name: top, type: top_keys}\n";

static ss_plan *build(const char *dir, const char *eps, ss_sweep **s_out)
{
    char text[2048];
    snprintf(text, sizeof text, k_yaml, dir, eps);
    ss_diags d = {0};
    ss_sweep *s = NULL;
    if (ss_sweep_parse(text, strlen(text), "/tmp/results_test.yaml", &s, &d) != SS_OK) {
        ss_diags_print(&d, "results_test.yaml", stderr);
        ss_diags_free(&d);
        return NULL;
    }
    ss_diags_free(&d);
    ss_plan *p = NULL;
    if (ss_plan_build(s, &p) != SS_OK || ss_plan_hash_models(p) != SS_OK || ss_plan_fingerprint(p) != SS_OK) {
        fprintf(stderr, "%s\n", ss_errmsg());
        ss_sweep_free(s);
        return NULL;
    }
    *s_out = s;
    return p;
}

/* The value every test write puts at element i of dataset k of analysis a for task t. */
static float pattern(int t, int a, int k, size_t i) { return (float)(1000 * t + 100 * a + 10 * k) + (float)i * 0.5f; }

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    if (argc < 3) SKIP("usage: test_results TINY_MODEL_DIR OUT_PREFIX");
    char path[4096];
    snprintf(path, sizeof path, "%s.h5", argv[2]);
    if (rank == 0) {
        unlink(path);
        /* old replaced-* files from earlier runs of this test */
        char dirbuf[4096], cmd[8300];
        snprintf(dirbuf, sizeof dirbuf, "%s", path);
        snprintf(cmd, sizeof cmd, "rm -f '%s'.replaced-*", path);
        if (system(cmd) != 0) fprintf(stderr, "cleanup failed\n");
    }
    MPI_Barrier(MPI_COMM_WORLD);

    ss_sweep *s = NULL;
    ss_plan *p = build(argv[1], "0.3", &s);
    CHECK(p != NULL);
    if (!p) MPI_Abort(MPI_COMM_WORLD, 1);
    const int FAILED_TASK = 2;

    /* ---- write ---- */
    ss_results *r = NULL;
    int8_t *status = NULL;
    ss_results_options opt = {0};
    CHECK(ss_results_open(path, p, MPI_COMM_WORLD, &opt, &r, &status) == SS_OK);
    for (int t = 0; t < p->n_tasks; t++) CHECK_MSG(status[t] == SS_TASK_PENDING, "rank %d: new file: status[%d] = %d", rank, t, status[t]);
    free(status);
    for (int t = rank; t < p->n_tasks; t += size) {
        const ss_task *tk = &p->tasks[t];
        void *bufs_store[8][SS_MAX_DATASETS] = {{0}};
        void *const *by_a[8];
        for (int a = 0; a < s->n_analyses; a++) {
            int nd = 0;
            const ss_dataset_decl *decl = ss_results_decls(r, tk->model, a, &nd);
            for (int k = 0; k < nd; k++) {
                size_t n = ss_dataset_elems(&decl[k]);
                void *b = malloc(n * 4);
                for (size_t i = 0; i < n; i++) {
                    if (decl[k].dtype == SS_DT_F32) ((float *)b)[i] = pattern(t, a, k, i);
                    else ((int32_t *)b)[i] = (int32_t)pattern(t, a, k, i);
                }
                bufs_store[a][k] = b;
            }
            by_a[a] = bufs_store[a];
        }
        int32_t toks[4] = {3, 10 + t, 20 + t, 4};
        ss_task_record rec = {t, t == FAILED_TASK ? SS_TASK_FAILED : SS_TASK_DONE, rank, 0.25f * t, 4, toks,
                              t == FAILED_TASK ? "prompt 2 has 99 tokens; max_tokens is 64" : NULL,
                              (void *const *const *)by_a};
        CHECK(ss_results_write_task(r, &rec) == SS_OK);
        for (int a = 0; a < 8; a++)
            for (int k = 0; k < SS_MAX_DATASETS; k++) free(bufs_store[a][k]);
    }
    CHECK(ss_results_close(r) == SS_OK);
    MPI_Barrier(MPI_COMM_WORLD);

    /* ---- read back (rank 0, serial HDF5, as h5py or a report would) ---- */
    if (rank == 0) {
        hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
        CHECK(f >= 0);
        int8_t st[64];
        int32_t rk[64], ntok[64];
        static int32_t tokens[64 * 512];
        hid_t d = H5Dopen2(f, "/tasks/status", H5P_DEFAULT);
        CHECK(H5Dread(d, H5T_NATIVE_INT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, st) >= 0);
        H5Dclose(d);
        d = H5Dopen2(f, "/tasks/rank", H5P_DEFAULT);
        CHECK(H5Dread(d, H5T_NATIVE_INT32, H5S_ALL, H5S_ALL, H5P_DEFAULT, rk) >= 0);
        H5Dclose(d);
        d = H5Dopen2(f, "/tasks/n_tokens", H5P_DEFAULT);
        CHECK(H5Dread(d, H5T_NATIVE_INT32, H5S_ALL, H5S_ALL, H5P_DEFAULT, ntok) >= 0);
        H5Dclose(d);
        d = H5Dopen2(f, "/tasks/tokens", H5P_DEFAULT);
        CHECK(H5Dread(d, H5T_NATIVE_INT32, H5S_ALL, H5S_ALL, H5P_DEFAULT, tokens) >= 0);
        H5Dclose(d);
        for (int t = 0; t < p->n_tasks; t++) {
            CHECK_MSG(st[t] == (t == FAILED_TASK ? SS_TASK_FAILED : SS_TASK_DONE), "status[%d] = %d", t, st[t]);
            CHECK_MSG(rk[t] == t % size, "rank[%d] = %d", t, rk[t]);
            CHECK(ntok[t] == 4);
            CHECK(tokens[t * 512 + 1] == 10 + t && tokens[t * 512 + 4] == -1);
        }
        char err[SS_ERROR_LEN * 64];
        hid_t strt = H5Tcopy(H5T_C_S1);
        H5Tset_size(strt, SS_ERROR_LEN);
        d = H5Dopen2(f, "/tasks/error", H5P_DEFAULT);
        CHECK(H5Dread(d, strt, H5S_ALL, H5S_ALL, H5P_DEFAULT, err) >= 0);
        H5Dclose(d);
        H5Tclose(strt);
        CHECK(strstr(err + FAILED_TASK * SS_ERROR_LEN, "99 tokens") != NULL);
        CHECK(err[0] == '\0');

        /* sink_rate of task 4 (row 4 of model tiny), element 7: the pattern of analysis 0, dataset 0 */
        d = H5Dopen2(f, "/results/tiny/sink/sink_rate", H5P_DEFAULT);
        hid_t fs = H5Dget_space(d);
        hsize_t dims[3];
        CHECK(H5Sget_simple_extent_ndims(fs) == 3);
        H5Sget_simple_extent_dims(fs, dims, NULL);
        CHECK(dims[0] == 8 && dims[1] == 1 && dims[2] == 512);
        float *all = malloc(dims[0] * dims[1] * dims[2] * sizeof *all);
        CHECK(H5Dread(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, all) >= 0);
        for (int t = 0; t < p->n_tasks; t++) {
            if (t == FAILED_TASK) {
                CHECK(isnan(all[(size_t)p->tasks[t].row * 512 + 7])); /* failed: left at the NaN fill */
                continue;
            }
            CHECK_NEAR(all[(size_t)p->tasks[t].row * 512 + 7], pattern(t, 0, 0, 7), 0);
        }
        free(all);
        H5Sclose(fs);
        H5Dclose(d);
        int32_t topk[8 * 2 * 4];
        d = H5Dopen2(f, "/results/tiny/top/top_key", H5P_DEFAULT);
        CHECK(H5Dread(d, H5T_NATIVE_INT32, H5S_ALL, H5S_ALL, H5P_DEFAULT, topk) >= 0);
        H5Dclose(d);
        CHECK(topk[5 * 8 + 3] == (int32_t)pattern(5, 1, 0, 3));
        H5Fclose(f);
    }
    MPI_Barrier(MPI_COMM_WORLD);

    /* ---- resume: the same plan reopens the file and sees the statuses ---- */
    CHECK(ss_results_open(path, p, MPI_COMM_WORLD, &opt, &r, &status) == SS_OK);
    if (status) {
        for (int t = 0; t < p->n_tasks; t++) CHECK(status[t] == (t == FAILED_TASK ? SS_TASK_FAILED : SS_TASK_DONE));
        free(status);
        CHECK(ss_results_close(r) == SS_OK);
    }

    /* ---- a different sweep is refused, and nothing is lost ---- */
    ss_sweep *s2 = NULL;
    ss_plan *p2 = build(argv[1], "0.5", &s2);
    CHECK(p2 != NULL);
    status = NULL;
    ss_status st2 = ss_results_open(path, p2, MPI_COMM_WORLD, &opt, &r, &status);
    CHECK(st2 == SS_ERR_INPUT);
    CHECK(strstr(ss_errmsg(), "different sweep") != NULL && strstr(ss_errmsg(), "--force") != NULL);
    CHECK(status == NULL);

    /* ---- force: the old file is renamed, a fresh one created ---- */
    opt.force = 1;
    CHECK(ss_results_open(path, p2, MPI_COMM_WORLD, &opt, &r, &status) == SS_OK);
    if (status) {
        for (int t = 0; t < p2->n_tasks; t++) CHECK(status[t] == SS_TASK_PENDING);
        free(status);
        CHECK(ss_results_close(r) == SS_OK);
    }
    if (rank == 0) {
        char dir[4096], base[4096];
        snprintf(dir, sizeof dir, "%s", path);
        snprintf(base, sizeof base, "%s", path);
        const char *bn = basename(base);
        DIR *dd = opendir(dirname(dir));
        int found = 0;
        for (struct dirent *e; dd && (e = readdir(dd));)
            if (strncmp(e->d_name, bn, strlen(bn)) == 0 && strstr(e->d_name, ".replaced-")) found++;
        if (dd) closedir(dd);
        CHECK_MSG(found == 1, "%d replaced files", found);
    }

    ss_plan_free(p);
    ss_plan_free(p2);
    ss_sweep_free(s);
    ss_sweep_free(s2);
    int fails = g_test_failures, all_f = 0;
    MPI_Allreduce(&fails, &all_f, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    H5close();
    MPI_Finalize();
    return all_f ? 1 : 0;
}
