/* gguf.c: bounds-checked GGUF reader (format and checks in gguf.h). */
#include "gguf.h"

#include <errno.h>
#include <fcntl.h> /* open */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h> /* mmap */
#include <sys/stat.h> /* fstat */
#include <unistd.h>   /* close */

#include "dequant.h" /* ss_dequant_* (kernels) */

/* ---------------------------------------------------------------- type tables */

static const char *const g_vtype_names[SS_GGUF_VTYPE_COUNT] = {
    "UINT8", "INT8", "UINT16", "INT16", "UINT32", "INT32", "FLOAT32", "BOOL", "STRING", "ARRAY", "UINT64", "INT64",
    "FLOAT64",
};
/* Bytes of a scalar value; 0 for STRING and ARRAY. */
static const uint8_t g_vtype_size[SS_GGUF_VTYPE_COUNT] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};

const char *ss_gguf_vtype_name(uint32_t t) { return t < SS_GGUF_VTYPE_COUNT ? g_vtype_names[t] : "?"; }

typedef int (*dequant_fn)(const void *src, float *dst, size_t n);

/* The ggml types that can appear in GGUF files (ggml.h's enum ggml_type): weights per block, bytes per
 * block, and the converter when sinkscope has one. Absent, hence refused as unknown: the retired numbers
 * (4, 5, 31-33); Q8_1 (9), an in-memory operand of ggml's dot products that files never hold (and whose
 * size ggml and the gguf Python package disagree on: 36 vs 40 bytes); types newer than the pinned
 * gguf package (0.17.1), whose table tests/gguf/test_gguf.c checks this one against. */
static const struct {
    const char *name;
    int block;
    int bytes;
    dequant_fn fn;
} g_types[] = {
    [0] = {"F32", 1, 4, ss_dequant_f32},       [1] = {"F16", 1, 2, ss_dequant_f16},
    [2] = {"Q4_0", 32, 18, ss_dequant_q4_0},   [3] = {"Q4_1", 32, 20, ss_dequant_q4_1},
    [6] = {"Q5_0", 32, 22, ss_dequant_q5_0},   [7] = {"Q5_1", 32, 24, NULL},
    [8] = {"Q8_0", 32, 34, ss_dequant_q8_0},
    [10] = {"Q2_K", 256, 84, NULL},            [11] = {"Q3_K", 256, 110, NULL},
    [12] = {"Q4_K", 256, 144, ss_dequant_q4_k}, [13] = {"Q5_K", 256, 176, NULL},
    [14] = {"Q6_K", 256, 210, ss_dequant_q6_k}, [15] = {"Q8_K", 256, 292, NULL},
    [16] = {"IQ2_XXS", 256, 66, NULL},         [17] = {"IQ2_XS", 256, 74, NULL},
    [18] = {"IQ3_XXS", 256, 98, NULL},         [19] = {"IQ1_S", 256, 50, NULL},
    [20] = {"IQ4_NL", 32, 18, NULL},           [21] = {"IQ3_S", 256, 110, NULL},
    [22] = {"IQ2_S", 256, 82, NULL},           [23] = {"IQ4_XS", 256, 136, NULL},
    [24] = {"I8", 1, 1, NULL},                 [25] = {"I16", 1, 2, NULL},
    [26] = {"I32", 1, 4, NULL},                [27] = {"I64", 1, 8, NULL},
    [28] = {"F64", 1, 8, NULL},                [29] = {"IQ1_M", 256, 56, NULL},
    [30] = {"BF16", 1, 2, ss_dequant_bf16},    [34] = {"TQ1_0", 256, 54, NULL},
    [35] = {"TQ2_0", 256, 66, NULL},
};
#define N_TYPES (sizeof g_types / sizeof g_types[0])

const char *ss_ggml_type_name(uint32_t t) { return t < N_TYPES ? g_types[t].name : NULL; }
int ss_ggml_block_size(uint32_t t) { return t < N_TYPES ? g_types[t].block : 0; }
size_t ss_ggml_type_size(uint32_t t) { return t < N_TYPES ? (size_t)g_types[t].bytes : 0; }
int ss_ggml_type_supported(uint32_t t) { return t < N_TYPES && g_types[t].fn != NULL; }

/* ---------------------------------------------------------------- reading helpers */

typedef struct {
    const uint8_t *buf; /* [size] */
    size_t size;
    size_t pos;
} cursor;

static int left(const cursor *c, uint64_t n) { return n <= (uint64_t)(c->size - c->pos); }

