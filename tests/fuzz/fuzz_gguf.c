/* fuzz_gguf.c: libFuzzer target for the GGUF reader. The input is parsed from memory as a whole file
 * image; on success every key is looked up again, every array element read through the getters, the
 * hyper-parameters read, and every tensor whose type sinkscope converts is dequantized (up to 1M
 * weights per tensor, row by row beyond that; its first and last rows otherwise), so views that leave the
 * input crash under ASan. Seeds: tests/fuzz/seeds/gguf/ (the tiny GGUF fixtures).
 * The reader must never crash, leak or read outside the input. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "model/gguf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* A private copy of exactly `size` bytes, so any overread is caught. */
    uint8_t *buf = malloc(size ? size : 1);
    if (!buf) return 0;
    if (size) memcpy(buf, data, size);
    ss_gguf *g = NULL;
    if (ss_gguf_parse(buf, size, "fuzz.gguf", &g) == SS_OK) {
        volatile double sink = 0;
        for (int64_t i = 0; i < g->n_kv; i++) {
            const ss_gguf_kv *kv = &g->kv[i];
            if (ss_gguf_find_kv(g, kv->key) != kv) abort(); /* keys are unique */
            if (kv->type != SS_GGUF_ARRAY) continue;
            for (uint64_t e = 0; e < kv->arr_n && e < 4096; e++) {
                int64_t iv;
                double fv;
                if (ss_gguf_arr_int(kv, e, &iv)) sink += (double)iv;
                if (ss_gguf_arr_float(kv, e, &fv)) sink += fv;
                if (kv->arr_str) sink += kv->arr_str[e].len ? (unsigned char)kv->arr_str[e].ptr[kv->arr_str[e].len - 1] : 0;
            }
        }
        ss_gguf_hparams hp;
        (void)ss_gguf_read_hparams(g, &hp);
        float *y = malloc((size_t)1 << 22); /* [1M] */
        for (int64_t i = 0; y && i < g->n_tensors; i++) {
            const ss_gguf_tensor *t = &g->tensors[i];
            if (ss_gguf_find_tensor(g, t->name) != t) abort(); /* names are unique */
            if (t->data < buf || t->n_bytes > size || t->data + t->n_bytes > buf + size) abort();
            if (!ss_ggml_type_supported(t->type) || t->n_elems == 0) continue;
            int64_t rows = ss_gguf_tensor_rows(t);
            if (t->dims[0] > ((int64_t)1 << 20)) continue; /* one row would not fit the buffer */
            int64_t per = ((int64_t)1 << 20) / t->dims[0]; /* rows per call */
            if (rows <= per) {
                if (ss_gguf_tensor_f32(g, t->name, y) != SS_OK) abort();
                sink += y[0] + y[t->n_elems - 1];
            } else { /* first and last row only */
                if (ss_gguf_tensor_rows_f32(g, t, 0, 1, y) != SS_OK) abort();
                sink += y[0];
                if (ss_gguf_tensor_rows_f32(g, t, rows - 1, 1, y) != SS_OK) abort();
                sink += y[t->dims[0] - 1];
            }
        }
        free(y);
        (void)sink;
    }
    ss_gguf_close(g);
    free(buf);
    return 0;
}
