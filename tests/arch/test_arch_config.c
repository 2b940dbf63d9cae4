/* test_arch_config.c: the config.json readers of the decoders (hfconfig.h; Gemma-3 included) on configs
 * written here:
 * defaults and alternative field names, what ss_model_info reports (arch, positional encoding, causal,
 * GQA, head size, BOS policy, special ids), refused options and malformed fields (status and a
 * message naming config.json and the field), and weight binding errors that name the tensor and the
 * file (a config that does not match the tiny llama's model.safetensors). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model/hfconfig.h"
#include "model/model.h"
#include "test_util.h"

static char g_dir[] = "/tmp/ss_test_arch_config_XXXXXX";

static void write_file(const char *name, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", g_dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(text, 1, strlen(text), f) != strlen(text)) {
        fprintf(stderr, "cannot write %s\n", path);
        exit(1);
    }
    fclose(f);
}

static void remove_file(const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", g_dir, name);
    unlink(path);
}

static ss_status read_cfg(const char *json, ss_hfconfig *cfg)
{
    write_file("config.json", json);
    ss_clear_error();
    return ss_hfconfig_read(g_dir, cfg);
}

static void expect_fail(const char *what, const char *json, ss_status want, const char *msg)
{
    ss_hfconfig cfg;
    ss_status st = read_cfg(json, &cfg);
    CHECK_MSG(st == want, "%s: status %s, want %s (%s)", what, ss_status_name(st), ss_status_name(want), ss_errmsg());
    CHECK_MSG(strstr(ss_errmsg(), msg) != NULL, "%s: message \"%s\" lacks \"%s\"", what, ss_errmsg(), msg);
    CHECK_MSG(strstr(ss_errmsg(), "config.json") != NULL, "%s: message does not name config.json", what);
    printf("  %-34s -> %s: %s\n", what, ss_status_name(st), ss_errmsg());
}

#define GPT2                                                                                                           \
    "\"model_type\": \"gpt2\", \"n_embd\": 64, \"n_layer\": 3, \"n_head\": 4, \"n_positions\": 128, \"vocab_size\": "  \
    "100"
#define LLAMA                                                                                                          \
    "\"model_type\": \"llama\", \"hidden_size\": 64, \"num_hidden_layers\": 2, \"num_attention_heads\": 8, "           \
    "\"intermediate_size\": 96, \"vocab_size\": 100, \"max_position_embeddings\": 256"
#define BLOOM "\"model_type\": \"bloom\", \"hidden_size\": 48, \"n_layer\": 2, \"n_head\": 6, \"vocab_size\": 100"
#define NEOX                                                                                                           \
    "\"model_type\": \"gpt_neox\", \"hidden_size\": 64, \"num_hidden_layers\": 2, \"num_attention_heads\": 4, "        \
    "\"intermediate_size\": 128, \"vocab_size\": 100, \"max_position_embeddings\": 512"

static void test_gpt2(void)
{
    ss_hfconfig cfg;
    CHECK(read_cfg("{" GPT2 "}", &cfg) == SS_OK);
    const ss_model_info *in = &cfg.info;
    CHECK_STREQ(in->arch, "gpt2");
    CHECK_STREQ(in->pos_encoding, "learned");
    CHECK(in->causal == 1 && in->default_bos == SS_BOS_NONE);
    CHECK(in->d_model == 64 && in->n_layers == 3 && in->n_heads == 4 && in->n_kv_heads == 4 && in->d_head == 16);
    CHECK(in->d_ff == 256 && in->n_vocab == 100 && in->max_positions == 128);
    CHECK(in->bos_id == -1 && in->eos_id == -1 && in->cls_id == -1 && in->sep_id == -1 && in->pad_id == -1);
    CHECK_STREQ(cfg.hidden_act, "gelu_new");
    CHECK_NEAR(cfg.layer_norm_eps, 1e-5, 0);
    CHECK(cfg.scale_attn_weights == 1 && cfg.scale_attn_by_layer == 0 && cfg.rope_dims == 0 && cfg.post_ln == 0);
    CHECK(read_cfg("{" GPT2 ", \"sinkscope_post_ln\": true}", &cfg) == SS_OK && cfg.post_ln == 1);
    /* a sinkscope train checkpoint: its provenance (sorted keys, the trained encoding added) and encoding */
    CHECK(read_cfg("{" GPT2 ", \"sinkscope_train\": {\"step\": 64, \"seed\": 2, \"heldout_loss\": 2.5}, "
                   "\"sinkscope_positional_encoding\": \"sinusoidal\"}",
                   &cfg) == SS_OK);
    CHECK_STREQ(in->train, "{\"encoding\":\"sinusoidal\",\"heldout_loss\":2.5,\"seed\":2,\"step\":64}");
    CHECK_STREQ(in->pos_encoding, "sinusoidal");
    CHECK(read_cfg("{" GPT2 "}", &cfg) == SS_OK && in->train[0] == 0 && !strcmp(in->pos_encoding, "learned"));
    expect_fail("train provenance not an object", "{" GPT2 ", \"sinkscope_train\": [1]}", SS_ERR_FORMAT,
                "'sinkscope_train' must be a JSON object");
    expect_fail("unknown trained encoding", "{" GPT2 ", \"sinkscope_positional_encoding\": \"xpos\"}", SS_ERR_FORMAT,
                "sinkscope_positional_encoding 'xpos' is not one of");

    /* the nn.Module spellings, n_inner, flags, ids (eos as a list) */
    CHECK(read_cfg("{\"model_type\": \"gpt2\", \"hidden_size\": 32, \"num_hidden_layers\": 1, "
                   "\"num_attention_heads\": 2, \"max_position_embeddings\": 16, \"vocab_size\": 50, \"n_inner\": 40, "
                   "\"scale_attn_by_inverse_layer_idx\": true, \"scale_attn_weights\": false, "
                   "\"activation_function\": \"gelu\", \"layer_norm_epsilon\": 1e-6, \"bos_token_id\": 7, "
                   "\"eos_token_id\": [8, 9], \"pad_token_id\": null}",
                   &cfg) == SS_OK);
    CHECK(in->d_model == 32 && in->n_layers == 1 && in->n_heads == 2 && in->d_head == 16 && in->max_positions == 16);
    CHECK(in->d_ff == 40 && cfg.scale_attn_by_layer == 1 && cfg.scale_attn_weights == 0);
    CHECK(in->bos_id == 7 && in->eos_id == 8 && in->pad_id == -1);
    CHECK_STREQ(cfg.hidden_act, "gelu");

    printf("gpt2 configs:\n");
    expect_fail("gpt2 relu", "{" GPT2 ", \"activation_function\": \"relu\"}", SS_ERR_INPUT,
                "activation_function 'relu' is not supported");
    expect_fail("gpt2 heads do not divide",
                "{\"model_type\": \"gpt2\", \"n_embd\": 64, \"n_layer\": 3, \"n_head\": 5, \"n_positions\": 8, "
                "\"vocab_size\": 9}",
                SS_ERR_FORMAT, "not a multiple");
    expect_fail("gpt2 missing n_embd",
                "{\"model_type\": \"gpt2\", \"n_layer\": 3, \"n_head\": 4, \"n_positions\": 8, \"vocab_size\": 9}",
                SS_ERR_FORMAT, "field 'n_embd' is missing");
    expect_fail("gpt2 bos out of vocabulary", "{" GPT2 ", \"bos_token_id\": 100}", SS_ERR_FORMAT,
                "'bos_token_id' is not a token id in [0, 100)");
    expect_fail("gpt2 flag not a boolean", "{" GPT2 ", \"scale_attn_weights\": 1}", SS_ERR_FORMAT,
                "'scale_attn_weights' is not true or false");
}