static uint64_t le(const uint8_t *p, int nbytes)
{
    uint64_t v = 0;
    for (int i = nbytes - 1; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}

static int rd_u32(cursor *c, uint32_t *v)
{
    if (!left(c, 4)) return 0;
    *v = (uint32_t)le(c->buf + c->pos, 4);
    c->pos += 4;
    return 1;
}

static int rd_u64(cursor *c, uint64_t *v)
{
    if (!left(c, 8)) return 0;
    *v = le(c->buf + c->pos, 8);
    c->pos += 8;
    return 1;
}

/* A length-prefixed string: *s points into the buffer. */
static int rd_str(cursor *c, ss_gguf_str *s)
{
    uint64_t n;
    size_t at = c->pos;
    if (!rd_u64(c, &n)) return 0;
    if (!left(c, n)) {
        c->pos = at;
        return 0;
    }
    s->ptr = (const char *)c->buf + c->pos;
    s->len = n;
    c->pos += (size_t)n;
    return 1;
}

/* A printable rendering of file bytes for messages: escapes, cut at 60 bytes. */
static const char *shown(const char *s, uint64_t n, char buf[256])
{
    size_t o = 0;
    for (uint64_t i = 0; i < n && o < 240; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (i == 60) {
            o += (size_t)snprintf(buf + o, 256 - o, "...");
            break;
        }
        if (ch >= 0x20 && ch < 0x7f && ch != '\\' && ch != '\'') buf[o++] = (char)ch;
        else o += (size_t)snprintf(buf + o, 256 - o, "\\x%02x", ch);
    }
    buf[o] = '\0';
    return buf;
}

static char *dup_bytes(const char *p, uint64_t n)
{
    char *s = malloc((size_t)n + 1);
    if (!s) return NULL;
    if (n) memcpy(s, p, (size_t)n);
    s[n] = '\0';
    return s;
}

/* ---------------------------------------------------------------- lifetime */

void ss_gguf_close(ss_gguf *g)
{
    if (!g) return;
    for (int64_t i = 0; i < g->n_kv; i++) {
        free(g->kv[i].key);
        free(g->kv[i].str);
        free(g->kv[i].arr_str);
    }
    free(g->kv);
    for (int64_t i = 0; i < g->n_tensors; i++) free(g->tensors[i].name);
    free(g->tensors);
    free(g->kv_sorted);
    free(g->t_sorted);
    if (g->mapped && g->buf) munmap((void *)g->buf, g->size);
    free(g->path);
    free(g);
}

/* ---------------------------------------------------------------- parsing */

/* Sorting and searching index arrays by key / name: qsort and bsearch take no context argument, so
 * the file being sorted or searched is passed in a thread-local set just before each call. */
static _Thread_local const ss_gguf *g_sort_ctx;

static int cmp_kv_idx(const void *a, const void *b)
{
    return strcmp(g_sort_ctx->kv[*(const int64_t *)a].key, g_sort_ctx->kv[*(const int64_t *)b].key);
}

static int cmp_t_idx(const void *a, const void *b)
{
    return strcmp(g_sort_ctx->tensors[*(const int64_t *)a].name, g_sort_ctx->tensors[*(const int64_t *)b].name);
}

static int cmp_t_offset(const void *a, const void *b)
{
    const ss_gguf_tensor *x = &g_sort_ctx->tensors[*(const int64_t *)a], *y = &g_sort_ctx->tensors[*(const int64_t *)b];
    if (x->offset != y->offset) return x->offset < y->offset ? -1 : 1;
    return x->n_bytes < y->n_bytes ? -1 : x->n_bytes > y->n_bytes ? 1 : 0;
}

/* Reads one scalar of type t at the cursor into kv's u/i/f. */
static void scalar_value(const uint8_t *p, uint32_t t, ss_gguf_kv *kv)
{
    uint64_t raw = le(p, g_vtype_size[t]);
    switch (t) {
    case SS_GGUF_U8: case SS_GGUF_U16: case SS_GGUF_U32: case SS_GGUF_U64: case SS_GGUF_BOOL:
        kv->u = raw;
        kv->i = raw <= (uint64_t)INT64_MAX ? (int64_t)raw : 0;
        break;
    case SS_GGUF_I8: kv->i = (int8_t)(uint8_t)raw; break;
    case SS_GGUF_I16: kv->i = (int16_t)(uint16_t)raw; break;
    case SS_GGUF_I32: kv->i = (int32_t)(uint32_t)raw; break;
    case SS_GGUF_I64: kv->i = (int64_t)raw; break;
    case SS_GGUF_F32: {
        uint32_t u32 = (uint32_t)raw;
        float f;
        memcpy(&f, &u32, sizeof f);
        kv->f = f;
        break;
    }
    case SS_GGUF_F64: {
        double d;
        memcpy(&d, &raw, sizeof d);
        kv->f = d;
        break;
    }
    default: break;
    }
    if (t == SS_GGUF_I8 || t == SS_GGUF_I16 || t == SS_GGUF_I32 || t == SS_GGUF_I64) kv->u = (uint64_t)kv->i;
}

/* Parses the value of kv (type already read) at the cursor. */
static ss_status parse_value(cursor *c, const char *path, ss_gguf_kv *kv, char *sbuf)
{
    const char *key = shown(kv->key, strlen(kv->key), sbuf);
    uint32_t t = kv->type;
    if (t >= SS_GGUF_VTYPE_COUNT)
        return ss_fail(SS_ERR_FORMAT, "%s: key '%s': unknown value type %u", path, key, t);
    if (t == SS_GGUF_STRING) {
        ss_gguf_str s;
        if (!rd_str(c, &s))
            return ss_fail(SS_ERR_FORMAT, "%s: key '%s': string runs past the end of the file (%zu bytes)", path, key,
                           c->size);
        kv->str = dup_bytes(s.ptr, s.len);
        if (!kv->str) return ss_fail(SS_ERR_NOMEM, "%s: key '%s': out of memory", path, key);
        kv->str_len = s.len;
        return SS_OK;
    }
    if (t != SS_GGUF_ARRAY) {
        if (!left(c, g_vtype_size[t]))
            return ss_fail(SS_ERR_FORMAT, "%s: key '%s': %s value runs past the end of the file", path, key,
                           g_vtype_names[t]);
        scalar_value(c->buf + c->pos, t, kv);
        if (t == SS_GGUF_BOOL && kv->u > 1)
            return ss_fail(SS_ERR_FORMAT, "%s: key '%s': bool value %llu is not 0 or 1", path, key,
                           (unsigned long long)kv->u);
        c->pos += g_vtype_size[t];
        return SS_OK;
    }
    uint32_t et;
    uint64_t n;
    if (!rd_u32(c, &et) || !rd_u64(c, &n))
        return ss_fail(SS_ERR_FORMAT, "%s: key '%s': array header runs past the end of the file", path, key);
    if (et >= SS_GGUF_VTYPE_COUNT)
        return ss_fail(SS_ERR_FORMAT, "%s: key '%s': unknown array element type %u", path, key, et);
    if (et == SS_GGUF_ARRAY)
        return ss_fail(SS_ERR_FORMAT, "%s: key '%s': nested arrays are not supported", path, key);
    kv->arr_type = (ss_gguf_vtype)et;
    kv->arr_n = n;
    if (et == SS_GGUF_STRING) {
        if (n > (uint64_t)(c->size - c->pos) / 8) /* each string needs at least its 8-byte length */
            return ss_fail(SS_ERR_FORMAT,
                           "%s: key '%s': array of %llu strings cannot fit in the %zu bytes left in the file", path,
                           key, (unsigned long long)n, c->size - c->pos);
        kv->arr_str = malloc((size_t)(n ? n : 1) * sizeof *kv->arr_str);
        if (!kv->arr_str) return ss_fail(SS_ERR_NOMEM, "%s: key '%s': out of memory", path, key);
        for (uint64_t i = 0; i < n; i++)
            if (!rd_str(c, &kv->arr_str[i]))
                return ss_fail(SS_ERR_FORMAT, "%s: key '%s': string %llu of %llu runs past the end of the file", path,
                               key, (unsigned long long)i, (unsigned long long)n);
        return SS_OK;
    }
    uint64_t es = g_vtype_size[et];
    if (n > (uint64_t)(c->size - c->pos) / es)
        return ss_fail(SS_ERR_FORMAT, "%s: key '%s': array of %llu %s values runs past the end of the file", path,
                       key, (unsigned long long)n, g_vtype_names[et]);
    kv->arr_data = c->buf + c->pos;
    if (et == SS_GGUF_BOOL)
        for (uint64_t i = 0; i < n; i++)
            if (kv->arr_data[i] > 1)
                return ss_fail(SS_ERR_FORMAT, "%s: key '%s': bool element %llu is %u, not 0 or 1", path, key,
                               (unsigned long long)i, kv->arr_data[i]);
    c->pos += (size_t)(n * es);
    return SS_OK;
}

static ss_status parse_kvs(ss_gguf *g, cursor *c, uint64_t n_kv, char *sbuf)
{
    const char *path = g->path;
    for (uint64_t k = 0; k < n_kv; k++) {
        if (g->n_kv % 64 == 0) { /* grow as entries are read: memory follows what the file really holds */
            ss_gguf_kv *nk = realloc(g->kv, (size_t)(g->n_kv + 64) * sizeof *nk);
            if (!nk) return ss_fail(SS_ERR_NOMEM, "%s: out of memory for metadata", path);
            g->kv = nk;
        }
        ss_gguf_kv *kv = &g->kv[g->n_kv];
        memset(kv, 0, sizeof *kv);
        ss_gguf_str key;
        if (!rd_str(c, &key))
            return ss_fail(SS_ERR_FORMAT, "%s: metadata entry %llu of %llu: key runs past the end of the file", path,
                           (unsigned long long)k, (unsigned long long)n_kv);
        if (key.len == 0)
            return ss_fail(SS_ERR_FORMAT, "%s: metadata entry %llu: empty key", path, (unsigned long long)k);
        if (memchr(key.ptr, 0, (size_t)key.len))
            return ss_fail(SS_ERR_FORMAT, "%s: metadata entry %llu: key '%s' contains a NUL byte", path,
                           (unsigned long long)k, shown(key.ptr, key.len, sbuf));
        kv->key = dup_bytes(key.ptr, key.len);
        if (!kv->key) return ss_fail(SS_ERR_NOMEM, "%s: out of memory", path);
        g->n_kv++; /* owned by g from here: freed by ss_gguf_close even if the value is bad */
        uint32_t t;
        if (!rd_u32(c, &t))
            return ss_fail(SS_ERR_FORMAT, "%s: key '%s': value type runs past the end of the file", path,
                           shown(key.ptr, key.len, sbuf));
        kv->type = (ss_gguf_vtype)t;
        if (t >= SS_GGUF_VTYPE_COUNT)
            return ss_fail(SS_ERR_FORMAT, "%s: key '%s': unknown value type %u", path, shown(key.ptr, key.len, sbuf),
                           t);
        ss_status st = parse_value(c, path, kv, sbuf);
        if (st != SS_OK) return st;
    }
    return SS_OK;
}

static ss_status parse_tensor_infos(ss_gguf *g, cursor *c, uint64_t n_t, char *sbuf)
{
    const char *path = g->path;
    for (uint64_t k = 0; k < n_t; k++) {
        if (g->n_tensors % 64 == 0) {
            ss_gguf_tensor *nt = realloc(g->tensors, (size_t)(g->n_tensors + 64) * sizeof *nt);
            if (!nt) return ss_fail(SS_ERR_NOMEM, "%s: out of memory for tensor infos", path);
            g->tensors = nt;
        }
        ss_gguf_tensor *t = &g->tensors[g->n_tensors];
        memset(t, 0, sizeof *t);
        ss_gguf_str nm;
        if (!rd_str(c, &nm))
            return ss_fail(SS_ERR_FORMAT, "%s: tensor info %llu of %llu: name runs past the end of the file", path,
                           (unsigned long long)k, (unsigned long long)n_t);
        if (nm.len == 0)
            return ss_fail(SS_ERR_FORMAT, "%s: tensor info %llu: empty name", path, (unsigned long long)k);
        if (memchr(nm.ptr, 0, (size_t)nm.len))
            return ss_fail(SS_ERR_FORMAT, "%s: tensor '%s': name contains a NUL byte", path,
                           shown(nm.ptr, nm.len, sbuf));
        t->name = dup_bytes(nm.ptr, nm.len);
        if (!t->name) return ss_fail(SS_ERR_NOMEM, "%s: out of memory", path);
        g->n_tensors++;
        const char *name = shown(nm.ptr, nm.len, sbuf);
        uint32_t nd;
        if (!rd_u32(c, &nd))
            return ss_fail(SS_ERR_FORMAT, "%s: tensor '%s': n_dims runs past the end of the file", path, name);
        if (nd < 1 || nd > SS_GGUF_MAX_DIMS)
            return ss_fail(SS_ERR_FORMAT, "%s: tensor '%s': n_dims %u (must be 1..%d)", path, name, nd,
                           SS_GGUF_MAX_DIMS);
        t->n_dims = (int)nd;
        t->n_elems = 1;
        for (int d = 0; d < SS_GGUF_MAX_DIMS; d++) t->dims[d] = 1;
        for (int d = 0; d < t->n_dims; d++) {
            uint64_t v;
            if (!rd_u64(c, &v))
                return ss_fail(SS_ERR_FORMAT, "%s: tensor '%s': dims run past the end of the file", path, name);
            if (v > (uint64_t)INT64_MAX)
                return ss_fail(SS_ERR_FORMAT, "%s: tensor '%s': dim %d is %llu (negative as int64)", path, name, d,
                               (unsigned long long)v);
            t->dims[d] = (int64_t)v;
            if (__builtin_mul_overflow(t->n_elems, v, &t->n_elems))
                return ss_fail(SS_ERR_FORMAT, "%s: tensor '%s': element count overflows 64 bits", path, name);
        }
        uint64_t rows = 1; /* with dims[0] == 0 the element count is 0 whatever the rows: bound them too */
        for (int d = 1; d < t->n_dims; d++)
            if (__builtin_mul_overflow(rows, (uint64_t)t->dims[d], &rows) || rows > (uint64_t)INT64_MAX)
                return ss_fail(SS_ERR_FORMAT, "%s: tensor '%s': row count overflows 63 bits", path, name);
        uint32_t type;
        if (!rd_u32(c, &type) || !rd_u64(c, &t->offset))
            return ss_fail(SS_ERR_FORMAT, "%s: tensor '%s': type/offset run past the end of the file", path, name);
        t->type = type;
        int bs = ss_ggml_block_size(type);
        if (bs == 0) return ss_fail(SS_ERR_FORMAT, "%s: tensor '%s': unknown ggml type %u", path, name, type);
        if (t->dims[0] % bs != 0)
            return ss_fail(SS_ERR_FORMAT, "%s: tensor '%s': row length %lld is not a multiple of the %s block size %d",
                           path, name, (long long)t->dims[0], g_types[type].name, bs);
        if (__builtin_mul_overflow(t->n_elems / (uint64_t)bs, (uint64_t)g_types[type].bytes, &t->n_bytes))
            return ss_fail(SS_ERR_FORMAT, "%s: tensor '%s': byte size overflows 64 bits", path, name);
    }
    return SS_OK;
}

/* Places the data blob and checks every tensor's range, alignment, overlaps and name uniqueness. */
static ss_status check_tensors(ss_gguf *g, char *sbuf)
{
    const char *path = g->path;
    uint64_t a = g->alignment;
    uint64_t ds;
    if (__builtin_add_overflow((uint64_t)g->data_start, a - 1, &ds))
        return ss_fail(SS_ERR_FORMAT, "%s: data offset overflows", path);
    ds = ds / a * a;
    if (ds > g->size) {
        if (g->n_tensors > 0)
            return ss_fail(SS_ERR_FORMAT,
                           "%s: the data section would start at byte %llu, past the end of the file (%zu bytes)",
                           path, (unsigned long long)ds, g->size);
        ds = g->size;
    }
    g->data_start = ds;
    uint64_t data_size = g->size - ds;
    for (int64_t i = 0; i < g->n_tensors; i++) {
        ss_gguf_tensor *t = &g->tensors[i];
        const char *name = shown(t->name, strlen(t->name), sbuf);
        if (t->offset % a != 0)
            return ss_fail(SS_ERR_FORMAT, "%s: tensor '%s': offset %llu is not a multiple of the alignment %llu", path,
                           name, (unsigned long long)t->offset, (unsigned long long)a);
        if (t->offset > data_size || t->n_bytes > data_size - t->offset)
            return ss_fail(SS_ERR_FORMAT,
                           "%s: tensor '%s': data [%llu, +%llu bytes) runs past the end of the file (the data "
                           "section holds %llu bytes)",
                           path, name, (unsigned long long)t->offset, (unsigned long long)t->n_bytes,
                           (unsigned long long)data_size);
        t->data = g->buf + ds + t->offset;
    }
    if (g->n_tensors == 0) return SS_OK;
    g->t_sorted = malloc((size_t)g->n_tensors * sizeof *g->t_sorted);
    if (!g->t_sorted) return ss_fail(SS_ERR_NOMEM, "%s: out of memory", path);
    /* Overlaps: by offset, each non-empty tensor must start at or after the furthest end so far. */
    for (int64_t i = 0; i < g->n_tensors; i++) g->t_sorted[i] = i;
    g_sort_ctx = g;
    qsort(g->t_sorted, (size_t)g->n_tensors, sizeof *g->t_sorted, cmp_t_offset);
    uint64_t max_end = 0;
    int64_t max_owner = -1;
    for (int64_t k = 0; k < g->n_tensors; k++) {
        const ss_gguf_tensor *t = &g->tensors[g->t_sorted[k]];
        if (t->n_bytes == 0) continue;
        if (max_owner >= 0 && t->offset < max_end) {
            char other[256];
            const ss_gguf_tensor *o = &g->tensors[max_owner];
            return ss_fail(SS_ERR_FORMAT, "%s: tensor '%s' (bytes %llu..%llu) overlaps tensor '%s' (ends at %llu)",
                           path, shown(t->name, strlen(t->name), sbuf), (unsigned long long)t->offset,
                           (unsigned long long)(t->offset + t->n_bytes), shown(o->name, strlen(o->name), other),
                           (unsigned long long)max_end);
        }
        if (t->offset + t->n_bytes > max_end) {
            max_end = t->offset + t->n_bytes;
            max_owner = g->t_sorted[k];
        }
    }
    /* Names: sorted for lookups; equal neighbours are duplicates. */
    for (int64_t i = 0; i < g->n_tensors; i++) g->t_sorted[i] = i;
    qsort(g->t_sorted, (size_t)g->n_tensors, sizeof *g->t_sorted, cmp_t_idx);
    for (int64_t k = 1; k < g->n_tensors; k++) {
        const char *x = g->tensors[g->t_sorted[k - 1]].name, *y = g->tensors[g->t_sorted[k]].name;
        if (strcmp(x, y) == 0)
            return ss_fail(SS_ERR_FORMAT, "%s: tensor '%s' appears twice", path, shown(x, strlen(x), sbuf));
    }
    return SS_OK;
}

ss_status ss_gguf_parse(const void *buf, size_t size, const char *label, ss_gguf **out)
{
    ss_status st = SS_OK;
    char sbuf[256];
    *out = NULL;
    ss_gguf *g = calloc(1, sizeof *g);
    if (!g) return ss_fail(SS_ERR_NOMEM, "%s: out of memory", label);
    g->path = strdup(label);
    if (!g->path) {
        st = ss_fail(SS_ERR_NOMEM, "%s: out of memory", label);
        goto done;
    }
    const char *path = g->path;
    g->buf = buf;
    g->size = size;
    cursor c = {buf, size, 0};

    if (size < 4 || memcmp(buf, "GGUF", 4) != 0) {
        st = ss_fail(SS_ERR_FORMAT, "%s: not a GGUF file (the first 4 bytes are not \"GGUF\")", path);
        goto done;
    }
    c.pos = 4;
    uint64_t n_t = 0, n_kv = 0;
    if (!rd_u32(&c, &g->version)) {
        st = ss_fail(SS_ERR_FORMAT, "%s: truncated: the file ends inside the header (version)", path);
        goto done;
    }
    if (g->version == 1) {
        st = ss_fail(SS_ERR_FORMAT, "%s: GGUF version 1 is not supported (only versions 2 and 3)", path);
        goto done;
    }
    if (g->version != 2 && g->version != 3) {
        if ((g->version & 0xffff) == 0 && (g->version >> 16) != 0)
            st = ss_fail(SS_ERR_FORMAT, "%s: GGUF version %u reads like a byte-swapped %u: a big-endian file, which "
                         "is not supported", path, g->version, __builtin_bswap32(g->version));
        else
            st = ss_fail(SS_ERR_FORMAT, "%s: unsupported GGUF version %u (only versions 2 and 3)", path, g->version);
        goto done;
    }
    if (!rd_u64(&c, &n_t) || !rd_u64(&c, &n_kv)) {
        st = ss_fail(SS_ERR_FORMAT, "%s: truncated: the file ends inside the header (tensor/metadata counts, 24 bytes)",
                     path);
        goto done;
    }
    /* Cheap plausibility bounds before any work: a metadata entry takes at least 14 bytes (key length,
     * one key byte, type, one value byte), a tensor info at least 29 (name length, one name byte,
     * n_dims, one dim, type, offset). */
    if (n_kv > (uint64_t)(size - c.pos) / 14) {
        st = ss_fail(SS_ERR_FORMAT, "%s: header claims %llu metadata entries, more than the %zu bytes left can hold",
                     path, (unsigned long long)n_kv, size - c.pos);
        goto done;
    }
    if (n_t > (uint64_t)(size - c.pos) / 29) {
        st = ss_fail(SS_ERR_FORMAT, "%s: header claims %llu tensors, more than the %zu bytes left can hold", path,
                     (unsigned long long)n_t, size - c.pos);
        goto done;
    }
    SS_TRY(parse_kvs(g, &c, n_kv, sbuf));

    g->kv_sorted = malloc((size_t)(g->n_kv ? g->n_kv : 1) * sizeof *g->kv_sorted);
    if (!g->kv_sorted) {
        st = ss_fail(SS_ERR_NOMEM, "%s: out of memory", path);
        goto done;
    }
    for (int64_t i = 0; i < g->n_kv; i++) g->kv_sorted[i] = i;
    g_sort_ctx = g;
    qsort(g->kv_sorted, (size_t)g->n_kv, sizeof *g->kv_sorted, cmp_kv_idx);
    for (int64_t k = 1; k < g->n_kv; k++) {
        const char *x = g->kv[g->kv_sorted[k - 1]].key;
        if (strcmp(x, g->kv[g->kv_sorted[k]].key) == 0) {
            st = ss_fail(SS_ERR_FORMAT, "%s: key '%s' appears twice", path, shown(x, strlen(x), sbuf));
            goto done;
        }
    }

    g->alignment = SS_GGUF_DEFAULT_ALIGNMENT;
    const ss_gguf_kv *al = ss_gguf_find_kv(g, "general.alignment");
    if (al) {
        if (al->type != SS_GGUF_U32) {
            st = ss_fail(SS_ERR_FORMAT, "%s: key 'general.alignment' has type %s (must be UINT32)", path,
                         g_vtype_names[al->type]);
            goto done;
        }
        if (al->u == 0 || (al->u & (al->u - 1)) != 0) {
            st = ss_fail(SS_ERR_FORMAT, "%s: key 'general.alignment' is %llu, not a power of two", path,
                         (unsigned long long)al->u);
            goto done;
        }
        g->alignment = (uint32_t)al->u;
    }

    SS_TRY(parse_tensor_infos(g, &c, n_t, sbuf));
    g->data_start = c.pos;
    SS_TRY(check_tensors(g, sbuf));
    *out = g;
    g = NULL;
done:
    if (g) { /* the buffer is the caller's (ss_gguf_open unmaps its own on failure) */
        g->buf = NULL;
        g->mapped = 0;
    }
    ss_gguf_close(g);
    return st;
}

ss_status ss_gguf_open(const char *path, ss_gguf **out)
{
    ss_status st = SS_OK;
    void *p = MAP_FAILED;
    size_t size = 0;
    *out = NULL;
    int fd = open(path, O_RDONLY);
    if (fd < 0) return ss_fail(SS_ERR_IO, "cannot open %s: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        st = ss_fail(SS_ERR_IO, "cannot stat %s: %s", path, strerror(errno));
        goto done;
    }
    if (!S_ISREG(sb.st_mode)) {
        st = ss_fail(SS_ERR_IO, "%s is not a regular file", path);
        goto done;
    }
    size = (size_t)sb.st_size;
    if (size < 24) { /* magic, version and the two counts */
        st = ss_fail(SS_ERR_FORMAT, "%s: file is %zu bytes, too short for a GGUF header (24 bytes)", path, size);
        goto done;
    }
    p = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
        st = ss_fail(SS_ERR_IO, "cannot map %s: %s", path, strerror(errno));
        goto done;
    }
    SS_TRY(ss_gguf_parse(p, size, path, out));
    (*out)->mapped = 1;
    p = MAP_FAILED;
done:
    if (p != MAP_FAILED) munmap(p, size);
    close(fd);
    return st;
}

