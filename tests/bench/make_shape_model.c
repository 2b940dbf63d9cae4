/* make_shape_model.c: a Hugging Face-style directory with a real model's shapes and seeded random weights, for
 * benchmarks on machines that cannot fetch the real weights (the GPU machine: tests/gpu/run.sh). The forward
 * pass costs the same as the real model's at the same shapes; the values mean nothing.
 *
 * usage: make_shape_model smollm2|gemma3 DIR
 *   smollm2  SmolLM2-135M (llama): 30 layers, 9 query / 3 key-value heads of 64, d 576, MLP 1536, vocabulary 49152
 *   gemma3   Gemma-3-270M (gemma3_text): 18 layers, 4 / 1 heads of 256, d 640, MLP 2048, vocabulary 262144,
 *            sliding window 512 on 5 of every 6 layers
 * Weights ~ U(−a, a) with a = 1/√(fan-in) (norm weights near 1, Gemma's near 0), from a fixed seed. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "model/safetensors.h"

typedef struct {
    const char *key;
    int L, H, Hkv, dh, d, dff, V, P;
} shape;

static const shape SHAPES[] = {
    {"smollm2", 30, 9, 3, 64, 576, 1536, 49152, 8192},
    {"gemma3", 18, 4, 1, 256, 640, 2048, 262144, 32768},
};

static uint64_t g_state = 0x5eed5eed5eedULL;
static float urand(float a)
{
    g_state = g_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return a * (2.0f * (float)((g_state >> 40) * (1.0 / 16777216.0)) - 1.0f);
}

enum { MAX_T = 400 };
static char *g_names[MAX_T];
static int g_nd[MAX_T];
static int64_t g_shape[MAX_T][2];
static const int64_t *g_shapes[MAX_T];
static float *g_data[MAX_T];
static int g_n;

/* One tensor [d0] (d1 = 0) or [d0][d1]: uniform ±a around c. */
static int add(const char *name, int64_t d0, int64_t d1, float c, float a)
{
    if (g_n == MAX_T) return -1;
    const size_t n = (size_t)d0 * (size_t)(d1 ? d1 : 1);
    float *x = malloc(n * sizeof *x);
    g_names[g_n] = strdup(name);
    if (!x || !g_names[g_n]) return -1;
    for (size_t i = 0; i < n; i++) x[i] = c + urand(a);
    g_nd[g_n] = d1 ? 2 : 1;
    g_shape[g_n][0] = d0;
    g_shape[g_n][1] = d1;
    g_shapes[g_n] = g_shape[g_n];
    g_data[g_n] = x;
    g_n++;
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: make_shape_model smollm2|gemma3 DIR\n");
        return 2;
    }
    const shape *s = NULL;
    for (size_t i = 0; i < sizeof SHAPES / sizeof SHAPES[0]; i++)
        if (strcmp(argv[1], SHAPES[i].key) == 0) s = &SHAPES[i];
    if (!s) {
        fprintf(stderr, "make_shape_model: unknown shape '%s' (smollm2 or gemma3)\n", argv[1]);
        return 2;
    }
    const char *dir = argv[2];
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        perror(dir);
        return 1;
    }
    const int g3 = strcmp(s->key, "gemma3") == 0;
    const int64_t d = s->d, nq = (int64_t)s->H * s->dh, nkv = (int64_t)s->Hkv * s->dh, dff = s->dff;
    const float nc = g3 ? 0.0f : 1.0f; /* norm weights: Gemma stores w with the scale 1 + w */
    int e = add("model.embed_tokens.weight", s->V, d, 0, 0.05f) || add("model.norm.weight", d, 0, nc, 0.05f);
    char n[128];
    for (int l = 0; l < s->L && !e; l++) {
#define T2(suffix, a, b)                                                                                        \
    (snprintf(n, sizeof n, "model.layers.%d.%s", l, suffix), add(n, a, b, 0, 1.0f / sqrtf_((float)(b))))
#define T1(suffix, a) (snprintf(n, sizeof n, "model.layers.%d.%s", l, suffix), add(n, a, 0, nc, 0.05f))
#define sqrtf_(x) __builtin_sqrtf(x)
        e = T1("input_layernorm.weight", d) || T2("self_attn.q_proj.weight", nq, d) ||
            T2("self_attn.k_proj.weight", nkv, d) || T2("self_attn.v_proj.weight", nkv, d) ||
            T2("self_attn.o_proj.weight", d, nq) || T1("post_attention_layernorm.weight", d) ||
            T2("mlp.gate_proj.weight", dff, d) || T2("mlp.up_proj.weight", dff, d) ||
            T2("mlp.down_proj.weight", d, dff);
        if (g3 && !e)
            e = T1("self_attn.q_norm.weight", s->dh) || T1("self_attn.k_norm.weight", s->dh) ||
                T1("pre_feedforward_layernorm.weight", d) || T1("post_feedforward_layernorm.weight", d);
    }
    if (e) {
        fprintf(stderr, "make_shape_model: out of memory\n");
        return 1;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    if (ss_st_write(path, g_n, (const char *const *)g_names, g_nd, g_shapes, (const float *const *)g_data) != SS_OK) {
        fprintf(stderr, "make_shape_model: %s\n", ss_errmsg());
        return 1;
    }
    snprintf(path, sizeof path, "%s/config.json", dir);
    FILE *f = fopen(path, "w");
    if (!f) {
        perror(path);
        return 1;
    }
    if (g3) {
        fprintf(f, "{\"model_type\": \"gemma3_text\", \"architectures\": [\"Gemma3ForCausalLM\"], \"head_dim\": %d, "
                   "\"hidden_activation\": \"gelu_pytorch_tanh\", \"hidden_size\": %d, \"intermediate_size\": %d, "
                   "\"layer_types\": [",
                s->dh, s->d, s->dff);
        for (int l = 0; l < s->L; l++)
            fprintf(f, "%s\"%s\"", l ? ", " : "", (l + 1) % 6 == 0 ? "full_attention" : "sliding_attention");
        fprintf(f, "], \"max_position_embeddings\": %d, \"num_attention_heads\": %d, \"num_hidden_layers\": %d, "
                   "\"num_key_value_heads\": %d, \"query_pre_attn_scalar\": %d, \"rms_norm_eps\": 1e-06, "
                   "\"rope_local_base_freq\": 10000.0, \"rope_scaling\": null, \"rope_theta\": 1000000.0, "
                   "\"sliding_window\": 512, \"bos_token_id\": 2, \"eos_token_id\": 1, \"pad_token_id\": 0, "
                   "\"vocab_size\": %d}\n",
                s->P, s->H, s->L, s->Hkv, s->dh, s->V);
    } else {
        fprintf(f, "{\"model_type\": \"llama\", \"architectures\": [\"LlamaForCausalLM\"], \"attention_bias\": false, "
                   "\"hidden_act\": \"silu\", \"hidden_size\": %d, \"intermediate_size\": %d, "
                   "\"max_position_embeddings\": %d, \"num_attention_heads\": %d, \"num_hidden_layers\": %d, "
                   "\"num_key_value_heads\": %d, \"rms_norm_eps\": 1e-05, \"rope_scaling\": null, "
                   "\"rope_theta\": 100000.0, \"tie_word_embeddings\": true, \"bos_token_id\": 1, \"eos_token_id\": 2, "
                   "\"vocab_size\": %d}\n",
                s->d, s->dff, s->P, s->H, s->L, s->Hkv, s->V);
    }
    fclose(f);
    printf("make_shape_model: %s shapes in %s (%d tensors)\n", s->key, dir, g_n);
    for (int i = 0; i < g_n; i++) free(g_data[i]), free(g_names[i]);
    return 0;
}