static void test_llama(void)
{
    ss_hfconfig cfg;
    const ss_model_info *in = &cfg.info;
    CHECK(read_cfg("{" LLAMA ", \"num_key_value_heads\": 2, \"bos_token_id\": 1, \"eos_token_id\": 2}", &cfg) == SS_OK);
    CHECK_STREQ(in->arch, "llama");
    CHECK_STREQ(in->pos_encoding, "rope");
    CHECK(in->causal == 1 && in->default_bos == SS_BOS_ADD && in->bos_id == 1 && in->eos_id == 2);
    CHECK(in->n_heads == 8 && in->n_kv_heads == 2 && in->d_head == 8 && in->d_ff == 96 && in->max_positions == 256);
    CHECK(cfg.rope_dims == 8 && cfg.rope_pairing == SS_ROPE_HALF && cfg.attention_bias == 0);
    CHECK_NEAR(cfg.rope_theta, 10000.0, 0);
    CHECK_NEAR(cfg.layer_norm_eps, 1e-6, 0);

    /* no GQA field: as many KV heads as heads; no bos_token_id: no BOS by default; explicit head_dim */
    CHECK(read_cfg("{" LLAMA ", \"head_dim\": 16, \"rope_theta\": 500000.0, \"rms_norm_eps\": 1e-5, "
                   "\"attention_bias\": true, \"rope_scaling\": null, \"bos_token_id\": null}",
                   &cfg) == SS_OK);
    CHECK(in->n_kv_heads == 8 && in->d_head == 16 && cfg.rope_dims == 16 && cfg.attention_bias == 1);
    CHECK(in->bos_id == -1 && in->default_bos == SS_BOS_NONE);
    CHECK_NEAR(cfg.rope_theta, 500000.0, 0);

    /* decoders never take BERT's [CLS]/[SEP] from the tokenizer files; unk/pad by special_tokens_map.json */
    write_file("tokenizer.json", "{\"added_tokens\": [{\"id\": 3, \"content\": \"[CLS]\"}, {\"id\": 4, \"content\": "
                                 "\"[SEP]\"}, {\"id\": 0, \"content\": \"<unk>\"}], \"model\": {\"vocab\": {}}}");
    CHECK(read_cfg("{" LLAMA "}", &cfg) == SS_OK);
    CHECK(in->cls_id == -1 && in->sep_id == -1 && in->unk_id == -1);
    write_file("special_tokens_map.json", "{\"unk_token\": {\"content\": \"<unk>\"}}");
    CHECK(read_cfg("{" LLAMA "}", &cfg) == SS_OK);
    CHECK(in->cls_id == -1 && in->sep_id == -1 && in->unk_id == 0);
    remove_file("tokenizer.json");
    remove_file("special_tokens_map.json");

    printf("llama configs:\n");
    expect_fail("llama GQA 8/3", "{" LLAMA ", \"num_key_value_heads\": 3}", SS_ERR_FORMAT,
                "num_attention_heads 8 is not a multiple of num_key_value_heads 3");
    expect_fail("llama more KV heads than heads", "{" LLAMA ", \"num_key_value_heads\": 16}", SS_ERR_FORMAT,
                "'num_key_value_heads' = 16 is outside [1, 8]");
    expect_fail("llama rope_scaling", "{" LLAMA ", \"rope_scaling\": {\"type\": \"linear\", \"factor\": 2.0}}",
                SS_ERR_INPUT, "field 'rope_scaling' is set; only null is supported");
    expect_fail("llama gelu", "{" LLAMA ", \"hidden_act\": \"gelu\"}", SS_ERR_INPUT,
                "hidden_act 'gelu' is not supported");
    expect_fail("llama mlp_bias", "{" LLAMA ", \"mlp_bias\": true}", SS_ERR_INPUT, "'mlp_bias' is true");
    expect_fail("llama odd head_dim", "{" LLAMA ", \"head_dim\": 7}", SS_ERR_FORMAT, "head size 7 is odd");
    expect_fail("llama bad theta", "{" LLAMA ", \"rope_theta\": -1}", SS_ERR_FORMAT, "'rope_theta' is not a number");
}

