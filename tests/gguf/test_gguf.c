/* test_gguf.c: the GGUF reader (engine/model/gguf.c) on
 *   - tests/fixtures/gguf/tiny.gguf, written by the gguf Python package's GGUFWriter
 *     (make_gguf_fixtures.py): every key, type and value, and every tensor's type, dims, offset and
 *     the sha256 of its dequantized fp32 bytes, must equal what the script recorded in tiny.json;
 *     read through mmap and from memory; tiny_align64.gguf (general.alignment = 64) likewise;
 *   - the ggml type table against the package's GGML_QUANT_SIZES (ggml_types.json);
 *   - the same file patched to version 2 (accepted) and every corruption the parser must refuse:
 *     each truncation length, bad magic, version 1 / big-endian / unknown versions, huge counts,
 *     strings and arrays running past the end, unknown value and tensor types, nested arrays, bad
 *     bools, duplicate keys and tensor names, bad alignment, bad dims, misaligned, overlapping and
 *     out-of-file tensor data: each must fail with SS_ERR_FORMAT and a message naming the file and the
 *     key or tensor. Each corrupt image is an exact-size heap copy, so ASan sees any overread. */
#include <jansson.h> /* tiny.json */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"       /* ss_sha256_* */
#include "model/gguf.h" /* the reader under test */
#include "test_util.h"  /* CHECK, CHECK_MSG, CHECK_STREQ, SKIP, TEST_END */

static char g_fix[1024]; /* tests/fixtures/gguf */

static uint8_t *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc(sz > 0 ? (size_t)sz : 1);
    if (b && fread(b, 1, (size_t)sz, f) != (size_t)sz) {
        free(b);
        b = NULL;
    }
    fclose(f);
    *n = (size_t)sz;
    return b;
}

static json_t *load_json(const char *name)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/%s", g_fix, name);
    json_error_t e;
    json_t *j = json_load_file(path, 0, &e);
    if (!j) fprintf(stderr, "%s: %s (line %d)\n", path, e.text, e.line);
    return j;
}

