/* test_safetensors.c: the safetensors reader on files written here byte by byte: a valid file
 * (read from memory and through mmap), every kind of corruption the parser must refuse (each with
 * its status and message), every truncation of the valid file, and a sharded model directory. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model/safetensors.h"
#include "test_util.h" /* CHECK, CHECK_NEAR, CHECK_STREQ, TEST_END */

static char g_dir[] = "/tmp/ss_test_safetensors_XXXXXX";

/* A safetensors image: u64 LE header length, header padded with spaces to `pad`, then data.
 * hdr_len_override >= 0 writes that value as the length instead of the true one. */
typedef struct {
    uint8_t *buf;
    size_t size;
} image;

static image make_image(const char *header, size_t pad, const void *data, size_t data_len, int64_t hdr_len_override)
{
    size_t h = strlen(header);
    size_t hp = pad ? (h + pad - 1) / pad * pad : h;
    image im = {malloc(8 + hp + data_len + 1), 8 + hp + data_len};
    if (!im.buf) exit(1);
    uint64_t n = hdr_len_override >= 0 ? (uint64_t)hdr_len_override : hp;
    for (int i = 0; i < 8; i++) im.buf[i] = (uint8_t)(n >> (8 * i));
    memcpy(im.buf + 8, header, h);
    memset(im.buf + 8 + h, ' ', hp - h);
    if (data_len) memcpy(im.buf + 8 + hp, data, data_len);
    return im;
}

static void write_file(const char *name, const void *buf, size_t n)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", g_dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(buf, 1, n, f) != n) {
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

/* The valid file: a F32 [2][3] = 0..5, b I64 [2] = (7, -1), c F32 scalar = 2.5, e F32 [0]. */
static const char *k_valid_header = "{\"__metadata__\":{\"format\":\"pt\"},"
                                    "\"a\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]},"
                                    "\"b\":{\"dtype\":\"I64\",\"shape\":[2],\"data_offsets\":[24,40]},"
                                    "\"c\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[40,44]},"
                                    "\"e\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[44,44]}}";

static size_t valid_data(uint8_t *d)
{
    float a[6] = {0, 1, 2, 3, 4, 5}, c = 2.5f;
    int64_t b[2] = {7, -1};
    memcpy(d, a, 24);
    memcpy(d + 24, b, 16);
    memcpy(d + 40, &c, 4);
    return 44;
}

static void check_valid(const ss_safetensors *sf)
{
    CHECK(sf->n_tensors == 4);
    const ss_st_tensor *a = ss_st_find(sf, "a"), *b = ss_st_find(sf, "b");
    CHECK(a && a->dtype == SS_DT_F32 && a->n_dims == 2 && a->shape[0] == 2 && a->shape[1] == 3 && a->n_elems == 6);
    CHECK(b && b->dtype == SS_DT_I64 && b->n_dims == 1 && b->shape[0] == 2);
    CHECK(ss_st_find(sf, "__metadata__") == NULL);
    CHECK(ss_st_find(sf, "zzz") == NULL);
    if (b) {
        int64_t bv[2];
        memcpy(bv, b->data, sizeof bv);
        CHECK(bv[0] == 7 && bv[1] == -1);
    }
    const float *p = NULL;
    int64_t dims23[2] = {2, 3}, dims32[2] = {3, 2};
    CHECK(ss_st_get_f32(sf, "a", 2, dims23, &p) == SS_OK);
    for (int i = 0; p && i < 6; i++) CHECK_NEAR(p[i], i, 0);
    CHECK(ss_st_get_f32(sf, "c", 0, NULL, &p) == SS_OK && p && *p == 2.5f);
    int64_t dims0[1] = {0};
    CHECK(ss_st_get_f32(sf, "e", 1, dims0, &p) == SS_OK);

    /* lookups that must fail, with the tensor named */
    CHECK(ss_st_get_f32(sf, "a", 2, dims32, &p) == SS_ERR_FORMAT && p == NULL);
    CHECK(strstr(ss_errmsg(), "tensor 'a' has shape [2, 3]; expected [3, 2]") != NULL);
    CHECK(ss_st_get_f32(sf, "b", 1, dims23, &p) == SS_ERR_FORMAT);
    CHECK(strstr(ss_errmsg(), "tensor 'b' has dtype I64; only F32 is supported") != NULL);
    CHECK(ss_st_get_f32(sf, "missing.weight", 1, dims23, &p) == SS_ERR_FORMAT);
    CHECK(strstr(ss_errmsg(), "tensor 'missing.weight' is missing") != NULL);
    CHECK(strcmp(ss_dtype_name(b ? b->dtype : SS_DT_BOOL), "I64") == 0);
}

