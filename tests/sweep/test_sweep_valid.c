/* test_sweep_valid.c: valid sweeps parse into the expected ss_sweep (every field, the defaults, path resolution),
 * plus the small API pieces: diagnostics printing, load errors, "did you mean" limits, scalar edge cases.
 * argv[1]: the tests/sweep directory (valid/ and data/ below it). */
#include "test_util.h"

#include <stddef.h>
#include <stdint.h>
#include <unistd.h> /* getcwd */

#include "analysis.h"
#include "sweep.h"

static char g_dir[2048]; /* absolute tests/sweep directory */

static char *read_all(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    if (buf) buf[n] = '\0';
    fclose(f);
    return buf;
}

/* Loads tests/sweep/valid/NAME, which must be valid: prints the diagnostics otherwise. */
static ss_sweep *load_valid(const char *name)
{
    char path[2200];
    ss_diags d = {0};
    ss_sweep *s = NULL;
    snprintf(path, sizeof path, "%s/valid/%s", g_dir, name);
    ss_status st = ss_sweep_load(path, &s, &d);
    CHECK_MSG(st == SS_OK, "%s: %s", name, ss_status_name(st));
    CHECK_MSG(d.n == 0, "%s: %d diagnostics", name, d.n);
    ss_diags_print(&d, path, stderr);
    ss_diags_free(&d);
    return s;
}

/* Parses a string; returns the status, the diagnostics joined by '\n' in msgs (caller frees). */
static ss_status parse_str(const char *text, const char *file, ss_sweep **out, char **msgs)
{
    ss_diags d = {0};
    char *buf = NULL;
    size_t len = 0;
    ss_status st = ss_sweep_parse(text, strlen(text), file, out, &d);
    FILE *mem = open_memstream(&buf, &len);
    if (mem) {
        ss_diags_print(&d, "s.yaml", mem);
        fclose(mem);
    }
    ss_diags_free(&d);
    *msgs = buf;
    return st;
}

static const double *param_list(const ss_analysis_spec *a, const char *name, int *n)
{
    const ss_param_value *v = ss_analysis_param(a, name);
    CHECK_MSG(v != NULL, "analysis '%s' has no parameter '%s'", a->name, name);
    if (!v) return *n = 0, NULL;
    CHECK(v->type == SS_PARAM_FLOAT_LIST);
    *n = v->n_list;
    return v->list;
}

static double param_num(const ss_analysis_spec *a, const char *name)
{
    const ss_param_value *v = ss_analysis_param(a, name);
    CHECK_MSG(v != NULL, "analysis '%s' has no parameter '%s'", a->name, name);
    return v ? v->num : NAN;
}

static void check_path(const char *got, const char *rel_to_valid)
{
    char want[2400];
    snprintf(want, sizeof want, "%s/valid/%s", g_dir, rel_to_valid);
    CHECK_STREQ(got, want);
}