/* ---------------------------------------------------------------- lookups and getters */

static _Thread_local const char *g_find_key;

static int cmp_find_kv(const void *key, const void *elem)
{
    (void)key;
    return strcmp(g_find_key, g_sort_ctx->kv[*(const int64_t *)elem].key);
}

static int cmp_find_t(const void *key, const void *elem)
{
    (void)key;
    return strcmp(g_find_key, g_sort_ctx->tensors[*(const int64_t *)elem].name);
}

const ss_gguf_kv *ss_gguf_find_kv(const ss_gguf *g, const char *key)
{
    if (!g || !key || g->n_kv == 0) return NULL;
    g_sort_ctx = g;
    g_find_key = key;
    const int64_t *hit = bsearch(key, g->kv_sorted, (size_t)g->n_kv, sizeof *g->kv_sorted, cmp_find_kv);
    return hit ? &g->kv[*hit] : NULL;
}

const ss_gguf_tensor *ss_gguf_find_tensor(const ss_gguf *g, const char *name)
{
    if (!g || !name || g->n_tensors == 0) return NULL;
    g_sort_ctx = g;
    g_find_key = name;
    const int64_t *hit = bsearch(name, g->t_sorted, (size_t)g->n_tensors, sizeof *g->t_sorted, cmp_find_t);
    return hit ? &g->tensors[*hit] : NULL;
}

