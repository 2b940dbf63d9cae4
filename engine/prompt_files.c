/* prompt_files.c: prompt file readers (.txt, .jsonl, .csv) for prompts.c.
 *
 * The whole file is read into memory, checked for NUL bytes and valid UTF-8 (errors name the line),
 * and split into prompts:
 *   .txt    one prompt per line; a trailing "\r\n" or "\n" is stripped; blank lines (empty or only
 *           spaces and tabs) are skipped; otherwise the line is taken verbatim (no trimming).
 *   .jsonl  one JSON object per line (blank lines skipped); the string member `field`.
 *   .csv    RFC 4180: a header row, then records; quoted fields may hold commas, doubled quotes and
 *           newlines; the column named `field`. Records end at "\r\n" or "\n"; blank lines are skipped.
 * A UTF-8 byte order mark at the start of the file is ignored. Structured formats reject an empty
 * prompt (it would silently shift the prompt indices if skipped). Every error names path:line. */
#include <errno.h>
#include <jansson.h> /* json_loadb, json_object_get */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h> /* strcasecmp */

#include "status.h"

/* Declared in prompts.c, which is the only caller. */
ss_status ss_prompt_file_read(const char *path, const char *field, char ***texts_out, int **lines_out, int *n_out);

/* ---------------------------------------------------------------- growing list of prompts */

typedef struct {
    char **texts; /* [n] owned */
    int *lines;   /* [n] 1-based line where the prompt starts */
    int n, cap;
} prompt_list;

static ss_status list_push(prompt_list *l, const char *s, size_t len, int line)
{
    if (l->n == l->cap) {
        int cap = l->cap ? 2 * l->cap : 64;
        char **t = realloc(l->texts, (size_t)cap * sizeof *t);
        if (!t) return ss_fail(SS_ERR_NOMEM, "out of memory growing the prompt list");
        l->texts = t;
        int *ln = realloc(l->lines, (size_t)cap * sizeof *ln);
        if (!ln) return ss_fail(SS_ERR_NOMEM, "out of memory growing the prompt list");
        l->lines = ln;
        l->cap = cap;
    }
    char *copy = malloc(len + 1);
    if (!copy) return ss_fail(SS_ERR_NOMEM, "out of memory copying a prompt of %zu bytes", len);
    memcpy(copy, s, len);
    copy[len] = '\0';
    l->texts[l->n] = copy;
    l->lines[l->n] = line;
    l->n++;
    return SS_OK;
}

static void list_free(prompt_list *l)
{
    for (int i = 0; i < l->n; i++) free(l->texts[i]);
    free(l->texts);
    free(l->lines);
    memset(l, 0, sizeof *l);
}

/* ---------------------------------------------------------------- reading and checking bytes */

static ss_status read_whole_file(const char *path, char **buf_out, size_t *len_out)
{
    ss_status st = SS_OK;
    char *buf = NULL;
    size_t len = 0, cap = 0;
    FILE *f = fopen(path, "rb");
    if (!f) {
        st = ss_fail(SS_ERR_IO, "%s: cannot open prompt file: %s", path, strerror(errno));
        goto done;
    }
    for (;;) {
        if (cap - len < 4096) {
            size_t ncap = cap ? 2 * cap : 65536;
            char *nb = realloc(buf, ncap + 1);
            if (!nb) {
                st = ss_fail(SS_ERR_NOMEM, "%s: out of memory reading the prompt file", path);
                goto done;
            }
            buf = nb;
            cap = ncap;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0) break;
    }
    if (ferror(f)) {
        st = ss_fail(SS_ERR_IO, "%s: read error: %s", path, strerror(errno));
        goto done;
    }
    buf[len] = '\0';
    *buf_out = buf;
    *len_out = len;
    buf = NULL;
done:
    if (f) fclose(f);
    free(buf);
    return st;
}

/* Length of the valid UTF-8 sequence at s (n bytes left), or 0 when invalid (overlong forms,
 * surrogates, code points above U+10FFFF and truncated sequences are invalid). */
