/* test_sink.c: the sink kernels and the sink_rate / top_keys analyses on hand-computed attention.
 *
 * Head 0 (causal, T = 4), rows = queries:     Head 1: the identity (every query attends to itself).
 *   [1     0     0     0   ]
 *   [0.5   0.5   0     0   ]                  alpha_k = 1/(T-k) * A[k][k] = [1/4, 1/3, 1/2, 1]
 *   [0.5   0.25  0.25  0   ]
 *   [0.25  0.25  0.25  0.25]
 * Head 0: alpha (Gu's 1/(T-k+1), 1-based) = [2.25/4, 1/3, 0.5/2, 0.25/1] = [0.5625, 0.3333, 0.25, 0.25]
 *         raw column mean r = [0.5625, 0.25, 0.125, 0.0625]
 * Sink_k^0.5 = [50, 0, 0, 50] %  (head 1's alpha_2 = 0.5 is not > 0.5: the comparison is strict)
 * Sink_k^0.3 = [50, 100, 50, 50] % */
#include <math.h>
#include <string.h>

#include "analysis.h"
#include "sink.h"
#include "test_util.h"

static float g_attn[2][4][4] = {
    {{1, 0, 0, 0}, {0.5f, 0.5f, 0, 0}, {0.5f, 0.25f, 0.25f, 0}, {0.25f, 0.25f, 0.25f, 0.25f}},
    {{1, 0, 0, 0}, {0, 1, 0, 0}, {0, 0, 1, 0}, {0, 0, 0, 1}},
};

static void fill_nan(float *v, int n)
{
    for (int i = 0; i < n; i++) v[i] = NAN;
}