static void test_bloom(void)
{
    ss_hfconfig cfg;
    const ss_model_info *in = &cfg.info;
    CHECK(read_cfg("{" BLOOM "}", &cfg) == SS_OK);
    CHECK_STREQ(in->arch, "bloom");
    CHECK_STREQ(in->pos_encoding, "alibi");
    CHECK(in->causal == 1 && in->default_bos == SS_BOS_NONE);
    CHECK(in->d_model == 48 && in->n_heads == 6 && in->n_kv_heads == 6 && in->d_head == 8 && in->d_ff == 192);
    CHECK(in->max_positions == 2048 && cfg.residual_post_ln == 0 && cfg.rope_dims == 0);
    CHECK_NEAR(cfg.layer_norm_eps, 1e-5, 0);

    CHECK(read_cfg("{\"model_type\": \"bloom\", \"n_embed\": 32, \"num_hidden_layers\": 1, \"num_attention_heads\": 4, "
                   "\"vocab_size\": 10, \"seq_length\": 512, \"apply_residual_connection_post_layernorm\": true}",
                   &cfg) == SS_OK);
    CHECK(in->d_model == 32 && in->n_layers == 1 && in->n_heads == 4 && in->max_positions == 512);
    CHECK(cfg.residual_post_ln == 1);
    printf("bloom configs:\n");
    expect_fail("bloom heads do not divide",
                "{\"model_type\": \"bloom\", \"hidden_size\": 48, \"n_layer\": 2, \"n_head\": 5, \"vocab_size\": 9}",
                SS_ERR_FORMAT, "not a multiple");
    /* sinkscope's post-LN extension (hfconfig.h), not together with BLOOM's own post-LN residual */
    CHECK(cfg.post_ln == 0);
    CHECK(read_cfg("{" BLOOM ", \"sinkscope_post_ln\": true}", &cfg) == SS_OK && cfg.post_ln == 1);
    expect_fail("bloom two post-LN flags",
                "{" BLOOM ", \"sinkscope_post_ln\": true, \"apply_residual_connection_post_layernorm\": true}",
                SS_ERR_INPUT, "sinkscope_post_ln and apply_residual_connection_post_layernorm");
    expect_fail("bloom post-LN not a bool", "{" BLOOM ", \"sinkscope_post_ln\": 1}", SS_ERR_FORMAT,
                "'sinkscope_post_ln' is not true or false");
}

