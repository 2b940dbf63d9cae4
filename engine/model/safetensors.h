/* safetensors.h: a bounds-checked reader for Hugging Face safetensors files.
 *
 * File layout: u64 little-endian N | N bytes of JSON header | data. The header maps each tensor
 * name to {"dtype": "F32", "shape": [d0, d1, ...], "data_offsets": [begin, end]}, offsets in bytes
 * relative to the start of the data; an optional "__metadata__" maps strings to strings.
 *
 * What the parser checks (each failure is SS_ERR_FORMAT with the file, and the tensor/field named):
 *   - the file holds the 8-byte length, N <= SS_ST_MAX_HEADER and 8 + N <= file size;
 *   - the header is a JSON object without duplicate keys; every entry has a known dtype, a shape of
 *     at most SS_ST_MAX_DIMS non-negative integers, and data_offsets [begin, end] with begin <= end
 *     <= data size;
 *   - end - begin == product(shape) · dtype size (no overflow);
 *   - tensors do not overlap one another.
 * Every tensor's dtype is recorded; callers that need fp32 use ss_st_get_f32, which also checks the
 * shape and the 4-byte alignment of the data.
 *
 * A model directory holds model.safetensors, or model.safetensors.index.json
 * ({"weight_map": {tensor: shard file}}) and its shards; ss_st_open_dir handles both and merges the
 * shards into one tensor table (a tensor name may appear in one shard only). */
#ifndef SS_SAFETENSORS_H
#define SS_SAFETENSORS_H

#include <stddef.h>
#include <jansson.h>
#include <stdint.h>

#include "../status.h"

#define SS_ST_MAX_DIMS 8
#define SS_ST_MAX_HEADER (100u * 1024u * 1024u)

typedef enum {
    SS_DT_BOOL = 0, SS_DT_U8, SS_DT_I8, SS_DT_F8_E5M2, SS_DT_F8_E4M3, SS_DT_I16, SS_DT_U16, SS_DT_F16,
    SS_DT_BF16, SS_DT_I32, SS_DT_U32, SS_DT_F32, SS_DT_F64, SS_DT_I64, SS_DT_U64,
    SS_DT_COUNT
} ss_dtype;

const char *ss_dtype_name(ss_dtype t); /* "F32" */
size_t ss_dtype_size(ss_dtype t);      /* bytes per element */

typedef struct {
    char *name;
    ss_dtype dtype;
    int n_dims;
    int64_t shape[SS_ST_MAX_DIMS]; /* [n_dims] */
    uint64_t n_elems;              /* product of the shape (1 for a scalar) */
    uint64_t begin, end;           /* byte range within the data section of its file */
    const uint8_t *data;           /* [end - begin] bytes, inside the file's buffer */
    int file;                      /* index into ss_safetensors.files */
} ss_st_tensor;

typedef struct {
    char *path;            /* as opened (or the label given to ss_st_parse) */
    const uint8_t *buf;    /* [size] the whole file */
    size_t size;
    int mapped;            /* 1: buf is our mmap and is unmapped by ss_st_free */
} ss_st_file;

typedef struct {
    ss_st_file *files;     /* [n_files] */
    int n_files;
    ss_st_tensor *tensors; /* [n_tensors], sorted by name */
    int n_tensors;
} ss_safetensors;

/* Parses a safetensors image held in memory. buf is borrowed: it must outlive *out. label names the
 * buffer in messages (e.g. the file path). */
ss_status ss_st_parse(const void *buf, size_t size, const char *label, ss_safetensors **out);
/* Memory-maps and parses one file. */
ss_status ss_st_open(const char *path, ss_safetensors **out);
/* Opens dir/model.safetensors, or else dir/model.safetensors.index.json and its shards. */
ss_status ss_st_open_dir(const char *dir, ss_safetensors **out);
/* Reads a model.safetensors.index.json: *shards (malloc'd, pointing into *root) are its distinct
 * shard file names, sorted; each is a plain name in the index's directory. Free with free(*shards)
 * and json_decref(*root). */
ss_status ss_st_index_shards(const char *index_path, json_t **root, const char ***shards, size_t *n_shards);
void ss_st_free(ss_safetensors *sf);

/* NULL when absent. */
const ss_st_tensor *ss_st_find(const ss_safetensors *sf, const char *name);
/* The file that holds t (for messages). */
const char *ss_st_file_of(const ss_safetensors *sf, const ss_st_tensor *t);
/* Looks up an F32 tensor of exactly the given shape (n_dims entries of dims) and returns its data.
 * Missing tensor, other dtype, other shape, or misaligned data: SS_ERR_FORMAT naming file and tensor. */
ss_status ss_st_get_f32(const ss_safetensors *sf, const char *name, int n_dims, const int64_t *dims, const float **out);

/* ------------------------------------------------------------------------------------------ writing
 * (safetensors_write.c) Writes n F32 tensors to path: tensor i is names[i], of shape shapes[i][0..n_dims[i])
 * (n_dims[i] <= SS_ST_MAX_DIMS; 0: a scalar), its product(shape) floats at data[i] (host order, little-endian
 * hosts only). The header is compact JSON with "__metadata__": {"format": "pt"}, padded with spaces to a
 * multiple of 8 bytes, so the data section starts 8-byte aligned; the tensors follow in name order, back to
 * back (each F32 tensor starts 4-byte aligned: the reader's requirement; Hugging Face's safetensors library
 * refuses gaps between tensors, so none are left). The file is written to "<path>.tmp", flushed to disk and
 * renamed over path: path never holds a partial file. Names must be non-empty, distinct and not
 * "__metadata__" (SS_ERR_INPUT); a write failure is SS_ERR_IO. */
ss_status ss_st_write(const char *path, int n, const char *const *names, const int *n_dims,
                      const int64_t *const *shapes, const float *const *data);

#endif
