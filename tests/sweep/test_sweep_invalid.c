/* test_sweep_invalid.c: every *.yaml file in the directory given as argv[1] must be rejected with exactly the
 * diagnostics written in its header comments, no more and no fewer:
 *
 *   # expect: LINE:COL: message     a diagnostic at LINE:COL with exactly this message
 *   # expect~: LINE:COL: text       a diagnostic at LINE:COL whose message contains `text`
 *
 * `{dir}` in an expectation stands for the absolute directory of the file (paths in messages are resolved
 * against it). The diagnostics are taken from ss_diags_print, so its "FILE:LINE:COL: message" format is tested
 * too, and they must come sorted by position. */
#include "test_util.h"

#include <dirent.h> /* opendir, readdir */
#include <stddef.h>
#include <unistd.h> /* getcwd */

#include "sweep.h"

#define MAX_LINES 128
#define LINE_MAX_LEN 1024

typedef struct {
    char text[LINE_MAX_LEN]; /* "LINE:COL: message" (exact) or "LINE:COL: " + substring */
    int substring;
    int matched;
} expectation;

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Replaces every "{dir}" in s (in place, bounded by size). */
static void expand_dir(char *s, size_t size, const char *dir)
{
    char out[LINE_MAX_LEN];
    size_t o = 0;
    for (const char *p = s; *p && o + 1 < sizeof out;) {
        if (!strncmp(p, "{dir}", 5)) {
            int w = snprintf(out + o, sizeof out - o, "%s", dir);
            o += w > 0 ? (size_t)w : 0;
            if (o >= sizeof out) o = sizeof out - 1;
            p += 5;
        } else {
            out[o++] = *p++;
        }
    }
    out[o] = '\0';
    snprintf(s, size, "%s", out);
}

static int read_expectations(const char *path, const char *dir, expectation *ex, int *n)
{
    FILE *f = fopen(path, "r");
    char line[LINE_MAX_LEN];
    *n = 0;
    if (!f) return 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        int sub = !strncmp(line, "# expect~: ", 11);
        if (!sub && strncmp(line, "# expect: ", 10) != 0) continue;
        if (*n == MAX_LINES) break;
        snprintf(ex[*n].text, sizeof ex[*n].text, "%s", line + (sub ? 11 : 10));
        expand_dir(ex[*n].text, sizeof ex[*n].text, dir);
        ex[*n].substring = sub;
        ex[*n].matched = 0;
        (*n)++;
    }
    fclose(f);
    return 1;
}

static int expectation_matches(const expectation *e, const char *got)
{
    if (!e->substring) return strcmp(e->text, got) == 0;
    /* "L:C: text": the position must be equal, the text contained in the message */
    const char *sep = strstr(e->text, ": ");
    if (!sep) return 0;
    size_t pos_len = (size_t)(sep - e->text) + 2;
    return strncmp(e->text, got, pos_len) == 0 && strstr(got + pos_len, sep + 2) != NULL;
}

