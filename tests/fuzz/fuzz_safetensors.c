/* fuzz_safetensors.c: libFuzzer target for the safetensors parser. The input is parsed from memory
 * as a whole file image; on success every tensor is looked up and, when F32, read through
 * ss_st_get_f32 (touching its first and last element), so out-of-range views crash under ASan.
 * Build: clang -fsanitize=fuzzer,address,undefined with engine/model/safetensors.c, engine/status.c
 * and -ljansson. The parser must never crash, leak or read outside the input. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "model/safetensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* An 8-aligned private copy, so alignment failures come from the header, not from libFuzzer. */
    uint8_t *buf = malloc(size ? size : 1);
    if (!buf) return 0;
    if (size) memcpy(buf, data, size);
    ss_safetensors *sf = NULL;
    if (ss_st_parse(buf, size, "fuzz.safetensors", &sf) == SS_OK) {
        volatile float sink = 0.0f;
        for (int i = 0; i < sf->n_tensors; i++) {
            const ss_st_tensor *t = &sf->tensors[i];
            if (ss_st_find(sf, t->name) != t) abort(); /* names are unique and sorted */
            if (t->end > size || t->begin > t->end) abort();
            if (t->dtype != SS_DT_F32 || t->n_elems == 0) continue;
            const float *p = NULL;
            if (ss_st_get_f32(sf, t->name, t->n_dims, t->shape, &p) == SS_OK) {
                sink += p[0];
                sink += p[t->n_elems - 1];
            }
        }
        (void)sink;
    }
    ss_st_free(sf);
    free(buf);
    return 0;
}
