/* test_prompts_files.c: .txt / .jsonl / .csv prompt files through ss_prompts_open, with the tricky
 * cases written byte by byte into a temporary directory (CRLF, BOM, quoting, bad UTF-8, ...). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "prompts.h"
#include "test_util.h"

static char g_dir[64];
static char g_paths[64][256];
static int g_n_paths;

/* Writes len bytes to <tmpdir>/name and returns the path (kept until the end of the test). */
static const char *write_file(const char *name, const char *bytes, size_t len)
{
    char *p = g_paths[g_n_paths++];
    snprintf(p, sizeof g_paths[0], "%s/%s", g_dir, name);
    FILE *f = fopen(p, "wb");
    if (!f) {
        fprintf(stderr, "cannot write %s\n", p);
        exit(1);
    }
    fwrite(bytes, 1, len, f);
    fclose(f);
    return p;
}
#define WRITE(name, lit) write_file(name, lit, sizeof lit - 1)

static ss_prompt_spec file_spec(const char *path, const char *field, int count)
{
    ss_prompt_spec s;
    memset(&s, 0, sizeof s);
    s.name = "test";
    s.kind = SS_PROMPTS_FILE;
    s.path = (char *)path;
    s.resolved_path = (char *)path;
    s.field = (char *)field;
    s.count = count;
    s.token_id = -1;
    return s;
}

/* Opens path; expects success with n prompts; the set is returned for content checks. */
static ss_prompt_set *open_ok(const char *path, const char *field, int count, int n_expected)
{
    ss_prompt_spec s = file_spec(path, field, count);
    ss_prompt_set *ps = NULL;
    ss_status st = ss_prompts_open(&s, &ps);
    CHECK_MSG(st == SS_OK, "%s: %s", path, ss_errmsg());
    if (st != SS_OK) return NULL;
    CHECK_MSG(ss_prompts_count(ps) == n_expected, "%s: %d prompts, expected %d", path, ss_prompts_count(ps),
              n_expected);
    return ps;
}

/* Expects failure with code st_expected and a message containing every non-NULL needle. */
static void open_fails(const char *path, const char *field, int count, ss_status st_expected, const char *needle1,
                       const char *needle2, const char *needle3)
{
    ss_prompt_spec s = file_spec(path, field, count);
    ss_prompt_set *ps = NULL;
    ss_clear_error();
    ss_status st = ss_prompts_open(&s, &ps);
    CHECK_MSG(st == st_expected, "%s: status %s, expected %s (%s)", path, ss_status_name(st),
              ss_status_name(st_expected), ss_errmsg());
    CHECK(ps == NULL);
    printf("expected error: %s\n", ss_errmsg());
    const char *needles[3] = {needle1, needle2, needle3};
    for (int k = 0; k < 3; k++)
        if (needles[k])
            CHECK_MSG(strstr(ss_errmsg(), needles[k]) != NULL, "message '%s' lacks '%s'", ss_errmsg(), needles[k]);
    ss_prompts_free(ps);
}

