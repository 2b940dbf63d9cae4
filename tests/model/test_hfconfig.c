/* test_hfconfig.c: config.json -> ss_model_info on configs written here (valid BERT, unsupported
 * architectures, missing and malformed fields), special ids from tokenizer.json / vocab.txt,
 * ss_model_probe, ss_model_frame for every BOS policy, and ss_model_hash against the documented
 * scheme computed independently here with EVP. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h> /* the independent hash of the test directory */

#include "model/hfconfig.h"
#include "model/model.h"
#include "test_util.h" /* CHECK, CHECK_NEAR, CHECK_STREQ, TEST_END */

static char g_dir[] = "/tmp/ss_test_hfconfig_XXXXXX";

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

#define BERT_FIELDS                                                                                                    \
    "\"hidden_size\": 64, \"num_hidden_layers\": 3, \"num_attention_heads\": 4, \"intermediate_size\": 256, "          \
    "\"vocab_size\": 1000, \"max_position_embeddings\": 128"

static void expect_config_fail(const char *what, const char *config, ss_status want, const char *msg)
{
    write_file("config.json", config);
    ss_hfconfig cfg;
    ss_clear_error();
    ss_status st = ss_hfconfig_read(g_dir, &cfg);
    CHECK_MSG(st == want, "%s: status %s, want %s (%s)", what, ss_status_name(st), ss_status_name(want), ss_errmsg());
    CHECK_MSG(strstr(ss_errmsg(), msg) != NULL, "%s: message \"%s\" lacks \"%s\"", what, ss_errmsg(), msg);
    CHECK_MSG(strstr(ss_errmsg(), "config.json") != NULL, "%s: message does not name config.json", what);
    printf("  %-26s -> %s: %s\n", what, ss_status_name(st), ss_errmsg());
}

static void test_config(void)
{
    /* valid, defaults */
    write_file("config.json", "{\"model_type\": \"bert\", " BERT_FIELDS "}");
    ss_hfconfig cfg;
    CHECK(ss_hfconfig_read(g_dir, &cfg) == SS_OK);
    const ss_model_info *in = &cfg.info;
    CHECK_STREQ(in->arch, "bert");
    CHECK_STREQ(in->pos_encoding, "learned");
    CHECK(in->d_model == 64 && in->n_layers == 3 && in->n_heads == 4 && in->n_kv_heads == 4 && in->d_head == 16);
    CHECK(in->d_ff == 256 && in->n_vocab == 1000 && in->max_positions == 128);
    CHECK(in->causal == 0 && in->default_bos == SS_BOS_ADD);
    CHECK(in->bos_id == -1 && in->eos_id == -1);
    CHECK(in->cls_id == -1 && in->sep_id == -1); /* no tokenizer files here */
    CHECK(cfg.type_vocab_size == 2);
    CHECK_NEAR(cfg.layer_norm_eps, 1e-12, 0);
    CHECK_STREQ(cfg.hidden_act, "gelu");

    /* explicit optional fields */
    write_file("config.json", "{\"model_type\": \"bert\", " BERT_FIELDS ", \"layer_norm_eps\": 1e-5, "
                              "\"type_vocab_size\": 1, \"hidden_act\": \"gelu\", \"pad_token_id\": 7, "
                              "\"position_embedding_type\": \"absolute\"}");
    CHECK(ss_hfconfig_read(g_dir, &cfg) == SS_OK);
    CHECK_NEAR(cfg.layer_norm_eps, 1e-5, 0);
    CHECK(cfg.type_vocab_size == 1 && cfg.info.pad_id == 7);

    printf("bad configs:\n");
    expect_config_fail("unsupported model_type", "{\"model_type\": \"xyz\", " BERT_FIELDS "}", SS_ERR_INPUT,
                       "config.json: model_type 'xyz' is not supported (supported: bert, ");
    expect_config_fail("unknown decoder", "{\"model_type\": \"not_a_model\"}", SS_ERR_INPUT,
                       "model_type 'not_a_model' is not supported");
    expect_config_fail("no model_type", "{" BERT_FIELDS "}", SS_ERR_FORMAT, "field 'model_type' is missing");
    expect_config_fail("model_type not a string", "{\"model_type\": 3}", SS_ERR_FORMAT, "'model_type' is not a string");
    expect_config_fail("missing hidden_size",
                       "{\"model_type\": \"bert\", \"num_hidden_layers\": 3, \"num_attention_heads\": 4, "
                       "\"intermediate_size\": 256, \"vocab_size\": 1000, \"max_position_embeddings\": 128}",
                       SS_ERR_FORMAT, "field 'hidden_size' is missing");
    expect_config_fail("hidden_size a string",
                       "{\"model_type\": \"bert\", \"hidden_size\": \"64\", \"num_hidden_layers\": 3}", SS_ERR_FORMAT,
                       "field 'hidden_size' is not an integer");
    expect_config_fail("zero layers", "{\"model_type\": \"bert\", \"hidden_size\": 64, \"num_hidden_layers\": 0}",
                       SS_ERR_FORMAT, "field 'num_hidden_layers' = 0 is outside");
    expect_config_fail("heads do not divide d",
                       "{\"model_type\": \"bert\", \"hidden_size\": 64, \"num_hidden_layers\": 3, "
                       "\"num_attention_heads\": 5, \"intermediate_size\": 256, \"vocab_size\": 1000, "
                       "\"max_position_embeddings\": 128}",
                       SS_ERR_FORMAT, "not a multiple of num_attention_heads");
    expect_config_fail("other activation", "{\"model_type\": \"bert\", " BERT_FIELDS ", \"hidden_act\": \"relu\"}",
                       SS_ERR_INPUT, "hidden_act 'relu' is not supported");
    expect_config_fail("relative positions",
                       "{\"model_type\": \"bert\", " BERT_FIELDS ", \"position_embedding_type\": \"relative_key\"}",
                       SS_ERR_INPUT, "position_embedding_type 'relative_key'");
    expect_config_fail("bad eps", "{\"model_type\": \"bert\", " BERT_FIELDS ", \"layer_norm_eps\": -1}", SS_ERR_FORMAT,
                       "'layer_norm_eps'");
    expect_config_fail("not JSON", "{\"model_type\": ", SS_ERR_FORMAT, "not valid JSON");
    expect_config_fail("not an object", "[]", SS_ERR_FORMAT, "not a JSON object");

    remove_file("config.json");
    ss_model_info info;
    CHECK(ss_model_probe(g_dir, &info) == SS_ERR_IO);
    CHECK(strstr(ss_errmsg(), "config.json") != NULL);
}

