/* safetensors_write.c: ss_st_write, the F32 safetensors writer (see safetensors.h for the layout it writes). */
#include "safetensors.h"

#include <errno.h>
#include <fcntl.h>   /* open */
#include <jansson.h> /* the header */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h> /* write, fsync, close */

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "safetensors_write.c writes host-order floats; safetensors is little-endian"
#endif

typedef struct {
    const char *name;
    int index; /* into the caller's arrays */
} entry;

static int cmp_entry(const void *a, const void *b) { return strcmp(((const entry *)a)->name, ((const entry *)b)->name); }

/* Writes all of buf[0..n) to fd; 0 or an errno. */
static int write_all(int fd, const void *buf, size_t n)
{
    const char *p = buf;
    while (n > 0) {
        ssize_t k = write(fd, p, n);
        if (k < 0) {
            if (errno == EINTR) continue;
            return errno;
        }
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

/* Checks the arguments and sorts the tensors by name into order[n]; fills bytes[i] (by caller index). */
static ss_status check_tensors(const char *path, int n, const char *const *names, const int *n_dims,
                               const int64_t *const *shapes, const float *const *data, entry *order, uint64_t *bytes)
{
    for (int i = 0; i < n; i++) {
        if (!names[i] || !names[i][0] || strcmp(names[i], "__metadata__") == 0)
            return ss_fail(SS_ERR_INPUT, "%s: tensor %d has no name or the reserved name __metadata__", path, i);
        if (n_dims[i] < 0 || n_dims[i] > SS_ST_MAX_DIMS)
            return ss_fail(SS_ERR_INPUT, "%s: tensor '%s' has %d dimensions (0 to %d)", path, names[i], n_dims[i],
                           SS_ST_MAX_DIMS);
        if (n_dims[i] > 0 && !shapes[i])
            return ss_fail(SS_ERR_INPUT, "%s: tensor '%s' has no shape", path, names[i]);
        uint64_t elems = 1;
        for (int k = 0; k < n_dims[i]; k++) {
            if (shapes[i][k] < 0 || __builtin_mul_overflow(elems, (uint64_t)shapes[i][k], &elems))
                return ss_fail(SS_ERR_INPUT, "%s: tensor '%s': dimension %d (%lld) is negative or overflows", path,
                               names[i], k, (long long)shapes[i][k]);
        }
        if (__builtin_mul_overflow(elems, (uint64_t)sizeof(float), &bytes[i]))
            return ss_fail(SS_ERR_INPUT, "%s: tensor '%s' is too large", path, names[i]);
        if (bytes[i] > 0 && !data[i]) return ss_fail(SS_ERR_INPUT, "%s: tensor '%s' has no data", path, names[i]);
        order[i] = (entry){names[i], i};
    }
    if (n > 1) qsort(order, (size_t)n, sizeof *order, cmp_entry);
    for (int i = 1; i < n; i++)
        if (strcmp(order[i].name, order[i - 1].name) == 0)
            return ss_fail(SS_ERR_INPUT, "%s: tensor '%s' is given twice", path, order[i].name);
    return SS_OK;
}

/* The header text: {"__metadata__": {"format": "pt"}, name: {dtype, shape, data_offsets}, ...}, malloc'd. */
static ss_status build_header(const char *path, int n, const int *n_dims, const int64_t *const *shapes,
                              const entry *order, const uint64_t *bytes, char **out)
{
    ss_status st = SS_OK;
    json_t *root = json_object();
    *out = NULL;
    if (!root || json_object_set_new(root, "__metadata__", json_pack("{s:s}", "format", "pt")) != 0) goto oom;
    uint64_t off = 0;
    for (int r = 0; r < n; r++) {
        int i = order[r].index;
        json_t *shape = json_array();
        if (!shape) goto oom;
        for (int k = 0; k < n_dims[i]; k++)
            if (json_array_append_new(shape, json_integer((json_int_t)shapes[i][k])) != 0) {
                json_decref(shape);
                goto oom;
            }
        json_t *t = json_pack("{s:s, s:o, s:[I,I]}", "dtype", "F32", "shape", shape, "data_offsets", (json_int_t)off,
                              (json_int_t)(off + bytes[i]));
        if (!t || json_object_set_new(root, order[r].name, t) != 0) goto oom;
        off += bytes[i];
    }
    *out = json_dumps(root, JSON_COMPACT);
    if (!*out) goto oom;
    goto done;
oom:
    st = ss_fail(SS_ERR_NOMEM, "%s: out of memory building the safetensors header", path);
done:
    json_decref(root);
    return st;
}

ss_status ss_st_write(const char *path, int n, const char *const *names, const int *n_dims,
                      const int64_t *const *shapes, const float *const *data)
{
    ss_status st = SS_OK;
    entry *order = NULL;    /* [n] by name */
    uint64_t *bytes = NULL; /* [n] by caller index */
    char *header = NULL, *tmp = NULL;
    int fd = -1, err = 0, created = 0;
    if (!path || n < 0 || (n > 0 && (!names || !n_dims || !shapes || !data)))
        return ss_fail(SS_ERR_INPUT, "ss_st_write: bad arguments");
    order = malloc(((size_t)n + 1) * sizeof *order);
    bytes = malloc(((size_t)n + 1) * sizeof *bytes);
    size_t tmp_len = strlen(path) + sizeof ".tmp";
    tmp = malloc(tmp_len);
    if (!order || !bytes || !tmp) {
        st = ss_fail(SS_ERR_NOMEM, "%s: out of memory", path);
        goto done;
    }
    snprintf(tmp, tmp_len, "%s.tmp", path);
    SS_TRY(check_tensors(path, n, names, n_dims, shapes, data, order, bytes));
    SS_TRY(build_header(path, n, n_dims, shapes, order, bytes, &header));

    size_t h = strlen(header), padded = (h + 7) / 8 * 8; /* 8 + padded: the data starts 8-byte aligned */
    char *grown = realloc(header, padded + 1);
    if (!grown) {
        st = ss_fail(SS_ERR_NOMEM, "%s: out of memory", path);
        goto done;
    }
    header = grown;
    memset(header + h, ' ', padded - h);
    uint8_t len_le[8];
    for (int k = 0; k < 8; k++) len_le[k] = (uint8_t)((uint64_t)padded >> (8 * k));

    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        st = ss_fail(SS_ERR_IO, "cannot create %s: %s", tmp, strerror(errno));
        goto done;
    }
    created = 1;
    err = write_all(fd, len_le, sizeof len_le);
    if (!err) err = write_all(fd, header, padded);
    for (int r = 0; r < n && !err; r++) err = write_all(fd, data[order[r].index], bytes[order[r].index]);
    if (!err && fsync(fd) != 0) err = errno;
    if (close(fd) != 0 && !err) err = errno;
    fd = -1;
    if (err) {
        st = ss_fail(SS_ERR_IO, "cannot write %s: %s", tmp, strerror(err));
        goto done;
    }
    if (rename(tmp, path) != 0) {
        st = ss_fail(SS_ERR_IO, "cannot rename %s to %s: %s", tmp, path, strerror(errno));
        goto done;
    }
    created = 0;
done:
    if (fd >= 0) close(fd);
    if (created) unlink(tmp);
    free(order);
    free(bytes);
    free(header);
    free(tmp);
    return st;
}