static void test_txt(void)
{
    /* CRLF, blank and whitespace-only lines skipped, inner spaces kept, no final newline */
    const char *p = WRITE("a.txt", "first line\r\n\r\nsecond line  \n \t \n  third\nlast");
    ss_prompt_set *ps = open_ok(p, NULL, 0, 4);
    if (ps) {
        CHECK_STREQ(ss_prompts_text(ps, 0), "first line");
        CHECK_STREQ(ss_prompts_text(ps, 1), "second line  ");
        CHECK_STREQ(ss_prompts_text(ps, 2), "  third");
        CHECK_STREQ(ss_prompts_text(ps, 3), "last");
        CHECK(ss_prompts_text(ps, 4) == NULL);
        CHECK(ss_prompts_text(ps, -1) == NULL);
    }
    ss_prompts_free(ps);

    /* count takes the first N */
    ps = open_ok(p, NULL, 2, 2);
    if (ps) CHECK_STREQ(ss_prompts_text(ps, 1), "second line  ");
    ss_prompts_free(ps);
    open_fails(p, NULL, 10, SS_ERR_INPUT, "holds 4 prompt", "count is 10", "a.txt");

    /* BOM stripped; accented text kept as UTF-8; '#' lines are prompts in a file */
    p = WRITE("bom.txt", "\xEF\xBB\xBF"
                         "caf\xC3\xA9 au lait\n# not a comment here\n\xF0\x9F\x98\x80 emoji\n");
    ps = open_ok(p, NULL, 0, 3);
    if (ps) {
        CHECK_STREQ(ss_prompts_text(ps, 0), "caf\xC3\xA9 au lait");
        CHECK_STREQ(ss_prompts_text(ps, 1), "# not a comment here");
        CHECK_STREQ(ss_prompts_text(ps, 2), "\xF0\x9F\x98\x80 emoji");
    }
    ss_prompts_free(ps);

    /* invalid UTF-8: a lone continuation byte, an overlong '/', a surrogate, a truncated sequence */
    p = WRITE("bad1.txt", "ok\nfine\nbad \x80 byte\n");
    open_fails(p, NULL, 0, SS_ERR_INPUT, "bad1.txt:3:", "invalid UTF-8", "0x80");
    p = WRITE("bad2.txt", "\xC0\xAF\n");
    open_fails(p, NULL, 0, SS_ERR_INPUT, "bad2.txt:1:", "invalid UTF-8", NULL);
    p = WRITE("bad3.txt", "a\n\xED\xA0\x80\n");
    open_fails(p, NULL, 0, SS_ERR_INPUT, "bad3.txt:2:", "invalid UTF-8", NULL);
    p = WRITE("bad4.txt", "a\nb\nc\nend \xE2\x82");
    open_fails(p, NULL, 0, SS_ERR_INPUT, "bad4.txt:4:", "invalid UTF-8", NULL);
    p = write_file("nul.txt", "a\nb\0c\n", 6);
    open_fails(p, NULL, 0, SS_ERR_INPUT, "nul.txt:2:", "NUL", NULL);

    /* empty and blank-only files */
    p = WRITE("empty.txt", "");
    open_fails(p, NULL, 0, SS_ERR_INPUT, "empty.txt", "no prompts", NULL);
    p = WRITE("blank.txt", "\n\r\n   \n");
    open_fails(p, NULL, 0, SS_ERR_INPUT, "blank.txt", "no prompts", NULL);

    /* missing file, unknown extension, negative count */
    char missing[300];
    snprintf(missing, sizeof missing, "%s/does_not_exist.txt", g_dir);
    open_fails(missing, NULL, 0, SS_ERR_IO, "does_not_exist.txt", NULL, NULL);
    p = WRITE("prompts.xml", "<a/>\n");
    open_fails(p, NULL, 0, SS_ERR_INPUT, "prompts.xml", ".jsonl", NULL);
    p = WRITE("neg.txt", "a\n");
    open_fails(p, NULL, -1, SS_ERR_INPUT, "count", NULL, NULL);
}

