/* tokenizer.c: the public tokenizer API (tokenizer.h), dispatching by kind to WordPiece (wordpiece.c),
 * byte-level BPE (bpe.c) or Unigram (unigram.c, built from a GGUF vocabulary only). tokenizer.json is parsed
 * once here; its model.type picks the kind. */
#include "tokenizer.h"

#include <jansson.h> /* defines: json_load_file, json_object_get, ... */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "gguf.h"           /* defines: ss_gguf_open, ss_gguf_close */
#include "gguf_model.h"     /* defines: ss_gguf_model_is_gguf, ss_gguf_model_tokenizer */
#include "tokenizer_impl.h" /* defines: ss_wordpiece_*, ss_bpe_* */
#include "unigram.h"        /* defines: ss_unigram_* */

typedef enum { KIND_WORDPIECE, KIND_BPE, KIND_UNIGRAM } tok_kind;

struct ss_tokenizer {
    tok_kind kind;
    ss_wordpiece *wp;
    ss_bpe *bpe;
    ss_unigram *uni;
};

static int file_exists(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

static ss_status load_json(const char *path, ss_tokenizer *t)
{
    ss_status st = SS_OK;
    json_error_t err;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &err);
    if (!root) {
        if (json_error_code(&err) == json_error_cannot_open_file)
            return ss_fail(SS_ERR_IO, "%s: cannot read: %s", path, err.text);
        return ss_fail(SS_ERR_FORMAT, "%s: line %d, column %d: %s", path, err.line, err.column, err.text);
    }
    if (!json_is_object(root)) {
        st = ss_fail(SS_ERR_FORMAT, "%s: the top level is not a JSON object", path);
        goto done;
    }
    const json_t *model = json_object_get(root, "model");
    if (!json_is_object(model)) {
        st = ss_fail(SS_ERR_FORMAT, "%s: no \"model\" object", path);
        goto done;
    }
    const char *type = json_string_value(json_object_get(model, "type"));
    if (!type) {
        st = ss_fail(SS_ERR_FORMAT, "%s: model has no \"type\" string", path);
        goto done;
    }
    if (strcmp(type, "WordPiece") == 0) {
        t->kind = KIND_WORDPIECE;
        SS_TRY(ss_wordpiece_from_json(path, root, &t->wp));
    } else if (strcmp(type, "BPE") == 0) {
        t->kind = KIND_BPE;
        SS_TRY(ss_bpe_from_json(path, root, &t->bpe));
    } else {
        st = ss_fail(SS_ERR_FORMAT, "%s: model.type is \"%s\"; supported: \"WordPiece\" and (byte-level) \"BPE\"", path,
                     type);
    }
done:
    json_decref(root);
    return st;
}

ss_status ss_tokenizer_load(const char *model_dir, ss_tokenizer **out)
{
    ss_status st = SS_OK;
    ss_tokenizer *t = NULL;
    char *path = NULL;
    if (!model_dir || !out) return ss_fail(SS_ERR_INPUT, "ss_tokenizer_load: NULL argument");
    *out = NULL;
    if (ss_gguf_model_is_gguf(model_dir)) {
        ss_gguf *g = NULL;
        if ((st = ss_gguf_open(model_dir, &g)) == SS_OK) st = ss_gguf_model_tokenizer(g, out);
        ss_gguf_close(g);
        return st;
    }
    size_t cap = strlen(model_dir) + sizeof "/tokenizer.json";
    t = calloc(1, sizeof *t);
    path = malloc(cap);
    if (!t || !path) {
        st = ss_fail(SS_ERR_NOMEM, "%s: out of memory loading the tokenizer", model_dir);
        goto done;
    }
    snprintf(path, cap, "%s/tokenizer.json", model_dir);
    if (file_exists(path)) {
        SS_TRY(load_json(path, t));
    } else {
        snprintf(path, cap, "%s/vocab.txt", model_dir);
        if (!file_exists(path)) {
            st = ss_fail(SS_ERR_IO, "%s: no tokenizer.json or vocab.txt in this model directory", model_dir);
            goto done;
        }
        t->kind = KIND_WORDPIECE;
        SS_TRY(ss_wordpiece_from_vocab_txt(model_dir, path, &t->wp));
    }
    *out = t;
    t = NULL;
done:
    ss_tokenizer_free(t);
    free(path);
    return st;
}

