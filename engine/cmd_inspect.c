/* cmd_inspect.c: `sinkscope inspect MODEL`: what a model file holds, one "field: value" line each.
 *
 * MODEL is a Hugging Face directory (config.json + safetensors; read with ss_model_probe, the raw
 * config.json for positional-encoding parameters, and the safetensors table) or a GGUF file (read with
 * engine/model/gguf.h). Nothing is computed and no weights are converted. Exit 0, or 2 when MODEL is
 * missing, unreadable or not a model. */
#include <errno.h>
#include <jansson.h> /* config.json */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h> /* stat */

#include "cli.h"
#include "fsutil.h"            /* ss_path_join */
#include "model/gguf.h"        /* GGUF reader */
#include "model/model.h"       /* ss_model_probe */
#include "model/safetensors.h" /* tensor table of HF directories */

static void inspect_help(FILE *f)
{
    fprintf(f, "usage: sinkscope inspect MODEL\n\n"
               "Prints what a model holds: architecture, layers, heads, KV heads, head size, d_model, FFN size,\n"
               "positional encoding and its parameters (RoPE bases, rotary dims, sliding window, max positions),\n"
               "vocabulary size, the BOS/EOS/CLS/SEP/PAD/UNK ids and the default BOS behaviour, the tensor types\n"
               "(count per type) and the parameter count. MODEL is a Hugging Face directory (config.json and\n"
               "model.safetensors or its shards) or a .gguf file. Reads metadata only. Exit 2 when MODEL cannot\n"
               "be read.\n");
}

/* ---------------------------------------------------------------- GGUF */

/* How llama.cpp pairs RoPE dimensions per GGUF architecture (a property of the converter, not stored in
 * the file): "llama" Q/K rows were permuted at conversion, so adjacent pairs rotate together. */
static const char *gguf_rope_pairs(const char *arch)
{
    static const char *const halves[] = {"gemma", "gemma2", "gemma3", "qwen2", "qwen3", "gptneox", "phi3", "stablelm"};
    if (strcmp(arch, "llama") == 0) return "adjacent (2i, 2i+1) (llama.cpp NORM; the converter permuted the Q/K rows)";
    for (size_t i = 0; i < sizeof halves / sizeof halves[0]; i++)
        if (strcmp(arch, halves[i]) == 0) return "halves (i, i + d/2) (llama.cpp NEOX)";
    return "unknown for this architecture (not stored in the file)";
}

static void print_id(const char *what, int64_t id) { printf("%s id: %lld\n", what, (long long)id); }

static void print_types(const int *counts, int n_types, const char *(*name)(uint32_t))
{
    printf("tensor types:");
    int first = 1;
    for (int t = 0; t < n_types; t++)
        if (counts[t]) {
            printf("%s %s %d", first ? "" : ",", name((uint32_t)t), counts[t]);
            first = 0;
        }
    printf("%s\n", first ? " none" : "");
}

static const char *st_type_name(uint32_t t) { return ss_dtype_name((ss_dtype)t); }

