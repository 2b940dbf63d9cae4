/* make_tiny_model.c: writes a tiny random BERT model directory (config.json, vocab.txt,
 * model.safetensors) for tests that must not depend on downloaded weights.
 * usage: make_tiny_model DIR [SEED] [MAX_POSITIONS] [nan]
 * With "nan", layer 0's query bias is NaN (a broken model, for the failure tests).
 * The weights are deterministic in SEED; the vocabulary covers common English words so the
 * natural prompt set tokenizes to real pieces. 2 layers, d = 16, 4 heads, FFN 32. */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

enum { D = 16, FF = 32, LAYERS = 2, HEADS = 4, TYPES = 2 };

static const char *k_words[] = {
    "the", "of", "and", "a", "to", "in", "is", "was", "that", "for", "it", "as", "with", "by", "on", "are", "from",
    "at", "an", "be", "this", "which", "or", "its", "has", "have", "were", "their", "can", "more", "one", "two",
    "most", "when", "into", "than", "other", "water", "light", "energy", "body", "cells", "heart", "blood", "river",
    "city", "mountain", "sea", "number", "numbers", "prime", "equation", "function", "theory", "force", "mass",
    "speed", "time", "space", "world", "people", "first", "many", "used", "also", "called", "known", "between",
    "over", "each", "only", "large", "small", "high", "low", "long", "new", "old", "during", "after", "because",
    "through", "about", "these", "such", "some", "made", "where", "all", "not", "but", "they", "them", "there",
    "earth", "sun", "moon", "star", "stars", "planet", "field", "computer", "data", "program", "language", "history",
    "war", "century", "king", "book", "music", "art", "market", "price", "money", "trade", "protein", "gene",
    "disease", "patients", "doctors", "medicine", "area", "country", "north", "south", "east", "west", "capital",
    "population", "island", "forest", "climate", "temperature", "heat", "electric", "charge", "wave", "waves",
    "particle", "particles", "atom", "atoms", "chemical", "reaction", "acid", "plants", "animals", "species",
    ".", ",", ";", ":", "'", "\"", "(", ")", "-", "?", "!", "0", "1", "2", "3", "4", "5", "6", "7", "8", "9",
};