/* Parses a header + data (padded to 8) from memory; expects st and msg in the message. */
static void expect_fail(const char *what, const char *header, const void *data, size_t data_len, int64_t len_override,
                        ss_status want, const char *msg)
{
    image im = make_image(header, 8, data, data_len, len_override);
    ss_safetensors *sf = (ss_safetensors *)&im; /* poison: must be set to NULL */
    ss_clear_error();
    ss_status st = ss_st_parse(im.buf, im.size, "bad.safetensors", &sf);
    CHECK_MSG(st == want, "%s: status %s, want %s (%s)", what, ss_status_name(st), ss_status_name(want), ss_errmsg());
    CHECK_MSG(sf == NULL, "%s: *out not NULL on failure", what);
    CHECK_MSG(strstr(ss_errmsg(), msg) != NULL, "%s: message \"%s\" lacks \"%s\"", what, ss_errmsg(), msg);
    CHECK_MSG(strstr(ss_errmsg(), "bad.safetensors") != NULL, "%s: message lacks the file name", what);
    printf("  %-28s -> %s: %s\n", what, ss_status_name(st), ss_errmsg());
    if (st == SS_OK) ss_st_free(sf);
    free(im.buf);
}

static void test_corrupt(void)
{
    uint8_t d[64];
    size_t dn = valid_data(d);
    printf("corrupted files:\n");
    /* too short for the length field */
    {
        uint8_t four[4] = {1, 0, 0, 0};
        ss_safetensors *sf = NULL;
        CHECK(ss_st_parse(four, sizeof four, "bad.safetensors", &sf) == SS_ERR_FORMAT && !sf);
        CHECK(strstr(ss_errmsg(), "too short") != NULL);
        CHECK(ss_st_parse(four, 0, "bad.safetensors", &sf) == SS_ERR_FORMAT && !sf);
    }
    expect_fail("header length past EOF", k_valid_header, d, dn, 100000, SS_ERR_FORMAT,
                "runs past the end of the file");
    expect_fail("header length huge", k_valid_header, d, dn, INT64_MAX, SS_ERR_FORMAT, "exceeds");
    expect_fail("truncated header JSON", k_valid_header, d, dn, 40, SS_ERR_FORMAT, "not valid JSON");
    expect_fail("bad JSON", "{\"a\":{\"dtype\":\"F32\",", d, dn, -1, SS_ERR_FORMAT, "not valid JSON");
    expect_fail("header not an object", "[1,2,3]", d, dn, -1, SS_ERR_FORMAT, "not a JSON object");
    expect_fail("duplicate tensor",
                "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
                d, dn, -1, SS_ERR_FORMAT, "duplicate");
    expect_fail("entry not an object", "{\"a\":[1]}", d, dn, -1, SS_ERR_FORMAT, "tensor 'a': header entry");
    expect_fail("metadata not an object", "{\"__metadata__\":3}", d, dn, -1, SS_ERR_FORMAT, "'__metadata__'");
    expect_fail("unknown dtype", "{\"w\":{\"dtype\":\"F33\",\"shape\":[1],\"data_offsets\":[0,4]}}", d, dn, -1,
                SS_ERR_FORMAT, "tensor 'w': unknown dtype 'F33'");
    expect_fail("missing dtype", "{\"w\":{\"shape\":[1],\"data_offsets\":[0,4]}}", d, dn, -1, SS_ERR_FORMAT,
                "tensor 'w': field 'dtype'");
    expect_fail("missing shape", "{\"w\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", d, dn, -1, SS_ERR_FORMAT,
                "tensor 'w': field 'shape'");
    expect_fail("negative dim", "{\"w\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", d, dn, -1,
                SS_ERR_FORMAT, "tensor 'w': field 'shape' entry 0");
    expect_fail("fractional dim", "{\"w\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}}", d, dn, -1,
                SS_ERR_FORMAT, "field 'shape' entry 0");
    expect_fail("too many dims", "{\"w\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,4]}}", d,
                dn, -1, SS_ERR_FORMAT, "9 dimensions");
    expect_fail("shape overflow",
                "{\"w\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,16],\"data_offsets\":[0,4]}}", d, dn, -1,
                SS_ERR_FORMAT, "overflows");
    expect_fail("bytes overflow",
                "{\"w\":{\"dtype\":\"F64\",\"shape\":[2147483648,2147483648],\"data_offsets\":[0,4]}}", d, dn, -1,
                SS_ERR_FORMAT, "more than 2^64");
    expect_fail("missing data_offsets", "{\"w\":{\"dtype\":\"F32\",\"shape\":[1]}}", d, dn, -1, SS_ERR_FORMAT,
                "tensor 'w': field 'data_offsets'");
    expect_fail("one data_offset", "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", d, dn, -1,
                SS_ERR_FORMAT, "field 'data_offsets'");
    expect_fail("offsets reversed", "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,4]}}", d, dn, -1,
                SS_ERR_FORMAT, "end before they begin");
    expect_fail("offsets out of range", "{\"w\":{\"dtype\":\"F32\",\"shape\":[20],\"data_offsets\":[0,80]}}", d, dn, -1,
                SS_ERR_FORMAT, "tensor 'w': data_offsets [0, 80] are out of range: the data section has 44 bytes");
    expect_fail("offsets way out of range",
                "{\"w\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[18446744073709551,18446744073709552]}}", d,
                dn, -1, SS_ERR_FORMAT, "out of range");
    expect_fail("shape/size mismatch", "{\"w\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,20]}}", d, dn, -1,
                SS_ERR_FORMAT, "tensor 'w': size mismatch: shape [2, 3] of F32 needs 24 bytes");
    expect_fail("dtype/size mismatch", "{\"w\":{\"dtype\":\"F16\",\"shape\":[2,3],\"data_offsets\":[0,24]}}", d, dn, -1,
                SS_ERR_FORMAT, "size mismatch");
    expect_fail("overlap",
                "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]},"
                "\"b\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[12,28]}}",
                d, dn, -1, SS_ERR_FORMAT, "overlap");
    expect_fail("overlap, listed out of order",
                "{\"b\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[20,36]},"
                "\"a\":{\"dtype\":\"F32\",\"shape\":[6],\"data_offsets\":[0,24]}}",
                d, dn, -1, SS_ERR_FORMAT, "overlap");

    /* Unsorted but disjoint offsets are fine. */
    image im = make_image("{\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]},"
                          "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}",
                          8, d, dn, -1);
    ss_safetensors *sf = NULL;
    CHECK(ss_st_parse(im.buf, im.size, "ok.safetensors", &sf) == SS_OK);
    const float *p = NULL;
    int64_t two[1] = {2};
    CHECK(sf && ss_st_get_f32(sf, "b", 1, two, &p) == SS_OK && p && p[0] == 2.0f && p[1] == 3.0f);
    ss_st_free(sf);
    free(im.buf);

    /* A header whose length is not a multiple of 4 leaves F32 data misaligned: refused on lookup. */
    im = make_image("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}} ", 1, d, dn, -1);
    uint8_t *copy = NULL;
    if ((im.size - dn - 8) % 4 == 0) { /* pad the header by one byte to misalign it */
        free(im.buf);
        im = make_image("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}  ", 1, d, dn, -1);
    }
    /* copy to an 8-aligned buffer so the misalignment comes from the header alone */
    copy = aligned_alloc(8, (im.size + 7) / 8 * 8);
    if (!copy) exit(1);
    memcpy(copy, im.buf, im.size);
    CHECK(ss_st_parse(copy, im.size, "odd.safetensors", &sf) == SS_OK);
    int64_t one[1] = {1};
    CHECK(sf && ss_st_get_f32(sf, "a", 1, one, &p) == SS_ERR_FORMAT);
    CHECK(strstr(ss_errmsg(), "aligned") != NULL);
    ss_st_free(sf);
    free(copy);
    free(im.buf);
}