static uint32_t f32_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static uint64_t f64_bits(double f)
{
    uint64_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

/* ---------------------------------------------------------------- the valid files */

static void check_kv(const ss_gguf *g, const char *key, const json_t *rec)
{
    const char *type = json_string_value(json_object_get(rec, "type"));
    const json_t *val = json_object_get(rec, "value");
    const ss_gguf_kv *kv = ss_gguf_find_kv(g, key);
    CHECK_MSG(kv != NULL, "key %s missing", key);
    if (!kv || !type) return;
    CHECK_MSG(strcmp(ss_gguf_vtype_name(kv->type), type) == 0, "key %s: type %s, want %s", key,
              ss_gguf_vtype_name(kv->type), type);
    int64_t iv;
    uint64_t uv;
    if (!strcmp(type, "UINT8") || !strcmp(type, "UINT16") || !strcmp(type, "INT8") || !strcmp(type, "INT16") ||
        !strcmp(type, "INT32")) {
        CHECK_MSG(ss_gguf_get_int(g, key, &iv) && iv == json_integer_value(val), "key %s value", key);
        if (!strcmp(type, "INT32")) {
            int32_t v32;
            CHECK(ss_gguf_get_i32(g, key, &v32) && v32 == json_integer_value(val));
        }
    } else if (!strcmp(type, "UINT32")) {
        uint32_t v32;
        CHECK_MSG(ss_gguf_get_u32(g, key, &v32) && v32 == (uint32_t)json_integer_value(val), "key %s value", key);
        CHECK(ss_gguf_get_int(g, key, &iv) && iv == json_integer_value(val));
    } else if (!strcmp(type, "UINT64")) {
        CHECK(ss_gguf_get_u64(g, key, &uv) && uv == strtoull(json_string_value(val), NULL, 10));
    } else if (!strcmp(type, "INT64")) {
        CHECK(ss_gguf_get_i64(g, key, &iv) && iv == strtoll(json_string_value(val), NULL, 10));
    } else if (!strcmp(type, "FLOAT32")) {
        float f;
        uint32_t want = (uint32_t)json_integer_value(json_object_get(rec, "bits"));
        CHECK_MSG(ss_gguf_get_f32(g, key, &f) && f32_bits(f) == want, "key %s value", key);
    } else if (!strcmp(type, "FLOAT64")) {
        double d;
        CHECK(ss_gguf_get_f64(g, key, &d) &&
              f64_bits(d) == strtoull(json_string_value(json_object_get(rec, "bits")), NULL, 10));
    } else if (!strcmp(type, "BOOL")) {
        int b;
        CHECK(ss_gguf_get_bool(g, key, &b) && b == json_is_true(val));
    } else if (!strcmp(type, "STRING")) {
        const char *s;
        CHECK(ss_gguf_get_str(g, key, &s) && strcmp(s, json_string_value(val)) == 0);
        CHECK(kv->str_len == strlen(json_string_value(val)));
    } else if (!strcmp(type, "ARRAY")) {
        const char *et = json_string_value(json_object_get(rec, "elem_type"));
        CHECK_MSG(strcmp(ss_gguf_vtype_name(kv->arr_type), et) == 0, "key %s elem type", key);
        CHECK(kv->arr_n == json_array_size(val));
        if (!strcmp(et, "STRING")) {
            const ss_gguf_str *items;
            uint64_t n;
            CHECK(ss_gguf_get_str_array(g, key, &items, &n) && n == json_array_size(val));
            for (uint64_t i = 0; i < n && i < json_array_size(val); i++) {
                const char *w = json_string_value(json_array_get(val, i));
                CHECK_MSG(items[i].len == strlen(w) && memcmp(items[i].ptr, w, strlen(w)) == 0, "key %s[%llu]", key,
                          (unsigned long long)i);
            }
        } else if (!strcmp(et, "FLOAT32") || !strcmp(et, "FLOAT64")) {
            const ss_gguf_kv *a;
            uint64_t n;
            CHECK(ss_gguf_get_float_array(g, key, &a, &n) && a == kv);
            const json_t *bits = json_object_get(rec, "bits");
            for (uint64_t i = 0; i < n; i++) {
                double d;
                CHECK(ss_gguf_arr_float(kv, i, &d));
                if (!strcmp(et, "FLOAT32"))
                    CHECK(f32_bits((float)d) == (uint32_t)json_integer_value(json_array_get(bits, i)));
                else CHECK(f64_bits(d) == strtoull(json_string_value(json_array_get(bits, i)), NULL, 10));
            }
            CHECK(!ss_gguf_arr_float(kv, n, &(double){0})); /* past the end */
        } else if (!strcmp(et, "BOOL")) {
            for (uint64_t i = 0; i < kv->arr_n; i++) CHECK(kv->arr_data[i] == json_is_true(json_array_get(val, i)));
        } else { /* integers */
            const ss_gguf_kv *a;
            uint64_t n;
            CHECK(ss_gguf_get_int_array(g, key, &a, &n) && a == kv);
            for (uint64_t i = 0; i < n; i++) {
                const json_t *e = json_array_get(val, i);
                if (json_is_string(e)) { /* 64-bit: compare the raw little-endian element */
                    uint64_t want = !strcmp(et, "UINT64") ? strtoull(json_string_value(e), NULL, 10)
                                                          : (uint64_t)strtoll(json_string_value(e), NULL, 10);
                    uint64_t got = 0;
                    for (int b = 7; b >= 0; b--) got = got << 8 | kv->arr_data[8 * i + (uint64_t)b];
                    CHECK_MSG(got == want, "key %s[%llu]", key, (unsigned long long)i);
                    int ok = ss_gguf_arr_int(kv, i, &iv);
                    CHECK(ok == (want <= (uint64_t)INT64_MAX || !strcmp(et, "INT64"))); /* U64 > INT64_MAX refused */
                } else {
                    CHECK_MSG(ss_gguf_arr_int(kv, i, &iv) && iv == json_integer_value(e), "key %s[%llu]", key,
                              (unsigned long long)i);
                }
            }
        }
    }
}

/* sha256 of the tensor's fp32 values, little-endian bytes (our hosts are little-endian). */
static void check_tensor(const ss_gguf *g, const json_t *rec)
{
    const char *name = json_string_value(json_object_get(rec, "name"));
    const ss_gguf_tensor *t = ss_gguf_find_tensor(g, name);
    CHECK_MSG(t != NULL, "tensor %s missing", name);
    if (!t) return;
    CHECK_STREQ(ss_ggml_type_name(t->type), json_string_value(json_object_get(rec, "type")));
    CHECK(t->type == (uint32_t)json_integer_value(json_object_get(rec, "ggml_type")));
    const json_t *dims = json_object_get(rec, "dims");
    CHECK(t->n_dims == (int)json_array_size(dims));
    for (int d = 0; d < t->n_dims; d++) CHECK(t->dims[d] == json_integer_value(json_array_get(dims, (size_t)d)));
    CHECK(t->n_elems == (uint64_t)json_integer_value(json_object_get(rec, "n_elems")));
    CHECK_MSG(t->offset == (uint64_t)json_integer_value(json_object_get(rec, "offset")), "tensor %s offset", name);
    CHECK(t->data == g->buf + g->data_start + t->offset);

    float *y = malloc(t->n_elems * sizeof *y); /* [n_elems] */
    ss_status st = ss_gguf_tensor_f32(g, name, y);
    CHECK_MSG(st == SS_OK, "%s", ss_errmsg());
    char hex[65];
    ss_sha256 *h = ss_sha256_new();
    ss_sha256_update(h, y, t->n_elems * sizeof *y);
    ss_sha256_final(h, hex);
    CHECK_MSG(strcmp(hex, json_string_value(json_object_get(rec, "sha256_f32"))) == 0,
              "tensor %s (%s): dequantized values differ from gguf.quants.dequantize", name,
              ss_ggml_type_name(t->type));
    const json_t *fb = json_object_get(rec, "first_bits");
    for (size_t i = 0; i < json_array_size(fb); i++)
        CHECK(f32_bits(y[i]) == (uint32_t)json_integer_value(json_array_get(fb, i)));

    /* Row access: the last row alone equals the tail of the whole tensor; the shape check of load_f32. */
    int64_t rows = ss_gguf_tensor_rows(t);
    float *row = malloc((size_t)t->dims[0] * sizeof *row); /* [dims[0]] */
    CHECK(ss_gguf_tensor_rows_f32(g, t, rows - 1, 1, row) == SS_OK);
    CHECK(memcmp(row, y + (rows - 1) * t->dims[0], (size_t)t->dims[0] * sizeof *row) == 0);
    CHECK(ss_gguf_tensor_rows_f32(g, t, rows, 1, row) == SS_ERR_RANGE);
    CHECK(ss_gguf_tensor_rows_f32(g, t, -1, 1, row) == SS_ERR_RANGE);
    CHECK(ss_gguf_load_f32(g, name, t->n_dims, t->dims, y) == SS_OK);
    int64_t wrong[4] = {t->dims[0] + 1, t->dims[1], t->dims[2], t->dims[3]};
    CHECK(ss_gguf_load_f32(g, name, t->n_dims, wrong, y) == SS_ERR_FORMAT);
    CHECK(strstr(ss_errmsg(), name) && strstr(ss_errmsg(), "expected"));
    free(row);
    free(y);
}

static void check_file(const ss_gguf *g, const json_t *j, const char *label)
{
    printf("%s: version %u, %lld keys, %lld tensors, alignment %u, data at %llu\n", label, g->version,
           (long long)g->n_kv, (long long)g->n_tensors, g->alignment, (unsigned long long)g->data_start);
    CHECK(g->version == 3);
    CHECK(g->n_kv == json_integer_value(json_object_get(j, "n_kv")));
    CHECK(g->n_kv == (int64_t)json_object_size(json_object_get(j, "kv")));
    CHECK(g->n_tensors == (int64_t)json_array_size(json_object_get(j, "tensors")));
    CHECK(g->alignment == (uint32_t)json_integer_value(json_object_get(j, "alignment")));
    CHECK(g->data_start == (uint64_t)json_integer_value(json_object_get(j, "data_start")));
    CHECK(g->size == (size_t)json_integer_value(json_object_get(j, "size")));
    const char *key;
    json_t *rec;
    json_object_foreach(json_object_get(j, "kv"), key, rec) check_kv(g, key, rec);
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(j, "tensors"), i, t) check_tensor(g, t);
}

