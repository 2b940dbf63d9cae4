/* test_tables.c: the report's statistics (engine/report_stats.c) and table writers (engine/report_tables.c).
 *
 *   - ss_summarise on hand values (NaN and inf skipped, n = 1, n = 0, a large offset);
 *   - ss_t_quantile975 against published quantiles to 1e-8, monotone in ν, continuous where the method changes;
 *   - ss_format_number (rounding, -0, inf, NaN, digit clamping);
 *   - a table with text, numbers, intervals, NaN, inf, marked cells and token strings with odd characters, written
 *     as LaTeX, Markdown and CSV: the Markdown and LaTeX cells are parsed back (escapes undone) and must equal the
 *     same expected strings (so the two show the same values), the numbers must be within half a unit of the last
 *     digit of the value; the CSV is parsed back by an RFC 4180 reader (quoted fields, units in the header);
 *   - errors: an unwritable directory gives SS_ERR_IO naming the path; bad names give SS_ERR_INPUT;
 *   - pdflatex compiles every standalone table and the master report.tex (skipped, exit 77, without pdflatex,
 *     after everything else has passed). The files are removed on success unless SS_TEST_KEEP is set. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "report_stats.h"
#include "report_tables.h"
#include "test_util.h"

/* ------------------------------------------------------------------ statistics */

static void test_summary(void)
{
    double x[] = {1, 2, 3, 4, 5, NAN, INFINITY};
    ss_summary s = ss_summarise(x, 7);
    CHECK(s.n == 5);
    CHECK_NEAR(s.mean, 3.0, 1e-15);
    CHECK_NEAR(s.sd, sqrt(2.5), 1e-15);
    CHECK_NEAR(s.half, 2.776445105197799 * sqrt(2.5) / sqrt(5.0), 1e-9); /* t_{0.975,4} s / √n */

    double one[] = {NAN, 7.5};
    s = ss_summarise(one, 2);
    CHECK(s.n == 1 && s.mean == 7.5 && isnan(s.sd) && isnan(s.half));

    double none[] = {NAN, -INFINITY};
    s = ss_summarise(none, 2);
    CHECK(s.n == 0 && isnan(s.mean) && isnan(s.sd) && isnan(s.half));
    s = ss_summarise(NULL, 0);
    CHECK(s.n == 0 && isnan(s.mean));

    double big[] = {1e9 + 1, 1e9 + 2, 1e9 + 3}; /* the variance must not cancel away */
    s = ss_summarise(big, 3);
    CHECK_NEAR(s.mean, 1e9 + 2, 1e-6);
    CHECK_NEAR(s.sd, 1.0, 1e-9);
    CHECK_NEAR(s.half, 4.302652729749464 / sqrt(3.0), 1e-8);

    double pair[] = {0.0, 2.0}; /* n = 2: mean 1, s = √2, half = 12.706 · √2 / √2 */
    s = ss_summarise(pair, 2);
    CHECK_NEAR(s.half, 12.706204736174707, 1e-9);
}

static void test_t_quantiles(void)
{
    static const struct {
        int nu;
        double t;
    } known[] = {{1, 12.706204736}, {2, 4.302652730}, {3, 3.182446305}, {4, 2.776445105}, {5, 2.570581836},
                 {10, 2.228138852}, {30, 2.042272456}, {100, 1.983971519}, {1000, 1.962339081},
                 {10000, 1.960201240}, {2147483647, 1.959963985}};
    for (size_t k = 0; k < sizeof known / sizeof *known; k++)
        CHECK_NEAR(ss_t_quantile975(known[k].nu), known[k].t, 1e-8);
    CHECK(isnan(ss_t_quantile975(0)) && isnan(ss_t_quantile975(-3)));
    double prev = INFINITY;
    for (int nu = 1; nu <= 300; nu++) {
        double t = ss_t_quantile975(nu);
        CHECK_MSG(t < prev && t > 1.959963984, "nu %d: t %.12f after %.12f", nu, t, prev);
        prev = t;
    }
    /* the exact method stops at ν = 1e5, the expansion takes over: no step beyond the slope (≈ −2.4e-10 per ν) */
    double a = ss_t_quantile975(100000), b = ss_t_quantile975(100001);
    CHECK(a > b && a - b < 1e-9);
}