/* Every strict prefix of the valid file fails cleanly (never crashes). */
static void test_truncations(void)
{
    uint8_t d[64];
    size_t dn = valid_data(d);
    image im = make_image(k_valid_header, 8, d, dn, -1);
    int failed = 0;
    for (size_t n = 0; n < im.size; n++) {
        uint8_t *cut = malloc(n ? n : 1);
        if (!cut) exit(1);
        memcpy(cut, im.buf, n);
        ss_safetensors *sf = NULL;
        ss_status st = ss_st_parse(cut, n, "cut.safetensors", &sf);
        if (st != SS_OK) failed++;
        CHECK_MSG(st == SS_ERR_FORMAT && sf == NULL, "prefix of %zu bytes: %s", n, ss_status_name(st));
        ss_st_free(sf);
        free(cut);
    }
    printf("truncations: %d of %zu prefixes refused\n", failed, im.size);
    free(im.buf);
}

static void test_valid(void)
{
    uint8_t d[64];
    size_t dn = valid_data(d);
    image im = make_image(k_valid_header, 8, d, dn, -1);
    uint8_t *al = aligned_alloc(8, (im.size + 7) / 8 * 8);
    if (!al) exit(1);
    memcpy(al, im.buf, im.size);
    ss_safetensors *sf = NULL;
    CHECK(ss_st_parse(al, im.size, "mem.safetensors", &sf) == SS_OK);
    if (sf) check_valid(sf);
    ss_st_free(sf);
    free(al);

    write_file("model.safetensors", im.buf, im.size);
    char path[512];
    snprintf(path, sizeof path, "%s/model.safetensors", g_dir);
    sf = NULL;
    CHECK(ss_st_open(path, &sf) == SS_OK);
    if (sf) check_valid(sf);
    if (sf) CHECK_STREQ(ss_st_file_of(sf, ss_st_find(sf, "a")), path);
    ss_st_free(sf);
    sf = NULL;
    CHECK(ss_st_open_dir(g_dir, &sf) == SS_OK);
    if (sf) check_valid(sf);
    ss_st_free(sf);
    remove_file("model.safetensors");
    free(im.buf);

    /* files that do not exist, or are too small to map */
    CHECK(ss_st_open("/nonexistent/x.safetensors", &sf) == SS_ERR_IO && !sf);
    CHECK(strstr(ss_errmsg(), "/nonexistent/x.safetensors") != NULL);
    CHECK(ss_st_open_dir("/nonexistent", &sf) == SS_ERR_IO && !sf);
    CHECK(strstr(ss_errmsg(), "no model.safetensors") != NULL);
    write_file("empty.safetensors", "", 0);
    snprintf(path, sizeof path, "%s/empty.safetensors", g_dir);
    CHECK(ss_st_open(path, &sf) == SS_ERR_FORMAT && !sf);
    remove_file("empty.safetensors");
}