static void check_valid(void)
{
    json_t *j = load_json("tiny.json");
    CHECK(j != NULL);
    if (!j) return;
    char path[1200];
    snprintf(path, sizeof path, "%s/tiny.gguf", g_fix);
    ss_gguf *g = NULL;
    ss_status st = ss_gguf_open(path, &g);
    CHECK_MSG(st == SS_OK, "%s", ss_errmsg());
    if (g) {
        check_file(g, j, "tiny.gguf (mmap)");
        CHECK(g->mapped == 1);
        CHECK_STREQ(g->path, path);

        /* Typed getters refuse other types and absent keys. */
        uint32_t u32;
        float f;
        const char *s;
        int64_t i64;
        CHECK(!ss_gguf_get_u32(g, "llama.rope.freq_base", &u32));
        CHECK(!ss_gguf_get_f32(g, "llama.block_count", &f));
        CHECK(!ss_gguf_get_str(g, "test.u8", &s));
        CHECK(!ss_gguf_get_u32(g, "no.such.key", &u32));
        CHECK(!ss_gguf_get_int(g, "test.bool", &i64));
        CHECK(!ss_gguf_get_int(g, "test.u64", &i64)); /* 2^63 + 5 does not fit */
        CHECK(ss_gguf_find_tensor(g, "no.such.tensor") == NULL);
        CHECK(ss_gguf_tensor_f32(g, "no.such.tensor", &f) == SS_ERR_FORMAT && strstr(ss_errmsg(), "no.such.tensor"));

        /* Hyper-parameters from the standard keys. */
        ss_gguf_hparams hp;
        CHECK(ss_gguf_read_hparams(g, &hp) == SS_OK);
        CHECK_STREQ(hp.arch, "llama");
        CHECK_STREQ(hp.name, "sinkscope tiny fixture");
        CHECK(hp.n_layers == 1 && hp.d_model == 64 && hp.d_ff == 256 && hp.n_heads == 4 && hp.n_kv_heads == 2);
        CHECK(hp.d_head_k == 16 && hp.d_head_v == 16 && hp.rope_dims == 16 && hp.rope_dims_in_file);
        CHECK(hp.n_ctx == 256 && hp.n_vocab == 16 && hp.rope_base == 10000.0 && hp.sliding_window == -1);
        CHECK(hp.norm_eps == (double)1e-5f);
        CHECK(hp.bos_id == 1 && hp.eos_id == 2 && hp.pad_id == 0);
        CHECK(hp.unk_id == -1 && hp.sep_id == -1 && hp.cls_id == -1);
        CHECK(hp.add_bos == 1 && hp.add_eos == -1);
        CHECK_STREQ(hp.tok_model, "gpt2");
        CHECK_STREQ(hp.tok_pre, "default");
        ss_gguf_close(g);
    }

    /* The same bytes from memory, at an odd address (no alignment is assumed). */
    size_t n;
    uint8_t *file = slurp(path, &n);
    CHECK(file != NULL);
    if (file) {
        uint8_t *odd = malloc(n + 1);
        memcpy(odd + 1, file, n);
        g = NULL;
        CHECK(ss_gguf_parse(odd + 1, n, "mem:tiny.gguf", &g) == SS_OK);
        if (g) {
            check_file(g, j, "tiny.gguf (memory, odd address)");
            CHECK(g->mapped == 0);
            ss_gguf_close(g);
        }
        free(odd);
        /* Version 2 has the same layout for little-endian files. */
        file[4] = 2;
        g = NULL;
        CHECK_MSG(ss_gguf_parse(file, n, "v2", &g) == SS_OK, "%s", ss_errmsg());
        CHECK(g && g->version == 2);
        ss_gguf_close(g);
        free(file);
    }
    json_decref(j);

    j = load_json("tiny_align64.json");
    CHECK(j != NULL);
    snprintf(path, sizeof path, "%s/tiny_align64.gguf", g_fix);
    g = NULL;
    CHECK_MSG(ss_gguf_open(path, &g) == SS_OK, "%s", ss_errmsg());
    if (g && j) {
        check_file(g, j, "tiny_align64.gguf");
        CHECK(g->alignment == 64 && g->data_start % 64 == 0);
    }
    ss_gguf_close(g);
    json_decref(j);
}