static size_t utf8_seq_len(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    if (c < 0x80) return 1;
    size_t len;
    unsigned lo = 0x80, hi = 0xBF; /* allowed range of the second byte */
    if (c >= 0xC2 && c <= 0xDF) len = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        if (c == 0xE0) lo = 0xA0;      /* overlong */
        else if (c == 0xED) hi = 0x9F; /* UTF-16 surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        if (c == 0xF0) lo = 0x90;      /* overlong */
        else if (c == 0xF4) hi = 0x8F; /* above U+10FFFF */
    } else
        return 0;
    if (n < len) return 0;
    if (s[1] < lo || s[1] > hi) return 0;
    for (size_t k = 2; k < len; k++)
        if (s[k] < 0x80 || s[k] > 0xBF) return 0;
    return len;
}

/* Rejects NUL bytes and invalid UTF-8, naming the line and column (1-based, in bytes). */
static ss_status check_bytes(const char *path, const char *buf, size_t len)
{
    int line = 1;
    size_t line_start = 0;
    for (size_t i = 0; i < len;) {
        const unsigned char *p = (const unsigned char *)buf + i;
        if (*p == '\n') {
            line++;
            line_start = ++i;
            continue;
        }
        if (*p == 0)
            return ss_fail(SS_ERR_INPUT, "%s:%d: NUL byte at column %zu (prompt files are UTF-8 text)", path, line,
                           i - line_start + 1);
        size_t k = utf8_seq_len(p, len - i);
        if (k == 0)
            return ss_fail(SS_ERR_INPUT, "%s:%d: invalid UTF-8 (byte 0x%02X at column %zu)", path, line, *p,
                           i - line_start + 1);
        i += k;
    }
    return SS_OK;
}

/* ---------------------------------------------------------------- .txt */

static int is_blank(const char *s, size_t n)
{
    for (size_t k = 0; k < n; k++)
        if (s[k] != ' ' && s[k] != '\t' && s[k] != '\r') return 0;
    return 1;
}

static ss_status read_txt(const char *buf, size_t len, prompt_list *l)
{
    ss_status st = SS_OK;
    int line = 0;
    for (size_t i = 0; i < len;) {
        line++;
        const char *s = buf + i;
        const char *nl = memchr(s, '\n', len - i);
        size_t n = nl ? (size_t)(nl - s) : len - i;
        i += n + (nl ? 1 : 0);
        if (n > 0 && s[n - 1] == '\r') n--;
        if (is_blank(s, n)) continue; /* empty, or only spaces and tabs */
        SS_TRY(list_push(l, s, n, line));
    }
done:
    return st;
}

/* ---------------------------------------------------------------- .jsonl */

static const char *json_type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL: return "a number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    case JSON_NULL: return "null";
    }
    return "unknown";
}

static ss_status read_jsonl(const char *path, const char *field, const char *buf, size_t len, prompt_list *l)
{
    ss_status st = SS_OK;
    json_t *root = NULL;
    int line = 0;
    for (size_t i = 0; i < len;) {
        line++;
        const char *s = buf + i;
        const char *nl = memchr(s, '\n', len - i);
        size_t n = nl ? (size_t)(nl - s) : len - i;
        i += n + (nl ? 1 : 0);
        if (is_blank(s, n)) continue;

        json_error_t err;
        root = json_loadb(s, n, JSON_REJECT_DUPLICATES, &err);
        if (!root) {
            st = ss_fail(SS_ERR_INPUT, "%s:%d: invalid JSON: %s (column %d)", path, line, err.text, err.column);
            goto done;
        }
        if (!json_is_object(root)) {
            st = ss_fail(SS_ERR_INPUT, "%s:%d: expected a JSON object with field '%s', found %s", path, line, field,
                         json_type_name(root));
            goto done;
        }
        json_t *v = json_object_get(root, field);
        if (!v) {
            st = ss_fail(SS_ERR_INPUT, "%s:%d: field '%s' is missing", path, line, field);
            goto done;
        }
        if (!json_is_string(v)) {
            st = ss_fail(SS_ERR_INPUT, "%s:%d: field '%s' is not a string (it is %s)", path, line, field,
                         json_type_name(v));
            goto done;
        }
        if (json_string_length(v) == 0) {
            st = ss_fail(SS_ERR_INPUT, "%s:%d: field '%s' is an empty string", path, line, field);
            goto done;
        }
        SS_TRY(list_push(l, json_string_value(v), json_string_length(v), line));
        json_decref(root);
        root = NULL;
    }
done:
    json_decref(root);
    return st;
}