static const ss_gguf_kv *typed(const ss_gguf *g, const char *key, ss_gguf_vtype t)
{
    const ss_gguf_kv *kv = ss_gguf_find_kv(g, key);
    return kv && kv->type == t ? kv : NULL;
}

int ss_gguf_get_u32(const ss_gguf *g, const char *key, uint32_t *out)
{
    const ss_gguf_kv *kv = typed(g, key, SS_GGUF_U32);
    if (kv) *out = (uint32_t)kv->u;
    return kv != NULL;
}

int ss_gguf_get_i32(const ss_gguf *g, const char *key, int32_t *out)
{
    const ss_gguf_kv *kv = typed(g, key, SS_GGUF_I32);
    if (kv) *out = (int32_t)kv->i;
    return kv != NULL;
}

int ss_gguf_get_u64(const ss_gguf *g, const char *key, uint64_t *out)
{
    const ss_gguf_kv *kv = typed(g, key, SS_GGUF_U64);
    if (kv) *out = kv->u;
    return kv != NULL;
}

int ss_gguf_get_i64(const ss_gguf *g, const char *key, int64_t *out)
{
    const ss_gguf_kv *kv = typed(g, key, SS_GGUF_I64);
    if (kv) *out = kv->i;
    return kv != NULL;
}

int ss_gguf_get_f32(const ss_gguf *g, const char *key, float *out)
{
    const ss_gguf_kv *kv = typed(g, key, SS_GGUF_F32);
    if (kv) *out = (float)kv->f;
    return kv != NULL;
}

