/* safetensors.c: bounds-checked safetensors reader (see safetensors.h for the checks made). */
#include "safetensors.h"

#include <errno.h>
#include <fcntl.h>   /* open */
#include <jansson.h> /* header and index JSON */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../fsutil.h"
#include <sys/mman.h> /* mmap */
#include <sys/stat.h> /* fstat, stat */
#include <unistd.h>   /* close */

static const struct {
    const char *name;
    size_t size;
} g_dtypes[SS_DT_COUNT] = {
    [SS_DT_BOOL] = {"BOOL", 1},       [SS_DT_U8] = {"U8", 1},           [SS_DT_I8] = {"I8", 1},
    [SS_DT_F8_E5M2] = {"F8_E5M2", 1}, [SS_DT_F8_E4M3] = {"F8_E4M3", 1}, [SS_DT_I16] = {"I16", 2},
    [SS_DT_U16] = {"U16", 2},         [SS_DT_F16] = {"F16", 2},         [SS_DT_BF16] = {"BF16", 2},
    [SS_DT_I32] = {"I32", 4},         [SS_DT_U32] = {"U32", 4},         [SS_DT_F32] = {"F32", 4},
    [SS_DT_F64] = {"F64", 8},         [SS_DT_I64] = {"I64", 8},         [SS_DT_U64] = {"U64", 8},
};

const char *ss_dtype_name(ss_dtype t) { return (unsigned)t < SS_DT_COUNT ? g_dtypes[t].name : "?"; }

size_t ss_dtype_size(ss_dtype t) { return (unsigned)t < SS_DT_COUNT ? g_dtypes[t].size : 0; }

static int dtype_lookup(const char *s, ss_dtype *out)
{
    for (int i = 0; i < SS_DT_COUNT; i++)
        if (strcmp(s, g_dtypes[i].name) == 0) {
            *out = (ss_dtype)i;
            return 1;
        }
    return 0;
}

static uint64_t read_le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}

/* "[384, 384]" into buf. */
static const char *shape_str(char *buf, size_t cap, const int64_t *shape, int n)
{
    size_t used = 0;
    buf[0] = '\0';
    used += (size_t)snprintf(buf, cap, "[");
    for (int i = 0; i < n && used < cap; i++)
        used += (size_t)snprintf(buf + used, cap - used, "%s%lld", i ? ", " : "", (long long)shape[i]);
    if (used < cap) snprintf(buf + used, cap - used, "]");
    return buf;
}

static ss_status add_file(ss_safetensors *sf, const char *path, const uint8_t *buf, size_t size, int mapped)
{
    ss_st_file *nf = realloc(sf->files, (size_t)(sf->n_files + 1) * sizeof *nf);
    if (!nf) return ss_fail(SS_ERR_NOMEM, "%s: out of memory", path);
    sf->files = nf;
    ss_st_file *f = &sf->files[sf->n_files];
    f->path = strdup(path);
    if (!f->path) return ss_fail(SS_ERR_NOMEM, "%s: out of memory", path);
    f->buf = buf;
    f->size = size;
    f->mapped = mapped;
    sf->n_files++;
    return SS_OK;
}

static int cmp_begin(const void *a, const void *b)
{
    const ss_st_tensor *x = *(const ss_st_tensor *const *)a, *y = *(const ss_st_tensor *const *)b;
    return x->begin < y->begin ? -1 : x->begin > y->begin ? 1 : 0;
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(((const ss_st_tensor *)a)->name, ((const ss_st_tensor *)b)->name);
}

/* Reads one JSON integer >= 0 into *v; 0 when it is not one. */
static int json_u64(const json_t *j, uint64_t *v)
{
    if (!json_is_integer(j)) return 0;
    json_int_t x = json_integer_value(j);
    if (x < 0) return 0;
    *v = (uint64_t)x;
    return 1;
}