/* ---------------------------------------------------------------- .csv (RFC 4180) */

typedef struct {
    char **fields; /* [n] owned, NUL-terminated */
    int n, cap;
} csv_record;

static void record_clear(csv_record *r)
{
    for (int k = 0; k < r->n; k++) free(r->fields[k]);
    r->n = 0;
}

static void record_free(csv_record *r)
{
    record_clear(r);
    free(r->fields);
    memset(r, 0, sizeof *r);
}

static ss_status record_push(csv_record *r, const char *s, size_t n)
{
    if (r->n == r->cap) {
        int cap = r->cap ? 2 * r->cap : 8;
        char **f = realloc(r->fields, (size_t)cap * sizeof *f);
        if (!f) return ss_fail(SS_ERR_NOMEM, "out of memory reading a CSV record");
        r->fields = f;
        r->cap = cap;
    }
    char *copy = malloc(n + 1);
    if (!copy) return ss_fail(SS_ERR_NOMEM, "out of memory reading a CSV field");
    memcpy(copy, s, n);
    copy[n] = '\0';
    r->fields[r->n++] = copy;
    return SS_OK;
}

/* Reads one record starting at buf[*pos] (which is not at the end). *line is the line the record
 * starts on, and is advanced past it. Quoted fields are unescaped into scratch (len + 1 bytes).
 * *blank is set for an empty line (no fields at all). */
static ss_status csv_next_record(const char *path, const char *buf, size_t len, size_t *pos, int *line, char *scratch,
                                 csv_record *r, int *blank)
{
    ss_status st = SS_OK;
    size_t i = *pos;
    int start_line = *line;
    record_clear(r);
    *blank = 0;
    if (buf[i] == '\n' || (buf[i] == '\r' && i + 1 < len && buf[i + 1] == '\n')) {
        *blank = 1;
        *pos = i + (buf[i] == '\r' ? 2 : 1);
        (*line)++;
        return SS_OK;
    }
    for (;;) {
        /* one field */
        size_t n = 0;
        if (i < len && buf[i] == '"') {
            int quote_line = *line;
            i++;
            for (;;) {
                if (i >= len) {
                    st = ss_fail(SS_ERR_INPUT,
                                 "%s:%d: unterminated quoted field (the quote opened on line %d is never closed)", path,
                                 start_line, quote_line);
                    goto done;
                }
                char c = buf[i];
                if (c == '"') {
                    if (i + 1 < len && buf[i + 1] == '"') {
                        scratch[n++] = '"';
                        i += 2;
                        continue;
                    }
                    i++;
                    break;
                }
                if (c == '\n') (*line)++;
                scratch[n++] = c;
                i++;
            }
            if (i < len && buf[i] != ',' && buf[i] != '\n' && !(buf[i] == '\r' && i + 1 < len && buf[i + 1] == '\n')) {
                st = ss_fail(SS_ERR_INPUT, "%s:%d: unexpected character '%c' after a closing quote (field %d)", path,
                             *line, buf[i], r->n + 1);
                goto done;
            }
        } else {
            while (i < len && buf[i] != ',' && buf[i] != '\n' &&
                   !(buf[i] == '\r' && i + 1 < len && buf[i + 1] == '\n')) {
                if (buf[i] == '"') {
                    st = ss_fail(SS_ERR_INPUT,
                                 "%s:%d: quote inside an unquoted field (field %d); RFC 4180 wants the whole field "
                                 "quoted and inner quotes doubled",
                                 path, *line, r->n + 1);
                    goto done;
                }
                scratch[n++] = buf[i++];
            }
        }
        SS_TRY(record_push(r, scratch, n));
        if (i >= len) break;
        if (buf[i] == ',') {
            i++;
            continue;
        }
        /* end of record: "\n" or "\r\n" */
        i += buf[i] == '\r' ? 2 : 1;
        (*line)++;
        break;
    }
    *pos = i;
done:
    return st;
}