int ss_gguf_get_f64(const ss_gguf *g, const char *key, double *out)
{
    const ss_gguf_kv *kv = typed(g, key, SS_GGUF_F64);
    if (kv) *out = kv->f;
    return kv != NULL;
}

int ss_gguf_get_bool(const ss_gguf *g, const char *key, int *out)
{
    const ss_gguf_kv *kv = typed(g, key, SS_GGUF_BOOL);
    if (kv) *out = kv->u != 0;
    return kv != NULL;
}

int ss_gguf_get_str(const ss_gguf *g, const char *key, const char **out)
{
    const ss_gguf_kv *kv = typed(g, key, SS_GGUF_STRING);
    if (kv) *out = kv->str;
    return kv != NULL;
}

static int is_int_type(uint32_t t)
{
    return t == SS_GGUF_U8 || t == SS_GGUF_I8 || t == SS_GGUF_U16 || t == SS_GGUF_I16 || t == SS_GGUF_U32 ||
           t == SS_GGUF_I32 || t == SS_GGUF_U64 || t == SS_GGUF_I64;
}

static int is_unsigned(uint32_t t)
{
    return t == SS_GGUF_U8 || t == SS_GGUF_U16 || t == SS_GGUF_U32 || t == SS_GGUF_U64;
}

int ss_gguf_get_int(const ss_gguf *g, const char *key, int64_t *out)
{
    const ss_gguf_kv *kv = ss_gguf_find_kv(g, key);
    if (!kv || !is_int_type(kv->type)) return 0;
    if (is_unsigned(kv->type) && kv->u > (uint64_t)INT64_MAX) return 0;
    *out = is_unsigned(kv->type) ? (int64_t)kv->u : kv->i;
    return 1;
}

