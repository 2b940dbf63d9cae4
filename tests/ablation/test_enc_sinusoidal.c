/* test_enc_sinusoidal.c: `sinusoidal` adds the Transformer's sinusoidal table to the embeddings in
 * place of the model's own positional signal.
 *
 * 1. The table (ss_sinusoidal_table) against values worked out by hand from
 *    PE(t, 2i) = sin(t·10000^(−2i/d)), PE(t, 2i+1) = cos(t·10000^(−2i/d)): row 0 is 0, 1, 0, 1, ...;
 *    PE(1, 0) = sin 1, PE(1, 1) = cos 1; and, for d = 32, 24, 16, PE(3, 2), PE(3, 3), PE(7, 5),
 *    PE(20, d−2), PE(20, d−1) (decimal values below); rows t0.. of a later call equal rows of a
 *    call from 0.
 * 2. Decoders (gpt2, llama, gpt_neox, bloom): hidden[0] under sinusoidal minus hidden[0] under none
 *    (the token embedding alone; after BLOOM's embedding LayerNorm, where the table is added) is the
 *    table, to fp32 rounding of the addition, and its entries are the hand values of 1.
 * 3. BERT (tiny, MiniLM): the table enters where the learned rows did, before the embedding
 *    LayerNorm: hidden[0] row t = LayerNorm(word[id_t] + PE(t) + type[0]), recomputed here in double
 *    from the weights.
 * 4. Repeated token: positions are back, so hidden[0] has different rows on every model, and no RoPE
 *    or ALiBi is left: q = q_pre, and the attention is the plain softmax of the captured q, k. */
#include "ablation.h"
#include "model/encoding.h"

enum { T = 24 };

typedef struct {
    int t, c;
    double v;
} pe_value;

/* PE(t, c) by hand for d = 32, 24, 16 (t·10000^(−2i/d) then sin/cos, to 16 digits). */
static const pe_value g_pe32[] = {{1, 0, 0.8414709848078965}, {1, 1, 0.5403023058681398},
                                  {3, 2, 0.993253167134793},   {3, 3, -0.11596614150993839},
                                  {7, 5, -0.5994373929764008}, {20, 30, 0.003556551322198252},
                                  {20, 31, 0.9999936754513463}};
static const pe_value g_pe24[] = {{1, 0, 0.8414709848078965}, {1, 1, 0.5403023058681398},
                                  {3, 2, 0.9841431312738992},  {3, 3, 0.17737614599039198},
                                  {7, 5, 0.06265098549859366}, {20, 22, 0.0043088560467428125},
                                  {20, 23, 0.9999907168366957}};
static const pe_value g_pe16[] = {{1, 0, 0.8414709848078965}, {1, 1, 0.5403023058681398},
                                  {3, 2, 0.8126488966420368},  {3, 3, 0.5827536107022249},
                                  {7, 5, 0.7648421872844884},  {20, 14, 0.006324513156718951},
                                  {20, 15, 0.9999800000666665}};

static const pe_value *hand_values(int d)
{
    return d == 32 ? g_pe32 : d == 24 ? g_pe24 : d == 16 ? g_pe16 : NULL;
}

/* 1. */
static void check_table(void)
{
    static const int ds[3] = {32, 24, 16};
    for (int k = 0; k < 3; k++) {
        const int d = ds[k];
        float *tab = malloc((size_t)T * d * sizeof *tab), *tail = malloc((size_t)(T - 5) * d * sizeof *tail);
        if (!tab || !tail) exit(1);
        ss_sinusoidal_table(tab, 0, T, d);
        ss_sinusoidal_table(tail, 5, T - 5, d);
        double worst = 0.0;
        for (int c = 0; c < d; c++) worst = fmax(worst, fabs(tab[c] - (c % 2 ? 1.0 : 0.0)));
        for (int v = 0; v < 7; v++) {
            const pe_value *p = &hand_values(d)[v];
            worst = fmax(worst, fabs(tab[(size_t)p->t * d + p->c] - p->v));
        }
        printf("sinusoidal table d=%d: max |table - hand values| %.3g; rows 5.. of a call from 5 %s\n", d, worst,
               abl_same_bits(tab + (size_t)5 * d, tail, (size_t)(T - 5) * d) ? "identical" : "DIFFER");
        CHECK(worst <= 1e-7);
        CHECK(abl_same_bits(tab + (size_t)5 * d, tail, (size_t)(T - 5) * d));
        free(tab);
        free(tail);
    }
}

static float *g_table; /* [T][d] for pos_row */
static const float *table_row(void *ctx, int t) { return g_table + (size_t)t * *(const int *)ctx; }