static void test_format_number(void)
{
    char s[64];
    ss_format_number(3.14159, 2, s, sizeof s);
    CHECK_STREQ(s, "3.14");
    ss_format_number(-1.25, 1, s, sizeof s);
    CHECK_STREQ(s, "-1.2"); /* -1.25 is exact in binary: printf's round-half-even */
    ss_format_number(-0.0004, 2, s, sizeof s);
    CHECK_STREQ(s, "0.00");
    ss_format_number(-0.0, 0, s, sizeof s);
    CHECK_STREQ(s, "0");
    ss_format_number(NAN, 3, s, sizeof s);
    CHECK_STREQ(s, "");
    ss_format_number(-INFINITY, 3, s, sizeof s);
    CHECK_STREQ(s, "-inf");
    ss_format_number(12.6, -3, s, sizeof s);
    CHECK_STREQ(s, "13");
    ss_format_number(1234567.891, 3, s, 6); /* cut, terminated */
    CHECK_STREQ(s, "12345");
}

/* ------------------------------------------------------------------ the test table */

enum { COL_MODEL, COL_ANCHOR, COL_SINK, COL_ENT, COL_COUNT, COL_NOTE, N_COLS };

/* Anchor strings: what the table gets, and the cleaned text every format must show. */
static const struct {
    const char *in, *clean;
} k_anchor[] = {
    {"\xc4\xa0the", "\xc4\xa0the"},                 /* Ġthe (GPT-2 byte-level space) */
    {"\xe2\x96\x81the", "\xe2\x96\x81the"},         /* ▁the (SentencePiece) */
    {"##ing", "##ing"},
    {"<s>", "<s>"},
    {"[CLS]", "[CLS]"},
    {"a&b%c$d#e_f{g}h~i^j\\k", "a&b%c$d#e_f{g}h~i^j\\k"},
    {"--x---y``q''!`,,", "--x---y``q''!`,,"},
    {"100% (\xc2\xb1" "2) \xe2\x80\xa0", "100% (\xc2\xb1" "2) \xe2\x80\xa0"}, /* ± and † in text */
    {"\xce\xb1\xe2\x86\x92\xce\xb2 \xe2\x89\xa4 \xce\xa9", "\xce\xb1\xe2\x86\x92\xce\xb2 \xe2\x89\xa4 \xce\xa9"},
    {"e\xffx\xc3", "e\xef\xbf\xbdx\xef\xbf\xbd"},   /* invalid UTF-8 -> U+FFFD */
    {"tab\there\nnl", "tab here nl"},               /* controls -> spaces */
    {"\xe6\x97\xa5\xe6\x9c\xac \xc4\xa6 \xf0\x9f\x98\x80", "\xe6\x97\xa5\xe6\x9c\xac \xc4\xa6 \xf0\x9f\x98\x80"},
    {"*star |pipe|", "*star |pipe|"},
    {"comma, and \"quote\"", "comma, and \"quote\""},
    {"<U+2581> caf\xc3\xa9 \xc3\x9f", "<U+2581> caf\xc3\xa9 \xc3\x9f"},
    {"", ""},
};
#define N_ROWS ((int)(sizeof k_anchor / sizeof *k_anchor))