int ss_gguf_get_float(const ss_gguf *g, const char *key, double *out)
{
    const ss_gguf_kv *kv = ss_gguf_find_kv(g, key);
    if (!kv || (kv->type != SS_GGUF_F32 && kv->type != SS_GGUF_F64)) return 0;
    *out = kv->f;
    return 1;
}

int ss_gguf_get_str_array(const ss_gguf *g, const char *key, const ss_gguf_str **items, uint64_t *n)
{
    const ss_gguf_kv *kv = typed(g, key, SS_GGUF_ARRAY);
    if (!kv || kv->arr_type != SS_GGUF_STRING) return 0;
    *items = kv->arr_str;
    *n = kv->arr_n;
    return 1;
}

int ss_gguf_get_int_array(const ss_gguf *g, const char *key, const ss_gguf_kv **out, uint64_t *n)
{
    const ss_gguf_kv *kv = typed(g, key, SS_GGUF_ARRAY);
    if (!kv || !is_int_type(kv->arr_type)) return 0;
    *out = kv;
    *n = kv->arr_n;
    return 1;
}

int ss_gguf_get_float_array(const ss_gguf *g, const char *key, const ss_gguf_kv **out, uint64_t *n)
{
    const ss_gguf_kv *kv = typed(g, key, SS_GGUF_ARRAY);
    if (!kv || (kv->arr_type != SS_GGUF_F32 && kv->arr_type != SS_GGUF_F64)) return 0;
    *out = kv;
    *n = kv->arr_n;
    return 1;
}

