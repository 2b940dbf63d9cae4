/* test_prompts_natural.c: the built-in natural-text set. The source file is read here with its own
 * line splitter and word counter, and compared with what the library compiled in. */
#include <ctype.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prompts.h"
#include "test_util.h"

enum { MAX_LINES = 4096, MAX_FIELDS = 64 };

/* Words = maximal runs of non-whitespace characters. */
static int count_words(const char *s)
{
    int n = 0, in_word = 0;
    for (; *s; s++) {
        int space = isspace((unsigned char)*s);
        if (!space && !in_word) n++;
        in_word = !space;
    }
    return n;
}

int main(void)
{
    const char *src = test_env("SS_SOURCE_DIR", NULL);
    if (!src) SKIP("SS_SOURCE_DIR is not set (run through ctest)");
    char path[1024];
    snprintf(path, sizeof path, "%s/experiments/data/natural.txt", src);
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "cannot open %s\n", path);
        return 1;
    }

    /* the sentences and field groups as the file has them */
    static char lines[MAX_LINES][1024];
    static char fields[MAX_FIELDS][64];
    int n_lines = 0, n_fields = 0, have_field = 0;
    char buf[1024];
    while (fgets(buf, sizeof buf, f)) {
        size_t len = strlen(buf);
        CHECK_MSG(len + 1 < sizeof buf, "line too long in %s", path);
        while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r')) buf[--len] = '\0';
        if (len == 0) continue;
        if (buf[0] == '#') {
            const char *tag = "# field:";
            if (strncmp(buf, tag, strlen(tag)) == 0) {
                const char *name = buf + strlen(tag);
                while (*name == ' ') name++;
                have_field = 1;
                int known = 0;
                for (int k = 0; k < n_fields; k++) known |= strcmp(fields[k], name) == 0;
                if (!known && n_fields < MAX_FIELDS) snprintf(fields[n_fields++], sizeof fields[0], "%.63s", name);
            }
            continue;
        }
        CHECK_MSG(have_field, "sentence before any '# field:' comment: %s", buf);
        if (n_lines < MAX_LINES) snprintf(lines[n_lines++], sizeof lines[0], "%s", buf);
    }
    fclose(f);

    printf("natural.txt: %d sentences, %d fields\n", n_lines, n_fields);
    CHECK_MSG(n_lines >= 240, "only %d sentences", n_lines);
    CHECK_MSG(n_fields >= 6, "only %d field groups", n_fields);

    /* the compiled-in copy matches the file, line for line */
    CHECK_MSG(ss_natural_count() == n_lines, "compiled in %d, file has %d", ss_natural_count(), n_lines);
    int n = ss_natural_count() < n_lines ? ss_natural_count() : n_lines;
    int bad_len = 0, mismatch = 0;
    long words_total = 0;
    int classes[4] = {0};
    for (int i = 0; i < n; i++) {
        const char *s = ss_natural_text(i);
        if (!s || strcmp(s, lines[i]) != 0) {
            if (mismatch++ < 3) fprintf(stderr, "sentence %d differs: '%s' vs '%s'\n", i, s ? s : "(null)", lines[i]);
            continue;
        }
        int w = count_words(s);
        words_total += w;
        if (w < 8 || w > 50) {
            if (bad_len++ < 5) fprintf(stderr, "sentence %d has %d words: %s\n", i, w, s);
        }
        classes[w <= 18 ? 0 : w <= 27 ? 1 : w <= 37 ? 2 : 3]++;
        CHECK_MSG(strchr(s, '\t') == NULL && strchr(s, '\n') == NULL && strchr(s, '\r') == NULL,
                  "sentence %d has a tab or line break", i);
    }
    CHECK(mismatch == 0);
    CHECK(bad_len == 0);
    CHECK(ss_natural_text(-1) == NULL);
    CHECK(ss_natural_text(ss_natural_count()) == NULL);
    /* a spread of lengths: every class holds at least a sixth of the set */
    for (int c = 0; c < 4; c++) CHECK_MSG(classes[c] * 6 >= n, "length class %d has %d sentences", c, classes[c]);
    if (n) printf("mean words per sentence: %.1f\n", (double)words_total / n);

    /* the first 40: all four length classes, at least 6 fields */
    int first_classes[4] = {0};
    for (int i = 0; i < 40 && i < n; i++) {
        int w = count_words(lines[i]);
        first_classes[w <= 18 ? 0 : w <= 27 ? 1 : w <= 37 ? 2 : 3]++;
    }
    for (int c = 0; c < 4; c++) CHECK_MSG(first_classes[c] >= 5, "first 40: class %d has %d", c, first_classes[c]);

    /* as a prompt set: first count, all, too many */
    ss_prompt_spec spec;
    memset(&spec, 0, sizeof spec);
    spec.name = "nat";
    spec.kind = SS_PROMPTS_NATURAL;
    spec.token_id = -1;
    ss_prompt_set *ps = NULL;
    spec.count = 10;
    CHECK(ss_prompts_open(&spec, &ps) == SS_OK);
    CHECK(ss_prompts_count(ps) == 10);
    if (ps && n > 9) {
        CHECK_STREQ(ss_prompts_text(ps, 9), lines[9]);
        CHECK(ss_prompts_text(ps, 10) == NULL);
    }
    ss_prompts_free(ps);
    ps = NULL;
    spec.count = 0;
    CHECK(ss_prompts_open(&spec, &ps) == SS_OK);
    CHECK(ss_prompts_count(ps) == n_lines);
    if (ps && n_lines > 0) CHECK_STREQ(ss_prompts_text(ps, n_lines - 1), lines[n_lines - 1]);
    ss_prompts_free(ps);
    ps = NULL;
    spec.count = n_lines + 1;
    ss_clear_error();
    CHECK(ss_prompts_open(&spec, &ps) == SS_ERR_INPUT);
    CHECK(ps == NULL);
    char num[32];
    snprintf(num, sizeof num, "%d", n_lines);
    CHECK_MSG(strstr(ss_errmsg(), num) != NULL, "message '%s' lacks the set size", ss_errmsg());
    TEST_END();
}