static void test_quickstart(void)
{
    ss_sweep *s = load_valid("quickstart.yaml");
    char path[2200], base[2200];
    if (!s) return;
    snprintf(path, sizeof path, "%s/valid/quickstart.yaml", g_dir);
    snprintf(base, sizeof base, "%s/valid", g_dir);
    CHECK_STREQ(s->file, path);
    CHECK_STREQ(s->base_dir, base);
    char *text = read_all(path);
    CHECK_STREQ(s->text, text);
    free(text);

    CHECK_STREQ(s->name, "quickstart");
    CHECK(s->seed == 1234);
    check_path(s->output, "../results/quickstart.h5");
    CHECK(s->backend == SS_BACKEND_CPU);
    CHECK(s->threads == 2);

    CHECK(s->n_models == 2);
    if (s->n_models == 2) {
        const ss_model_spec *m = &s->models[0];
        CHECK_STREQ(m->name, "minilm");
        CHECK_STREQ(m->path, "../data/model_a");
        check_path(m->resolved_path, "../data/model_a");
        CHECK(m->bos == SS_BOS_MODEL_DEFAULT);
        CHECK(m->max_tokens == 128);
        CHECK(m->truncate == 0);
        CHECK(m->loc.line == 10 && m->loc.col == 7);
        m = &s->models[1];
        CHECK_STREQ(m->name, "tiny.v2-b");
        CHECK_STREQ(m->path, "../data/model_b/");
        check_path(m->resolved_path, "../data/model_b/");
        CHECK(m->bos == SS_BOS_NONE);
        CHECK(m->max_tokens == 0);
        CHECK(m->truncate == 1);
    }

    CHECK(s->n_prompts == 4);
    if (s->n_prompts == 4) {
        const ss_prompt_spec *p = &s->prompts[0];
        CHECK_STREQ(p->name, "natural");
        CHECK(p->kind == SS_PROMPTS_NATURAL);
        CHECK(p->count == 40);
        CHECK(p->seed == 1234); /* the sweep seed */
        CHECK(p->token_id == -1);
        CHECK(p->path == NULL && p->resolved_path == NULL && p->field == NULL);
        CHECK(p->loc.line == 20 && p->loc.col == 7);
        p = &s->prompts[1];
        CHECK_STREQ(p->name, "rand");
        CHECK(p->kind == SS_PROMPTS_RANDOM);
        CHECK(p->count == 10 && p->length == 64 && p->seed == 7 && p->token_id == -1);
        p = &s->prompts[2];
        CHECK_STREQ(p->name, "rep");
        CHECK(p->kind == SS_PROMPTS_REPEATED);
        CHECK(p->count == 4 && p->length == 64 && p->seed == 1234 && p->token_id == 1012);
        p = &s->prompts[3];
        CHECK_STREQ(p->name, "mine");
        CHECK(p->kind == SS_PROMPTS_FILE);
        CHECK_STREQ(p->path, "../data/prompts.jsonl");
        check_path(p->resolved_path, "../data/prompts.jsonl");
        CHECK_STREQ(p->field, "body");
        CHECK(p->count == 0);
    }

    CHECK(s->n_encodings == 1);
    if (s->n_encodings == 1) CHECK_STREQ(s->encodings[0].name, "native");

    CHECK(s->n_analyses == 2);
    if (s->n_analyses == 2) {
        const ss_analysis_spec *a = &s->analyses[0];
        int n;
        CHECK_STREQ(a->name, "sink");
        CHECK_STREQ(a->type, "sink_rate");
        const ss_analysis_type *t = ss_analysis_find("sink_rate");
        CHECK(t && a->n_params == t->n_params);
        const double *eps = param_list(a, "epsilon", &n);
        CHECK(n == 2);
        if (n == 2) {
            CHECK_NEAR(eps[0], 0.3, 1e-15);
            CHECK_NEAR(eps[1], 0.5, 1e-15);
        }
        CHECK_NEAR(param_num(a, "k_store"), 8, 0);
        CHECK(ss_analysis_param(a, "min_queries") == NULL);
        CHECK(ss_analysis_param(a, "no_such_param") == NULL);
        a = &s->analyses[1];
        CHECK_STREQ(a->name, "top");
        CHECK_STREQ(a->type, "top_keys");
        CHECK_NEAR(param_num(a, "min_queries"), 2, 0);
        CHECK(a->loc.line == 43 && a->loc.col == 5);
    }
    ss_sweep_free(s);
}

static void test_minimal_defaults(void)
{
    ss_sweep *s = load_valid("minimal.yaml");
    if (!s) return;
    CHECK_STREQ(s->name, "minimal");
    CHECK(s->seed == 0);
    CHECK(s->output == NULL);
    CHECK(s->backend == SS_BACKEND_AUTO);
    CHECK(s->threads == 0);
    CHECK(s->frames.theta_c == 0.9 && s->frames.phi == 0.9 && s->frames.theta_b == 0.5 && s->frames.theta_d == 0.5);
    CHECK(s->frames.skip_layers == 2 && s->frames.bootstrap == 200 && s->frames.seed == 0);
    CHECK(s->n_models == 1);
    if (s->n_models == 1) {
        CHECK(s->models[0].bos == SS_BOS_MODEL_DEFAULT);
        CHECK(s->models[0].max_tokens == 0);
        CHECK(s->models[0].truncate == 0);
    }
    CHECK(s->n_prompts == 3);
    if (s->n_prompts == 3) {
        CHECK(s->prompts[0].kind == SS_PROMPTS_NATURAL);
        CHECK(s->prompts[0].count == 0 && s->prompts[0].seed == 0 && s->prompts[0].token_id == -1);
        CHECK(s->prompts[1].kind == SS_PROMPTS_FILE);
        CHECK(s->prompts[1].field == NULL); /* .txt: one prompt per line, no field */
        check_path(s->prompts[1].resolved_path, "../data/prompts.txt");
        CHECK(s->prompts[2].kind == SS_PROMPTS_FILE);
        CHECK_STREQ(s->prompts[2].field, "text"); /* the default column */
        CHECK(s->prompts[2].count == 0);
    }
    CHECK(s->n_encodings == 1);
    CHECK(s->n_analyses == 2);
    if (s->n_analyses == 2) {
        int n;
        const double *eps = param_list(&s->analyses[0], "epsilon", &n); /* default "[0.3]" */
        CHECK(n == 1);
        if (n == 1) CHECK_NEAR(eps[0], 0.3, 1e-15);
        CHECK_NEAR(param_num(&s->analyses[0], "k_store"), 4, 0);
        CHECK_NEAR(param_num(&s->analyses[1], "min_queries"), 4, 0);
    }
    ss_sweep_free(s);
}