int ss_gguf_arr_int(const ss_gguf_kv *kv, uint64_t i, int64_t *out)
{
    if (!kv || kv->type != SS_GGUF_ARRAY || !is_int_type(kv->arr_type) || i >= kv->arr_n) return 0;
    ss_gguf_kv tmp = {0};
    scalar_value(kv->arr_data + i * g_vtype_size[kv->arr_type], kv->arr_type, &tmp);
    if (is_unsigned(kv->arr_type)) {
        if (tmp.u > (uint64_t)INT64_MAX) return 0;
        *out = (int64_t)tmp.u;
    } else *out = tmp.i;
    return 1;
}

int ss_gguf_arr_float(const ss_gguf_kv *kv, uint64_t i, double *out)
{
    if (!kv || kv->type != SS_GGUF_ARRAY || (kv->arr_type != SS_GGUF_F32 && kv->arr_type != SS_GGUF_F64) ||
        i >= kv->arr_n)
        return 0;
    ss_gguf_kv tmp = {0};
    scalar_value(kv->arr_data + i * g_vtype_size[kv->arr_type], kv->arr_type, &tmp);
    *out = tmp.f;
    return 1;
}

/* ---------------------------------------------------------------- tensor data */

int64_t ss_gguf_tensor_rows(const ss_gguf_tensor *t)
{
    int64_t r = 1;
    for (int d = 1; d < t->n_dims; d++) r *= t->dims[d]; /* the parser checked that this fits */
    return r;
}

ss_status ss_gguf_tensor_rows_f32(const ss_gguf *g, const ss_gguf_tensor *t, int64_t row0, int64_t n_rows,
                                  float *out)
{
    char sbuf[256];
    const char *name = shown(t->name, strlen(t->name), sbuf);
    if (!ss_ggml_type_supported(t->type))
        return ss_fail(SS_ERR_FORMAT, "%s: tensor '%s': type %s cannot be converted to fp32 by sinkscope (supported: "
                       "F32 F16 BF16 Q8_0 Q4_0 Q4_1 Q5_0 Q4_K Q6_K)",
                       g->path, name, ss_ggml_type_name(t->type));
    int64_t rows = ss_gguf_tensor_rows(t);
    if (row0 < 0 || n_rows < 0 || row0 > rows || n_rows > rows - row0)
        return ss_fail(SS_ERR_RANGE, "%s: tensor '%s': rows %lld..%lld requested, it has %lld", g->path, name,
                       (long long)row0, (long long)(row0 + n_rows), (long long)rows);
    uint64_t bs = (uint64_t)g_types[t->type].block, ts = (uint64_t)g_types[t->type].bytes;
    uint64_t row_bytes = (uint64_t)t->dims[0] / bs * ts;
    const uint8_t *src = t->data + (uint64_t)row0 * row_bytes;
    size_t n = (size_t)((uint64_t)n_rows * (uint64_t)t->dims[0]);
    if (g_types[t->type].fn(src, out, n) != 0)
        return ss_fail(SS_ERR_INTERNAL, "%s: tensor '%s': %zu weights are not whole %s blocks", g->path, name, n,
                       ss_ggml_type_name(t->type));
    return SS_OK;
}

ss_status ss_gguf_tensor_f32(const ss_gguf *g, const char *name, float *out)
{
    const ss_gguf_tensor *t = ss_gguf_find_tensor(g, name);
    char sbuf[256];
    if (!t) return ss_fail(SS_ERR_FORMAT, "%s: no tensor '%s'", g->path, shown(name, strlen(name), sbuf));
    return ss_gguf_tensor_rows_f32(g, t, 0, ss_gguf_tensor_rows(t), out);
}

static const char *dims_str(char *buf, size_t cap, int n, const int64_t *dims)
{
    size_t o = (size_t)snprintf(buf, cap, "[");
    for (int i = 0; i < n && o < cap; i++)
        o += (size_t)snprintf(buf + o, cap - o, "%s%lld", i ? ", " : "", (long long)dims[i]);
    if (o < cap) snprintf(buf + o, cap - o, "]");
    return buf;
}

ss_status ss_gguf_load_f32(const ss_gguf *g, const char *name, int n_dims, const int64_t *dims, float *out)
{
    const ss_gguf_tensor *t = ss_gguf_find_tensor(g, name);
    char sbuf[256], want[128], have[128];
    if (!t) return ss_fail(SS_ERR_FORMAT, "%s: no tensor '%s'", g->path, shown(name, strlen(name), sbuf));
    int same = t->n_dims == n_dims;
    for (int d = 0; same && d < n_dims; d++) same = t->dims[d] == dims[d];
    if (!same)
        return ss_fail(SS_ERR_FORMAT, "%s: tensor '%s' has dims %s, expected %s (innermost first)", g->path,
                       shown(name, strlen(name), sbuf), dims_str(have, sizeof have, t->n_dims, t->dims),
                       dims_str(want, sizeof want, n_dims, dims));
    return ss_gguf_tensor_rows_f32(g, t, 0, ss_gguf_tensor_rows(t), out);
}

/* ---------------------------------------------------------------- hyper-parameters */

/* An integer hyper-parameter: absent leaves *out; wrong type fails. */
static ss_status hp_int(const ss_gguf *g, const char *key, int64_t *out)
{
    const ss_gguf_kv *kv = ss_gguf_find_kv(g, key);
    if (!kv) return SS_OK;
    if (!ss_gguf_get_int(g, key, out))
        return ss_fail(SS_ERR_FORMAT, "%s: key '%s' has type %s, expected an integer that fits in int64", g->path,
                       key, g_vtype_names[kv->type]);
    return SS_OK;
}

static ss_status hp_float(const ss_gguf *g, const char *key, double *out)
{
    const ss_gguf_kv *kv = ss_gguf_find_kv(g, key);
    if (!kv) return SS_OK;
    if (!ss_gguf_get_float(g, key, out))
        return ss_fail(SS_ERR_FORMAT, "%s: key '%s' has type %s, expected FLOAT32 or FLOAT64", g->path, key,
                       g_vtype_names[kv->type]);
    return SS_OK;
}