/* The type table against the gguf package's GGML_QUANT_SIZES. */
static void check_types(void)
{
    json_t *j = load_json("ggml_types.json");
    CHECK(j != NULL);
    if (!j) return;
    json_t *types = json_object_get(j, "types");
    int n_listed = 0;
    for (uint32_t id = 0; id < 64; id++) {
        char k[16];
        snprintf(k, sizeof k, "%u", id);
        json_t *e = json_object_get(types, k);
        if (!e) {
            CHECK_MSG(ss_ggml_type_name(id) == NULL, "type %u is not in the package's table but we name it %s", id,
                      ss_ggml_type_name(id));
            continue;
        }
        n_listed++;
        if (id == 9) { /* Q8_1: deliberately refused (never in files; see gguf.c) */
            CHECK(ss_ggml_type_name(id) == NULL);
            continue;
        }
        const char *name = json_string_value(json_array_get(e, 0));
        CHECK_MSG(ss_ggml_type_name(id) && strcmp(ss_ggml_type_name(id), name) == 0, "type %u: %s vs %s", id,
                  ss_ggml_type_name(id) ? ss_ggml_type_name(id) : "(none)", name);
        CHECK_MSG(ss_ggml_block_size(id) == json_integer_value(json_array_get(e, 1)), "type %s block size", name);
        CHECK_MSG((json_int_t)ss_ggml_type_size(id) == json_integer_value(json_array_get(e, 2)), "type %s bytes", name);
    }
    CHECK(n_listed == (int)json_object_size(types));
    const char *supported[] = {"F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q4_K", "Q6_K"};
    int n_sup = 0;
    for (uint32_t id = 0; id < 64; id++)
        if (ss_ggml_type_supported(id)) {
            n_sup++;
            int known = 0;
            for (size_t i = 0; i < 9; i++) known |= strcmp(ss_ggml_type_name(id), supported[i]) == 0;
            CHECK(known);
        }
    CHECK(n_sup == 9);
    printf("ggml type table: %d types agree with the gguf package (Q8_1 deliberately refused)\n", n_listed - 1);
    json_decref(j);
}

