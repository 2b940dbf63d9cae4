/* report_tables.c: publication tables as LaTeX, Markdown and CSV (see report_tables.h).
 *
 * Every writer reads its cells through format_cell, which rounds numbers with ss_format_number and cleans text
 * with next_cp, so the three files show the same values and the same characters; only the escaping differs.
 *
 * Text: invalid UTF-8 becomes U+FFFD, control characters (C0, DEL, C1, U+2028/9) become spaces and the bidi
 * overrides (U+202A–E, U+2066–9) U+FFFD, in all three formats (a cell or caption is always one line).
 *
 * LaTeX (pdflatex, [utf8]{inputenc}, [T1]{fontenc}):
 *   - the specials & % $ # _ { } become \&, \%, ..., ~ ^ \ < > | become \textasciitilde{} etc.; "{}" is put
 *     between the characters of the ligatures -- `` '' !` ?` ,, in cells and headers so that token strings print
 *     as written (titles and captions keep them: "--" is an en dash in prose), and before a cell that starts with
 *     [ or * (after \\ or \toprule they would be read as an optional argument or a star);
 *   - U+00A0–U+00FF and U+0100–U+017F (less the nine letters T1 has no glyph for) pass through as UTF-8;
 *     ± † ‡ – — ‘ ’ “ ” • … − ∞ ← → ≤ ≥ ≈ ≠ and the Greek letters that differ from Latin ones map to commands;
 *     ▁ (SentencePiece's word boundary) prints as a visible space (\textvisiblespace);
 *   - anything else prints as \texttt{<U+XXXX>}, so every string compiles and stays legible.
 * The file is a standalone document whose preamble and \end{document} are skipped when the including document
 * defines \SSINMASTER:
 *     \ifdefined\SSINMASTER\else <preamble> \begin{document} \fi
 *     \begin{table} ... \end{table}
 *     \ifdefined\SSINMASTER\expandafter\endinput\fi
 *     \end{document}
 * (\endinput, not an \else branch, so that \end{document} never runs inside an open conditional.) The tabular is
 * set in a box first and scaled down with graphicx only when it is wider than the line or taller than 0.8 of the
 * text height; tables with more than SMALL_ROWS rows or SMALL_COLS columns are set in \small.
 *
 * Markdown: ASCII punctuation that CommonMark/GFM/pandoc could read as markup (\ ` * _ [ ] < > | ~ $ & ^) is
 * backslash-escaped; CSV: RFC 4180 (CRLF, fields with , " CR LF quoted, quotes doubled), UTF-8 without BOM. */
#include "report_tables.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define SMALL_ROWS 20
#define SMALL_COLS 6
#define MASTER_CLEARPAGE_EVERY 10 /* LaTeX keeps at most 18 floats pending; a float-only document needs flushes */
#define NUM_CAP 352               /* %.17f of the largest double fits */
#define MARK_UTF8 "\xe2\x80\xa0"  /* † */
#define MARK_NOTE MARK_UTF8 " marks values with failed or missing tasks."

/* ------------------------------------------------------------------ a growable string */

typedef struct {
    char *p;
    size_t n, cap;
    int oom;
} sbuf;

static void sb_putn(sbuf *b, const char *s, size_t n)
{
    if (b->oom) return;
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 1024;
        while (b->n + n + 1 > cap) cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->oom = 1;
            return;
        }
        b->p = p, b->cap = cap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
}

static void sb_puts(sbuf *b, const char *s) { sb_putn(b, s, strlen(s)); }
static void sb_reset(sbuf *b)
{
    b->n = 0;
    if (b->p) b->p[0] = '\0';
}
static void sb_putc(sbuf *b, char c) { sb_putn(b, &c, 1); }

