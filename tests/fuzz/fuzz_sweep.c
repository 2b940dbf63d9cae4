/* fuzz_sweep.c: libFuzzer target for the sweep parser. Any input must come back as SS_OK with a sweep, or as an
 * error with diagnostics, without crashes, leaks or undefined behaviour (build with -fsanitize=fuzzer,address,
 * undefined). Relative paths in the input resolve against the current directory; only their existence is checked.
 * Seeds: tests/sweep/valid/ and tests/sweep/invalid/. */
#include <stddef.h>
#include <stdint.h>

#include "sweep.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ss_diags d = {0};
    ss_sweep *s = NULL;
    ss_status st = ss_sweep_parse((const char *)data, size, "fuzz.yaml", &s, &d);
    /* The contract: success <=> a sweep and no diagnostics; failure => no sweep. */
    if ((st == SS_OK) != (s != NULL)) __builtin_trap();
    if (st == SS_OK && d.n != 0) __builtin_trap();
    if (st == SS_ERR_INPUT && d.n == 0) __builtin_trap();
    ss_sweep_free(s);
    ss_diags_free(&d);
    return 0;
}