/* ---------------------------------------------------------------- corrupt files */

static uint8_t *g_file; /* tiny.gguf */
static size_t g_size;

/* Parses an exact-size copy of img[0..n) and expects SS_ERR_FORMAT with a message holding the label
 * and each non-NULL substring. */
static void expect_fail(const char *what, const uint8_t *img, size_t n, const char *sub1, const char *sub2)
{
    uint8_t *copy = malloc(n ? n : 1);
    if (n) memcpy(copy, img, n);
    ss_gguf *g = NULL;
    ss_clear_error();
    ss_status st = ss_gguf_parse(copy, n, "bad.gguf", &g);
    CHECK_MSG(st == SS_ERR_FORMAT, "%s: status %s", what, ss_status_name(st));
    CHECK(g == NULL);
    const char *m = ss_errmsg();
    CHECK_MSG(strstr(m, "bad.gguf") != NULL, "%s: message does not name the file: %s", what, m);
    CHECK_MSG(!sub1 || strstr(m, sub1), "%s: message lacks '%s': %s", what, sub1, m);
    CHECK_MSG(!sub2 || strstr(m, sub2), "%s: message lacks '%s': %s", what, sub2, m);
    if (getenv("SS_TEST_VERBOSE")) printf("  %-28s -> %s\n", what, m);
    ss_gguf_close(g);
    free(copy);
}

