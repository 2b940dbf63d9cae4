/* test_plan.c: grid expansion, its documented order, row numbering and the sweep fingerprint.
 * usage: test_plan TINY_MODEL_DIR */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan.h"
#include "sweep.h"
#include "test_util.h"

static const char *k_yaml =
    "# comment\n"
    "name: %s\n"
    "seed: 5\n"
    "grid:\n"
    "  model:\n"
    "    - name: tinyA\n"
    "      path: %s\n"
    "    - name: tinyB\n"
    "      path: %s\n"
    "      bos: none\n"
    "      max_tokens: 32\n"
    "  prompts:\n"
    "    - name: nat\n"
    "      generator: natural\n"
    "      count: 3\n"
    "    - name: rnd\n"
    "      generator: random\n"
    "      count: 2\n"
    "      length: 10\n"
    "  encoding: [native]\n"
    "analyses:\n"
    "  - name: sink\n"
    "    type: sink_rate\n"
    "    epsilon: [%s]\n"
    "  - name: top\n"
    "    type: top_keys\n";

static ss_plan *build(const char *name, const char *dir, const char *eps, ss_sweep **s_out)
{
    char text[4096];
    snprintf(text, sizeof text, k_yaml, name, dir, dir, eps);
    ss_diags d = {0};
    ss_sweep *s = NULL;
    ss_status st = ss_sweep_parse(text, strlen(text), "/tmp/test_plan.yaml", &s, &d);
    if (st != SS_OK) {
        ss_diags_print(&d, "test_plan.yaml", stderr);
        ss_diags_free(&d);
        return NULL;
    }
    ss_diags_free(&d);
    ss_plan *p = NULL;
    st = ss_plan_build(s, &p);
    if (st != SS_OK) {
        fprintf(stderr, "plan: %s\n", ss_errmsg());
        ss_sweep_free(s);
        return NULL;
    }
    if (ss_plan_hash_models(p) != SS_OK || ss_plan_fingerprint(p) != SS_OK) fprintf(stderr, "%s\n", ss_errmsg());
    *s_out = s;
    return p;
}

int main(int argc, char **argv)
{
    if (argc < 2) SKIP("usage: test_plan TINY_MODEL_DIR");
    ss_sweep *s = NULL, *s2 = NULL, *s3 = NULL;
    ss_plan *p = build("one", argv[1], "0.3", &s);
    CHECK(p != NULL);
    if (!p) TEST_END();

    /* 2 models x (3 natural + 2 random) x 1 encoding = 10 tasks, model slowest, prompt index fastest */
    CHECK(p->n_tasks == 10);
    const int want[10][5] = {
        {0, 0, 0, 0, 0}, {0, 0, 0, 1, 1}, {0, 0, 0, 2, 2}, {0, 1, 0, 0, 3}, {0, 1, 0, 1, 4},
        {1, 0, 0, 0, 0}, {1, 0, 0, 1, 1}, {1, 0, 0, 2, 2}, {1, 1, 0, 0, 3}, {1, 1, 0, 1, 4},
    };
    for (int t = 0; t < 10 && t < p->n_tasks; t++) {
        const ss_task *k = &p->tasks[t];
        CHECK_MSG(k->model == want[t][0] && k->prompts == want[t][1] && k->encoding == want[t][2] &&
                      k->prompt_index == want[t][3] && k->row == want[t][4],
                  "task %d = (%d,%d,%d,%d,row %d)", t, k->model, k->prompts, k->encoding, k->prompt_index, k->row);
    }
    CHECK(p->model_rows[0] == 5 && p->model_rows[1] == 5);
    CHECK(p->model_max_tokens[0] == 512); /* 0 in the YAML: the tiny model's 512 positions */
    CHECK(p->model_max_tokens[1] == 32);
    CHECK(p->max_tokens_all == 512);
    CHECK(strlen(p->model_hash[0]) == 64 && strcmp(p->model_hash[0], p->model_hash[1]) == 0);
    CHECK(strlen(p->fingerprint) == 64);

    /* Fingerprint: the sweep name does not enter it; an analysis parameter does. */
    ss_plan *p2 = build("renamed", argv[1], "0.3", &s2);
    ss_plan *p3 = build("one", argv[1], "0.4", &s3);
    CHECK(p2 && p3);
    if (p2) CHECK_STREQ(p->fingerprint, p2->fingerprint);
    if (p3) CHECK(strcmp(p->fingerprint, p3->fingerprint) != 0);

    /* The launch table names every task in order. */
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    ss_plan_print(p, mem, -1);
    fclose(mem);
    CHECK(strstr(buf, "10 task(s)") != NULL);
    CHECK(strstr(buf, "#0      model=tinyA prompts=nat encoding=native prompt=0") != NULL);
    CHECK(strstr(buf, "#9      model=tinyB prompts=rnd encoding=native prompt=1") != NULL);
    free(buf);

    ss_plan_free(p);
    ss_plan_free(p2);
    ss_plan_free(p3);
    ss_sweep_free(s);
    ss_sweep_free(s2);
    ss_sweep_free(s3);
    TEST_END();
}
