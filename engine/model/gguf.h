/* gguf.h: a bounds-checked reader for GGUF model files (llama.cpp / ggml), versions 2 and 3.
 *
 * File layout (all little-endian):
 *   u32 magic "GGUF" | u32 version | u64 n_tensors | u64 n_kv
 *   n_kv × { string key | u32 value type | value }
 *   n_tensors × { string name | u32 n_dims | u64 dims[n_dims] | u32 ggml type | u64 offset }
 *   padding to `general.alignment` (u32, default 32) | data blob (tensor offsets count from its start)
 * A string is u64 length + bytes (no NUL). A value is a scalar of the given type, a string, or an array:
 * u32 element type | u64 count | count elements (strings for tokenizer.ggml.tokens/merges, integers or
 * floats for token types and scores). Dims are innermost first: dims[0] is the row length, and a
 * 2-D weight [dims[0], dims[1]] holds dims[1] rows of dims[0] weights (row-major, as ggml stores it).
 *
 * What the parser checks (each failure is SS_ERR_FORMAT, with the file and the key/tensor named):
 *   - magic "GGUF"; version 2 or 3 (version 1, whose counts are 32-bit, and others are refused; a
 *     version that reads as a byte-swapped small number is reported as a big-endian file);
 *   - every count, string length and array length fits in what is left of the file (checked before
 *     anything is allocated); products and sums are overflow-checked;
 *   - value types known; arrays not nested; keys unique and non-empty; no NUL inside keys or names;
 *   - general.alignment, when present, a u32 power of two;
 *   - tensors: unique non-empty names, 1 <= n_dims <= 4, each dim >= 0, known ggml type, dims[0] a
 *     multiple of the type's block size, offset a multiple of the alignment, data inside the file,
 *     no two tensors overlapping.
 * Tensors of any known ggml type are accepted (inspect lists them); ss_gguf_tensor_f32 converts the
 * types sinkscope supports (F32 F16 BF16 Q8_0 Q4_0 Q4_1 Q5_0 Q4_K Q6_K, kernels/dequant.h) and refuses
 * the others by name. */
#ifndef SS_GGUF_H
#define SS_GGUF_H

#include <stddef.h>
#include <stdint.h>

#include "../status.h"

#define SS_GGUF_MAX_DIMS 4
#define SS_GGUF_DEFAULT_ALIGNMENT 32

/* Metadata value types (the numbers are the file's). */
typedef enum {
    SS_GGUF_U8 = 0, SS_GGUF_I8 = 1, SS_GGUF_U16 = 2, SS_GGUF_I16 = 3, SS_GGUF_U32 = 4, SS_GGUF_I32 = 5,
    SS_GGUF_F32 = 6, SS_GGUF_BOOL = 7, SS_GGUF_STRING = 8, SS_GGUF_ARRAY = 9, SS_GGUF_U64 = 10,
    SS_GGUF_I64 = 11, SS_GGUF_F64 = 12,
    SS_GGUF_VTYPE_COUNT
} ss_gguf_vtype;

/* ggml tensor types that sinkscope names (the numbers are the file's; gaps are retired types). */
typedef enum {
    SS_GGML_F32 = 0, SS_GGML_F16 = 1, SS_GGML_Q4_0 = 2, SS_GGML_Q4_1 = 3, SS_GGML_Q5_0 = 6, SS_GGML_Q5_1 = 7,
    SS_GGML_Q8_0 = 8, SS_GGML_Q2_K = 10, SS_GGML_Q3_K = 11, SS_GGML_Q4_K = 12,
    SS_GGML_Q5_K = 13, SS_GGML_Q6_K = 14, SS_GGML_Q8_K = 15, SS_GGML_BF16 = 30
} ss_ggml_type;

const char *ss_gguf_vtype_name(uint32_t t);  /* "UINT32", or "?" */
const char *ss_ggml_type_name(uint32_t t);   /* "Q4_K", or NULL when unknown */
/* Weights per block and bytes per block; 0 for unknown types. */
int ss_ggml_block_size(uint32_t t);
size_t ss_ggml_type_size(uint32_t t);
/* 1 when ss_gguf_tensor_f32 can convert the type. */
int ss_ggml_type_supported(uint32_t t);