static void test_special_ids(void)
{
    write_file("config.json", "{\"model_type\": \"bert\", " BERT_FIELDS "}");
    /* vocab.txt only: ids are line numbers */
    write_file("vocab.txt", "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nthe\n");
    ss_model_info info;
    CHECK(ss_model_probe(g_dir, &info) == SS_OK);
    CHECK(info.pad_id == 0 && info.unk_id == 1 && info.cls_id == 2 && info.sep_id == 3);

    /* tokenizer.json wins over vocab.txt: added_tokens first, then model.vocab */
    write_file("tokenizer.json", "{\"added_tokens\": [{\"id\": 40, \"content\": \"[CLS]\"}, {\"id\": 41, "
                                 "\"content\": \"[SEP]\"}], \"model\": {\"vocab\": {\"[PAD]\": 9, \"[UNK]\": 8, "
                                 "\"[CLS]\": 99}}}");
    CHECK(ss_model_probe(g_dir, &info) == SS_OK);
    CHECK(info.cls_id == 40 && info.sep_id == 41 && info.pad_id == 9 && info.unk_id == 8);

    /* special_tokens_map.json renames the tokens (string and object forms) */
    write_file("special_tokens_map.json", "{\"cls_token\": \"<s>\", \"sep_token\": {\"content\": \"</s>\"}}");
    write_file("tokenizer.json", "{\"added_tokens\": [], \"model\": {\"vocab\": {\"<s>\": 5, \"</s>\": 6}}}");
    CHECK(ss_model_probe(g_dir, &info) == SS_OK);
    CHECK(info.cls_id == 5 && info.sep_id == 6 && info.pad_id == -1 && info.unk_id == -1);

    remove_file("special_tokens_map.json");
    remove_file("tokenizer.json");
    remove_file("vocab.txt");
    remove_file("config.json");
}