static void sb_printf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(sbuf *b, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    sb_putn(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

/* ------------------------------------------------------------------ UTF-8 */

/* The next code point of s at *i, advanced past it; invalid or overlong sequences, surrogates and values beyond
 * U+10FFFF give U+FFFD and consume one byte. */
static uint32_t utf8_next(const unsigned char *s, size_t *i)
{
    unsigned c = s[*i];
    int len = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
    if (len == 1) return (*i)++, c;
    uint32_t cp = len == 2 ? c & 0x1F : len == 3 ? c & 0x0F : c & 0x07;
    for (int k = 1; k < len; k++) {
        if ((s[*i + k] & 0xC0) != 0x80) len = 0; /* also stops at the terminating NUL */
        if (!len) break;
        cp = cp << 6 | (s[*i + k] & 0x3F);
    }
    static const uint32_t min_cp[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (len == 0 || cp < min_cp[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return (*i)++, 0xFFFD;
    *i += (size_t)len;
    return cp;
}

static void utf8_put(sbuf *b, uint32_t cp)
{
    char u[4];
    if (cp < 0x80) {
        u[0] = (char)cp;
        sb_putn(b, u, 1);
    } else if (cp < 0x800) {
        u[0] = (char)(0xC0 | cp >> 6), u[1] = (char)(0x80 | (cp & 0x3F));
        sb_putn(b, u, 2);
    } else if (cp < 0x10000) {
        u[0] = (char)(0xE0 | cp >> 12), u[1] = (char)(0x80 | (cp >> 6 & 0x3F)), u[2] = (char)(0x80 | (cp & 0x3F));
        sb_putn(b, u, 3);
    } else {
        u[0] = (char)(0xF0 | cp >> 18), u[1] = (char)(0x80 | (cp >> 12 & 0x3F));
        u[2] = (char)(0x80 | (cp >> 6 & 0x3F)), u[3] = (char)(0x80 | (cp & 0x3F));
        sb_putn(b, u, 4);
    }
}

/* The next code point of the cleaned text (see the top of the file); 0 at the end. */
static uint32_t next_cp(const char *s, size_t *i)
{
    if (!s[*i]) return 0;
    uint32_t cp = utf8_next((const unsigned char *)s, i);
    if (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F) || cp == 0x2028 || cp == 0x2029) return ' ';
    if ((cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069)) return 0xFFFD;
    return cp;
}

/* Copies src into dst[cap] without cutting a UTF-8 sequence. */
static void copy_utf8(char *dst, size_t cap, const char *src)
{
    size_t n = src ? strlen(src) : 0;
    if (n >= cap) {
        n = cap - 1;
        while (n > 0 && ((unsigned char)src[n] & 0xC0) == 0x80) n--; /* src[n] starts the sequence that is cut */
    }
    if (n) memcpy(dst, src, n);
    dst[n] = '\0';
}

/* ------------------------------------------------------------------ escaping per format */

typedef struct {
    uint32_t cp;
    const char *tex;
} tex_map;

static const tex_map k_tex_map[] = {
    {0x00B1, "\\ensuremath{\\pm}"}, {0x00D7, "\\ensuremath{\\times}"}, {0x2013, "\\textendash{}"},
    {0x2014, "\\textemdash{}"}, {0x2018, "\\textquoteleft{}"}, {0x2019, "\\textquoteright{}"},
    {0x201C, "\\textquotedblleft{}"}, {0x201D, "\\textquotedblright{}"}, {0x2020, "\\dag{}"}, {0x2021, "\\ddag{}"},
    {0x2022, "\\textbullet{}"}, {0x2026, "\\ldots{}"}, {0x2190, "\\ensuremath{\\leftarrow}"},
    {0x2192, "\\ensuremath{\\rightarrow}"}, {0x2212, "\\ensuremath{-}"}, {0x221E, "\\ensuremath{\\infty}"},
    {0x2248, "\\ensuremath{\\approx}"}, {0x2260, "\\ensuremath{\\neq}"}, {0x2264, "\\ensuremath{\\leq}"},
    {0x2265, "\\ensuremath{\\geq}"}, {0x2581, "\\textvisiblespace{}"},
    {0x0393, "\\ensuremath{\\Gamma}"}, {0x0394, "\\ensuremath{\\Delta}"}, {0x0398, "\\ensuremath{\\Theta}"},
    {0x039B, "\\ensuremath{\\Lambda}"}, {0x039E, "\\ensuremath{\\Xi}"}, {0x03A0, "\\ensuremath{\\Pi}"},
    {0x03A3, "\\ensuremath{\\Sigma}"}, {0x03A5, "\\ensuremath{\\Upsilon}"}, {0x03A6, "\\ensuremath{\\Phi}"},
    {0x03A8, "\\ensuremath{\\Psi}"}, {0x03A9, "\\ensuremath{\\Omega}"},
};

/* Lower-case Greek α (U+03B1) .. ω (U+03C9); NULL: no command (omicron looks like o: shown as a code). */
static const char *const k_greek[] = {
    "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa", "lambda", "mu", "nu",
    "xi", NULL, "pi", "rho", "varsigma", "sigma", "tau", "upsilon", "phi", "chi", "psi", "omega",
};

/* Latin Extended-A letters that T1 has no glyph for (checked against utf8enc.dfu/t1enc.dfu, TeX Live 2022). */
static int t1_lacks(uint32_t cp)
{
    static const uint16_t lack[] = {0x126, 0x127, 0x138, 0x13F, 0x140, 0x149, 0x166, 0x167, 0x17F};
    for (size_t k = 0; k < sizeof lack / sizeof *lack; k++)
        if (cp == lack[k]) return 1;
    return 0;
}

/* One code point as LaTeX; `next` is the one after it (0 at the end); prose keeps the dash and quote ligatures. */
static void tex_cp(sbuf *b, uint32_t cp, uint32_t next, int prose)
{
    if (cp < 0x80) {
        switch (cp) {
        case '&': case '%': case '$': case '#': case '_': case '{': case '}':
            sb_putc(b, '\\'), sb_putc(b, (char)cp);
            return;
        case '~': sb_puts(b, "\\textasciitilde{}"); return;
        case '^': sb_puts(b, "\\textasciicircum{}"); return;
        case '\\': sb_puts(b, "\\textbackslash{}"); return;
        case '<': sb_puts(b, "\\textless{}"); return;
        case '>': sb_puts(b, "\\textgreater{}"); return;
        case '|': sb_puts(b, "\\textbar{}"); return;
        default: break;
        }
        sb_putc(b, (char)cp);
        int lig = ((cp == '-' || cp == '`' || cp == '\'' || cp == ',') && next == cp)
                  || ((cp == '!' || cp == '?') && next == '`');
        if (lig && !prose) sb_puts(b, "{}");
        return;
    }
    for (size_t k = 0; k < sizeof k_tex_map / sizeof *k_tex_map; k++)
        if (k_tex_map[k].cp == cp) {
            sb_puts(b, k_tex_map[k].tex);
            return;
        }
    if (cp >= 0x3B1 && cp <= 0x3C9 && k_greek[cp - 0x3B1]) {
        sb_printf(b, "\\ensuremath{\\%s}", k_greek[cp - 0x3B1]);
        return;
    }
    if ((cp >= 0xA0 && cp <= 0xFF) || (cp >= 0x100 && cp <= 0x17F && !t1_lacks(cp))) {
        utf8_put(b, cp);
        return;
    }
    sb_printf(b, "\\texttt{\\textless{}U+%04X\\textgreater{}}", (unsigned)cp);
}

/* Text as LaTeX: cells and headers (prose = 0) print their characters as written; titles and captions (prose = 1)
 * keep TeX's ligatures, so that "--" is an en dash there. */
static void put_tex(sbuf *b, const char *s, int prose)
{
    size_t i = 0;
    uint32_t cp = next_cp(s, &i);
    while (cp) {
        uint32_t nx = next_cp(s, &i);
        tex_cp(b, cp, nx, prose);
        cp = nx;
    }
}

static void put_md(sbuf *b, const char *s)
{
    size_t i = 0;
    for (uint32_t cp; (cp = next_cp(s, &i));) {
        if (cp < 0x80 && strchr("\\`*_[]<>|~$&^", (int)cp)) sb_putc(b, '\\');
        utf8_put(b, cp);
    }
}

static void put_clean(sbuf *b, const char *s)
{
    size_t i = 0;
    for (uint32_t cp; (cp = next_cp(s, &i));) utf8_put(b, cp);
}

/* One CSV field (RFC 4180) from already-clean text. */
static void put_csv_field(sbuf *b, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        sb_puts(b, s);
        return;
    }
    sb_putc(b, '"');
    for (; *s; s++) {
        if (*s == '"') sb_putc(b, '"');
        sb_putc(b, *s);
    }
    sb_putc(b, '"');
}

/* ------------------------------------------------------------------ the table */

static int valid_name(const char *s)
{
    if (!s || !*s) return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '_'
              || *s == '-'))
            return 0;
    return 1;
}

ss_status ss_table_init(ss_table *t, const char *name, const char *title, int n_cols, int n_rows)
{
    memset(t, 0, sizeof *t);
    if (!name) name = "";
    if (n_cols < 1 || n_rows < 0) return ss_fail(SS_ERR_INPUT, "table %s: %d columns, %d rows", name, n_cols, n_rows);
    copy_utf8(t->name, sizeof t->name, name);
    copy_utf8(t->title, sizeof t->title, title);
    t->cols = calloc((size_t)n_cols, sizeof *t->cols);
    t->cells = calloc((size_t)n_cols * (size_t)(n_rows ? n_rows : 1), sizeof *t->cells);
    if (!t->cols || !t->cells) {
        ss_table_free(t);
        return ss_fail(SS_ERR_NOMEM, "table %s: out of memory for %d x %d cells", name, n_rows, n_cols);
    }
    t->n_cols = n_cols, t->n_rows = n_rows;
    for (int c = 0; c < n_cols; c++) t->cols[c].digits = 2;
    for (size_t k = 0; k < (size_t)n_cols * (size_t)n_rows; k++)
        t->cells[k] = (ss_cell){.kind = SS_CELL_NUM, .value = NAN, .half = NAN};
    return SS_OK;
}

void ss_table_free(ss_table *t)
{
    if (!t) return;
    free(t->cols);
    free(t->cells);
    t->cols = NULL, t->cells = NULL;
    t->n_cols = t->n_rows = 0;
}

ss_cell *ss_table_cell(ss_table *t, int row, int col)
{
    if (!t || row < 0 || row >= t->n_rows || col < 0 || col >= t->n_cols) return NULL;
    return &t->cells[(size_t)row * (size_t)t->n_cols + (size_t)col];
}

void ss_cell_text(ss_cell *c, const char *text)
{
    c->kind = SS_CELL_TEXT;
    copy_utf8(c->text, sizeof c->text, text);
    c->value = NAN, c->half = NAN;
}

void ss_cell_num(ss_cell *c, double value, double half)
{
    c->kind = SS_CELL_NUM;
    c->text[0] = '\0';
    c->value = value, c->half = half;
}

void ss_format_number(double value, int digits, char *out, size_t cap)
{
    if (!out || cap == 0) return;
    if (isnan(value)) {
        out[0] = '\0';
        return;
    }
    if (isinf(value)) {
        snprintf(out, cap, "%s", value < 0 ? "-inf" : "inf");
        return;
    }
    int d = digits < 0 ? 0 : digits > 17 ? 17 : digits;
    snprintf(out, cap, "%.*f", d, value);
    if (out[0] == '-' && strspn(out + 1, "0.") == strlen(out + 1)) memmove(out, out + 1, strlen(out)); /* -0.00 */
}

/* One cell as every writer sees it. */
typedef struct {
    enum { FC_TEXT, FC_NUM, FC_MISSING } kind;
    const char *text;         /* FC_TEXT (raw; the writer escapes) */
    char v[NUM_CAP], h[NUM_CAP]; /* FC_NUM: the rounded value and half-width ("" = no interval) */
    int marked;
} fcell;

static void format_cell(const ss_table *t, int r, int c, fcell *f)
{
    const ss_cell *x = &t->cells[(size_t)r * (size_t)t->n_cols + (size_t)c];
    f->marked = x->marked != 0;
    f->text = x->text;
    f->v[0] = f->h[0] = '\0';
    if (x->kind == SS_CELL_TEXT) {
        f->kind = FC_TEXT;
        return;
    }
    f->kind = isnan(x->value) ? FC_MISSING : FC_NUM;
    if (f->kind == FC_MISSING) return;
    ss_format_number(x->value, t->cols[c].digits, f->v, sizeof f->v);
    ss_format_number(x->half, t->cols[c].digits, f->h, sizeof f->h);
}

static int any_marked(const ss_table *t)
{
    for (size_t k = 0; k < (size_t)t->n_rows * (size_t)t->n_cols; k++)
        if (t->cells[k].marked) return 1;
    return 0;
}

/* Column c has a number with a half-width (CSV adds a "±95%" column then). */
static int col_has_half(const ss_table *t, int c)
{
    for (int r = 0; r < t->n_rows; r++) {
        const ss_cell *x = &t->cells[(size_t)r * (size_t)t->n_cols + (size_t)c];
        if (x->kind == SS_CELL_NUM && !isnan(x->value) && !isnan(x->half)) return 1;
    }
    return 0;
}

/* The caption's note on the marker, unless the caption already mentions it. */
static const char *mark_note(const ss_table *t)
{
    return any_marked(t) && !strstr(t->caption, MARK_UTF8) ? MARK_NOTE : NULL;
}

static ss_status check_table(const ss_table *t, const char *dir, const char *what)
{
    if (!t || !dir || !t->cols || !t->cells || t->n_cols < 1 || t->n_rows < 0)
        return ss_fail(SS_ERR_INPUT, "%s %s: no table, columns or directory", what, t ? t->name : "(null)");
    if (!valid_name(t->name))
        return ss_fail(SS_ERR_INPUT, "%s: table name \"%s\" must be non-empty and of [A-Za-z0-9_-] only", what,
                       t->name);
    return SS_OK;
}

/* Writes b to DIR/NAME.EXT; SS_ERR_IO with the path (the partial file removed) on failure. */
static ss_status write_file(const char *dir, const char *name, const char *ext, const sbuf *b)
{
    ss_status st = SS_OK;
    char path[4096];
    FILE *f = NULL;
    int opened = 0;
    if (b->oom) return ss_fail(SS_ERR_NOMEM, "%s/%s.%s: out of memory while formatting", dir, name, ext);
    if (snprintf(path, sizeof path, "%s/%s.%s", dir, name, ext) >= (int)sizeof path)
        return ss_fail(SS_ERR_IO, "%s/%s.%s: path too long", dir, name, ext);
    f = fopen(path, "wb");
    if (!f) {
        st = ss_fail(SS_ERR_IO, "%s: cannot write: %s", path, strerror(errno));
        goto done;
    }
    opened = 1;
    if (b->n && fwrite(b->p, 1, b->n, f) != b->n) {
        st = ss_fail(SS_ERR_IO, "%s: write error: %s", path, strerror(errno));
        goto done;
    }
    int e = fclose(f);
    f = NULL;
    if (e != 0) st = ss_fail(SS_ERR_IO, "%s: write error: %s", path, strerror(errno));
done:
    if (f) fclose(f);
    if (st != SS_OK && opened) remove(path); /* no partial file */
    return st;
}

/* ------------------------------------------------------------------ LaTeX */

static const char k_tex_preamble[] = "\\documentclass{article}\n"
                                     "\\usepackage[utf8]{inputenc}\n"
                                     "\\usepackage[T1]{fontenc}\n"
                                     "\\IfFileExists{lmodern.sty}{\\usepackage{lmodern}}{}\n"
                                     "\\usepackage{booktabs}\n"
                                     "\\usepackage{graphicx}\n";

/* A number as LaTeX math: "$v \pm h$", inf as \infty. */
static void tex_num(sbuf *b, const char *v)
{
    if (!strcmp(v, "inf"))
        sb_puts(b, "\\infty");
    else if (!strcmp(v, "-inf"))
        sb_puts(b, "-\\infty");
    else
        sb_puts(b, v);
}

/* Appends the LaTeX of one cell (or header) held in cell, with "{}" first when it starts with [ or *. */
static void tex_cell_out(sbuf *b, sbuf *cell)
{
    if (cell->n && (cell->p[0] == '[' || cell->p[0] == '*')) sb_puts(b, "{}");
    if (cell->n) sb_putn(b, cell->p, cell->n);
    if (cell->oom) b->oom = 1;
    sb_reset(cell);
}

ss_status ss_table_write_tex(const ss_table *t, const char *dir)
{
    ss_status st = check_table(t, dir, "LaTeX table");
    if (st != SS_OK) return st;
    sbuf b = {0}, cell = {0};
    fcell *f = malloc(sizeof *f);
    if (!f) return ss_fail(SS_ERR_NOMEM, "%s: out of memory", t->name);

    sb_printf(&b, "%% %s.tex: a sinkscope report table. It compiles on its own (pdflatex %s.tex); \\input from a\n"
                  "%% document that defines \\SSINMASTER (report.tex) it skips its preamble, and that document\n"
                  "%% loads [utf8]{inputenc}, [T1]{fontenc}, booktabs and graphicx.\n",
              t->name, t->name);
    sb_puts(&b, "\\ifdefined\\SSINMASTER\\else\n");
    sb_puts(&b, k_tex_preamble);
    sb_puts(&b, "\\begin{document}\n\\fi\n");
    sb_puts(&b, "\\begin{table}[htbp]\n\\centering\n");
    if (t->n_rows > SMALL_ROWS || t->n_cols > SMALL_COLS) sb_puts(&b, "\\small\n");

    /* caption: bold title, the caption text, the marker's note */
    sb_puts(&b, "\\caption{");
    if (t->title[0]) {
        sb_puts(&b, "\\textbf{");
        put_tex(&b, t->title, 1);
        size_t n = strlen(t->title);
        sb_puts(&b, strchr(".:?!", t->title[n - 1]) ? "}" : ".}");
    }
    if (t->caption[0]) sb_putc(&b, ' '), put_tex(&b, t->caption, 1);
    const char *note = mark_note(t);
    if (note) sb_putc(&b, ' '), put_tex(&b, note, 1);
    sb_printf(&b, "}\n\\label{tab:%s}\n", t->name);

    /* the tabular, boxed to measure it */
    sb_puts(&b, "\\ifdefined\\sstablebox\\else\\newsavebox\\sstablebox\\fi\n\\sbox\\sstablebox{%\n\\begin{tabular}{");
    for (int c = 0; c < t->n_cols; c++) sb_putc(&b, t->cols[c].align_left ? 'l' : 'r');
    sb_puts(&b, "}\n\\toprule\n");
    for (int c = 0; c < t->n_cols; c++) {
        const ss_column *col = &t->cols[c];
        if (col->header_tex[0])
            sb_puts(&cell, col->header_tex);
        else
            put_tex(&cell, col->header, 0);
        if (col->unit[0]) sb_puts(&cell, " ["), put_tex(&cell, col->unit, 0), sb_puts(&cell, "]");
        if (c) sb_puts(&b, " & ");
        tex_cell_out(&b, &cell);
    }
    sb_puts(&b, " \\\\\n\\midrule\n");
    for (int r = 0; r < t->n_rows; r++) { /* row r: cells [r][0..n_cols) */
        for (int c = 0; c < t->n_cols; c++) {
            format_cell(t, r, c, f);
            if (f->kind == FC_TEXT)
                put_tex(&cell, f->text, 0);
            else if (f->kind == FC_MISSING)
                sb_puts(&cell, "--");
            else {
                sb_putc(&cell, '$'), tex_num(&cell, f->v);
                if (f->h[0]) sb_puts(&cell, " \\pm "), tex_num(&cell, f->h);
                sb_putc(&cell, '$');
            }
            if (f->marked) sb_puts(&cell, "\\dag{}");
            if (c) sb_puts(&b, " & ");
            tex_cell_out(&b, &cell);
        }
        sb_puts(&b, " \\\\\n");
    }
    sb_puts(&b, "\\bottomrule\n\\end{tabular}}%\n");
    sb_puts(&b, "\\ifdim\\wd\\sstablebox>\\linewidth\n"
                "  \\sbox\\sstablebox{\\resizebox{\\linewidth}{!}{\\usebox\\sstablebox}}\\fi\n"
                "\\ifdim\\dimexpr\\ht\\sstablebox+\\dp\\sstablebox\\relax>0.8\\textheight\n"
                "  \\sbox\\sstablebox{\\resizebox*{!}{0.8\\textheight}{\\usebox\\sstablebox}}\\fi\n"
                "\\usebox\\sstablebox\n");
    sb_puts(&b, "\\end{table}\n\\ifdefined\\SSINMASTER\\expandafter\\endinput\\fi\n\\end{document}\n");
    if (cell.oom) b.oom = 1;
    st = write_file(dir, t->name, "tex", &b);

    free(f);
    free(cell.p);
    free(b.p);
    return st;
}

ss_status ss_tables_write_master(const char *dir, const char *title, const char *const *names, int n)
{
    if (!dir || n < 0 || (n > 0 && !names)) return ss_fail(SS_ERR_INPUT, "report.tex: no directory or no names");
    for (int k = 0; k < n; k++)
        if (!valid_name(names[k]))
            return ss_fail(SS_ERR_INPUT, "%s/report.tex: table name \"%s\" must be non-empty and of [A-Za-z0-9_-] only",
                           dir, names[k] ? names[k] : "(null)");
    sbuf b = {0};
    sb_puts(&b, "% report.tex: every table of this sinkscope report; each table also compiles on its own.\n");
    sb_puts(&b, k_tex_preamble);
    sb_puts(&b, "\\newcommand\\SSINMASTER{}\n\\begin{document}\n");
    if (title && *title) sb_puts(&b, "\\section*{"), put_tex(&b, title, 1), sb_puts(&b, "}\n");
    for (int k = 0; k < n; k++) {
        sb_printf(&b, "\\input{%s}\n", names[k]);
        if ((k + 1) % MASTER_CLEARPAGE_EVERY == 0 && k + 1 < n) sb_puts(&b, "\\clearpage\n");
    }
    sb_puts(&b, "\\end{document}\n");
    ss_status st = write_file(dir, "report", "tex", &b);
    free(b.p);
    return st;
}

/* ------------------------------------------------------------------ Markdown */

ss_status ss_table_write_md(const ss_table *t, const char *dir)
{
    ss_status st = check_table(t, dir, "Markdown table");
    if (st != SS_OK) return st;
    sbuf b = {0};
    fcell *f = malloc(sizeof *f);
    if (!f) return ss_fail(SS_ERR_NOMEM, "%s: out of memory", t->name);

    sb_puts(&b, "## "), put_md(&b, t->title[0] ? t->title : t->name), sb_puts(&b, "\n\n|");
    for (int c = 0; c < t->n_cols; c++) {
        sb_putc(&b, ' '), put_md(&b, t->cols[c].header);
        if (t->cols[c].unit[0]) sb_puts(&b, " ["), put_md(&b, t->cols[c].unit), sb_putc(&b, ']');
        sb_puts(&b, " |");
    }
    sb_puts(&b, "\n|");
    for (int c = 0; c < t->n_cols; c++) sb_puts(&b, t->cols[c].align_left ? " :--- |" : " ---: |");
    sb_putc(&b, '\n');
    for (int r = 0; r < t->n_rows; r++) {
        sb_putc(&b, '|');
        for (int c = 0; c < t->n_cols; c++) {
            format_cell(t, r, c, f);
            sb_putc(&b, ' ');
            if (f->kind == FC_TEXT)
                put_md(&b, f->text);
            else if (f->kind == FC_MISSING)
                sb_puts(&b, "--");
            else {
                sb_puts(&b, f->v);
                if (f->h[0]) sb_puts(&b, " \xc2\xb1 "), sb_puts(&b, f->h);
            }
            if (f->marked) sb_puts(&b, MARK_UTF8);
            sb_puts(&b, " |");
        }
        sb_putc(&b, '\n');
    }
    const char *note = mark_note(t);
    if (t->caption[0] || note) {
        sb_putc(&b, '\n');
        put_md(&b, t->caption);
        if (t->caption[0] && note) sb_putc(&b, ' ');
        if (note) put_md(&b, note);
        sb_putc(&b, '\n');
    }
    st = write_file(dir, t->name, "md", &b);
    free(f);
    free(b.p);
    return st;
}

/* ------------------------------------------------------------------ CSV */

/* One header field: "header[ suffix][ [unit]]", cleaned and quoted. */
static void csv_header(sbuf *b, sbuf *tmp, const ss_column *col, const char *suffix)
{
    sb_reset(tmp);
    put_clean(tmp, col->header);
    if (suffix) sb_puts(tmp, suffix);
    if (col->unit[0]) sb_puts(tmp, " ["), put_clean(tmp, col->unit), sb_putc(tmp, ']');
    if (tmp->oom) b->oom = 1;
    put_csv_field(b, tmp->p ? tmp->p : "");
}

ss_status ss_table_write_csv(const ss_table *t, const char *dir)
{
    ss_status st = check_table(t, dir, "CSV table");
    if (st != SS_OK) return st;
    sbuf b = {0}, tmp = {0};
    fcell *f = malloc(sizeof *f);
    int *has_half = calloc((size_t)t->n_cols, sizeof *has_half);
    if (!f || !has_half) {
        st = ss_fail(SS_ERR_NOMEM, "%s: out of memory", t->name);
        goto done;
    }
    for (int c = 0; c < t->n_cols; c++) has_half[c] = col_has_half(t, c);
    int marks = any_marked(t);

    /* header: per column "h [unit]" and, when it has intervals, "h ±95% [unit]"; then "marked (†)" */
    for (int c = 0; c < t->n_cols; c++) {
        if (c) sb_putc(&b, ',');
        csv_header(&b, &tmp, &t->cols[c], NULL);
        if (has_half[c]) sb_putc(&b, ','), csv_header(&b, &tmp, &t->cols[c], " \xc2\xb1" "95%");
    }
    if (marks) sb_puts(&b, ",marked (" MARK_UTF8 ")");
    sb_puts(&b, "\r\n");

    for (int r = 0; r < t->n_rows; r++) {
        sb_reset(&tmp);
        for (int c = 0; c < t->n_cols; c++) {
            format_cell(t, r, c, f);
            if (c) sb_putc(&b, ',');
            if (f->kind == FC_TEXT) {
                sbuf cl = {0};
                put_clean(&cl, f->text);
                if (cl.oom) b.oom = 1;
                put_csv_field(&b, cl.p ? cl.p : "");
                free(cl.p);
            } else if (f->kind == FC_NUM)
                sb_puts(&b, f->v);
            if (has_half[c]) sb_putc(&b, ','), sb_puts(&b, f->kind == FC_NUM ? f->h : "");
            if (f->marked) { /* the marked column lists the headers of this row's marked cells */
                if (tmp.n) sb_puts(&tmp, "; ");
                put_clean(&tmp, t->cols[c].header);
            }
        }
        if (marks) sb_putc(&b, ','), put_csv_field(&b, tmp.n ? tmp.p : "");
        sb_puts(&b, "\r\n");
    }
    if (tmp.oom) b.oom = 1;
    st = write_file(dir, t->name, "csv", &b);
done:
    free(has_half);
    free(f);
    free(tmp.p);
    free(b.p);
    return st;
}