/* A string inside the file: not NUL-terminated, may hold any bytes. */
typedef struct {
    const char *ptr; /* [len] */
    uint64_t len;
} ss_gguf_str;

typedef struct {
    char *key;             /* NUL-terminated copy */
    ss_gguf_vtype type;
    /* Scalars: the value, converted (u holds every unsigned/bool, i every signed, f both floats). */
    uint64_t u;
    int64_t i;
    double f;
    char *str;             /* STRING: NUL-terminated copy (str_len bytes, may contain NULs) */
    uint64_t str_len;
    /* ARRAY: element type, count, and the raw little-endian elements inside the file. */
    ss_gguf_vtype arr_type;
    uint64_t arr_n;
    const uint8_t *arr_data;  /* [arr_n · element size] for scalar elements (unaligned) */
    ss_gguf_str *arr_str;     /* [arr_n] views, for arrays of strings */
} ss_gguf_kv;

typedef struct {
    char *name;
    int n_dims;
    int64_t dims[SS_GGUF_MAX_DIMS]; /* innermost first; entries past n_dims are 1 */
    uint32_t type;                  /* ss_ggml_type */
    uint64_t offset;                /* from the start of the data blob, as stored */
    uint64_t n_elems;               /* product of dims */
    uint64_t n_bytes;               /* n_elems / block size · bytes per block */
    const uint8_t *data;            /* [n_bytes] inside the file */
} ss_gguf_tensor;

typedef struct {
    char *path;              /* as opened (or the label given to ss_gguf_parse) */
    const uint8_t *buf;      /* [size] the whole file */
    size_t size;
    int mapped;              /* 1: buf is our mmap */
    uint32_t version;
    uint32_t alignment;
    uint64_t data_start;     /* byte offset of the data blob */
    ss_gguf_kv *kv;          /* [n_kv], in file order */
    int64_t n_kv;
    ss_gguf_tensor *tensors; /* [n_tensors], in file order */
    int64_t n_tensors;
    int64_t *kv_sorted;      /* [n_kv] indices into kv, sorted by key (lookups) */
    int64_t *t_sorted;       /* [n_tensors] indices into tensors, sorted by name */
} ss_gguf;

/* Parses a GGUF image held in memory. buf is borrowed and must outlive *out; label names it in
 * messages. On failure *out is NULL and nothing is leaked. */
ss_status ss_gguf_parse(const void *buf, size_t size, const char *label, ss_gguf **out);
/* Memory-maps and parses a file (SS_ERR_IO when it cannot be opened or mapped). */
ss_status ss_gguf_open(const char *path, ss_gguf **out);
void ss_gguf_close(ss_gguf *g); /* NULL is fine */

/* Lookups: NULL when absent. */
const ss_gguf_kv *ss_gguf_find_kv(const ss_gguf *g, const char *key);
const ss_gguf_tensor *ss_gguf_find_tensor(const ss_gguf *g, const char *name);

/* Typed getters: 1 when the key is present with exactly this type (then *out is set), else 0. */
int ss_gguf_get_u32(const ss_gguf *g, const char *key, uint32_t *out);
int ss_gguf_get_i32(const ss_gguf *g, const char *key, int32_t *out);
int ss_gguf_get_u64(const ss_gguf *g, const char *key, uint64_t *out);
int ss_gguf_get_i64(const ss_gguf *g, const char *key, int64_t *out);
int ss_gguf_get_f32(const ss_gguf *g, const char *key, float *out);
int ss_gguf_get_f64(const ss_gguf *g, const char *key, double *out);
int ss_gguf_get_bool(const ss_gguf *g, const char *key, int *out);
int ss_gguf_get_str(const ss_gguf *g, const char *key, const char **out); /* NUL-terminated, owned by g */
/* Lenient getters for hyper-parameters that converters write with varying widths: any integer type
 * whose value fits in int64 (not bool) / F32 or F64. */