static void test_neox(void)
{
    ss_hfconfig cfg;
    const ss_model_info *in = &cfg.info;
    CHECK(read_cfg("{" NEOX "}", &cfg) == SS_OK);
    CHECK_STREQ(in->arch, "gpt_neox");
    CHECK_STREQ(in->pos_encoding, "rope");
    CHECK(in->causal == 1 && in->default_bos == SS_BOS_NONE);
    CHECK(in->d_head == 16 && cfg.rope_dims == 4); /* int(16 · 0.25) */
    CHECK(cfg.parallel_residual == 1 && cfg.attention_bias == 1 && cfg.rope_pairing == SS_ROPE_HALF);
    CHECK_STREQ(cfg.hidden_act, "gelu");
    CHECK_NEAR(cfg.rope_theta, 10000.0, 0);

    CHECK(read_cfg("{" NEOX ", \"rotary_pct\": 1.0, \"rotary_emb_base\": 100, \"use_parallel_residual\": false, "
                   "\"attention_bias\": false, \"hidden_act\": \"gelu_new\"}",
                   &cfg) == SS_OK);
    CHECK(cfg.rope_dims == 16 && cfg.parallel_residual == 0 && cfg.attention_bias == 0);
    CHECK_NEAR(cfg.rope_theta, 100.0, 0);
    /* truncation as Python's int(): 16 · 0.3 = 4.8 -> 4 */
    CHECK(read_cfg("{" NEOX ", \"rotary_pct\": 0.3}", &cfg) == SS_OK);
    CHECK(cfg.rope_dims == 4);
    printf("gpt_neox configs:\n");
    expect_fail("gpt_neox odd rotary dims", "{" NEOX ", \"rotary_pct\": 0.2}", SS_ERR_FORMAT,
                "gives 3 rotated columns per head");
    expect_fail("gpt_neox rotary_pct > 1", "{" NEOX ", \"rotary_pct\": 1.5}", SS_ERR_FORMAT,
                "'rotary_pct' is not a number in [0, 1]");
    expect_fail("gpt_neox silu", "{" NEOX ", \"hidden_act\": \"silu\"}", SS_ERR_INPUT, "hidden_act 'silu'");
    expect_fail("gpt_neox rope_scaling", "{" NEOX ", \"rope_scaling\": {\"type\": \"dynamic\"}}", SS_ERR_INPUT,
                "'rope_scaling' is set");
    CHECK(read_cfg("{" NEOX ", \"use_parallel_residual\": false, \"sinkscope_post_ln\": true}", &cfg) == SS_OK);
    CHECK(cfg.post_ln == 1);
    expect_fail("gpt_neox post-LN parallel", "{" NEOX ", \"sinkscope_post_ln\": true}", SS_ERR_INPUT,
                "sinkscope_post_ln needs use_parallel_residual false");
}

/* The tiny llama's weights under configs that do not match them: the error names file and tensor. */
#define GEMMA3_CORE                                                                                                    \
    "\"model_type\": \"gemma3_text\", \"hidden_size\": 64, \"intermediate_size\": 96, \"vocab_size\": 100"
#define GEMMA3 GEMMA3_CORE ", \"num_hidden_layers\": 8, \"num_attention_heads\": 4"