static ss_status read_csv(const char *path, const char *field, const char *buf, size_t len, prompt_list *l)
{
    ss_status st = SS_OK;
    csv_record rec = {0};
    char *scratch = malloc(len + 1);
    char *cols = NULL;
    size_t pos = 0;
    int line = 1, hdr_line = 1, n_cols = 0, col = -1, blank = 0;
    if (!scratch) {
        st = ss_fail(SS_ERR_NOMEM, "%s: out of memory", path);
        goto done;
    }
    /* header: the first non-blank record */
    do {
        if (pos >= len) {
            st = ss_fail(SS_ERR_INPUT, "%s: empty CSV file (no header row)", path);
            goto done;
        }
        hdr_line = line;
        SS_TRY(csv_next_record(path, buf, len, &pos, &line, scratch, &rec, &blank));
    } while (blank);
    n_cols = rec.n;
    for (int k = 0; k < rec.n; k++) {
        if (strcmp(rec.fields[k], field) != 0) continue;
        if (col >= 0) {
            st = ss_fail(SS_ERR_INPUT,
                         "%s:%d: column '%s' appears more than once in the header (columns %d and %d)", path,
                         hdr_line, field, col + 1, k + 1);
            goto done;
        }
        col = k;
    }
    if (col < 0) {
        size_t need = 1;
        for (int k = 0; k < rec.n; k++) need += strlen(rec.fields[k]) + 4;
        cols = malloc(need);
        if (!cols) {
            st = ss_fail(SS_ERR_NOMEM, "%s: out of memory", path);
            goto done;
        }
        cols[0] = '\0';
        for (int k = 0; k < rec.n; k++) {
            if (k) strcat(cols, ", ");
            strcat(cols, "'");
            strcat(cols, rec.fields[k]);
            strcat(cols, "'");
        }
        st = ss_fail(SS_ERR_INPUT, "%s:%d: no column '%s' in the header; available columns: %s", path, hdr_line, field,
                     cols);
        goto done;
    }
    while (pos < len) {
        int rec_line = line;
        SS_TRY(csv_next_record(path, buf, len, &pos, &line, scratch, &rec, &blank));
        if (blank) continue;
        if (rec.n != n_cols) {
            st = ss_fail(SS_ERR_INPUT, "%s:%d: the record has %d field(s), the header has %d", path, rec_line, rec.n,
                         n_cols);
            goto done;
        }
        if (rec.fields[col][0] == '\0') {
            st = ss_fail(SS_ERR_INPUT, "%s:%d: column '%s' is empty", path, rec_line, field);
            goto done;
        }
        SS_TRY(list_push(l, rec.fields[col], strlen(rec.fields[col]), rec_line));
    }
done:
    record_free(&rec);
    free(scratch);
    free(cols);
    return st;
}

/* ---------------------------------------------------------------- entry point */

static int has_ext(const char *path, const char *ext)
{
    size_t n = strlen(path), e = strlen(ext);
    return n > e && strcasecmp(path + n - e, ext) == 0;
}

ss_status ss_prompt_file_read(const char *path, const char *field, char ***texts_out, int **lines_out, int *n_out)
{
    ss_status st = SS_OK;
    prompt_list l = {0};
    char *buf = NULL;
    size_t len = 0;
    enum { TXT, JSONL, CSV } kind;
    if (!field || !*field) field = "text";

    if (has_ext(path, ".txt")) kind = TXT;
    else if (has_ext(path, ".jsonl")) kind = JSONL;
    else if (has_ext(path, ".csv")) kind = CSV;
    else {
        st = ss_fail(SS_ERR_INPUT, "%s: unknown prompt file type (expected .txt, .jsonl or .csv)", path);
        goto done;
    }
    SS_TRY(read_whole_file(path, &buf, &len));
    SS_TRY(check_bytes(path, buf, len));
    const char *text = buf;
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) { /* byte order mark */
        text += 3;
        len -= 3;
    }
    if (kind == TXT) SS_TRY(read_txt(text, len, &l));
    else if (kind == JSONL) SS_TRY(read_jsonl(path, field, text, len, &l));
    else SS_TRY(read_csv(path, field, text, len, &l));
    if (l.n == 0) {
        st = ss_fail(SS_ERR_INPUT, "%s: the file holds no prompts%s", path, len == 0 ? " (it is empty)" : "");
        goto done;
    }
    *texts_out = l.texts;
    *lines_out = l.lines;
    *n_out = l.n;
    memset(&l, 0, sizeof l);
done:
    list_free(&l);
    free(buf);
    return st;
}