static ss_status build_table(ss_table *t)
{
    ss_status st = ss_table_init(t, "tab_main", "Sink rates & entropy (\xc2\xb1 95% CI)", N_COLS, N_ROWS);
    if (st != SS_OK) return st;
    snprintf(t->caption, sizeof t->caption,
             "Mean over prompts \xc2\xb1 t-based 95%% half-width; -- = no data; tokens like \xe2\x96\x81 and "
             "\xc4\xa0 are shown as the tokenizer writes them. Sink_1^0.3 is in %%, entropy in nats.");
    ss_column *c = t->cols;
    snprintf(c[COL_MODEL].header, sizeof c->header, "Model");
    c[COL_MODEL].align_left = 1;
    snprintf(c[COL_ANCHOR].header, sizeof c->header, "Anchor");
    c[COL_ANCHOR].align_left = 1;
    snprintf(c[COL_SINK].header, sizeof c->header, "Sink_1^0.3");
    snprintf(c[COL_SINK].header_tex, sizeof c->header_tex, "$\\mathrm{Sink}_1^{0.3}$");
    snprintf(c[COL_SINK].unit, sizeof c->unit, "%%");
    c[COL_SINK].digits = 1;
    snprintf(c[COL_ENT].header, sizeof c->header, "Entropy");
    snprintf(c[COL_ENT].unit, sizeof c->unit, "nats");
    c[COL_ENT].digits = 3;
    snprintf(c[COL_COUNT].header, sizeof c->header, "n");
    c[COL_COUNT].digits = 0;
    snprintf(c[COL_NOTE].header, sizeof c->header, "Note, \"quoted\" [x]");
    c[COL_NOTE].align_left = 1;
    for (int r = 0; r < N_ROWS; r++) {
        char model[32];
        snprintf(model, sizeof model, r % 2 ? "gpt2_small" : "bert-base");
        ss_cell_text(ss_table_cell(t, r, COL_MODEL), model);
        ss_cell_text(ss_table_cell(t, r, COL_ANCHOR), k_anchor[r].in);
        /* Sink: values with intervals; row 2 missing and marked, row 3 value without interval, row 5 marked */
        double v = 100.0 * (r + 1) / (N_ROWS + 3) + 0.04999 * (r % 3), h = 0.25 + 0.1 * r;
        ss_cell_num(ss_table_cell(t, r, COL_SINK), r == 2 ? NAN : v, r == 3 ? NAN : h);
        if (r == 2 || r == 5) ss_table_cell(t, r, COL_SINK)->marked = 1;
        /* Entropy: negative near zero (prints 0.000 / -0.001), inf in row 4, NaN in row 6 */
        double e = r == 4 ? INFINITY : r == 6 ? NAN : (r == 1 ? -0.0004 : -0.0006 * r + 2.0 * (r % 4));
        ss_cell_num(ss_table_cell(t, r, COL_ENT), e, 0.0123456 * (r + 1));
        ss_cell_num(ss_table_cell(t, r, COL_COUNT), 40 + r, NAN);
        if (r % 4 == 0) ss_cell_text(ss_table_cell(t, r, COL_NOTE), r ? "ok" : "needs, \"care\"");
        if (r == 8) ss_table_cell(t, r, COL_NOTE)->marked = 1, ss_cell_text(ss_table_cell(t, r, COL_NOTE), "failed");
    }
    return SS_OK;
}

/* What Markdown and LaTeX must show in a cell, after their escapes are undone (independent of the writers). */
static void expected_cell(const ss_table *t, int r, int c, char *out, size_t cap)
{
    const ss_cell *x = &t->cells[(size_t)r * t->n_cols + c];
    const char *mark = x->marked ? "\xe2\x80\xa0" : "";
    if (x->kind == SS_CELL_TEXT) {
        const char *txt = c == COL_ANCHOR ? k_anchor[r].clean : x->text;
        snprintf(out, cap, "%s%s", txt, mark);
    } else if (isnan(x->value)) {
        snprintf(out, cap, "--%s", mark);
    } else {
        int d = t->cols[c].digits;
        char v[64], h[64] = "";
        if (isinf(x->value))
            snprintf(v, sizeof v, "%s", x->value > 0 ? "inf" : "-inf");
        else
            snprintf(v, sizeof v, "%.*f", d, x->value);
        if (!strcmp(v, "-0.000") || !strcmp(v, "-0.0") || !strcmp(v, "-0")) memmove(v, v + 1, strlen(v));
        if (!isnan(x->half)) snprintf(h, sizeof h, " \xc2\xb1 %.*f", d, x->half);
        snprintf(out, cap, "%s%s%s", v, h, mark);
    }
}

/* ------------------------------------------------------------------ reading files back */

static char *slurp(const char *dir, const char *file)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    if (s && fread(s, 1, (size_t)n, f) != (size_t)n) n = 0;
    if (s) s[n] = '\0';
    fclose(f);
    return s;
}

/* Splits s into lines in place (drops the newline); returns the count, lines[] pointing into s. */
static int split_lines(char *s, char **lines, int max)
{
    int n = 0;
    for (char *p = s; *p && n < max;) {
        lines[n++] = p;
        char *e = strchr(p, '\n');
        if (!e) break;
        *e = '\0';
        p = e + 1;
    }
    return n;
}

static void put_utf8(char **o, uint32_t cp)
{
    unsigned char *u = (unsigned char *)*o;
    if (cp < 0x80) u[0] = (unsigned char)cp, *o += 1;
    else if (cp < 0x800) u[0] = 0xC0 | cp >> 6, u[1] = 0x80 | (cp & 0x3F), *o += 2;
    else if (cp < 0x10000) u[0] = 0xE0 | cp >> 12, u[1] = 0x80 | (cp >> 6 & 0x3F), u[2] = 0x80 | (cp & 0x3F), *o += 3;
    else
        u[0] = 0xF0 | cp >> 18, u[1] = 0x80 | (cp >> 12 & 0x3F), u[2] = 0x80 | (cp >> 6 & 0x3F),
        u[3] = 0x80 | (cp & 0x3F), *o += 4;
}

