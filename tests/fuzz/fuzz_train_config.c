/* fuzz_train_config.c: libFuzzer target for the training config parser (engine/train/config.h). Any input must
 * come back as SS_OK with a valid config and no diagnostics, or as SS_ERR_INPUT with at least one diagnostic,
 * without crashes, leaks or undefined behaviour; a parsed grid must expand to runs whose names are non-empty.
 * Data paths resolve against the current directory (only their existence is checked).
 * Seeds: tests/fuzz/seeds/train_config/ (the committed experiment configs). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "train/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ss_diags d = {0};
    ss_tr_config c;
    memset(&c, 0, sizeof c);
    ss_status st = ss_tr_config_parse((const char *)data, size, "fuzz.yaml", &c, &d);
    if (st == SS_OK && d.n != 0) __builtin_trap();
    if (st == SS_ERR_INPUT && d.n == 0) __builtin_trap();
    if (st == SS_OK) {
        const int n = ss_tr_config_grid_size(&c);
        if (n < 1) __builtin_trap();
        for (int i = 0; i < n; i++) {
            ss_tr_config p;
            char name[96];
            ss_tr_config_grid_point(&c, i, &p, name, sizeof name);
            if (!name[0] || p.arch.d_model % p.arch.n_heads != 0) __builtin_trap();
        }
        ss_tr_config_free(&c);
    }
    ss_diags_free(&d);
    return 0;
}