static ss_status hp_bool(const ss_gguf *g, const char *key, int *out)
{
    const ss_gguf_kv *kv = ss_gguf_find_kv(g, key);
    if (!kv) return SS_OK;
    if (!ss_gguf_get_bool(g, key, out))
        return ss_fail(SS_ERR_FORMAT, "%s: key '%s' has type %s, expected BOOL", g->path, key, g_vtype_names[kv->type]);
    return SS_OK;
}

static ss_status hp_str(const ss_gguf *g, const char *key, char *out, size_t cap)
{
    const ss_gguf_kv *kv = ss_gguf_find_kv(g, key);
    if (!kv) return SS_OK;
    if (kv->type != SS_GGUF_STRING)
        return ss_fail(SS_ERR_FORMAT, "%s: key '%s' has type %s, expected STRING", g->path, key,
                       g_vtype_names[kv->type]);
    snprintf(out, cap, "%s", kv->str);
    return SS_OK;
}

ss_status ss_gguf_read_hparams(const ss_gguf *g, ss_gguf_hparams *hp)
{
    ss_status st = SS_OK;
    char key[160];
    memset(hp, 0, sizeof *hp);
    hp->n_layers = hp->d_model = hp->d_ff = hp->n_heads = hp->n_kv_heads = hp->d_head_k = hp->d_head_v = -1;
    hp->n_ctx = hp->n_vocab = hp->rope_dims = hp->sliding_window = -1;
    hp->bos_id = hp->eos_id = hp->unk_id = hp->pad_id = hp->sep_id = hp->cls_id = -1;
    hp->add_bos = hp->add_eos = -1;

    const ss_gguf_kv *akv = ss_gguf_find_kv(g, "general.architecture");
    if (!akv || akv->type != SS_GGUF_STRING) {
        st = ss_fail(SS_ERR_FORMAT, "%s: key 'general.architecture' is %s", g->path,
                     akv ? "not a STRING" : "missing");
        goto done;
    }
    if (strlen(akv->str) >= sizeof hp->arch || strlen(akv->str) == 0) {
        char sbuf[256];
        st = ss_fail(SS_ERR_FORMAT, "%s: key 'general.architecture' is '%s' (1..%zu characters expected)", g->path,
                     shown(akv->str, strlen(akv->str), sbuf), sizeof hp->arch - 1);
        goto done;
    }
    snprintf(hp->arch, sizeof hp->arch, "%s", akv->str);
    SS_TRY(hp_str(g, "general.name", hp->name, sizeof hp->name));
#define ARCH_KEY(suffix) (snprintf(key, sizeof key, "%s." suffix, hp->arch), key)
    SS_TRY(hp_int(g, ARCH_KEY("block_count"), &hp->n_layers));
    SS_TRY(hp_int(g, ARCH_KEY("embedding_length"), &hp->d_model));
    SS_TRY(hp_int(g, ARCH_KEY("feed_forward_length"), &hp->d_ff));
    SS_TRY(hp_int(g, ARCH_KEY("attention.head_count"), &hp->n_heads));
    SS_TRY(hp_int(g, ARCH_KEY("attention.head_count_kv"), &hp->n_kv_heads));
    SS_TRY(hp_int(g, ARCH_KEY("attention.key_length"), &hp->d_head_k));
    SS_TRY(hp_int(g, ARCH_KEY("attention.value_length"), &hp->d_head_v));
    SS_TRY(hp_int(g, ARCH_KEY("context_length"), &hp->n_ctx));
    SS_TRY(hp_int(g, ARCH_KEY("vocab_size"), &hp->n_vocab));
    SS_TRY(hp_int(g, ARCH_KEY("rope.dimension_count"), &hp->rope_dims));
    SS_TRY(hp_float(g, ARCH_KEY("rope.freq_base"), &hp->rope_base));
    SS_TRY(hp_int(g, ARCH_KEY("attention.sliding_window"), &hp->sliding_window));
    SS_TRY(hp_float(g, ARCH_KEY("attention.layer_norm_rms_epsilon"), &hp->norm_eps));
    if (hp->norm_eps == 0) SS_TRY(hp_float(g, ARCH_KEY("attention.layer_norm_epsilon"), &hp->norm_eps));
#undef ARCH_KEY
    hp->rope_dims_in_file = hp->rope_dims >= 0;
    if (hp->n_kv_heads < 0) hp->n_kv_heads = hp->n_heads;
    if (hp->d_head_k < 0 && hp->n_heads > 0 && hp->d_model > 0) hp->d_head_k = hp->d_model / hp->n_heads;
    if (hp->d_head_v < 0) hp->d_head_v = hp->d_head_k;
    if (hp->rope_dims < 0) hp->rope_dims = hp->d_head_k;
    if (hp->n_vocab < 0) {
        const ss_gguf_str *toks;
        uint64_t n;
        if (ss_gguf_get_str_array(g, "tokenizer.ggml.tokens", &toks, &n) && n <= (uint64_t)INT64_MAX)
            hp->n_vocab = (int64_t)n;
    }
    SS_TRY(hp_int(g, "tokenizer.ggml.bos_token_id", &hp->bos_id));
    SS_TRY(hp_int(g, "tokenizer.ggml.eos_token_id", &hp->eos_id));
    SS_TRY(hp_int(g, "tokenizer.ggml.unknown_token_id", &hp->unk_id));
    SS_TRY(hp_int(g, "tokenizer.ggml.padding_token_id", &hp->pad_id));
    SS_TRY(hp_int(g, "tokenizer.ggml.seperator_token_id", &hp->sep_id));
    if (hp->sep_id < 0) SS_TRY(hp_int(g, "tokenizer.ggml.separator_token_id", &hp->sep_id));
    SS_TRY(hp_int(g, "tokenizer.ggml.cls_token_id", &hp->cls_id));
    SS_TRY(hp_bool(g, "tokenizer.ggml.add_bos_token", &hp->add_bos));
    SS_TRY(hp_bool(g, "tokenizer.ggml.add_eos_token", &hp->add_eos));
    SS_TRY(hp_str(g, "tokenizer.ggml.model", hp->tok_model, sizeof hp->tok_model));
    SS_TRY(hp_str(g, "tokenizer.ggml.pre", hp->tok_pre, sizeof hp->tok_pre));
done:
    return st;
}