/* Markdown: one table row split on unescaped '|', cells trimmed and unescaped. */
static int md_cells(const char *line, char cells[][256], int max)
{
    int n = -1;
    char *o = NULL;
    for (const char *p = line; *p; p++) {
        if (*p == '\\' && p[1] && strchr("\\`*_[]<>|~$&^", p[1])) {
            if (o) *o++ = p[1];
            p++;
        } else if (*p == '|') {
            if (o) { /* trim the cell just closed */
                *o = '\0';
                char *c = cells[n];
                size_t len = strlen(c);
                while (len && c[len - 1] == ' ') c[--len] = '\0';
                memmove(c, c + strspn(c, " "), strlen(c + strspn(c, " ")) + 1);
            }
            if (++n >= max) return n;
            o = cells[n];
        } else if (o) {
            *o++ = *p;
        }
    }
    return n; /* the text after the last '|' is not a cell */
}

/* The inverse of the writer's LaTeX text escapes. */
static const struct {
    const char *tex;
    uint32_t cp;
} k_tex_inv[] = {
    {"\\textasciitilde{}", '~'}, {"\\textasciicircum{}", '^'}, {"\\textbackslash{}", '\\'}, {"\\textless{}", '<'},
    {"\\textgreater{}", '>'}, {"\\textbar{}", '|'}, {"\\ensuremath{\\pm}", 0xB1}, {"\\ensuremath{\\times}", 0xD7},
    {"\\textendash{}", 0x2013}, {"\\textemdash{}", 0x2014}, {"\\dag{}", 0x2020}, {"\\ddag{}", 0x2021},
    {"\\ldots{}", 0x2026}, {"\\ensuremath{\\rightarrow}", 0x2192}, {"\\ensuremath{\\leq}", 0x2264},
    {"\\ensuremath{-}", 0x2212}, {"\\textvisiblespace{}", 0x2581}, {"\\ensuremath{\\alpha}", 0x3B1},
    {"\\ensuremath{\\beta}", 0x3B2}, {"\\ensuremath{\\Omega}", 0x3A9}, {"{}", 0},
};

static void tex_unescape(const char *s, char *out)
{
    char *o = out;
    while (*s) {
        unsigned cp;
        int used = 0;
        if (sscanf(s, "\\texttt{\\textless{}U+%x\\textgreater{}}%n", &cp, &used) == 1 && used > 0) {
            put_utf8(&o, cp);
            s += used;
            continue;
        }
        size_t k;
        for (k = 0; k < sizeof k_tex_inv / sizeof *k_tex_inv; k++) {
            size_t n = strlen(k_tex_inv[k].tex);
            if (!strncmp(s, k_tex_inv[k].tex, n)) {
                if (k_tex_inv[k].cp) put_utf8(&o, k_tex_inv[k].cp);
                s += n;
                break;
            }
        }
        if (k < sizeof k_tex_inv / sizeof *k_tex_inv) continue;
        if (s[0] == '\\' && s[1] && strchr("&%$#_{}", s[1])) {
            *o++ = s[1];
            s += 2;
            continue;
        }
        *o++ = *s++;
    }
    *o = '\0';
}

/* A LaTeX body cell back to the Markdown form: "$v \pm h$" -> "v ± h", \infty -> inf, \dag{} -> †. */
static void tex_cell_plain(const char *cell, char *out, size_t cap)
{
    if (cell[0] != '$') {
        tex_unescape(cell, out);
        return;
    }
    char tmp[256];
    snprintf(tmp, sizeof tmp, "%s", cell + 1);
    char *end = strchr(tmp, '$');
    const char *mark = end && !strcmp(end + 1, "\\dag{}") ? "\xe2\x80\xa0" : "";
    if (end) *end = '\0';
    char *pm = strstr(tmp, " \\pm ");
    char v[256], h[260] = "";
    if (pm) *pm = '\0', snprintf(h, sizeof h, " \xc2\xb1 %s", pm + 5);
    snprintf(v, sizeof v, "%s", tmp);
    if (!strcmp(v, "\\infty")) snprintf(v, sizeof v, "inf");
    if (!strcmp(v, "-\\infty")) snprintf(v, sizeof v, "-inf");
    /* assembled piece by piece: the three parts are short in practice, but the compiler cannot know it */
    out[0] = '\0';
    strncat(out, v, cap - 1);
    strncat(out, h, cap - 1 - strlen(out));
    strncat(out, mark, cap - 1 - strlen(out));
}