static void test_jsonl(void)
{
    /* unicode escapes (BMP and a surrogate pair), CRLF, blank lines, key order, extra fields */
    const char *p = WRITE("a.jsonl", "{\"text\": \"caf\\u00e9 \\ud83d\\ude00\", \"id\": 1}\r\n"
                                     "\n"
                                     "{\"id\": 2, \"text\": \"tab\\there \\\"quoted\\\"\"}\n"
                                     "   \n"
                                     "{\"text\": \"line\\nbreak\", \"prompt\": \"other\"}");
    ss_prompt_set *ps = open_ok(p, NULL, 0, 3);
    if (ps) {
        CHECK_STREQ(ss_prompts_text(ps, 0), "caf\xC3\xA9 \xF0\x9F\x98\x80");
        CHECK_STREQ(ss_prompts_text(ps, 1), "tab\there \"quoted\"");
        CHECK_STREQ(ss_prompts_text(ps, 2), "line\nbreak");
    }
    ss_prompts_free(ps);

    /* a custom field */
    p = WRITE("b.jsonl", "{\"prompt\": \"one\", \"text\": 5}\n{\"prompt\": \"two\"}\n");
    ps = open_ok(p, "prompt", 0, 2);
    if (ps) CHECK_STREQ(ss_prompts_text(ps, 1), "two");
    ss_prompts_free(ps);
    open_fails(p, NULL, 0, SS_ERR_INPUT, "b.jsonl:1:", "field 'text' is not a string", "integer");
    open_fails(p, NULL, 3, SS_ERR_INPUT, "b.jsonl:1:", NULL, NULL); /* errors before counting */
    ps = open_ok(p, "prompt", 1, 1);
    ss_prompts_free(ps);
    open_fails(p, "prompt", 5, SS_ERR_INPUT, "holds 2 prompt", "count is 5", NULL);

    /* missing field, bad JSON, not an object, duplicates, empty string, lone surrogate */
    p = WRITE("c.jsonl", "{\"text\": \"ok\"}\n{\"txt\": \"typo\"}\n");
    open_fails(p, NULL, 0, SS_ERR_INPUT, "c.jsonl:2:", "field 'text' is missing", NULL);
    p = WRITE("d.jsonl", "{\"text\": \"ok\"}\n\n{\"text\": \"unterminated}\n");
    open_fails(p, NULL, 0, SS_ERR_INPUT, "d.jsonl:3:", "invalid JSON", NULL);
    p = WRITE("e.jsonl", "[\"text\", \"a list\"]\n");
    open_fails(p, NULL, 0, SS_ERR_INPUT, "e.jsonl:1:", "object", "an array");
    p = WRITE("f.jsonl", "{\"text\": \"a\", \"text\": \"b\"}\n");
    open_fails(p, NULL, 0, SS_ERR_INPUT, "f.jsonl:1:", "invalid JSON", NULL);
    p = WRITE("g.jsonl", "{\"text\": \"\"}\n");
    open_fails(p, NULL, 0, SS_ERR_INPUT, "g.jsonl:1:", "empty", NULL);
    p = WRITE("h.jsonl", "{\"text\": \"a\"}\n{\"text\": \"\\ud800 alone\"}\n");
    open_fails(p, NULL, 0, SS_ERR_INPUT, "h.jsonl:2:", "invalid JSON", NULL);
    p = WRITE("i.jsonl", "{\"text\": null}\n");
    open_fails(p, NULL, 0, SS_ERR_INPUT, "i.jsonl:1:", "not a string", "null");
    p = WRITE("j.jsonl", "{\"text\": \"a\"}\n{\"text\": \"\xFF\"}\n");
    open_fails(p, NULL, 0, SS_ERR_INPUT, "j.jsonl:2:", "invalid UTF-8", NULL);
    p = WRITE("k.jsonl", "{\"text\": \"a\"} {\"text\": \"b\"}\n");
    open_fails(p, NULL, 0, SS_ERR_INPUT, "k.jsonl:1:", "invalid JSON", NULL);
    p = WRITE("empty.jsonl", "\n\n");
    open_fails(p, NULL, 0, SS_ERR_INPUT, "empty.jsonl", "no prompts", NULL);
}