/* Parses the header of sf->files[fi] and appends its tensors. */
static ss_status parse_file(ss_safetensors *sf, int fi)
{
    ss_status st = SS_OK;
    const ss_st_file *f = &sf->files[fi];
    const char *path = f->path;
    json_t *root = NULL;
    ss_st_tensor **order = NULL; /* [n_new] this file's tensors, by begin */
    int first = sf->n_tensors;
    char sbuf[256];

    if (f->size < 8) {
        st = ss_fail(SS_ERR_FORMAT, "%s: file is %zu bytes, too short for the 8-byte header length", path, f->size);
        goto done;
    }
    uint64_t n = read_le64(f->buf);
    if (n > SS_ST_MAX_HEADER) {
        st = ss_fail(SS_ERR_FORMAT, "%s: header length %llu exceeds the %u-byte limit (not a safetensors file?)", path,
                     (unsigned long long)n, SS_ST_MAX_HEADER);
        goto done;
    }
    if (n > f->size - 8) {
        st = ss_fail(SS_ERR_FORMAT, "%s: header length %llu runs past the end of the file (%zu bytes)", path,
                     (unsigned long long)n, f->size);
        goto done;
    }
    const char *hdr = (const char *)f->buf + 8;
    const uint8_t *data = f->buf + 8 + n; /* [dsize] */
    uint64_t dsize = (uint64_t)f->size - 8 - n;

    json_error_t jerr;
    root = json_loadb(hdr, (size_t)n, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        st = ss_fail(SS_ERR_FORMAT, "%s: header is not valid JSON: %s (line %d, column %d)", path, jerr.text, jerr.line,
                     jerr.column);
        goto done;
    }
    if (!json_is_object(root)) {
        st = ss_fail(SS_ERR_FORMAT, "%s: header is not a JSON object", path);
        goto done;
    }
    size_t n_entries = json_object_size(root);
    if (n_entries > (size_t)(0x7fffffff - sf->n_tensors)) {
        st = ss_fail(SS_ERR_FORMAT, "%s: too many tensors", path);
        goto done;
    }
    ss_st_tensor *nt = realloc(sf->tensors, (sf->n_tensors + n_entries + 1) * sizeof *nt);
    if (!nt) {
        st = ss_fail(SS_ERR_NOMEM, "%s: out of memory for %zu tensors", path, n_entries);
        goto done;
    }
    sf->tensors = nt;

    const char *key;
    json_t *val;
    json_object_foreach(root, key, val)
    {
        if (strcmp(key, "__metadata__") == 0) {
            if (!json_is_object(val)) {
                st = ss_fail(SS_ERR_FORMAT, "%s: header field '__metadata__' is not an object", path);
                goto done;
            }
            continue;
        }
        if (!json_is_object(val)) {
            st = ss_fail(SS_ERR_FORMAT, "%s: tensor '%s': header entry is not an object", path, key);
            goto done;
        }
        ss_st_tensor t = {0};
        t.file = fi;

        const char *dts = json_string_value(json_object_get(val, "dtype"));
        if (!dts) {
            st = ss_fail(SS_ERR_FORMAT, "%s: tensor '%s': field 'dtype' is missing or not a string", path, key);
            goto done;
        }
        if (!dtype_lookup(dts, &t.dtype)) {
            st = ss_fail(SS_ERR_FORMAT, "%s: tensor '%s': unknown dtype '%s'", path, key, dts);
            goto done;
        }

        json_t *shape = json_object_get(val, "shape");
        if (!json_is_array(shape)) {
            st = ss_fail(SS_ERR_FORMAT, "%s: tensor '%s': field 'shape' is missing or not an array", path, key);
            goto done;
        }
        if (json_array_size(shape) > SS_ST_MAX_DIMS) {
            st = ss_fail(SS_ERR_FORMAT, "%s: tensor '%s': field 'shape' has %zu dimensions (at most %d)", path, key,
                         json_array_size(shape), SS_ST_MAX_DIMS);
            goto done;
        }
        t.n_dims = (int)json_array_size(shape);
        t.n_elems = 1;
        for (int i = 0; i < t.n_dims; i++) {
            uint64_t dim;
            if (!json_u64(json_array_get(shape, (size_t)i), &dim) || dim > (uint64_t)INT64_MAX) {
                st = ss_fail(SS_ERR_FORMAT, "%s: tensor '%s': field 'shape' entry %d is not a non-negative integer",
                             path, key, i);
                goto done;
            }
            t.shape[i] = (int64_t)dim;
            if (__builtin_mul_overflow(t.n_elems, dim, &t.n_elems)) {
                st = ss_fail(SS_ERR_FORMAT, "%s: tensor '%s': shape %s overflows", path, key,
                             shape_str(sbuf, sizeof sbuf, t.shape, i + 1));
                goto done;
            }
        }

        json_t *offs = json_object_get(val, "data_offsets");
        if (!json_is_array(offs) || json_array_size(offs) != 2 || !json_u64(json_array_get(offs, 0), &t.begin) ||
            !json_u64(json_array_get(offs, 1), &t.end)) {
            st =
                ss_fail(SS_ERR_FORMAT,
                        "%s: tensor '%s': field 'data_offsets' is missing or not two non-negative integers", path, key);
            goto done;
        }
        if (t.begin > t.end) {
            st = ss_fail(SS_ERR_FORMAT, "%s: tensor '%s': data_offsets [%llu, %llu] end before they begin", path, key,
                         (unsigned long long)t.begin, (unsigned long long)t.end);
            goto done;
        }
        if (t.end > dsize) {
            st = ss_fail(SS_ERR_FORMAT,
                         "%s: tensor '%s': data_offsets [%llu, %llu] are out of range: the data section has %llu bytes",
                         path, key, (unsigned long long)t.begin, (unsigned long long)t.end, (unsigned long long)dsize);
            goto done;
        }
        uint64_t want = 0;
        int ovf = __builtin_mul_overflow(t.n_elems, (uint64_t)ss_dtype_size(t.dtype), &want);
        if (ovf || want != t.end - t.begin) {
            char need[32];
            if (ovf)
                snprintf(need, sizeof need, "more than 2^64");
            else
                snprintf(need, sizeof need, "%llu", (unsigned long long)want);
            st = ss_fail(SS_ERR_FORMAT,
                         "%s: tensor '%s': size mismatch: shape %s of %s needs %s bytes but data_offsets [%llu, %llu] "
                         "hold %llu",
                         path, key, shape_str(sbuf, sizeof sbuf, t.shape, t.n_dims), dts, need,
                         (unsigned long long)t.begin, (unsigned long long)t.end, (unsigned long long)(t.end - t.begin));
            goto done;
        }
        t.data = data + t.begin;
        t.name = strdup(key);
        if (!t.name) {
            st = ss_fail(SS_ERR_NOMEM, "%s: out of memory", path);
            goto done;
        }
        sf->tensors[sf->n_tensors++] = t;
    }

    /* No two tensors of this file may share bytes. */
    int n_new = sf->n_tensors - first;
    if (n_new > 1) {
        order = malloc((size_t)n_new * sizeof *order);
        if (!order) {
            st = ss_fail(SS_ERR_NOMEM, "%s: out of memory", path);
            goto done;
        }
        int m = 0;
        for (int i = first; i < sf->n_tensors; i++)
            if (sf->tensors[i].end > sf->tensors[i].begin) order[m++] = &sf->tensors[i];
        qsort(order, (size_t)m, sizeof *order, cmp_begin);
        for (int i = 1; i < m; i++)
            if (order[i]->begin < order[i - 1]->end) {
                st = ss_fail(SS_ERR_FORMAT, "%s: tensors '%s' [%llu, %llu] and '%s' [%llu, %llu] overlap", path,
                             order[i - 1]->name, (unsigned long long)order[i - 1]->begin,
                             (unsigned long long)order[i - 1]->end, order[i]->name, (unsigned long long)order[i]->begin,
                             (unsigned long long)order[i]->end);
                goto done;
            }
    }

done:
    free(order);
    json_decref(root);
    return st;
}