static void test_sharded(void)
{
    float x[4] = {1, 2, 3, 4}, y[2] = {-1, -2};
    image s1 = make_image("{\"x\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", 8, x, sizeof x, -1);
    image s2 = make_image("{\"y\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                          "\"z\":{\"dtype\":\"I8\",\"shape\":[0],\"data_offsets\":[8,8]}}",
                          8, y, sizeof y, -1);
    write_file("model-00001-of-00002.safetensors", s1.buf, s1.size);
    write_file("model-00002-of-00002.safetensors", s2.buf, s2.size);
    const char *index = "{\"metadata\":{\"total_size\":24},\"weight_map\":{"
                        "\"y\":\"model-00002-of-00002.safetensors\",\"x\":\"model-00001-of-00002.safetensors\"}}";
    write_file("model.safetensors.index.json", index, strlen(index));
    ss_safetensors *sf = NULL;
    CHECK(ss_st_open_dir(g_dir, &sf) == SS_OK);
    if (sf) {
        CHECK(sf->n_files == 2 && sf->n_tensors == 3);
        const float *p = NULL;
        int64_t four[1] = {4}, two[1] = {2};
        CHECK(ss_st_get_f32(sf, "x", 1, four, &p) == SS_OK && p && p[3] == 4.0f);
        CHECK(ss_st_get_f32(sf, "y", 1, two, &p) == SS_OK && p && p[1] == -2.0f);
        CHECK(strstr(ss_st_file_of(sf, ss_st_find(sf, "y")), "model-00002-of-00002.safetensors") != NULL);
    }
    ss_st_free(sf);
    sf = NULL;

    /* the index names the wrong shard */
    const char *wrong = "{\"weight_map\":{\"x\":\"model-00002-of-00002.safetensors\"}}";
    write_file("model.safetensors.index.json", wrong, strlen(wrong));
    CHECK(ss_st_open_dir(g_dir, &sf) == SS_ERR_FORMAT && !sf);
    CHECK(strstr(ss_errmsg(), "tensor 'x' is listed in shard model-00002-of-00002.safetensors") != NULL);
    /* a shard path that leaves the directory */
    const char *escape = "{\"weight_map\":{\"x\":\"../model-00001-of-00002.safetensors\"}}";
    write_file("model.safetensors.index.json", escape, strlen(escape));
    CHECK(ss_st_open_dir(g_dir, &sf) == SS_ERR_FORMAT && !sf);
    CHECK(strstr(ss_errmsg(), "not a plain shard file name") != NULL);
    /* a missing shard */
    const char *missing = "{\"weight_map\":{\"x\":\"model-00009-of-00009.safetensors\"}}";
    write_file("model.safetensors.index.json", missing, strlen(missing));
    CHECK(ss_st_open_dir(g_dir, &sf) == SS_ERR_IO && !sf);
    CHECK(strstr(ss_errmsg(), "model-00009-of-00009.safetensors") != NULL);
    /* the same tensor in two shards */
    image s3 = make_image("{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 8, x, 4, -1);
    write_file("model-00003-of-00003.safetensors", s3.buf, s3.size);
    const char *dup = "{\"weight_map\":{\"x\":\"model-00001-of-00002.safetensors\","
                      "\"x2\":\"model-00003-of-00003.safetensors\"}}";
    write_file("model.safetensors.index.json", dup, strlen(dup));
    CHECK(ss_st_open_dir(g_dir, &sf) == SS_ERR_FORMAT && !sf);
    CHECK(strstr(ss_errmsg(), "tensor 'x' appears in both") != NULL);
    /* not JSON */
    write_file("model.safetensors.index.json", "{", 1);
    CHECK(ss_st_open_dir(g_dir, &sf) == SS_ERR_FORMAT && !sf);
    CHECK(strstr(ss_errmsg(), "model.safetensors.index.json: not valid JSON") != NULL);

    remove_file("model-00001-of-00002.safetensors");
    remove_file("model-00002-of-00002.safetensors");
    remove_file("model-00003-of-00003.safetensors");
    remove_file("model.safetensors.index.json");
    free(s1.buf);
    free(s2.buf);
    free(s3.buf);
}

int main(void)
{
    if (!mkdtemp(g_dir)) {
        perror("mkdtemp");
        return 1;
    }
    test_valid();
    test_corrupt();
    test_truncations();
    test_sharded();
    rmdir(g_dir);
    TEST_END();
}