/* Splits a tabular row "a & b \\" on the separators " & " (an escaped \& is never preceded by a space). */
static int tex_cells(const char *line, char cells[][512], int max)
{
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", line);
    size_t n = strlen(buf);
    if (n >= 3 && !strcmp(buf + n - 3, " \\\\")) buf[n - 3] = '\0';
    int k = 0;
    for (char *p = buf; k < max;) {
        char *sep = strstr(p, " & ");
        if (sep) *sep = '\0';
        const char *from = !strncmp(p, "{}[", 3) || !strncmp(p, "{}*", 3) ? p + 2 : p;
        size_t len = strlen(from) < 511 ? strlen(from) : 511;
        memcpy(cells[k], from, len);
        cells[k++][len] = '\0';
        if (!sep) break;
        p = sep + 3;
    }
    return k;
}

/* RFC 4180 reader: fields of one record starting at *p (advanced past its CRLF). */
static int csv_record(const char **p, char fields[][256], int max)
{
    int n = 0;
    const char *s = *p;
    if (!*s) return 0;
    for (;;) {
        char *o = fields[n];
        if (*s == '"') {
            for (s++;; s++) {
                if (!*s) return -1;
                if (*s == '"') {
                    if (s[1] == '"') *o++ = '"', s++;
                    else {
                        s++;
                        break;
                    }
                } else
                    *o++ = *s;
            }
        } else {
            while (*s && *s != ',' && *s != '\r' && *s != '\n') *o++ = *s++;
        }
        *o = '\0';
        n++;
        if (*s == ',' && n < max) {
            s++;
            continue;
        }
        if (s[0] == '\r' && s[1] == '\n') s += 2;
        else if (*s) return -1; /* bare LF or junk: not RFC 4180 */
        break;
    }
    *p = s;
    return n;
}

/* ------------------------------------------------------------------ the writers */

static void test_md(const ss_table *t, const char *dir)
{
    char *s = slurp(dir, "tab_main.md");
    CHECK(s != NULL);
    if (!s) return;
    char *lines[256];
    int nl = split_lines(s, lines, 256);
    CHECK_STREQ(lines[0], "## Sink rates \\& entropy (\xc2\xb1 95% CI)");
    CHECK(nl >= 4 + N_ROWS);
    static char cells[N_COLS + 2][256];
    CHECK(md_cells(lines[2], cells, N_COLS + 1) == N_COLS);
    CHECK_STREQ(cells[COL_SINK], "Sink_1^0.3 [%]");
    CHECK_STREQ(cells[COL_ENT], "Entropy [nats]");
    CHECK_STREQ(cells[COL_NOTE], "Note, \"quoted\" [x]");
    CHECK_STREQ(lines[3], "| :--- | :--- | ---: | ---: | ---: | :--- |");
    for (int r = 0; r < N_ROWS && 4 + r < nl; r++) {
        int n = md_cells(lines[4 + r], cells, N_COLS + 1);
        CHECK_MSG(n == N_COLS, "md row %d: %d cells in %s", r, n, lines[4 + r]);
        for (int c = 0; c < N_COLS && c < n; c++) {
            char want[512];
            expected_cell(t, r, c, want, sizeof want);
            CHECK_MSG(!strcmp(cells[c], want), "md [%d][%d] \"%s\", want \"%s\"", r, c, cells[c], want);
        }
    }
    /* the caption below, with the marker's note added */
    CHECK(nl > 5 + N_ROWS && strstr(lines[5 + N_ROWS], "Mean over prompts"));
    CHECK(nl > 5 + N_ROWS && strstr(lines[5 + N_ROWS], "\xe2\x80\xa0 marks values with failed or missing tasks."));
    free(s);
}