/* Sorts the merged table by name; a name present twice (two shards) is an error. */
static ss_status finish(ss_safetensors *sf)
{
    if (sf->n_tensors > 1) qsort(sf->tensors, (size_t)sf->n_tensors, sizeof *sf->tensors, cmp_name);
    for (int i = 1; i < sf->n_tensors; i++)
        if (strcmp(sf->tensors[i].name, sf->tensors[i - 1].name) == 0)
            return ss_fail(SS_ERR_FORMAT, "tensor '%s' appears in both %s and %s", sf->tensors[i].name,
                           sf->files[sf->tensors[i - 1].file].path, sf->files[sf->tensors[i].file].path);
    return SS_OK;
}

void ss_st_free(ss_safetensors *sf)
{
    if (!sf) return;
    for (int i = 0; i < sf->n_tensors; i++) free(sf->tensors[i].name);
    free(sf->tensors);
    for (int i = 0; i < sf->n_files; i++) {
        if (sf->files[i].mapped && sf->files[i].size > 0) munmap((void *)sf->files[i].buf, sf->files[i].size);
        free(sf->files[i].path);
    }
    free(sf->files);
    free(sf);
}

ss_status ss_st_parse(const void *buf, size_t size, const char *label, ss_safetensors **out)
{
    ss_status st = SS_OK;
    *out = NULL;
    ss_safetensors *sf = calloc(1, sizeof *sf);
    if (!sf) return ss_fail(SS_ERR_NOMEM, "%s: out of memory", label);
    SS_TRY(add_file(sf, label, buf, size, 0));
    SS_TRY(parse_file(sf, 0));
    SS_TRY(finish(sf));
    *out = sf;
    sf = NULL;
done:
    ss_st_free(sf);
    return st;
}