static void test_gemma3(void)
{
    ss_hfconfig cfg;
    const ss_model_info *in = &cfg.info;
    /* Gemma3TextConfig's defaults; layer pattern 6: layers 5 (and 11, ...) global */
    CHECK(read_cfg("{" GEMMA3 ", \"num_key_value_heads\": 2, \"bos_token_id\": 2, \"eos_token_id\": [1, 106]}", &cfg) ==
          SS_OK);
    CHECK_STREQ(in->arch, "gemma3");
    CHECK_STREQ(in->pos_encoding, "rope");
    CHECK(in->causal == 1 && in->default_bos == SS_BOS_ADD && in->bos_id == 2 && in->eos_id == 1);
    CHECK(in->n_heads == 4 && in->n_kv_heads == 2 && in->d_head == 256 && in->max_positions == 131072);
    CHECK(cfg.rope_dims == 256 && cfg.sliding_window == 4096);
    CHECK_NEAR(cfg.rope_theta, 1e6, 0);
    CHECK_NEAR(cfg.rope_local_theta, 1e4, 0);
    CHECK_NEAR(cfg.query_pre_attn_scalar, 256, 0);
    CHECK_NEAR(cfg.layer_norm_eps, 1e-6, 0);
    CHECK_STREQ(cfg.hidden_act, "gelu_pytorch_tanh");
    for (int l = 0; l < 8; l++) CHECK(cfg.layer_sliding[l] == (l != 5));

    /* explicit values; sliding_window_pattern 2 (old configs) */
    CHECK(read_cfg("{" GEMMA3 ", \"num_key_value_heads\": 1, \"head_dim\": 16, \"query_pre_attn_scalar\": 32, "
                   "\"sliding_window\": 512, \"rope_local_base_freq\": 5000.0, \"rope_theta\": 2e6, "
                   "\"sliding_window_pattern\": 2, \"rms_norm_eps\": 1e-5, \"max_position_embeddings\": 1024}",
                   &cfg) == SS_OK);
    CHECK(in->n_kv_heads == 1 && in->d_head == 16 && cfg.rope_dims == 16 && cfg.sliding_window == 512);
    CHECK(in->max_positions == 1024 && in->bos_id == -1 && in->default_bos == SS_BOS_NONE);
    CHECK_NEAR(cfg.query_pre_attn_scalar, 32, 0);
    CHECK_NEAR(cfg.rope_local_theta, 5000, 0);
    CHECK_NEAR(cfg.rope_theta, 2e6, 0);
    for (int l = 0; l < 8; l++) CHECK(cfg.layer_sliding[l] == (l % 2 == 0));

    /* layer_types wins over the pattern */
    CHECK(read_cfg("{" GEMMA3_CORE ", \"num_hidden_layers\": 3, \"num_attention_heads\": 4, "
                   "\"sliding_window_pattern\": 2, "
                   "\"layer_types\": [\"full_attention\", \"sliding_attention\", \"full_attention\"]}",
                   &cfg) == SS_OK);
    CHECK(in->n_layers == 3 && cfg.layer_sliding[0] == 0 && cfg.layer_sliding[1] == 1 && cfg.layer_sliding[2] == 0);

    /* the multimodal config: text_config is read, ids from the top level when text_config has none */
    CHECK(read_cfg("{\"model_type\": \"gemma3\", \"bos_token_id\": 2, \"text_config\": {" GEMMA3
                   ", \"num_key_value_heads\": 4}, \"vision_config\": {\"hidden_size\": 1152}}",
                   &cfg) == SS_OK);
    CHECK_STREQ(in->arch, "gemma3");
    CHECK(in->d_model == 64 && in->n_layers == 8 && in->bos_id == 2 && in->default_bos == SS_BOS_ADD);

    printf("gemma3 configs:\n");
    expect_fail("gemma3 default KV heads > heads",
                "{" GEMMA3_CORE ", \"num_hidden_layers\": 8, \"num_attention_heads\": 2}", SS_ERR_FORMAT,
                "num_attention_heads 2 is not a multiple of num_key_value_heads 4");
    expect_fail("gemma3 layer_types length", "{" GEMMA3 ", \"num_key_value_heads\": 4, \"layer_types\": []}",
                SS_ERR_FORMAT, "'layer_types' is not a list of 8 strings");
    expect_fail("gemma3 layer_types entry",
                "{" GEMMA3_CORE ", \"num_hidden_layers\": 1, \"num_attention_heads\": 4, "
                "\"layer_types\": [\"chunked\"]}",
                SS_ERR_FORMAT, "'layer_types' entry 0 is not");
    expect_fail("gemma3 rope_scaling", "{" GEMMA3 ", \"num_key_value_heads\": 4, \"rope_scaling\": {\"factor\": 8}}",
                SS_ERR_INPUT, "field 'rope_scaling' is set");
    expect_fail("gemma3 softcapping", "{" GEMMA3 ", \"num_key_value_heads\": 4, \"attn_logit_softcapping\": 50.0}",
                SS_ERR_INPUT, "field 'attn_logit_softcapping' is set");
    expect_fail("gemma3 silu", "{" GEMMA3 ", \"num_key_value_heads\": 4, \"hidden_activation\": \"silu\"}",
                SS_ERR_INPUT, "hidden_activation 'silu' is not supported");
    expect_fail("gemma3 odd head_dim", "{" GEMMA3 ", \"num_key_value_heads\": 4, \"head_dim\": 9}", SS_ERR_FORMAT,
                "'head_dim' = 9 is odd");
    expect_fail("gemma3 window 0", "{" GEMMA3 ", \"num_key_value_heads\": 4, \"sliding_window\": 0}", SS_ERR_FORMAT,
                "'sliding_window' = 0 is outside");
    expect_fail("gemma3 without text_config", "{\"model_type\": \"gemma3\"}", SS_ERR_FORMAT,
                "field 'text_config' is missing");
}