/* 4. */
static void check_repeated(abl_model *am)
{
    int32_t rep[T];
    for (int t = 0; t < T; t++) rep[t] = 42;
    ss_capture c;
    if (!abl_forward(am, rep, T, &c)) return;
    const int d = c.d_model, dh = c.d_head, H = c.n_heads;
    double spread0 = 0.0, worst = 0.0, s[T];
    for (int i = 1; i < T; i++)
        spread0 = fmax(spread0, abl_max_abs_diff(c.hidden + (size_t)i * d, c.hidden, (size_t)d));
    const size_t qn = (size_t)c.n_layers * H * T * dh, kn = (size_t)c.n_layers * c.n_kv_heads * T * dh;
    const int same = abl_same_bits(c.q, c.q_pre, qn) && abl_same_bits(c.k, c.k_pre, kn);
    for (int l = 0; l < c.n_layers; l++)
        for (int h = 0; h < H; h++)
            for (int i = 0; i < T; i++) {
                const int nj = c.causal ? i + 1 : T, lo = abl_first_key(&c, l, i);
                double mx = -INFINITY, z = 0.0;
                for (int j = lo; j < nj; j++) {
                    s[j] = abl_dot(abl_q(&c, c.q, l, h) + (size_t)i * dh, abl_k(&c, c.k, l, h) + (size_t)j * dh, dh) /
                           sqrt((double)dh);
                    mx = fmax(mx, s[j]);
                }
                for (int j = lo; j < nj; j++) z += exp(s[j] - mx);
                for (int j = lo; j < nj; j++)
                    worst = fmax(worst, fabs(exp(s[j] - mx) / z - abl_attn(&c, l, h)[(size_t)i * T + j]));
            }
    printf("%-8s sinusoidal, repeated token: hidden[0] rows differ by up to %.3g; q,k = q_pre,k_pre %s; "
           "attention vs plain softmax %.3g\n",
           am->label, spread0, same ? "exactly" : "NO", worst);
    CHECK_MSG(spread0 > 1e-2, "%s: the sinusoidal table does not reach hidden[0]", am->label);
    CHECK_MSG(same && worst <= 1e-5, "%s: a RoPE or ALiBi term is left", am->label);
    ss_capture_free(&c);
}

int main(int argc, char **argv)
{
    check_table();
    abl_model ms[MAX_MODELS];
    const int n = abl_load_all(ms, argc, argv);
    for (int mi = 0; mi < n; mi++) {
        abl_model *am = &ms[mi];
        int d = am->in->d_model;
        int32_t ids[T];
        abl_model_ids(am, ids, T, 3);
        g_table = malloc((size_t)T * d * sizeof *g_table);
        if (!g_table) exit(1);
        ss_sinusoidal_table(g_table, 0, T, d);
        ss_capture cs, cn;
        if (!abl_set(am, SS_ENC_SINUSOIDAL, 0, 0, 0) || !abl_forward(am, ids, T, &cs)) continue;
        if (abl_is_bert(am)) {
            /* 3. */
            const double diff = abl_bert_embed_diff(am, &cs, ids, table_row, &d);
            printf("%-8s sinusoidal: max |hidden[0] - LayerNorm(word + PE + type)| %.3g\n", am->label, diff);
            CHECK_MSG(diff <= 1e-5, "%s: hidden[0] is not LayerNorm(word + PE + type) (%g)", am->label, diff);
        } else if (abl_set(am, SS_ENC_NONE, 0, 0, 0) && abl_forward(am, ids, T, &cn)) {
            /* 2. */
            double worst = 0.0, hand = 0.0;
            for (size_t i = 0; i < (size_t)T * d; i++) {
                const double diff = (double)cs.hidden[i] - cn.hidden[i];
                /* (e + p) − e is p to within half an ulp of e + p */
                const double tol = 1e-7 * fmax(1.0, fabs(cs.hidden[i]));
                worst = fmax(worst, fabs(diff - g_table[i]) / tol);
            }
            const pe_value *pv = hand_values(d);
            for (int v = 0; pv && v < 7; v++) {
                const size_t i = (size_t)pv[v].t * d + pv[v].c;
                hand = fmax(hand, fabs(((double)cs.hidden[i] - cn.hidden[i]) - pv[v].v));
            }
            printf("%-8s sinusoidal: hidden[0] - hidden[0] under none = table, within %.2f of the rounding bound; "
                   "vs hand values %.3g\n",
                   am->label, worst, hand);
            CHECK_MSG(worst <= 1.0, "%s: hidden[0] minus the embedding is not the sinusoidal table", am->label);
            CHECK_MSG(pv && hand <= 1e-6, "%s: the table's values differ from the hand values (%g)", am->label, hand);
            ss_capture_free(&cn);
        }
        ss_capture_free(&cs);
        if (abl_set(am, SS_ENC_SINUSOIDAL, 0, 0, 0)) check_repeated(am);
        free(g_table);
        CHECK(ss_model_set_encoding(am->m, NULL) == SS_OK);
    }
    abl_free_all(ms, n);
    TEST_END();
}