static void test_frame(void)
{
    ss_model_info bert = {
        .arch = "bert", .causal = 0, .bos_id = -1, .cls_id = 101, .sep_id = 102, .default_bos = SS_BOS_ADD};
    int32_t pre[2], post[2];
    int np, nq;
    ss_model_frame(&bert, SS_BOS_MODEL_DEFAULT, pre, &np, post, &nq);
    CHECK(np == 1 && pre[0] == 101 && nq == 1 && post[0] == 102);
    ss_model_frame(&bert, SS_BOS_ADD, pre, &np, post, &nq);
    CHECK(np == 1 && pre[0] == 101 && nq == 1 && post[0] == 102);
    ss_model_frame(&bert, SS_BOS_NONE, pre, &np, post, &nq);
    CHECK(np == 0 && nq == 1 && post[0] == 102);

    ss_model_info dec = {
        .arch = "llama", .causal = 1, .bos_id = 1, .eos_id = 2, .cls_id = -1, .sep_id = -1, .default_bos = SS_BOS_ADD};
    ss_model_frame(&dec, SS_BOS_ADD, pre, &np, post, &nq);
    CHECK(np == 1 && pre[0] == 1 && nq == 0);
    ss_model_frame(&dec, SS_BOS_MODEL_DEFAULT, pre, &np, post, &nq);
    CHECK(np == 1 && pre[0] == 1 && nq == 0);
    ss_model_frame(&dec, SS_BOS_NONE, pre, &np, post, &nq);
    CHECK(np == 0 && nq == 0);
    dec.default_bos = SS_BOS_NONE;
    ss_model_frame(&dec, SS_BOS_MODEL_DEFAULT, pre, &np, post, &nq);
    CHECK(np == 0 && nq == 0);
}

/* The documented scheme, by hand: for each file present in order, name NUL size-u64le contents. */
static void expected_hash(const char *const *names, const char *const *contents, int n, char hex[65])
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
    for (int i = 0; i < n; i++) {
        uint64_t len = strlen(contents[i]);
        unsigned char le[8];
        for (int b = 0; b < 8; b++) le[b] = (unsigned char)(len >> (8 * b));
        EVP_DigestUpdate(ctx, names[i], strlen(names[i]) + 1);
        EVP_DigestUpdate(ctx, le, 8);
        EVP_DigestUpdate(ctx, contents[i], len);
    }
    unsigned char md[32];
    unsigned int mdn = 0;
    EVP_DigestFinal_ex(ctx, md, &mdn);
    EVP_MD_CTX_free(ctx);
    for (int i = 0; i < 32; i++) snprintf(hex + 2 * i, 3, "%02x", md[i]);
}

static void test_hash(void)
{
    const char *names[] = {"config.json", "vocab.txt", "model.safetensors"};
    const char *contents[] = {"{\"model_type\": \"bert\"}", "[PAD]\n[CLS]\n", "weights"};
    for (int i = 0; i < 3; i++) write_file(names[i], contents[i]);
    write_file("README.md", "not hashed");
    char got[65], want[65];
    CHECK(ss_model_hash(g_dir, got) == SS_OK);
    expected_hash(names, contents, 3, want);
    CHECK_STREQ(got, want);

    /* sharded: the index, then the shards by name (not by index order) */
    remove_file("model.safetensors");
    const char *idx = "{\"weight_map\": {\"a\": \"w-2.safetensors\", \"b\": \"w-1.safetensors\", "
                      "\"c\": \"w-2.safetensors\"}}";
    write_file("model.safetensors.index.json", idx);
    write_file("w-1.safetensors", "one");
    write_file("w-2.safetensors", "two");
    const char *n2[] = {"config.json", "vocab.txt", "model.safetensors.index.json", "w-1.safetensors",
                        "w-2.safetensors"};
    const char *c2[] = {contents[0], contents[1], idx, "one", "two"};
    CHECK(ss_model_hash(g_dir, got) == SS_OK);
    expected_hash(n2, c2, 5, want);
    CHECK_STREQ(got, want);

    /* no weights, no config */
    remove_file("model.safetensors.index.json");
    CHECK(ss_model_hash(g_dir, got) == SS_ERR_IO);
    remove_file("config.json");
    CHECK(ss_model_hash(g_dir, got) == SS_ERR_IO);
    CHECK(strstr(ss_errmsg(), "config.json") != NULL);
    const char *rm[] = {"vocab.txt", "README.md", "w-1.safetensors", "w-2.safetensors"};
    for (int i = 0; i < 4; i++) remove_file(rm[i]);
}

int main(void)
{
    if (!mkdtemp(g_dir)) {
        perror("mkdtemp");
        return 1;
    }
    test_config();
    test_special_ids();
    test_frame();
    test_hash();
    rmdir(g_dir);
    TEST_END();
}