static int inspect_gguf(const char *path)
{
    ss_gguf *g = NULL;
    ss_gguf_hparams hp;
    if (ss_gguf_open(path, &g) != SS_OK || ss_gguf_read_hparams(g, &hp) != SS_OK) {
        fprintf(stderr, "sinkscope inspect: %s\n", ss_errmsg());
        ss_gguf_close(g);
        return SS_EXIT_USAGE;
    }
    printf("model: %s\n", path);
    printf("format: GGUF v%u (%lld tensors, %lld metadata keys, alignment %u)\n", g->version, (long long)g->n_tensors,
           (long long)g->n_kv, g->alignment);
    if (hp.name[0]) printf("name: %s\n", hp.name);
    printf("architecture: %s\n", hp.arch);
    printf("layers: %lld\n", (long long)hp.n_layers);
    printf("heads: %lld\n", (long long)hp.n_heads);
    printf("kv heads: %lld\n", (long long)hp.n_kv_heads);
    if (hp.d_head_k == hp.d_head_v) printf("head size: %lld\n", (long long)hp.d_head_k);
    else printf("head size: %lld (keys), %lld (values)\n", (long long)hp.d_head_k, (long long)hp.d_head_v);
    printf("d_model: %lld\n", (long long)hp.d_model);
    printf("ffn size: %lld\n", (long long)hp.d_ff);
    if (hp.norm_eps > 0) printf("norm eps: %g\n", hp.norm_eps);
    /* Every GGUF decoder sinkscope knows uses RoPE; the base key tells. */
    int is_gemma3 = strcmp(hp.arch, "gemma3") == 0;
    if (hp.rope_base > 0 || hp.rope_dims_in_file) {
        printf("positional encoding: rope\n");
        if (hp.rope_base > 0) printf("rope base: %.10g%s\n", hp.rope_base, is_gemma3 ? " (global layers)" : "");
        else printf("rope base: not in the file (llama.cpp default 10000)\n");
        if (is_gemma3)
            printf("rope base local: 10000 (sliding-window layers; not in the file: llama.cpp's gemma3 value)\n");
        if (hp.d_head_k > 0)
            printf("rotary dims: %lld of %lld (fraction %g)%s\n", (long long)hp.rope_dims, (long long)hp.d_head_k,
                   (double)hp.rope_dims / (double)hp.d_head_k,
                   hp.rope_dims_in_file ? "" : " (no rope.dimension_count: whole head)");
        printf("rope pairs: %s\n", gguf_rope_pairs(hp.arch));
    } else {
        printf("positional encoding: unknown (no %s.rope.* keys)\n", hp.arch);
    }
    if (hp.sliding_window > 0)
        printf("sliding window: %lld%s\n", (long long)hp.sliding_window,
               is_gemma3 ? " (local layers; layer pattern not in the file: llama.cpp's gemma3 has 5 local then 1 "
                           "global)"
                         : "");
    else printf("sliding window: none\n");
    printf("max positions: %lld\n", (long long)hp.n_ctx);
    printf("vocabulary: %lld", (long long)hp.n_vocab);
    if (hp.tok_model[0]) printf(" (tokenizer %s%s%s)", hp.tok_model, hp.tok_pre[0] ? ", pre " : "", hp.tok_pre);
    printf("\n");
    print_id("bos", hp.bos_id);
    print_id("eos", hp.eos_id);
    print_id("cls", hp.cls_id);
    print_id("sep", hp.sep_id);
    print_id("pad", hp.pad_id);
    print_id("unk", hp.unk_id);
    if (hp.add_bos >= 0)
        printf("default bos: %s (tokenizer.ggml.add_bos_token = %s)\n", hp.add_bos ? "add" : "none",
               hp.add_bos ? "true" : "false");
    else printf("default bos: not in the file (no tokenizer.ggml.add_bos_token)\n");

    int counts[64] = {0}, unconvertible = 0;
    uint64_t n_params = 0, n_int = 0;
    for (int64_t i = 0; i < g->n_tensors; i++) {
        const ss_gguf_tensor *t = &g->tensors[i];
        if (t->type < 64) counts[t->type]++;
        int is_int = t->type >= 24 && t->type <= 27; /* I8 I16 I32 I64 */
        if (is_int) n_int += t->n_elems;
        else n_params += t->n_elems;
        unconvertible += !ss_ggml_type_supported(t->type);
    }
    print_types(counts, 64, ss_ggml_type_name);
    printf("convertible to fp32: %s\n", unconvertible ? "no" : "yes");
    if (unconvertible) printf("unconvertible tensors: %d\n", unconvertible);
    printf("parameters: %llu\n", (unsigned long long)n_params);
    if (n_int) printf("integer tensor elements (not counted): %llu\n", (unsigned long long)n_int);
    ss_gguf_close(g);
    return SS_EXIT_OK;
}

/* ---------------------------------------------------------------- Hugging Face directory */

static int json_num(const json_t *cfg, const char *key, double *out)
{
    const json_t *v = json_object_get(cfg, key);
    if (!json_is_number(v)) return 0;
    *out = json_number_value(v);
    return 1;
}

