/* fuzz_config.c: libFuzzer target for the model configuration readers (hfconfig.c via ss_model_probe):
 * the input becomes config.json of a scratch model directory (beside a fixed small vocab.txt), and
 * the probe must either succeed with sane sizes or fail with a message; never crash, leak or hang. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "model/model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char g_dir[64];

static void setup(void)
{
    if (g_dir[0]) return;
    snprintf(g_dir, sizeof g_dir, "/tmp/ss_fuzz_config_%d", (int)getpid());
    mkdir(g_dir, 0700);
    char path[128];
    snprintf(path, sizeof path, "%s/vocab.txt", g_dir);
    FILE *f = fopen(path, "w");
    if (f) {
        fputs("[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nthe\n##s\n", f);
        fclose(f);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    setup();
    char path[128];
    snprintf(path, sizeof path, "%s/config.json", g_dir);
    FILE *f = fopen(path, "wb");
    if (!f) return 0;
    fwrite(data, 1, size, f);
    fclose(f);
    ss_model_info info;
    if (ss_model_probe(g_dir, &info) == SS_OK) {
        /* accepted configs have positive, consistent sizes */
        if (info.n_layers < 1 || info.n_heads < 1 || info.d_model < 1 || info.n_vocab < 1 || info.max_positions < 1 ||
            info.n_kv_heads < 1 || info.n_heads % info.n_kv_heads != 0)
            __builtin_trap();
    } else if (!ss_errmsg()[0]) {
        __builtin_trap(); /* every failure says why */
    }
    return 0;
}