static void test_csv(void)
{
    /* quoted commas, doubled quotes, newlines (LF and CRLF) inside quotes, empty fields, CRLF
     * record ends, a blank line, and no final newline */
    const char *p = WRITE("a.csv", "id,text,note\r\n"
                                   "1,\"Hello, world\",x\r\n"
                                   "2,\"She said \"\"hi\"\"\",\r\n"
                                   "3,\"line one\nline two\",\"n,\"\r\n"
                                   "\r\n"
                                   "4,\"crlf\r\ninside\",\"\"\r\n"
                                   "5,plain text,y");
    ss_prompt_set *ps = open_ok(p, NULL, 0, 5);
    if (ps) {
        CHECK_STREQ(ss_prompts_text(ps, 0), "Hello, world");
        CHECK_STREQ(ss_prompts_text(ps, 1), "She said \"hi\"");
        CHECK_STREQ(ss_prompts_text(ps, 2), "line one\nline two");
        CHECK_STREQ(ss_prompts_text(ps, 3), "crlf\r\ninside");
        CHECK_STREQ(ss_prompts_text(ps, 4), "plain text");
    }
    ss_prompts_free(ps);
    /* an empty cell in the chosen column is an error naming the record's first line */
    open_fails(p, "note", 0, SS_ERR_INPUT, "a.csv:3:", "column 'note' is empty", NULL);
    ps = open_ok(p, "id", 3, 3);
    if (ps) CHECK_STREQ(ss_prompts_text(ps, 2), "3");
    ss_prompts_free(ps);
    open_fails(p, NULL, 6, SS_ERR_INPUT, "holds 5 prompt", "count is 6", NULL);

    /* a quoted header, a single column, BOM */
    p = WRITE("b.csv", "\xEF\xBB\xBF\"text\"\nalpha\n\"beta, gamma\"\n");
    ps = open_ok(p, NULL, 0, 2);
    if (ps) {
        CHECK_STREQ(ss_prompts_text(ps, 0), "alpha");
        CHECK_STREQ(ss_prompts_text(ps, 1), "beta, gamma");
    }
    ss_prompts_free(ps);

    /* errors after a multi-line record name the right line */
    p = WRITE("c.csv", "text,n\n\"two\nlines\",1\nthree,fields,here\n");
    open_fails(p, NULL, 0, SS_ERR_INPUT, "c.csv:4:", "3 field(s)", "header has 2");
    p = WRITE("d.csv", "id,prompt,label\n1,a,b\n");
    open_fails(p, NULL, 0, SS_ERR_INPUT, "no column 'text'", "'id', 'prompt', 'label'", NULL);
    p = WRITE("e.csv", "text\nfine\n\"never closed\nmore\n");
    open_fails(p, NULL, 0, SS_ERR_INPUT, "e.csv:3:", "unterminated", NULL);
    p = WRITE("f.csv", "text,x\nsay \"hi\",1\n");
    open_fails(p, NULL, 0, SS_ERR_INPUT, "f.csv:2:", "quote inside an unquoted field", NULL);
    p = WRITE("g.csv", "text,x\n\"closed\"junk,1\n");
    open_fails(p, NULL, 0, SS_ERR_INPUT, "g.csv:2:", "after a closing quote", NULL);
    p = WRITE("h.csv", "text,x\n");
    open_fails(p, NULL, 0, SS_ERR_INPUT, "h.csv", "no prompts", NULL);
    p = WRITE("i.csv", "");
    open_fails(p, NULL, 0, SS_ERR_INPUT, "i.csv", NULL, NULL);
    p = WRITE("j.csv", "text,text\na,b\n");
    open_fails(p, NULL, 0, SS_ERR_INPUT, "j.csv:1:", "more than once", NULL);
    p = WRITE("k.csv", "text\nok\n\"caf\xC3\"\n");
    open_fails(p, NULL, 0, SS_ERR_INPUT, "k.csv:3:", "invalid UTF-8", NULL);
}

int main(void)
{
    snprintf(g_dir, sizeof g_dir, "/tmp/ss_prompts_files_XXXXXX");
    if (!mkdtemp(g_dir)) {
        perror("mkdtemp");
        return 1;
    }
    test_txt();
    test_jsonl();
    test_csv();
    for (int i = 0; i < g_n_paths; i++) unlink(g_paths[i]);
    rmdir(g_dir);
    TEST_END();
}