static void test_tex(const ss_table *t, const char *dir)
{
    char *s = slurp(dir, "tab_main.tex");
    CHECK(s != NULL);
    if (!s) return;
    CHECK(strstr(s, "\\ifdefined\\SSINMASTER\\else\n\\documentclass{article}") != NULL);
    CHECK(strstr(s, "\\usepackage[utf8]{inputenc}\n\\usepackage[T1]{fontenc}") != NULL);
    CHECK(strstr(s, "\\usepackage{booktabs}") && !strstr(s, "siunitx") && !strstr(s, "longtable"));
    CHECK(strstr(s, "\\ifdefined\\SSINMASTER\\expandafter\\endinput\\fi\n\\end{document}\n") != NULL);
    CHECK(strstr(s, "\\caption{\\textbf{Sink rates \\& entropy (\\ensuremath{\\pm} 95\\% CI).} Mean over") != NULL);
    CHECK(strstr(s, "Sink\\_1\\textasciicircum{}0.3 is in \\%") != NULL);
    CHECK(strstr(s, "half-width; -- = no data;") != NULL); /* prose keeps the en-dash ligature */
    CHECK(strstr(s, "\\dag{} marks values with failed or missing tasks.}") != NULL);
    CHECK(strstr(s, "\\begin{tabular}{llrrrl}") != NULL);
    CHECK(strstr(s, "\\small") == NULL); /* 16 rows, 6 columns: normal size (tab_long is \small) */
    /* ligatures are broken, a [ or * at the start of a cell is guarded, odd characters have a visible form */
    CHECK(strstr(s, " & -{}-x-{}-{}-y`{}`q'{}'!{}`,{}, & ") != NULL);
    CHECK(strstr(s, " & {}[CLS] & ") != NULL && strstr(s, " & {}*star \\textbar{}pipe\\textbar{} & "));
    CHECK(strstr(s, "\\textvisiblespace{}the") && strstr(s, "\\texttt{\\textless{}U+1F600\\textgreater{}}"));
    CHECK(strstr(s, "\\texttt{\\textless{}U+0126\\textgreater{}}") != NULL); /* Ħ: no T1 glyph */
    CHECK(strstr(s, " & \xc4\xa0the & ") != NULL);                          /* Ġ: T1 has it */
    char *lines[512];
    int nl = split_lines(s, lines, 512), top = -1, mid = -1, bottom = -1;
    for (int k = 0; k < nl; k++) {
        if (!strcmp(lines[k], "\\toprule")) top = k;
        if (!strcmp(lines[k], "\\midrule")) mid = k;
        if (!strcmp(lines[k], "\\bottomrule")) bottom = k;
    }
    CHECK(top >= 0 && mid == top + 2 && bottom == mid + 1 + N_ROWS);
    if (top < 0 || mid != top + 2 || bottom != mid + 1 + N_ROWS) {
        free(s);
        return;
    }
    static char cells[N_COLS + 2][512];
    CHECK(tex_cells(lines[top + 1], cells, N_COLS + 1) == N_COLS);
    CHECK_STREQ(cells[COL_SINK], "$\\mathrm{Sink}_1^{0.3}$ [\\%]");
    CHECK_STREQ(cells[COL_ENT], "Entropy [nats]");
    for (int r = 0; r < N_ROWS; r++) {
        int n = tex_cells(lines[mid + 1 + r], cells, N_COLS + 1);
        CHECK_MSG(n == N_COLS, "tex row %d: %d cells in %s", r, n, lines[mid + 1 + r]);
        for (int c = 0; c < N_COLS && c < n; c++) {
            char got[512], want[512];
            tex_cell_plain(cells[c], got, sizeof got);
            expected_cell(t, r, c, want, sizeof want);
            CHECK_MSG(!strcmp(got, want), "tex [%d][%d] \"%s\" -> \"%s\", want \"%s\"", r, c, cells[c], got, want);
            const ss_cell *x = &t->cells[(size_t)r * t->n_cols + c];
            if (x->kind == SS_CELL_NUM && isfinite(x->value)) { /* the shown value is the rounded value */
                double v = strtod(got, NULL), ulp = 0.5 * pow(10.0, -t->cols[c].digits);
                CHECK_MSG(fabs(v - x->value) <= ulp * (1 + 1e-9), "tex [%d][%d] %s vs %.9g", r, c, got, x->value);
            }
        }
    }
    free(s);
}

