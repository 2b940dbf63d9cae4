/* test_safetensors_write.c: ss_st_write round trips through the reader (ss_st_open_dir, whose own checks
 * run on the file: header, offsets, sizes, overlaps, alignment) and writes the layout it promises: header
 * length a multiple of 8, "__metadata__" {"format": "pt"}, tensors back to back in name order from offset 0;
 * bad arguments are refused before anything is written, a failed write leaves no file behind. */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "model/safetensors.h"
#include "test_util.h" /* CHECK, CHECK_NEAR, CHECK_STREQ, TEST_END */

static char g_dir[] = "/tmp/ss_test_st_write_XXXXXX";

static char *path_in(const char *name)
{
    static char buf[512];
    snprintf(buf, sizeof buf, "%s/%s", g_dir, name);
    return buf;
}

static int exists(const char *p)
{
    struct stat sb;
    return stat(p, &sb) == 0;
}

static long file_size(const char *p)
{
    struct stat sb;
    return stat(p, &sb) == 0 ? (long)sb.st_size : -1;
}

int main(void)
{
    if (!mkdtemp(g_dir)) {
        perror("mkdtemp");
        return 1;
    }
    /* Four tensors given out of name order: a [2][3] matrix, a 3-D [2][1][3], a scalar, an empty [0]. */
    float w[6], cube[6], scalar = -2.5f, unused = 0.0f;
    for (int i = 0; i < 6; i++) {
        w[i] = 0.5f * (float)i - 1.0f;
        cube[i] = 100.0f + (float)i;
    }
    const char *names[] = {"zeta.weight", "alpha", "mid.cube", "empty"};
    const int n_dims[] = {2, 0, 3, 1};
    const int64_t s_w[] = {2, 3}, s_cube[] = {2, 1, 3}, s_empty[] = {0};
    const int64_t *shapes[] = {s_w, NULL, s_cube, s_empty};
    const float *data[] = {w, &scalar, cube, &unused};
    char *file = strdup(path_in("model.safetensors"));
    ss_status st = ss_st_write(file, 4, names, n_dims, shapes, data);
    CHECK_MSG(st == SS_OK, "%s", ss_errmsg());
    CHECK(!exists(path_in("model.safetensors.tmp")));

    /* The reader accepts it and gives the values back. */
    ss_safetensors *sf = NULL;
    st = ss_st_open_dir(g_dir, &sf);
    CHECK_MSG(st == SS_OK, "%s", ss_errmsg());
    if (sf) {
        CHECK(sf->n_tensors == 4);
        const float *p = NULL;
        CHECK(ss_st_get_f32(sf, "zeta.weight", 2, s_w, &p) == SS_OK);
        for (int i = 0; p && i < 6; i++) CHECK(p[i] == w[i]);
        CHECK(ss_st_get_f32(sf, "mid.cube", 3, s_cube, &p) == SS_OK);
        for (int i = 0; p && i < 6; i++) CHECK(p[i] == cube[i]);
        CHECK(ss_st_get_f32(sf, "alpha", 0, NULL, &p) == SS_OK);
        CHECK(p && *p == -2.5f);
        CHECK(ss_st_get_f32(sf, "empty", 1, s_empty, &p) == SS_OK);
        /* the wrong shape is still refused by the reader */
        CHECK(ss_st_get_f32(sf, "zeta.weight", 2, (const int64_t[]){3, 2}, &p) == SS_ERR_FORMAT);
        /* back to back in name order: alpha [0,4), empty [4,4), mid.cube [4,28), zeta.weight [28,52) */
        static const char *want[] = {"alpha", "empty", "mid.cube", "zeta.weight"};
        static const uint64_t begin[] = {0, 4, 4, 28}, end[] = {4, 4, 28, 52};
        for (int i = 0; i < 4; i++) {
            const ss_st_tensor *t = ss_st_find(sf, want[i]);
            CHECK(t && t->begin == begin[i] && t->end == end[i]);
        }
        ss_st_free(sf);
    }

    /* The raw layout: header length a multiple of 8, space padded, the metadata, the file size. */
    FILE *f = fopen(file, "rb");
    CHECK(f != NULL);
    if (f) {
        uint8_t len8[8];
        CHECK(fread(len8, 1, 8, f) == 8);
        uint64_t hl = 0;
        for (int i = 7; i >= 0; i--) hl = hl << 8 | len8[i];
        CHECK(hl % 8 == 0 && hl > 0 && hl < 4096);
        char *hdr = calloc(1, (size_t)hl + 1);
        CHECK(hdr && fread(hdr, 1, (size_t)hl, f) == hl);
        fclose(f);
        CHECK(file_size(file) == (long)(8 + hl + 52));
        json_error_t jerr;
        json_t *root = hdr ? json_loads(hdr, 0, &jerr) : NULL; /* trailing spaces are whitespace */
        CHECK(root != NULL);
        CHECK_STREQ(json_string_value(json_object_get(json_object_get(root, "__metadata__"), "format")), "pt");
        CHECK_STREQ(json_string_value(json_object_get(json_object_get(root, "alpha"), "dtype")), "F32");
        CHECK(json_array_size(json_object_get(json_object_get(root, "alpha"), "shape")) == 0);
        size_t h = hdr ? strlen(hdr) : 0;
        CHECK(h == hl); /* no NUL inside */
        const char *close = hdr ? strrchr(hdr, '}') : NULL;
        CHECK(close && h - (size_t)(close + 1 - hdr) < 8 && strspn(close + 1, " ") == h - (size_t)(close + 1 - hdr));
        json_decref(root);
        free(hdr);
    }

    /* Overwriting replaces the file whole. */
    const char *one[] = {"only"};
    const int one_dims[] = {1};
    const int64_t s_one[] = {2};
    const int64_t *one_shapes[] = {s_one};
    const float *one_data[] = {w};
    CHECK(ss_st_write(file, 1, one, one_dims, one_shapes, one_data) == SS_OK);
    sf = NULL;
    CHECK(ss_st_open(file, &sf) == SS_OK);
    CHECK(sf && sf->n_tensors == 1 && ss_st_find(sf, "only") && !ss_st_find(sf, "alpha"));
    ss_st_free(sf);

    /* Refused before writing anything: a duplicate name, the reserved name, a negative dimension, too many
     * dimensions, no data. */
    char *bad = strdup(path_in("bad.safetensors"));
    const char *dup[] = {"x", "x"};
    const int dup_dims[] = {1, 1};
    const int64_t *dup_shapes[] = {s_one, s_one};
    const float *dup_data[] = {w, w};
    CHECK(ss_st_write(bad, 2, dup, dup_dims, dup_shapes, dup_data) == SS_ERR_INPUT);
    CHECK(strstr(ss_errmsg(), "'x' is given twice") != NULL);
    const char *meta[] = {"__metadata__"};
    CHECK(ss_st_write(bad, 1, meta, one_dims, one_shapes, one_data) == SS_ERR_INPUT);
    const int64_t s_neg[] = {-1};
    const int64_t *neg_shapes[] = {s_neg};
    CHECK(ss_st_write(bad, 1, one, one_dims, neg_shapes, one_data) == SS_ERR_INPUT);
    const int many_dims[] = {SS_ST_MAX_DIMS + 1};
    CHECK(ss_st_write(bad, 1, one, many_dims, one_shapes, one_data) == SS_ERR_INPUT);
    const float *no_data[] = {NULL};
    CHECK(ss_st_write(bad, 1, one, one_dims, one_shapes, no_data) == SS_ERR_INPUT);
    CHECK(!exists(bad));
    CHECK(!exists(path_in("bad.safetensors.tmp")));

    /* A directory that does not exist: SS_ERR_IO naming the temp file. */
    char missing[600];
    snprintf(missing, sizeof missing, "%s/no/such/dir/m.safetensors", g_dir);
    CHECK(ss_st_write(missing, 1, one, one_dims, one_shapes, one_data) == SS_ERR_IO);
    CHECK(strstr(ss_errmsg(), "m.safetensors.tmp") != NULL);

    /* Zero tensors: a valid file holding only the metadata. */
    CHECK(ss_st_write(bad, 0, NULL, NULL, NULL, NULL) == SS_OK);
    sf = NULL;
    CHECK(ss_st_open(bad, &sf) == SS_OK && sf && sf->n_tensors == 0);
    ss_st_free(sf);

    unlink(bad);
    unlink(file);
    rmdir(g_dir);
    free(bad);
    free(file);
    TEST_END();
}