static uint64_t g_state;
static double next_uniform(void) /* splitmix64 -> [0, 1) */
{
    uint64_t z = (g_state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    z ^= z >> 31;
    return (double)(z >> 11) / 9007199254740992.0;
}

typedef struct {
    char name[96];
    int rank;
    long dims[2];
    float *data;
} tensor;

static tensor g_t[64];
static int g_nt;

static void add(const char *name, int rank, long d0, long d1, double scale, double offset)
{
    tensor *t = &g_t[g_nt++];
    snprintf(t->name, sizeof t->name, "%s", name);
    t->rank = rank;
    t->dims[0] = d0;
    t->dims[1] = d1;
    long n = rank == 1 ? d0 : d0 * d1;
    t->data = malloc((size_t)n * sizeof(float));
    for (long i = 0; i < n; i++) t->data[i] = (float)(offset + scale * (2.0 * next_uniform() - 1.0));
}

static long numel(const tensor *t) { return t->rank == 1 ? t->dims[0] : t->dims[0] * t->dims[1]; }

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: make_tiny_model DIR [SEED] [MAX_POSITIONS]\n");
        return 2;
    }
    const char *dir = argv[1];
    g_state = argc > 2 ? strtoull(argv[2], NULL, 10) : 1;
    int max_pos = argc > 3 ? atoi(argv[3]) : 64;
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        perror(dir);
        return 1;
    }
    char path[4096];

    /* vocab.txt: specials, words, single letters and ## letters (so any word segments) */
    snprintf(path, sizeof path, "%s/vocab.txt", dir);
    FILE *f = fopen(path, "w");
    if (!f) return perror(path), 1;
    int V = 0;
    const char *specials[] = {"[PAD]", "[unused0]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"};
    for (size_t i = 0; i < 6; i++, V++) fprintf(f, "%s\n", specials[i]);
    for (size_t i = 0; i < sizeof k_words / sizeof k_words[0]; i++, V++) fprintf(f, "%s\n", k_words[i]);
    for (char c = 'a'; c <= 'z'; c++) {
        if (c != 'a') fprintf(f, "%c\n", c), V++; /* "a" is already a word */
        fprintf(f, "##%c\n", c), V++;
    }
    fclose(f);

    snprintf(path, sizeof path, "%s/config.json", dir);
    f = fopen(path, "w");
    if (!f) return perror(path), 1;
    fprintf(f,
            "{\n  \"architectures\": [\"BertModel\"],\n  \"model_type\": \"bert\",\n  \"hidden_size\": %d,\n"
            "  \"num_hidden_layers\": %d,\n  \"num_attention_heads\": %d,\n  \"intermediate_size\": %d,\n"
            "  \"vocab_size\": %d,\n  \"max_position_embeddings\": %d,\n  \"type_vocab_size\": %d,\n"
            "  \"hidden_act\": \"gelu\",\n  \"layer_norm_eps\": 1e-12,\n  \"pad_token_id\": 0,\n"
            "  \"position_embedding_type\": \"absolute\"\n}\n",
            D, LAYERS, HEADS, FF, V, max_pos, TYPES);
    fclose(f);
    snprintf(path, sizeof path, "%s/tokenizer_config.json", dir);
    f = fopen(path, "w");
    if (!f) return perror(path), 1;
    fprintf(f, "{\"do_lower_case\": true, \"tokenizer_class\": \"BertTokenizer\", \"model_max_length\": %d}\n",
            max_pos);
    fclose(f);

    /* weights: scaled so attention is neither uniform nor one-hot */
    add("embeddings.word_embeddings.weight", 2, V, D, 1.0, 0);
    add("embeddings.position_embeddings.weight", 2, max_pos, D, 0.5, 0);
    add("embeddings.token_type_embeddings.weight", 2, TYPES, D, 0.1, 0);
    add("embeddings.LayerNorm.weight", 1, D, 0, 0.1, 1.0);
    add("embeddings.LayerNorm.bias", 1, D, 0, 0.1, 0);
    for (int l = 0; l < LAYERS; l++) {
        char n[96];
#define L(suffix, rank, d0, d1, scale, off)                                                           \
    snprintf(n, sizeof n, "encoder.layer.%d.%s", l, suffix);                                          \
    add(n, rank, d0, d1, scale, off)
        L("attention.self.query.weight", 2, D, D, 0.8, 0);
        L("attention.self.query.bias", 1, D, 0, 0.1, 0);
        L("attention.self.key.weight", 2, D, D, 0.8, 0);
        L("attention.self.key.bias", 1, D, 0, 0.1, 0);
        L("attention.self.value.weight", 2, D, D, 0.5, 0);
        L("attention.self.value.bias", 1, D, 0, 0.1, 0);
        L("attention.output.dense.weight", 2, D, D, 0.5, 0);
        L("attention.output.dense.bias", 1, D, 0, 0.1, 0);
        L("attention.output.LayerNorm.weight", 1, D, 0, 0.1, 1.0);
        L("attention.output.LayerNorm.bias", 1, D, 0, 0.1, 0);
        L("intermediate.dense.weight", 2, FF, D, 0.5, 0);
        L("intermediate.dense.bias", 1, FF, 0, 0.1, 0);
        L("output.dense.weight", 2, D, FF, 0.5, 0);
        L("output.dense.bias", 1, D, 0, 0.1, 0);
        L("output.LayerNorm.weight", 1, D, 0, 0.1, 1.0);
        L("output.LayerNorm.bias", 1, D, 0, 0.1, 0);
#undef L
    }

    if (argc > 4 && strcmp(argv[4], "nan") == 0)
        for (int i = 0; i < g_nt; i++)
            if (strcmp(g_t[i].name, "encoder.layer.0.attention.self.query.bias") == 0)
                for (long j = 0; j < numel(&g_t[i]); j++) g_t[i].data[j] = NAN;

    /* model.safetensors: u64 header length, JSON header, raw little-endian F32 data */
    char *hdr = malloc(1 << 16);
    size_t o = 0;
    long off = 0;
    o += (size_t)sprintf(hdr + o, "{\"__metadata__\":{\"format\":\"pt\"}");
    for (int i = 0; i < g_nt; i++) {
        long bytes = numel(&g_t[i]) * 4;
        if (g_t[i].rank == 1)
            o += (size_t)sprintf(hdr + o, ",\"%s\":{\"dtype\":\"F32\",\"shape\":[%ld],\"data_offsets\":[%ld,%ld]}",
                                 g_t[i].name, g_t[i].dims[0], off, off + bytes);
        else
            o += (size_t)sprintf(hdr + o, ",\"%s\":{\"dtype\":\"F32\",\"shape\":[%ld,%ld],\"data_offsets\":[%ld,%ld]}",
                                 g_t[i].name, g_t[i].dims[0], g_t[i].dims[1], off, off + bytes);
        off += bytes;
    }
    o += (size_t)sprintf(hdr + o, "}");
    while (o % 8) hdr[o++] = ' ';
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    f = fopen(path, "wb");
    if (!f) return perror(path), 1;
    uint64_t hl = o;
    fwrite(&hl, 8, 1, f);
    fwrite(hdr, 1, o, f);
    for (int i = 0; i < g_nt; i++) fwrite(g_t[i].data, 4, (size_t)numel(&g_t[i]), f);
    fclose(f);
    free(hdr);
    for (int i = 0; i < g_nt; i++) free(g_t[i].data);
    printf("tiny BERT written to %s: %d layers, d=%d, %d heads, vocab %d, %d positions\n", dir, LAYERS, D, HEADS, V,
           max_pos);
    return 0;
}