/* Checks one file; returns the number of expectations it had (0 when it could not be read). */
static int check_file(const char *dir, const char *name)
{
    char path[4096];
    expectation ex[MAX_LINES];
    char *got[MAX_LINES];
    int got_matched[MAX_LINES] = {0};
    int n_ex = 0, n_got = 0, failures_before = g_test_failures;
    ss_diags d = {0};
    ss_sweep *s = (ss_sweep *)&d; /* any non-NULL value: the parser must set it to NULL */
    char *buf = NULL;
    size_t buf_len = 0;

    snprintf(path, sizeof path, "%s/%s", dir, name);
    CHECK_MSG(read_expectations(path, dir, ex, &n_ex), "%s: cannot read", path);
    CHECK_MSG(n_ex > 0, "%s: no '# expect:' lines", path);

    ss_status st = ss_sweep_load(path, &s, &d);
    CHECK_MSG(st == SS_ERR_INPUT, "%s: status %s, expected %s", name, ss_status_name(st), ss_status_name(SS_ERR_INPUT));
    CHECK_MSG(s == NULL, "%s: the sweep must be NULL on error", name);
    if (st == SS_OK) ss_sweep_free(s);

    /* The diagnostics as the CLI prints them, "PATH:LINE:COL: message", with "PATH:" checked and stripped. */
    FILE *mem = open_memstream(&buf, &buf_len);
    CHECK(mem != NULL);
    if (mem) {
        ss_diags_print(&d, path, mem);
        fclose(mem);
    }
    size_t plen = strlen(path);
    for (char *line = buf ? strtok(buf, "\n") : NULL; line && n_got < MAX_LINES; line = strtok(NULL, "\n")) {
        CHECK_MSG(!strncmp(line, path, plen) && line[plen] == ':', "%s: printed line without the file prefix: %s",
                  name, line);
        got[n_got++] = line[plen] == ':' ? line + plen + 1 : line;
    }
    CHECK_MSG(n_got == d.n, "%s: %d diagnostics but %d printed lines", name, d.n, n_got);

    /* Sorted by position. */
    for (int i = 1; i < d.n; i++) {
        ss_loc a = d.items[i - 1].loc, b = d.items[i].loc;
        CHECK_MSG(a.line < b.line || (a.line == b.line && a.col <= b.col), "%s: diagnostics not sorted at %d:%d", name,
                  b.line, b.col);
    }

    /* Exact expectations first, so that a substring one cannot take a line an exact one needs. */
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < n_ex; i++) {
            if (ex[i].substring != pass) continue;
            for (int j = 0; j < n_got && !ex[i].matched; j++)
                if (!got_matched[j] && expectation_matches(&ex[i], got[j])) ex[i].matched = got_matched[j] = 1;
        }
    for (int i = 0; i < n_ex; i++) CHECK_MSG(ex[i].matched, "%s: missing diagnostic: %s", name, ex[i].text);
    for (int j = 0; j < n_got; j++) CHECK_MSG(got_matched[j], "%s: unexpected diagnostic: %s", name, got[j]);

    if (g_test_failures != failures_before) {
        fprintf(stderr, "---- %s produced:\n", name);
        for (int j = 0; j < n_got; j++) fprintf(stderr, "  %s\n", got[j]);
    } else {
        printf("ok  %-40s %d diagnostic%s\n", name, n_got, n_got == 1 ? "" : "s");
    }
    free(buf);
    ss_diags_free(&d);
    return n_ex;
}

int main(int argc, char **argv)
{
    char dir[2048], cwd[1024];
    char *names[256];
    int n = 0, most = 0;

    if (argc < 2) SKIP("usage: test_sweep_invalid DIR");
    /* Absolute, as the parser makes the sweep file's directory. */
    if (argv[1][0] == '/' || !getcwd(cwd, sizeof cwd))
        snprintf(dir, sizeof dir, "%s", argv[1]);
    else
        snprintf(dir, sizeof dir, "%s/%s", cwd, argv[1]);
    size_t dl = strlen(dir);
    while (dl > 1 && dir[dl - 1] == '/') dir[--dl] = '\0';

    DIR *dp = opendir(dir);
    CHECK_MSG(dp != NULL, "cannot open %s", dir);
    if (!dp) TEST_END();
    for (struct dirent *e; (e = readdir(dp)) && n < 256;) {
        size_t l = strlen(e->d_name);
        if (l > 5 && !strcmp(e->d_name + l - 5, ".yaml")) names[n++] = strdup(e->d_name);
    }
    closedir(dp);
    qsort(names, (size_t)n, sizeof *names, cmp_str);

    for (int i = 0; i < n; i++) {
        int k = check_file(dir, names[i]);
        if (k > most) most = k;
        free(names[i]);
    }
    printf("%d invalid sweep files checked\n", n);
    CHECK_MSG(n >= 20, "only %d invalid sweep files in %s (at least 20 expected)", n, dir);
    CHECK_MSG(most >= 5, "no invalid file with several errors at once (most: %d)", most);
    TEST_END();
}