static uint8_t *patched(void)
{
    uint8_t *b = malloc(g_size);
    memcpy(b, g_file, g_size);
    return b;
}

static void put_le(uint8_t *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++) p[i] = (uint8_t)(v >> (8 * i));
}

/* The byte just after the length-prefixed string s in the header region (its key's type, or a
 * tensor info's n_dims); NULL when not found. */
static uint8_t *after_str(uint8_t *b, const char *s)
{
    size_t n = strlen(s);
    uint8_t pat[256];
    put_le(pat, n, 8);
    memcpy(pat + 8, s, n);
    for (size_t i = 0; i + 8 + n <= 2560 && i + 8 + n <= g_size; i++)
        if (memcmp(b + i, pat, 8 + n) == 0) return b + i + 8 + n;
    return NULL;
}

static void check_truncations(void)
{
    /* Where the last tensor's data ends: beyond it only padding follows, so shorter files must fail
     * and longer ones parse. */
    ss_gguf *g = NULL;
    CHECK(ss_gguf_parse(g_file, g_size, "tiny", &g) == SS_OK);
    if (!g) return;
    uint64_t end = 0;
    for (int64_t i = 0; i < g->n_tensors; i++)
        if (g->data_start + g->tensors[i].offset + g->tensors[i].n_bytes > end)
            end = g->data_start + g->tensors[i].offset + g->tensors[i].n_bytes;
    uint64_t data_start = g->data_start;
    ss_gguf_close(g);
    int bad = 0, n_fail = 0;
    for (size_t n = 0; n <= g_size; n++) {
        uint8_t *copy = malloc(n ? n : 1);
        memcpy(copy, g_file, n);
        g = NULL;
        ss_status st = ss_gguf_parse(copy, n, "cut.gguf", &g);
        int want_ok = n >= end;
        if ((st == SS_OK) != want_ok || (st != SS_OK && (st != SS_ERR_FORMAT || !strstr(ss_errmsg(), "cut.gguf")))) {
            if (bad++ < 5) fprintf(stderr, "truncated to %zu bytes: %s (%s)\n", n, ss_status_name(st), ss_errmsg());
        }
        n_fail += st != SS_OK;
        ss_gguf_close(g);
        free(copy);
    }
    CHECK_MSG(bad == 0, "%d truncation lengths misbehaved", bad);
    printf("truncations: all %zu lengths 0..%zu (header region 0..%llu, last tensor ends at %llu): %d refused, the "
           "rest parse\n", g_size + 1, g_size, (unsigned long long)data_start, (unsigned long long)end, n_fail);
}