static void test_wandb_form(void)
{
    ss_sweep *s = load_valid("wandb.yaml");
    if (!s) return;
    CHECK_STREQ(s->name, "wandb-style");
    CHECK(s->seed == 16);
    CHECK(s->threads == 0 && s->backend == SS_BACKEND_AUTO);
    /* frames: at the ends of its ranges */
    CHECK(s->frames.theta_c == 1.0 && s->frames.phi == 0.5 && s->frames.theta_b == 0.25 && s->frames.theta_d == 0.9);
    CHECK(s->frames.skip_layers == 1000 && s->frames.bootstrap == 0 && s->frames.seed == 18446744073709551615ULL);
    CHECK(s->n_models == 1);
    if (s->n_models == 1) {
        CHECK_STREQ(s->models[0].name, "a");
        CHECK(s->models[0].bos == SS_BOS_ADD);
        CHECK(s->models[0].max_tokens == 1000000);
    }
    CHECK(s->n_prompts == 2);
    if (s->n_prompts == 2) {
        CHECK(s->prompts[0].kind == SS_PROMPTS_RANDOM);
        CHECK(s->prompts[0].count == 1000000 && s->prompts[0].length == 2 && s->prompts[0].seed == 16);
        CHECK_STREQ(s->prompts[1].name, "2");
        CHECK(s->prompts[1].kind == SS_PROMPTS_REPEATED);
        CHECK(s->prompts[1].count == 1 && s->prompts[1].length == 1000000 && s->prompts[1].token_id == 0);
        CHECK(s->prompts[1].seed == UINT64_MAX);
    }
    CHECK(s->n_encodings == 1);
    if (s->n_encodings == 1) CHECK_STREQ(s->encodings[0].name, "native");
    CHECK(s->n_analyses == 3);
    if (s->n_analyses == 3) {
        int n;
        const double *eps = param_list(&s->analyses[0], "epsilon", &n); /* a single number is a 1-list */
        CHECK(n == 1);
        if (n == 1) CHECK_NEAR(eps[0], 0.25, 0);
        CHECK_NEAR(param_num(&s->analyses[0], "k_store"), 64, 0);
        eps = param_list(&s->analyses[1], "epsilon", &n);
        CHECK(n == 3);
        if (n == 3) {
            CHECK_NEAR(eps[0], 1e-3, 1e-18);
            CHECK_NEAR(eps[1], 0.999, 1e-15);
            CHECK_NEAR(eps[2], 0.5, 0);
        }
        CHECK_NEAR(param_num(&s->analyses[1], "k_store"), 1, 0);
        eps = param_list(&s->analyses[2], "epsilon", &n); /* through the alias *eps */
        CHECK(n == 1);
        if (n == 1) CHECK_NEAR(eps[0], 0.25, 0);
    }
    ss_sweep_free(s);
}

/* A sweep text around one model path and extra top-level lines. */
static void sweep_text(char *buf, size_t size, const char *model_path, const char *extra)
{
    snprintf(buf, size,
             "name: t\n%s"
             "grid:\n"
             "  model: [{name: a, path: '%s'}]\n"
             "  prompts: [{name: n, generator: natural}]\n"
             "  encoding: [native]\n"
             "analyses: [{name: s, type: top_keys}]\n",
             extra, model_path);
}