static void test_csv(const ss_table *t, const char *dir)
{
    char *s = slurp(dir, "tab_main.csv");
    CHECK(s != NULL);
    if (!s) return;
    const char *p = s;
    static char f[16][256];
    int n = csv_record(&p, f, 16);
    static const char *const want_header[] = {"Model", "Anchor", "Sink_1^0.3 [%]", "Sink_1^0.3 \xc2\xb1" "95% [%]",
                                              "Entropy [nats]", "Entropy \xc2\xb1" "95% [nats]", "n",
                                              "Note, \"quoted\" [x]", "marked (\xe2\x80\xa0)"};
    CHECK(n == 9);
    for (int k = 0; k < 9 && k < n; k++) CHECK_STREQ(f[k], want_header[k]);
    CHECK(!strncmp(s, "Model,Anchor,Sink_1^0.3 [%],", 28) && strstr(s, ",\"Note, \"\"quoted\"\" [x]\","));
    for (int r = 0; r < N_ROWS; r++) {
        n = csv_record(&p, f, 16);
        CHECK_MSG(n == 9, "csv row %d: %d fields", r, n);
        if (n != 9) break;
        CHECK_STREQ(f[1], k_anchor[r].clean);
        const int at[N_COLS] = {0, 1, 2, 4, 6, 7}; /* field of each column */
        for (int c = COL_SINK; c <= COL_COUNT; c++) {
            const ss_cell *x = &t->cells[(size_t)r * t->n_cols + c];
            char v[64], h[64];
            ss_format_number(x->value, t->cols[c].digits, v, sizeof v);
            ss_format_number(x->half, t->cols[c].digits, h, sizeof h);
            CHECK_MSG(!strcmp(f[at[c]], v), "csv [%d][%d] \"%s\" want \"%s\"", r, c, f[at[c]], v);
            if (c != COL_COUNT) CHECK_STREQ(f[at[c] + 1], isnan(x->value) ? "" : h);
            if (isfinite(x->value)) CHECK(fabs(strtod(f[at[c]], NULL) - x->value) <= 0.5 * pow(10, -t->cols[c].digits));
        }
        char marked[128] = "";
        if (r == 2 || r == 5) snprintf(marked, sizeof marked, "Sink_1^0.3");
        if (r == 8) snprintf(marked, sizeof marked, "Note, \"quoted\" [x]");
        CHECK_STREQ(f[8], marked);
        CHECK_STREQ(f[7], r == 0 ? "needs, \"care\"" : r == 8 ? "failed" : r % 4 == 0 ? "ok" : "");
    }
    CHECK(*p == '\0');
    CHECK(strstr(s, "\r\n") != NULL);
    free(s);
}

/* A table wider than the line and one longer than the page: both must compile (scaled, \small). */
static ss_status write_big_tables(const char *dir)
{
    ss_status st = SS_OK;
    ss_table w = {0}, l = {0};
    SS_TRY(ss_table_init(&w, "tab_wide", "A wide table", 14, 3));
    for (int c = 0; c < 14; c++) {
        snprintf(w.cols[c].header, sizeof w.cols[c].header, "Rather long header %d", c);
        for (int r = 0; r < 3; r++) ss_cell_num(ss_table_cell(&w, r, c), 1000.0 * c + r, 12.5);
    }
    SS_TRY(ss_table_write_tex(&w, dir));
    SS_TRY(ss_table_init(&l, "tab_long", "A long table", 2, 90));
    snprintf(l.cols[0].header, sizeof l.cols[0].header, "Layer");
    l.cols[0].digits = 0;
    for (int r = 0; r < 90; r++) {
        ss_cell_num(ss_table_cell(&l, r, 0), r, NAN);
        ss_cell_num(ss_table_cell(&l, r, 1), r * 0.5, 0.1);
    }
    SS_TRY(ss_table_write_tex(&l, dir));
    SS_TRY(ss_table_write_md(&l, dir));
done:
    ss_table_free(&w);
    ss_table_free(&l);
    return st;
}

static void test_errors(ss_table *t)
{
    ss_status st = ss_table_write_csv(t, "/nonexistent-ss-dir/sub");
    CHECK(st == SS_ERR_IO && strstr(ss_errmsg(), "/nonexistent-ss-dir/sub/tab_main.csv"));
    st = ss_table_write_tex(t, "/nonexistent-ss-dir/sub");
    CHECK(st == SS_ERR_IO && strstr(ss_errmsg(), "/nonexistent-ss-dir/sub/tab_main.tex"));
    st = ss_table_write_md(t, "/dev/null"); /* a file, not a directory */
    CHECK(st == SS_ERR_IO && strstr(ss_errmsg(), "/dev/null/tab_main.md"));
    const char *names[] = {"tab_main"};
    st = ss_tables_write_master("/nonexistent-ss-dir", "x", names, 1);
    CHECK(st == SS_ERR_IO && strstr(ss_errmsg(), "/nonexistent-ss-dir/report.tex"));
    const char *bad[] = {"../evil"};
    CHECK(ss_tables_write_master("/tmp", "x", bad, 1) == SS_ERR_INPUT);
    char keep[64];
    snprintf(keep, sizeof keep, "%s", t->name);
    snprintf(t->name, sizeof t->name, "a b");
    CHECK(ss_table_write_tex(t, "/tmp") == SS_ERR_INPUT);
    snprintf(t->name, sizeof t->name, "%s", keep);
    ss_table z;
    CHECK(ss_table_init(&z, "z", "z", 0, 1) == SS_ERR_INPUT);
    CHECK(ss_table_cell(t, N_ROWS, 0) == NULL && ss_table_cell(t, 0, -1) == NULL);
    ss_cell c;
    char many[128] = "";
    for (int k = 0; k < 32; k++) strcat(many, "\xe2\x96\x81"); /* 32 × ▁ = 96 bytes */
    ss_cell_text(&c, many);
    CHECK(strlen(c.text) == 93); /* 96 bytes hold 31 whole ▁ (93 bytes), not a cut one */
}