/* mmaps path and appends it to sf->files (not yet parsed). */
static ss_status map_file(ss_safetensors *sf, const char *path)
{
    ss_status st = SS_OK;
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
    size_t size = (size_t)sb.st_size;
    if (size < 8) {
        st = ss_fail(SS_ERR_FORMAT, "%s: file is %zu bytes, too short for the 8-byte header length", path, size);
        goto done;
    }
    void *p = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
        st = ss_fail(SS_ERR_IO, "cannot map %s: %s", path, strerror(errno));
        goto done;
    }
    st = add_file(sf, path, p, size, 1);
    if (st != SS_OK) munmap(p, size);
done:
    close(fd);
    return st;
}

ss_status ss_st_open(const char *path, ss_safetensors **out)
{
    ss_status st = SS_OK;
    *out = NULL;
    ss_safetensors *sf = calloc(1, sizeof *sf);
    if (!sf) return ss_fail(SS_ERR_NOMEM, "%s: out of memory", path);
    SS_TRY(map_file(sf, path));
    SS_TRY(parse_file(sf, 0));
    SS_TRY(finish(sf));
    *out = sf;
    sf = NULL;
done:
    ss_st_free(sf);
    return st;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(const char *const *)a, *(const char *const *)b); }

ss_status ss_st_index_shards(const char *index_path, json_t **root_out, const char ***shards_out, size_t *n_out)
{
    ss_status st = SS_OK;
    const char **shards = NULL; /* [n_shards] distinct names, sorted */
    size_t n_shards = 0;
    json_error_t jerr;
    json_t *root = json_load_file(index_path, JSON_REJECT_DUPLICATES, &jerr);
    *root_out = NULL;
    *shards_out = NULL;
    *n_out = 0;
    if (!root) {
        st = ss_fail(SS_ERR_FORMAT, "%s: not valid JSON: %s (line %d, column %d)", index_path, jerr.text, jerr.line,
                     jerr.column);
        goto done;
    }
    json_t *wm = json_object_get(root, "weight_map");
    if (!json_is_object(wm) || json_object_size(wm) == 0) {
        st = ss_fail(SS_ERR_FORMAT, "%s: field 'weight_map' is missing, empty or not an object", index_path);
        goto done;
    }
    shards = malloc(json_object_size(wm) * sizeof *shards);
    if (!shards) {
        st = ss_fail(SS_ERR_NOMEM, "%s: out of memory", index_path);
        goto done;
    }
    const char *key;
    json_t *val;
    json_object_foreach(wm, key, val)
    {
        const char *s = json_string_value(val);
        if (!s || !*s || strchr(s, '/') || strcmp(s, ".") == 0 || strcmp(s, "..") == 0) {
            st = ss_fail(SS_ERR_FORMAT, "%s: weight_map entry '%s' is not a plain shard file name", index_path, key);
            goto done;
        }
        shards[n_shards++] = s;
    }
    qsort(shards, n_shards, sizeof *shards, cmp_str);
    size_t m = 0;
    for (size_t i = 0; i < n_shards; i++)
        if (m == 0 || strcmp(shards[i], shards[m - 1]) != 0) shards[m++] = shards[i];
    n_shards = m;
    *root_out = root;
    *shards_out = shards;
    *n_out = n_shards;
    root = NULL;
    shards = NULL;
done:
    free(shards);
    json_decref(root);
    return st;
}