int main(void)
{
    float alpha[4], r[4];

    /* kernels */
    ss_column_importance(&g_attn[0][0][0], 4, 1, alpha);
    const float want_alpha[4] = {0.5625f, 1.0f / 3.0f, 0.25f, 0.25f};
    for (int k = 0; k < 4; k++) CHECK_NEAR(alpha[k], want_alpha[k], 1e-7);
    /* a sliding window of 2: key j is seen by queries j and j+1 only (the last key by itself) */
    ss_column_importance_window(&g_attn[0][0][0], 4, 1, 2, alpha);
    const float want_win[4] = {0.75f, 0.375f, 0.25f, 0.25f};
    for (int k = 0; k < 4; k++) CHECK_NEAR(alpha[k], want_win[k], 1e-7);
    CHECK(ss_key_candidates_window(64, 1, 8, 1) == 63);  /* need max(1, ceil(8/4)) = 2 queries: keys 0..62 */
    CHECK(ss_key_candidates_window(64, 1, 8, 9) == 0);   /* no key has 9 queries in a window of 8 */
    CHECK(ss_key_candidates_window(64, 1, 0, 1) == ss_key_candidates(64, 1, 1));
    ss_column_mean(&g_attn[0][0][0], 4, r);
    const float want_r[4] = {0.5625f, 0.25f, 0.125f, 0.0625f};
    for (int k = 0; k < 4; k++) CHECK_NEAR(r[k], want_r[k], 1e-7);
    ss_column_importance(&g_attn[0][0][0], 4, 0, alpha); /* bidirectional: alpha = r */
    for (int k = 0; k < 4; k++) CHECK_NEAR(alpha[k], want_r[k], 1e-7);
    const float tie[3] = {0.2f, 0.5f, 0.5f};
    CHECK(ss_argmax(tie, 3) == 1); /* ties go to the lowest index */
    CHECK(ss_argmax(tie, 1) == 0);
    /* candidates: T=4 min 1 -> all; min 2 -> keys seen by >= 2 queries (0..2); T=3 < min 4 -> none */
    CHECK(ss_key_candidates(4, 1, 1) == 4);
    CHECK(ss_key_candidates(4, 1, 2) == 3);
    CHECK(ss_key_candidates(64, 1, 4) == 49); /* ceil(64/4) = 16 queries needed: keys 0..48 */
    CHECK(ss_key_candidates(3, 1, 4) == 0);
    CHECK(ss_key_candidates(3, 0, 4) == 3); /* encoders: every key sees every query */

    /* sink_rate analysis through the registry */
    int32_t tokens[4] = {1, 2, 3, 4};
    ss_capture cap = {.n_layers = 1, .n_heads = 2, .n_tokens = 4, .d_model = 0, .causal = 1, .tokens = tokens,
                      .attn = &g_attn[0][0][0], .hidden = NULL};
    ss_model_dims dims = {.n_layers = 1, .n_heads = 2, .max_tokens = 6, .causal = 1};
    double eps_list[2] = {0.5, 0.3};
    ss_param_value sr_params[2] = {{.name = "epsilon", .type = SS_PARAM_FLOAT_LIST, .list = eps_list, .n_list = 2},
                                   {.name = "k_store", .type = SS_PARAM_INT, .num = 4}};
    ss_analysis_spec sr_spec = {.name = "sink", .type = "sink_rate", .params = sr_params, .n_params = 2};
    const ss_analysis_type *sr = ss_analysis_find("sink_rate");
    CHECK(sr != NULL);
    ss_dataset_decl decl[SS_MAX_DATASETS];
    int nd = 0;
    CHECK(sr->declare(&sr_spec, &dims, decl, &nd) == SS_OK && nd == 2);
    CHECK(strcmp(decl[0].name, "sink_rate") == 0 && decl[0].dims[0] == 2 && decl[0].dims[1] == 6);
    CHECK(strcmp(decl[1].name, "alpha") == 0 && decl[1].dims[2] == 4);
    float sink_rate[2][6], alpha_out[1][2][4];
    fill_nan(&sink_rate[0][0], 12);
    fill_nan(&alpha_out[0][0][0], 8);
    void *bufs[2] = {sink_rate, alpha_out};
    CHECK(sr->compute(&sr_spec, &dims, &cap, bufs) == SS_OK);
    const float want05[4] = {50, 0, 0, 50}, want03[4] = {50, 100, 50, 50};
    for (int k = 0; k < 4; k++) {
        CHECK_NEAR(sink_rate[0][k], want05[k], 0);
        CHECK_NEAR(sink_rate[1][k], want03[k], 0);
    }
    CHECK(isnan(sink_rate[0][4]) && isnan(sink_rate[1][5])); /* beyond T: untouched */
    CHECK_NEAR(alpha_out[0][0][1], 1.0 / 3.0, 1e-7);
    CHECK_NEAR(alpha_out[0][1][3], 1.0, 0);

    /* top_keys analysis */
    ss_param_value tk_params[1] = {{.name = "min_queries", .type = SS_PARAM_INT, .num = 2}};
    ss_analysis_spec tk_spec = {.name = "top", .type = "top_keys", .params = tk_params, .n_params = 1};
    const ss_analysis_type *tk = ss_analysis_find("top_keys");
    CHECK(tk != NULL && tk->declare(&tk_spec, &dims, decl, &nd) == SS_OK && nd == 6);
    int32_t top_key[2], top_key_alpha[2], top_class[2], top_class_alpha[2];
    float top_share[2], top_alpha[2];
    top_key_alpha[0] = top_key_alpha[1] = -1;
    top_alpha[0] = top_alpha[1] = NAN;
    uint8_t classes[4] = {SS_TOK_START, SS_TOK_CONTENT, SS_TOK_PUNCT, SS_TOK_END};
    cap.token_class = classes;
    void *tbufs[6] = {top_key, top_share, top_key_alpha, top_alpha, top_class, top_class_alpha};
    CHECK(tk->compute(&tk_spec, &dims, &cap, tbufs) == SS_OK);
    CHECK(top_class[0] == SS_TOK_START && top_class[1] == SS_TOK_START); /* both top keys are position 0 */
    CHECK(top_class_alpha[0] == SS_TOK_START && top_class_alpha[1] == SS_TOK_PUNCT);
    CHECK(top_key[0] == 0 && top_key[1] == 0); /* head 1: a four-way tie of r = 0.25 -> position 0 */
    CHECK_NEAR(top_share[0], 0.5625, 1e-7);
    CHECK_NEAR(top_share[1], 0.25, 1e-7);
    CHECK(top_key_alpha[0] == 0);
    CHECK(top_key_alpha[1] == 2); /* key 3 (alpha 1) is seen by one query only: not a candidate */
    CHECK_NEAR(top_alpha[1], 0.5, 1e-7);

    /* a prompt shorter than min_queries: no alpha candidate, left at -1 / NaN */
    tk_params[0].num = 5;
    top_key_alpha[0] = top_key_alpha[1] = -1;
    top_alpha[0] = top_alpha[1] = NAN;
    CHECK(tk->compute(&tk_spec, &dims, &cap, tbufs) == SS_OK);
    CHECK(top_key_alpha[0] == -1 && isnan(top_alpha[0]));
    CHECK(top_key[0] == 0); /* the raw convention still answers */
    TEST_END();
}