/* ------------------------------------------------------------------ pdflatex */

static int compile(const char *dir, const char *file, const char *forbidden)
{
    char cmd[2048], log[256];
    snprintf(cmd, sizeof cmd, "cd '%s' && pdflatex -interaction=nonstopmode -halt-on-error %s.tex >%s.out 2>&1", dir,
             file, file);
    int rc = system(cmd);
    snprintf(log, sizeof log, "%s.log", file);
    char *s = slurp(dir, log);
    int ok = rc == 0 && s && strstr(s, "Output written on");
    if (!ok) fprintf(stderr, "pdflatex %s/%s.tex failed (rc %d); see %s/%s.log\n", dir, file, rc, dir, file);
    if (s && strstr(s, "occurred when \\if")) ok = 0, fprintf(stderr, "%s: an open conditional at the end\n", log);
    if (s && forbidden && strstr(s, forbidden))
        ok = 0, fprintf(stderr, "%s/%s: \"%s\" in the log\n", dir, log, forbidden);
    if (s && !strcmp(file, "report")) { /* every table was \input, none ran its own preamble */
        for (const char *t = "tab_main.tex\0tab_wide.tex\0tab_long.tex\0"; *t; t += strlen(t) + 1)
            if (!strstr(s, t)) ok = 0, fprintf(stderr, "report.log: %s not read\n", t);
        if (strstr(s, "Two \\documentclass") || strstr(s, "Can be used only in preamble")) ok = 0;
    }
    free(s);
    return ok;
}

int main(void)
{
    test_summary();
    test_t_quantiles();
    test_format_number();

    char dir[] = "/tmp/ss_tables_XXXXXX";
    if (!mkdtemp(dir)) {
        fprintf(stderr, "mkdtemp failed\n");
        return 1;
    }
    ss_table t;
    ss_status st = build_table(&t);
    CHECK(st == SS_OK);
    if (st != SS_OK) TEST_END();
    CHECK(ss_table_write_tex(&t, dir) == SS_OK);
    CHECK(ss_table_write_md(&t, dir) == SS_OK);
    CHECK(ss_table_write_csv(&t, dir) == SS_OK);
    CHECK(write_big_tables(dir) == SS_OK);
    const char *names[] = {"tab_main", "tab_wide", "tab_long"};
    CHECK(ss_tables_write_master(dir, "Sinkscope report: \xe2\x96\x81 & #1", names, 3) == SS_OK);
    test_md(&t, dir);
    test_tex(&t, dir);
    test_csv(&t, dir);
    test_errors(&t);
    ss_table_free(&t);

    if (g_test_failures) {
        fprintf(stderr, "outputs kept in %s\n", dir);
        TEST_END();
    }
    char rm[256];
    snprintf(rm, sizeof rm, "rm -rf '%s'", dir);
    if (system("command -v pdflatex >/dev/null 2>&1") != 0) {
        if (system(rm) != 0) fprintf(stderr, "could not remove %s\n", dir);
        SKIP("pdflatex is not installed: the LaTeX files were checked as text but not compiled");
    }
    CHECK(compile(dir, "tab_main", NULL));
    CHECK(compile(dir, "tab_wide", "Overfull \\hbox")); /* scaled to the line */
    CHECK(compile(dir, "tab_long", "Float too large"));  /* scaled to the page */
    CHECK(compile(dir, "report", NULL));
    if (g_test_failures || getenv("SS_TEST_KEEP")) {
        fprintf(stderr, "outputs kept in %s\n", dir);
    } else if (system(rm) != 0) {
        fprintf(stderr, "could not remove %s\n", dir);
    }
    TEST_END();
}