static void check_corruptions(void)
{
    uint8_t *b, *p;

    b = patched();
    memcpy(b, "GGUG", 4);
    expect_fail("bad magic", b, g_size, "not a GGUF file", NULL);
    expect_fail("empty file", b, 0, "not a GGUF file", NULL);
    put_le(b, 0x46554747, 4); /* "GGUF" */
    put_le(b + 4, 1, 4);
    expect_fail("version 1", b, g_size, "version 1", NULL);
    put_le(b + 4, 0x03000000, 4);
    expect_fail("big-endian", b, g_size, "big-endian", NULL);
    put_le(b + 4, 4, 4);
    expect_fail("version 4", b, g_size, "version 4", NULL);
    put_le(b + 4, 0, 4);
    expect_fail("version 0", b, g_size, "version 0", NULL);
    free(b);

    b = patched();
    put_le(b + 8, UINT64_C(1) << 63, 8);
    expect_fail("huge tensor count", b, g_size, "tensors", NULL);
    put_le(b + 8, 11, 8);
    put_le(b + 16, UINT64_C(0xffffffffffffffff), 8);
    expect_fail("huge key count", b, g_size, "metadata entries", NULL);
    put_le(b + 16, 41, 8); /* one more entry than the file holds: reads into the tensor infos */
    expect_fail("one key too many", b, g_size, NULL, NULL);
    put_le(b + 16, 40, 8);
    put_le(b + 8, 12, 8); /* one more tensor than the file holds */
    expect_fail("one tensor too many", b, g_size, NULL, NULL);
    free(b);

    /* The first key (general.architecture) starts at byte 24 with its length. */
    b = patched();
    put_le(b + 24, g_size, 8);
    expect_fail("key length past the end", b, g_size, "entry 0", "past the end");
    put_le(b + 24, UINT64_C(1) << 62, 8);
    expect_fail("huge key length", b, g_size, "entry 0", "past the end");
    put_le(b + 24, 0, 8);
    expect_fail("empty key", b, g_size, "empty key", NULL);
    free(b);

    b = patched();
    p = after_str(b, "general.name"); /* u32 type (STRING), u64 length, bytes */
    CHECK(p != NULL);
    put_le(p + 4, g_size, 8);
    expect_fail("string value past the end", b, g_size, "general.name", "past the end");
    put_le(p, 13, 4);
    expect_fail("unknown value type", b, g_size, "general.name", "unknown value type 13");
    free(b);

    b = patched();
    p = after_str(b, "test.u8");
    memcpy(p - 7, "test.i8", 7);
    expect_fail("duplicate key", b, g_size, "test.i8", "twice");
    free(b);

    b = patched();
    p = after_str(b, "test.bool"); /* u32 type BOOL, u8 value */
    p[4] = 2;
    expect_fail("bool value 2", b, g_size, "test.bool", "not 0 or 1");
    free(b);

    b = patched();
    p = after_str(b, "test.arr_bool"); /* u32 ARRAY, u32 elem type, u64 n, elems */
    p[16] = 7;
    expect_fail("bool element 7", b, g_size, "test.arr_bool", "not 0 or 1");
    put_le(p + 4, 9, 4);
    expect_fail("nested array", b, g_size, "test.arr_bool", "nested");
    put_le(p + 4, 99, 4);
    expect_fail("unknown element type", b, g_size, "test.arr_bool", "unknown array element type 99");
    free(b);

    b = patched();
    p = after_str(b, "tokenizer.ggml.tokens");
    put_le(p + 8, UINT64_C(1) << 60, 8);
    expect_fail("huge string array", b, g_size, "tokenizer.ggml.tokens", "cannot fit");
    put_le(p + 8, 100, 8); /* more strings than there are: the next key's bytes are read as strings */
    expect_fail("string array too long", b, g_size, NULL, NULL);
    free(b);

    b = patched();
    p = after_str(b, "tokenizer.ggml.scores");
    put_le(p + 8, UINT64_C(1) << 61, 8);
    expect_fail("huge float array", b, g_size, "tokenizer.ggml.scores", "past the end");
    free(b);

    /* Tensor infos: name | u32 n_dims | u64 dims[n] | u32 type | u64 offset. */
    b = patched();
    p = after_str(b, "token_embd.weight"); /* 2 dims: [64, 16], Q8_0 */
    put_le(p + 20, 99, 4);
    expect_fail("unknown tensor type", b, g_size, "token_embd.weight", "unknown ggml type 99");
    put_le(p + 20, 8, 4);
    put_le(p + 4, 48, 8);
    expect_fail("row not whole blocks", b, g_size, "token_embd.weight", "not a multiple of the Q8_0 block size");
    put_le(p + 4, 64, 8);
    put_le(p + 12, UINT64_C(1) << 63, 8);
    expect_fail("negative dim", b, g_size, "token_embd.weight", "negative");
    put_le(p + 12, UINT64_C(1) << 60, 8);
    expect_fail("element overflow", b, g_size, "token_embd.weight", "overflow");
    put_le(p + 12, UINT64_C(1) << 40, 8);
    expect_fail("data past the end", b, g_size, "token_embd.weight", "past the end");
    put_le(p + 12, 16, 8);
    put_le(p, 5, 4);
    expect_fail("5 dims", b, g_size, "token_embd.weight", "n_dims 5");
    put_le(p, 0, 4);
    expect_fail("0 dims", b, g_size, "token_embd.weight", "n_dims 0");
    free(b);

    b = patched();
    p = after_str(b, "blk.0.attn_norm.weight"); /* 1 dim [64], F32, offset 1088 */
    put_le(p + 16, 1088 + 4, 8);
    expect_fail("misaligned offset", b, g_size, "blk.0.attn_norm.weight", "not a multiple of the alignment 32");
    put_le(p + 16, 1024, 8);
    expect_fail("overlapping tensors", b, g_size, "overlaps", "token_embd.weight");
    put_le(p + 16, UINT64_C(1) << 40, 8);
    expect_fail("offset past the end", b, g_size, "blk.0.attn_norm.weight", "past the end");
    put_le(p + 16, UINT64_C(0xffffffffffffffe0), 8);
    expect_fail("offset near 2^64", b, g_size, "blk.0.attn_norm.weight", "past the end");
    free(b);

    b = patched();
    p = after_str(b, "blk.0.attn_q.weight");
    p[-8] = 'k'; /* "blk.0.attn_k.weight" twice */
    expect_fail("duplicate tensor name", b, g_size, "blk.0.attn_k.weight", "twice");
    free(b);

    /* alignment: tiny_align64.gguf has general.alignment = 64 (u32) */
    {
        char path[1200];
        size_t n;
        snprintf(path, sizeof path, "%s/tiny_align64.gguf", g_fix);
        uint8_t *a = slurp(path, &n);
        CHECK(a != NULL);
        if (a) {
            uint8_t *save = g_file;
            size_t save_n = g_size;
            g_file = a, g_size = n;
            p = after_str(a, "general.alignment");
            CHECK(p != NULL);
            if (p) {
                put_le(p + 4, 48, 4);
                expect_fail("alignment 48", a, n, "general.alignment", "power of two");
                put_le(p + 4, 0, 4);
                expect_fail("alignment 0", a, n, "general.alignment", "power of two");
                put_le(p, 5, 4); /* INT32 */
                put_le(p + 4, 64, 4);
                expect_fail("alignment as INT32", a, n, "general.alignment", "UINT32");
            }
            g_file = save, g_size = save_n;
            free(a);
        }
    }

    /* Known but unconvertible type: F32 -> I32 keeps the size; the file parses, conversion is refused. */
    b = patched();
    p = after_str(b, "output_norm.weight");
    put_le(p + 12, 26, 4);
    ss_gguf *g = NULL;
    CHECK(ss_gguf_parse(b, g_size, "i32.gguf", &g) == SS_OK);
    if (g) {
        float y[64];
        CHECK(ss_gguf_tensor_f32(g, "output_norm.weight", y) == SS_ERR_FORMAT);
        const char *m = ss_errmsg();
        CHECK(strstr(m, "i32.gguf") && strstr(m, "output_norm.weight") && strstr(m, "I32"));
        ss_gguf_close(g);
    }
    free(b);

    /* Files that cannot be opened. */
    CHECK(ss_gguf_open("/nonexistent/model.gguf", &g) == SS_ERR_IO && g == NULL);
    CHECK(ss_gguf_open(g_fix, &g) == SS_ERR_IO && strstr(ss_errmsg(), "not a regular file"));
    char path[1200];
    snprintf(path, sizeof path, "%s/tiny.json", g_fix);
    CHECK(ss_gguf_open(path, &g) == SS_ERR_FORMAT && strstr(ss_errmsg(), "not a GGUF file"));
    printf("corrupt files: every one refused with a message naming the file and the key/tensor\n");
}

int main(void)
{
    const char *src = test_env("SS_SOURCE_DIR", NULL);
    if (!src) SKIP("SS_SOURCE_DIR is not set (run through ctest)");
    snprintf(g_fix, sizeof g_fix, "%s/tests/fixtures/gguf", src);
    check_types();
    check_valid();
    char path[1200];
    snprintf(path, sizeof path, "%s/tiny.gguf", g_fix);
    g_file = slurp(path, &g_size);
    CHECK(g_file != NULL);
    if (g_file) {
        check_truncations();
        check_corruptions();
        free(g_file);
    }
    TEST_END();
}