static void test_paths(void)
{
    char text[4096], abs_model[2200], cwd[1024], want[2400], *msgs = NULL;
    ss_sweep *s = NULL;
    snprintf(abs_model, sizeof abs_model, "%s/data/model_a", g_dir);
    CHECK(getcwd(cwd, sizeof cwd) != NULL);

    /* An absolute path stays as written; output is resolved against the file's directory. */
    sweep_text(text, sizeof text, abs_model, "output: out/r.h5\n");
    CHECK(parse_str(text, "/elsewhere/exp/s.yaml", &s, &msgs) == SS_OK);
    if (msgs && *msgs) fprintf(stderr, "%s", msgs);
    free(msgs);
    if (s) {
        CHECK_STREQ(s->base_dir, "/elsewhere/exp");
        CHECK_STREQ(s->models[0].path, abs_model);
        CHECK_STREQ(s->models[0].resolved_path, abs_model);
        CHECK_STREQ(s->output, "/elsewhere/exp/out/r.h5");
        ss_sweep_free(s);
        s = NULL;
    }
    /* A file in the root directory. */
    CHECK(parse_str(text, "/s.yaml", &s, &msgs) == SS_OK);
    free(msgs);
    if (s) {
        CHECK_STREQ(s->base_dir, "/");
        CHECK_STREQ(s->output, "/out/r.h5");
        ss_sweep_free(s);
        s = NULL;
    }
    /* No file name: the current directory. A relative file name: its directory under the current one. */
    CHECK(parse_str(text, NULL, &s, &msgs) == SS_OK);
    free(msgs);
    if (s) {
        CHECK_STREQ(s->base_dir, cwd);
        ss_sweep_free(s);
        s = NULL;
    }
    CHECK(parse_str(text, "sub/dir/s.yaml", &s, &msgs) == SS_OK);
    free(msgs);
    if (s) {
        snprintf(want, sizeof want, "%s/sub/dir", cwd);
        CHECK_STREQ(s->base_dir, want);
        CHECK_STREQ(s->file, "sub/dir/s.yaml");
        snprintf(want, sizeof want, "%s/sub/dir/out/r.h5", cwd);
        CHECK_STREQ(s->output, want);
        ss_sweep_free(s);
        s = NULL;
    }
}

/* The diagnostic lines produced for one sweep text contain `want` (or, when absent, not `want`). */
static void expect_diag(const char *text, const char *want, int present)
{
    ss_sweep *s = (ss_sweep *)&g_test_failures;
    char *msgs = NULL;
    ss_status st = parse_str(text, "s.yaml", &s, &msgs);
    CHECK(st == SS_ERR_INPUT);
    CHECK(s == NULL);
    if (st == SS_OK) ss_sweep_free(s);
    int found = msgs && strstr(msgs, want);
    CHECK_MSG(present ? found : !found, "%s '%s' in:\n%s", present ? "expected" : "did not expect", want,
              msgs ? msgs : "");
    free(msgs);
}

static void test_suggestions(void)
{
    char text[4096], model[2200], extra[256];
    snprintf(model, sizeof model, "%s/data/model_a", g_dir);
    struct {
        const char *key;
        const char *suggestion; /* NULL: the valid keys are listed instead */
    } cases[] = {
        {"nmae", "name"},           /* distance 2 */
        {"analysis", "analyses"},   /* distance 2 */
        {"xxanalysesxx", "analyses"}, /* distance 4 = a third of 12 */
        {"xxanalysesxxx", NULL},    /* distance 5 > 13/3 */
        {"x", NULL},                /* distance 3 */
        {"ab", NULL},               /* no one-letter edits of a two-letter key: distance must be < its length */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char want[256];
        snprintf(extra, sizeof extra, "%s: 1\n", cases[i].key);
        sweep_text(text, sizeof text, model, extra);
        if (cases[i].suggestion)
            snprintf(want, sizeof want, "s.yaml:2:1: unknown key '%s' in the sweep; did you mean '%s'?\n", cases[i].key,
                     cases[i].suggestion);
        else
            snprintf(want, sizeof want,
                     "s.yaml:2:1: unknown key '%s' in the sweep; valid keys are: name, seed, output, run, grid, "
                     "analyses, frames\n",
                     cases[i].key);
        expect_diag(text, want, 1);
    }
}