static int inspect_hf(const char *dir)
{
    int rc = SS_EXIT_USAGE;
    ss_model_info info;
    json_t *cfg = NULL;
    ss_safetensors *sf = NULL;
    char *cfg_path = NULL;

    if (ss_model_probe(dir, &info) != SS_OK) {
        fprintf(stderr, "sinkscope inspect: %s\n", ss_errmsg());
        goto done;
    }
    if (ss_st_open_dir(dir, &sf) != SS_OK) {
        fprintf(stderr, "sinkscope inspect: %s\n", ss_errmsg());
        goto done;
    }
    cfg_path = ss_path_join(dir, "config.json");
    json_error_t jerr;
    cfg = cfg_path ? json_load_file(cfg_path, 0, &jerr) : NULL; /* probe has parsed it already */
    if (!json_is_object(cfg)) {
        fprintf(stderr, "sinkscope inspect: %s: cannot read it again\n", cfg_path ? cfg_path : dir);
        goto done;
    }

    printf("model: %s\n", dir);
    printf("format: Hugging Face directory (config.json, %d safetensors file%s, %d tensors)\n", sf->n_files,
           sf->n_files == 1 ? "" : "s", sf->n_tensors);
    printf("architecture: %s\n", info.arch);
    printf("layers: %d\n", info.n_layers);
    printf("heads: %d\n", info.n_heads);
    printf("kv heads: %d\n", info.n_kv_heads);
    printf("head size: %d\n", info.d_head);
    printf("d_model: %d\n", info.d_model);
    printf("ffn size: %d\n", info.d_ff);
    printf("attention: %s\n", info.causal ? "causal" : "bidirectional");
    printf("positional encoding: %s\n", info.pos_encoding);
    double v;
    if (strcmp(info.pos_encoding, "rope") == 0) {
        if (json_num(cfg, "rope_theta", &v) || json_num(cfg, "rotary_emb_base", &v)) printf("rope base: %.10g\n", v);
        else printf("rope base: 10000 (config.json default)\n");
        if (json_num(cfg, "rope_local_base_freq", &v)) printf("rope base local: %.10g\n", v);
        double frac = 1;
        if (json_num(cfg, "partial_rotary_factor", &v) || json_num(cfg, "rotary_pct", &v)) frac = v;
        int dims = (int)(info.d_head * frac);
        dims -= dims % 2;
        printf("rotary dims: %d of %d (fraction %g)\n", dims, info.d_head, frac);
        printf("rope pairs: halves (i, i + d/2) (Hugging Face checkpoints)\n");
    }
    if (json_num(cfg, "sliding_window", &v) && v > 0) printf("sliding window: %g\n", v);
    else printf("sliding window: none\n");
    printf("max positions: %d\n", info.max_positions);
    printf("vocabulary: %d\n", info.n_vocab);
    print_id("bos", info.bos_id);
    print_id("eos", info.eos_id);
    print_id("cls", info.cls_id);
    print_id("sep", info.sep_id);
    print_id("pad", info.pad_id);
    print_id("unk", info.unk_id);
    int32_t pre[2], post[2];
    int n_pre = 0, n_post = 0;
    ss_model_frame(&info, info.default_bos, pre, &n_pre, post, &n_post);
    printf("default bos: %s (frame:", info.default_bos == SS_BOS_ADD ? "add" : "none");
    for (int i = 0; i < n_pre; i++) printf(" %d", pre[i]);
    printf(" x");
    for (int i = 0; i < n_post; i++) printf(" %d", post[i]);
    printf(")\n");

    int counts[SS_DT_COUNT] = {0};
    uint64_t n_params = 0, n_int = 0;
    for (int i = 0; i < sf->n_tensors; i++) {
        const ss_st_tensor *t = &sf->tensors[i];
        counts[t->dtype]++;
        int is_float = t->dtype == SS_DT_F16 || t->dtype == SS_DT_BF16 || t->dtype == SS_DT_F32 ||
                       t->dtype == SS_DT_F64 || t->dtype == SS_DT_F8_E4M3 || t->dtype == SS_DT_F8_E5M2;
        if (is_float) n_params += t->n_elems;
        else n_int += t->n_elems;
    }
    print_types(counts, SS_DT_COUNT, st_type_name);
    printf("parameters: %llu\n", (unsigned long long)n_params);
    if (n_int) printf("integer tensor elements (not counted): %llu\n", (unsigned long long)n_int);
    rc = SS_EXIT_OK;
done:
    json_decref(cfg);
    free(cfg_path);
    ss_st_free(sf);
    return rc;
}

/* ---------------------------------------------------------------- entry */

int ss_cmd_inspect(int argc, char **argv)
{
    if (ss_wants_help(argc, argv)) {
        inspect_help(stdout);
        return SS_EXIT_OK;
    }
    const char *path = NULL;
    for (int i = 1; i < argc; i++) {
        if (argv[i][0] == '-' || path) {
            fprintf(stderr, "sinkscope inspect: unexpected argument '%s'\nusage: sinkscope inspect MODEL\n", argv[i]);
            return SS_EXIT_USAGE;
        }
        path = argv[i];
    }
    if (!path) {
        inspect_help(stderr);
        return SS_EXIT_USAGE;
    }
    struct stat sb;
    if (stat(path, &sb) != 0) {
        fprintf(stderr, "sinkscope inspect: cannot read %s: %s\n", path, strerror(errno));
        return SS_EXIT_USAGE;
    }
    if (S_ISDIR(sb.st_mode)) return inspect_hf(path);
    /* A file: GGUF by its magic (whatever its name). */
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "sinkscope inspect: cannot read %s: %s\n", path, strerror(errno));
        return SS_EXIT_USAGE;
    }
    char magic[4] = {0};
    size_t got = fread(magic, 1, 4, f);
    fclose(f);
    if (got == 4 && memcmp(magic, "GGUF", 4) == 0) return inspect_gguf(path);
    fprintf(stderr,
            "sinkscope inspect: %s is neither a GGUF file nor a model directory (for a Hugging Face model, give "
            "the directory that holds config.json)\n",
            path);
    return SS_EXIT_USAGE;
}