ss_status ss_tokenizer_from_bpe(const char *const *tokens, int n_tokens, const char *const *merges, int n_merges,
                                const int32_t *token_types, const char *pre_type, ss_tokenizer **out)
{
    ss_status st = SS_OK;
    if (!out) return ss_fail(SS_ERR_INPUT, "ss_tokenizer_from_bpe: NULL argument");
    *out = NULL;
    ss_tokenizer *t = calloc(1, sizeof *t);
    if (!t) return ss_fail(SS_ERR_NOMEM, "ss_tokenizer_from_bpe: out of memory");
    t->kind = KIND_BPE;
    SS_TRY(ss_bpe_from_arrays(tokens, n_tokens, merges, n_merges, token_types, pre_type, &t->bpe));
    *out = t;
    t = NULL;
done:
    ss_tokenizer_free(t);
    return st;
}

ss_status ss_tokenizer_from_unigram(const char *const *pieces, const uint64_t *len, const float *scores,
                                    const int32_t *types, int n, int32_t unk_id, ss_tokenizer **out)
{
    ss_status st = SS_OK;
    if (!out) return ss_fail(SS_ERR_INPUT, "ss_tokenizer_from_unigram: NULL argument");
    *out = NULL;
    ss_tokenizer *t = calloc(1, sizeof *t);
    if (!t) return ss_fail(SS_ERR_NOMEM, "ss_tokenizer_from_unigram: out of memory");
    t->kind = KIND_UNIGRAM;
    SS_TRY(ss_unigram_new(pieces, len, scores, types, n, unk_id, &t->uni));
    *out = t;
    t = NULL;
done:
    ss_tokenizer_free(t);
    return st;
}

ss_status ss_tokenizer_encode(const ss_tokenizer *t, const char *text, int32_t **ids, int *n)
{
    if (!t || !text || !ids || !n) return ss_fail(SS_ERR_INPUT, "ss_tokenizer_encode: NULL argument");
    switch (t->kind) {
    case KIND_BPE: return ss_bpe_encode(t->bpe, text, ids, n);
    case KIND_UNIGRAM: return ss_unigram_encode(t->uni, text, ids, n);
    default: return ss_wordpiece_encode(t->wp, text, ids, n);
    }
}

int ss_tokenizer_vocab_size(const ss_tokenizer *t)
{
    if (!t) return 0;
    switch (t->kind) {
    case KIND_BPE: return ss_bpe_vocab_size(t->bpe);
    case KIND_UNIGRAM: return ss_unigram_vocab_size(t->uni);
    default: return ss_wordpiece_vocab_size(t->wp);
    }
}

int ss_tokenizer_is_special(const ss_tokenizer *t, int32_t id)
{
    if (!t) return 0;
    switch (t->kind) {
    case KIND_BPE: return ss_bpe_is_special(t->bpe, id);
    case KIND_UNIGRAM: return ss_unigram_is_special(t->uni, id);
    default: return ss_wordpiece_is_special(t->wp, id);
    }
}

const char *ss_tokenizer_token(const ss_tokenizer *t, int32_t id)
{
    if (!t) return NULL;
    switch (t->kind) {
    case KIND_BPE: return ss_bpe_token(t->bpe, id);
    case KIND_UNIGRAM: return ss_unigram_piece(t->uni, id);
    default: return ss_wordpiece_token(t->wp, id);
    }
}

int32_t ss_tokenizer_id(const ss_tokenizer *t, const char *token)
{
    if (!t || !token) return -1;
    switch (t->kind) {
    case KIND_BPE: return ss_bpe_id(t->bpe, token);
    case KIND_UNIGRAM: return ss_unigram_id(t->uni, token);
    default: return ss_wordpiece_id(t->wp, token);
    }
}

const char *ss_tokenizer_kind(const ss_tokenizer *t)
{
    if (!t) return "wordpiece";
    return t->kind == KIND_BPE ? "bpe" : t->kind == KIND_UNIGRAM ? "unigram" : "wordpiece";
}

void ss_tokenizer_free(ss_tokenizer *t)
{
    if (!t) return;
    ss_wordpiece_free(t->wp);
    ss_bpe_free(t->bpe);
    ss_unigram_free(t->uni);
    free(t);
}