/* dir/model.safetensors.index.json: {"weight_map": {tensor: shard}}. Shards are plain file names in dir. */
static ss_status open_index(const char *dir, const char *index_path, ss_safetensors **out)
{
    ss_status st = SS_OK;
    ss_safetensors *sf = NULL;
    const char **shards = NULL; /* [n_shards] */
    size_t n_shards = 0;
    char *shard_path = NULL;
    json_t *root = NULL;
    SS_TRY(ss_st_index_shards(index_path, &root, &shards, &n_shards));
    json_t *wm = json_object_get(root, "weight_map");
    const char *key;
    json_t *val;

    sf = calloc(1, sizeof *sf);
    if (!sf) {
        st = ss_fail(SS_ERR_NOMEM, "%s: out of memory", index_path);
        goto done;
    }
    for (size_t i = 0; i < n_shards; i++) {
        free(shard_path);
        shard_path = ss_path_join(dir, shards[i]);
        if (!shard_path) {
            st = ss_fail(SS_ERR_NOMEM, "%s: out of memory", index_path);
            goto done;
        }
        SS_TRY(map_file(sf, shard_path));
        SS_TRY(parse_file(sf, sf->n_files - 1));
    }
    SS_TRY(finish(sf));
    /* Every tensor the index names is in the shard it names. */
    json_object_foreach(wm, key, val)
    {
        const ss_st_tensor *t = ss_st_find(sf, key);
        const char *want = json_string_value(val);
        const char *got = t ? strrchr(sf->files[t->file].path, '/') + 1 : NULL;
        if (!t || strcmp(got, want) != 0) {
            st = ss_fail(SS_ERR_FORMAT, "%s: tensor '%s' is listed in shard %s but %s%s", index_path, key, want,
                         t ? "found in " : "missing from it", t ? got : "");
            goto done;
        }
    }
    *out = sf;
    sf = NULL;
done:
    free(shard_path);
    free(shards);
    json_decref(root);
    ss_st_free(sf);
    return st;
}

ss_status ss_st_open_dir(const char *dir, ss_safetensors **out)
{
    ss_status st = SS_OK;
    *out = NULL;
    char *single = ss_path_join(dir, "model.safetensors");
    char *index = ss_path_join(dir, "model.safetensors.index.json");
    struct stat sb;
    if (!single || !index) {
        st = ss_fail(SS_ERR_NOMEM, "%s: out of memory", dir);
        goto done;
    }
    if (stat(single, &sb) == 0)
        st = ss_st_open(single, out);
    else if (stat(index, &sb) == 0)
        st = open_index(dir, index, out);
    else
        st = ss_fail(SS_ERR_IO, "%s: no model.safetensors or model.safetensors.index.json", dir);
done:
    free(single);
    free(index);
    return st;
}

const ss_st_tensor *ss_st_find(const ss_safetensors *sf, const char *name)
{
    int lo = 0, hi = sf->n_tensors - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        int c = strcmp(name, sf->tensors[mid].name);
        if (c == 0) return &sf->tensors[mid];
        if (c < 0)
            hi = mid - 1;
        else
            lo = mid + 1;
    }
    return NULL;
}

const char *ss_st_file_of(const ss_safetensors *sf, const ss_st_tensor *t) { return sf->files[t->file].path; }

ss_status ss_st_get_f32(const ss_safetensors *sf, const char *name, int n_dims, const int64_t *dims, const float **out)
{
    char a[256], b[256];
    *out = NULL;
    const ss_st_tensor *t = ss_st_find(sf, name);
    const char *where = sf->n_files == 1 ? sf->files[0].path : "the safetensors shards";
    if (!t) return ss_fail(SS_ERR_FORMAT, "%s: tensor '%s' is missing", where, name);
    where = ss_st_file_of(sf, t);
    if (t->dtype != SS_DT_F32)
        return ss_fail(SS_ERR_FORMAT, "%s: tensor '%s' has dtype %s; only F32 is supported", where, name,
                       ss_dtype_name(t->dtype));
    int same = t->n_dims == n_dims;
    for (int i = 0; same && i < n_dims; i++) same = t->shape[i] == dims[i];
    if (!same)
        return ss_fail(SS_ERR_FORMAT, "%s: tensor '%s' has shape %s; expected %s", where, name,
                       shape_str(a, sizeof a, t->shape, t->n_dims), shape_str(b, sizeof b, dims, n_dims));
    if ((uintptr_t)t->data % _Alignof(float) != 0)
        return ss_fail(SS_ERR_FORMAT, "%s: tensor '%s' data is not 4-byte aligned (header length not a multiple of 4?)",
                       where, name);
    *out = (const float *)(const void *)t->data;
    return SS_OK;
}