static void test_binding(const char *src)
{
    char link[512], target[4200];
    snprintf(target, sizeof target, "%s/tests/fixtures/tiny/llama/model.safetensors", src);
    snprintf(link, sizeof link, "%s/model.safetensors", g_dir);
    if (symlink(target, link) != 0) {
        CHECK_MSG(0, "cannot link %s", target);
        return;
    }
    static const char *base = "\"model_type\": \"llama\", \"hidden_size\": 32, \"num_attention_heads\": 4, "
                              "\"num_key_value_heads\": 2, \"vocab_size\": 128, "
                              "\"max_position_embeddings\": 64, \"rms_norm_eps\": 1e-5";
    char json[1024];
    ss_model *m = NULL;
    printf("binding errors:\n");
    snprintf(json, sizeof json, "{%s, \"intermediate_size\": 64, \"num_hidden_layers\": 2}", base);
    write_file("config.json", json);
    CHECK_MSG(ss_model_load_weights_only(g_dir, &m) == SS_OK, "matching config: %s", ss_errmsg());
    ss_model_free(m);
    m = NULL;

    static const struct {
        const char *extra, *msg;
    } cases[] = {
        {"\"intermediate_size\": 64, \"num_hidden_layers\": 2, \"attention_bias\": true",
         "tensor 'model.layers.0.self_attn.q_proj.bias' is missing"},
        {"\"intermediate_size\": 60, \"num_hidden_layers\": 2",
         "tensor 'model.layers.0.mlp.gate_proj.weight' has shape [64, 32]; expected [60, 32]"},
        {"\"intermediate_size\": 64, \"num_hidden_layers\": 3",
         "tensor 'model.layers.2.input_layernorm.weight' is missing"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(json, sizeof json, "{%s, %s}", base, cases[i].extra);
        write_file("config.json", json);
        ss_clear_error();
        ss_status st = ss_model_load_weights_only(g_dir, &m);
        printf("  %-48s -> %s: %s\n", cases[i].extra, ss_status_name(st), ss_errmsg());
        CHECK(st == SS_ERR_FORMAT && m == NULL);
        CHECK_MSG(strstr(ss_errmsg(), cases[i].msg) != NULL, "message \"%s\" lacks \"%s\"", ss_errmsg(), cases[i].msg);
        CHECK_MSG(strstr(ss_errmsg(), "model.safetensors") != NULL, "message does not name the file");
        ss_model_free(m);
        m = NULL;
    }
    remove_file("model.safetensors");
}

int main(void)
{
    const char *src = test_env("SS_SOURCE_DIR", NULL);
    if (!src) SKIP("SS_SOURCE_DIR is not set (CTest sets it)");
    if (!mkdtemp(g_dir)) {
        perror("mkdtemp");
        return 1;
    }
    test_gpt2();
    test_llama();
    test_bloom();
    test_neox();
    test_gemma3();
    test_binding(src);
    remove_file("config.json");
    rmdir(g_dir);
    TEST_END();
}