int ss_gguf_get_int(const ss_gguf *g, const char *key, int64_t *out);
int ss_gguf_get_float(const ss_gguf *g, const char *key, double *out);
/* Arrays: 1 when the key is an array of strings / any integer type / F32 or F64. */
int ss_gguf_get_str_array(const ss_gguf *g, const char *key, const ss_gguf_str **items, uint64_t *n);
int ss_gguf_get_int_array(const ss_gguf *g, const char *key, const ss_gguf_kv **kv, uint64_t *n);
int ss_gguf_get_float_array(const ss_gguf *g, const char *key, const ss_gguf_kv **kv, uint64_t *n);
/* Element i of an array of integers (any width; U64 above INT64_MAX fails) or of floats. 1 on success. */
int ss_gguf_arr_int(const ss_gguf_kv *kv, uint64_t i, int64_t *out);
int ss_gguf_arr_float(const ss_gguf_kv *kv, uint64_t i, double *out);

/* Number of rows: the product of dims[1..]. */
int64_t ss_gguf_tensor_rows(const ss_gguf_tensor *t);
/* Dequantizes the whole tensor to fp32: out[n_elems], row-major as stored (dims[0] fastest).
 * Missing tensor or unsupported type: SS_ERR_FORMAT naming the file and tensor. */
ss_status ss_gguf_tensor_f32(const ss_gguf *g, const char *name, float *out /* [n_elems] */);
/* Rows row0 .. row0+n_rows-1 only (e.g. embedding rows, or a big tensor in chunks). */
ss_status ss_gguf_tensor_rows_f32(const ss_gguf *g, const ss_gguf_tensor *t, int64_t row0, int64_t n_rows,
                                  float *out /* [n_rows][dims[0]] */);
/* For loaders: the tensor must exist with exactly these dims (innermost first); then dequantizes it.
 * A shape mismatch names the file, the tensor, and both shapes. */
ss_status ss_gguf_load_f32(const ss_gguf *g, const char *name, int n_dims, const int64_t *dims,
                           float *out /* [prod dims] */);

/* The architecture hyper-parameters a transformer loader needs, from the standard keys
 * ("<arch>" = general.architecture). Values not in the file are -1 (integers), 0 (floats) or "". */
typedef struct {
    char arch[32];             /* general.architecture */
    char name[128];            /* general.name */
    int64_t n_layers;          /* <arch>.block_count */
    int64_t d_model;           /* <arch>.embedding_length */
    int64_t d_ff;              /* <arch>.feed_forward_length */
    int64_t n_heads;           /* <arch>.attention.head_count */
    int64_t n_kv_heads;        /* <arch>.attention.head_count_kv (absent: = n_heads) */
    int64_t d_head_k, d_head_v;/* <arch>.attention.key_length / value_length (absent: d_model / n_heads) */
    int64_t n_ctx;             /* <arch>.context_length */
    int64_t n_vocab;           /* <arch>.vocab_size, else the length of tokenizer.ggml.tokens */
    int64_t rope_dims;         /* <arch>.rope.dimension_count (absent: d_head_k) */
    int rope_dims_in_file;
    double rope_base;          /* <arch>.rope.freq_base (absent: 0, the caller picks the default) */
    int64_t sliding_window;    /* <arch>.attention.sliding_window (absent: -1) */
    double norm_eps;           /* <arch>.attention.layer_norm_rms_epsilon, else .layer_norm_epsilon */
    /* tokenizer.ggml.{bos,eos,unknown,padding,seperator (sic; also "separator"),cls}_token_id; -1 absent */
    int64_t bos_id, eos_id, unk_id, pad_id, sep_id, cls_id;
    int add_bos, add_eos;      /* tokenizer.ggml.add_bos_token / add_eos_token: 1, 0, or -1 absent */
    char tok_model[32];        /* tokenizer.ggml.model */
    char tok_pre[32];          /* tokenizer.ggml.pre */
} ss_gguf_hparams;

/* Fills hp. Fails (SS_ERR_FORMAT, naming the file and key) only when general.architecture is missing
 * or a present key has a type that cannot hold its value (e.g. a string for block_count). */
ss_status ss_gguf_read_hparams(const ss_gguf *g, ss_gguf_hparams *hp);

#endif