static void test_scalars(void)
{
    char text[4096], model[2200];
    ss_sweep *s = NULL;
    char *msgs = NULL;
    snprintf(model, sizeof model, "%s/data/model_a", g_dir);

    sweep_text(text, sizeof text, model, "seed: 18446744073709551616\n");
    expect_diag(text, "s.yaml:2:7: 'seed' must be at most 18446744073709551615, got 18446744073709551616\n", 1);
    sweep_text(text, sizeof text, model, "seed: '5'\n");
    expect_diag(text, "s.yaml:2:7: 'seed' must be an integer, got a string '5'\n", 1);
    sweep_text(text, sizeof text, model, "run: {threads: 99999999999999999999999}\n");
    expect_diag(text, "'threads' must be 'auto' or an integer in [1, 1024], got 99999999999999999999999\n", 1);
    sweep_text(text, sizeof text, model, "run: {threads: 1025}\n");
    expect_diag(text, "s.yaml:2:16: 'threads' must be 'auto' or an integer in [1, 1024], got 1025\n", 1);
    sweep_text(text, sizeof text, model, "run: {backend: cudaa}\n");
    expect_diag(text, "s.yaml:2:16: unknown backend 'cudaa'; did you mean 'cuda'?\n", 1);
    sweep_text(text, sizeof text, model, "output: null\n");
    expect_diag(text, "s.yaml:2:9: 'output' must be a string, got null\n", 1);

    /* Accepted forms: 0o octal seed, threads 1024, "-0", true/TRUE. */
    sweep_text(text, sizeof text, model, "seed: 0o17\nrun: {threads: 1024, backend: cuda}\n");
    CHECK(parse_str(text, "s.yaml", &s, &msgs) == SS_OK);
    free(msgs);
    if (s) {
        CHECK(s->seed == 15 && s->threads == 1024 && s->backend == SS_BACKEND_CUDA);
        ss_sweep_free(s);
        s = NULL;
    }

    /* A NUL byte inside the text is a syntax error, not the end of the text. */
    sweep_text(text, sizeof text, model, "");
    size_t len = strlen(text);
    text[5] = '\0';
    ss_diags d = {0};
    CHECK(ss_sweep_parse(text, len, "s.yaml", &s, &d) == SS_ERR_INPUT);
    CHECK(s == NULL);
    CHECK(d.n == 1);
    if (d.n == 1) {
        CHECK(strstr(d.items[0].msg, "YAML syntax error") != NULL);
        CHECK(d.items[0].loc.line == 1 && d.items[0].loc.col == 6);
    }
    ss_diags_free(&d);

    /* An unclosed flow sequence at the end of the file. */
    expect_diag("name: t\ngrid:\n  encoding: [native\n", "YAML syntax error: did not find expected ',' or ']'", 1);
}

static void test_diags_api(void)
{
    ss_diags d = {0};
    char *buf = NULL;
    size_t len = 0;
    ss_sweep *s = (ss_sweep *)&d;

    ss_diags_add(&d, (ss_loc){0, 0}, "no position %d", 1);
    ss_diags_add(&d, (ss_loc){3, 14}, "at %s", "3:14");
    FILE *mem = open_memstream(&buf, &len);
    CHECK(mem != NULL);
    if (mem) {
        ss_diags_print(&d, "f.yaml", mem);
        fclose(mem);
    }
    CHECK_STREQ(buf, "f.yaml: no position 1\nf.yaml:3:14: at 3:14\n");
    free(buf);

    /* Parsing appends to existing diagnostics and keeps them. */
    CHECK(ss_sweep_parse("name: [", 7, "x.yaml", &s, &d) == SS_ERR_INPUT);
    CHECK(s == NULL);
    CHECK(d.n == 3);
    CHECK_STREQ(d.items[0].msg, "no position 1");
    ss_diags_free(&d);
    CHECK(d.n == 0 && d.items == NULL);
    ss_diags_free(&d); /* twice is fine */

    /* A file that cannot be read: one diagnostic without a position. */
    s = (ss_sweep *)&d;
    CHECK(ss_sweep_load("/no/such/dir/sweep.yaml", &s, &d) == SS_ERR_IO);
    CHECK(s == NULL);
    CHECK(d.n == 1);
    if (d.n == 1) {
        CHECK(d.items[0].loc.line == 0 && d.items[0].loc.col == 0);
        CHECK(strstr(d.items[0].msg, "cannot open the sweep file") != NULL);
    }
    ss_diags_free(&d);

    CHECK_STREQ(ss_bos_policy_name(SS_BOS_MODEL_DEFAULT), "model_default");
    CHECK_STREQ(ss_bos_policy_name(SS_BOS_ADD), "bos");
    CHECK_STREQ(ss_bos_policy_name(SS_BOS_NONE), "none");
    CHECK(ss_analysis_param(NULL, "epsilon") == NULL);
    ss_sweep_free(NULL);
    ss_diags_free(NULL);
}

int main(int argc, char **argv)
{
    char cwd[1024];
    if (argc < 2) SKIP("usage: test_sweep_valid TESTS_SWEEP_DIR");
    if (argv[1][0] == '/' || !getcwd(cwd, sizeof cwd))
        snprintf(g_dir, sizeof g_dir, "%s", argv[1]);
    else
        snprintf(g_dir, sizeof g_dir, "%s/%s", cwd, argv[1]);
    size_t n = strlen(g_dir);
    while (n > 1 && g_dir[n - 1] == '/') g_dir[--n] = '\0';
    CHECK_MSG(ss_analysis_find("sink_rate") && ss_analysis_find("top_keys"),
              "these tests use the analysis types sink_rate and top_keys");

    test_quickstart();
    test_minimal_defaults();
    test_wandb_form();
    test_paths();
    test_suggestions();
    test_scalars();
    test_diags_api();
    TEST_END();
}
