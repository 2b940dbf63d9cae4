/* frames.c: the reference-frame classifier on arrays (frames.h; the method is documented in schemas/frames.md).
 *
 * The features of one evaluation are computed from prompt multiplicities w[u] (1 for every used prompt on the full
 * data; a multinomial draw for a bootstrap resample), so the full data and every resample go through one code path.
 * Token ids are mapped once to dense indices (sorted unique ids), so counting per layer is a plain array. */
#include "frames.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "capture.h" /* SS_TOK_* */

#define EPS 1e-12 /* comparisons with a threshold are exact up to rounding: x >= t means x >= t - EPS */

static int ge(double x, double t) { return x >= t - EPS; }
static int lt(double x, double t) { return x < t - EPS; }
static int gt(double x, double t) { return x > t + EPS; }

const char *ss_frame_name(int code)
{
    static const char *const names[SS_FRAME_N] = {"none", "centralized", "bidirectional", "distributed", "mixed"};
    return code >= 0 && code < SS_FRAME_N ? names[code] : "unknown";
}

/* The prepared data: used prompts only, ids as dense indices. */
typedef struct {
    int N, L, H;         /* N = used prompts */
    int causal;
    int32_t *id;         /* [N][L][H] dense id index, -1: no pair */
    int8_t *cls;         /* [N][L][H] class */
    int32_t *uniq;       /* [n_uniq] sorted distinct token ids */
    int n_uniq;
    double *R;           /* [N][L] |R|, NaN where missing; NULL: no |R| */
    int first_third;
    int skip;
} prep;

/* Scratch and optional per-layer outputs of one evaluation. */
typedef struct {
    int32_t *cnt;        /* [n_uniq] per-id counts (all zero between layers) */
    int32_t *ccnt;       /* [n_uniq][SS_TOK_N_CLASSES] class counts per id (full data only), or NULL */
    ss_frames_result *r; /* full data: per-layer arrays to fill; NULL for a resample */
    /* per-layer features, [L] each */
    double *share_first, *share_start, *share_end, *m, *constant, *meanR;
    int64_t *tot;
} evalbuf;

static int cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return x < y ? -1 : x > y;
}

static int dense_of(const prep *P, int32_t v)
{
    int lo = 0, hi = P->n_uniq - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        if (P->uniq[mid] == v) return mid;
        if (P->uniq[mid] < v) lo = mid + 1;
        else hi = mid - 1;
    }
    return -1;
}

/* A prompt is a repeated-token input when its tokens other than the special ids are at least two and all equal.
 * Returns 0 when it is not one, 1 when it is, and 2 when moreover every token, specials included, is that one id:
 * the premise of Gu et al.'s Props. 1-4 (identical inputs at every position). */
static int repeated_kind(const ss_frames_input *in, int p)
{
    const int32_t *t = in->tokens + (size_t)p * in->tok_stride; /* [n_tokens] */
    int n = 0, n_special = 0;
    int32_t first = -1;
    for (int i = 0; i < in->n_tokens[p]; i++) {
        int special = 0;
        for (int s = 0; s < in->n_special && in->special_ids; s++) special |= t[i] == in->special_ids[s];
        if (special) {
            n_special++;
            continue;
        }
        if (n == 0) first = t[i];
        else if (t[i] != first) return 0;
        n++;
    }
    return n < 2 ? 0 : n_special ? 1 : 2;
}

/* A repeated-token input carries no sink by construction, and is left out, only when nothing tells its positions
 * apart: every token is the same id (no start or end special) and the encoding in effect is RoPE, ALiBi or none
 * (Gu et al. Props. 1-4). With absolute positions (learned, sinusoidal, shuffled) position 1 keeps its own signal,
 * and a prepended BOS/[CLS] or an appended [SEP] is a distinct token: a sink can form, so the prompt is classified. */
static int left_out_as_repeated(const ss_frames_input *in, int p, int *kept)
{
    const int kind = repeated_kind(in, p);
    const int out = kind == 2 && !in->absolute_positions;
    *kept += kind > 0 && !out;
    return out;
}

static void prep_free(prep *P)
{
    free(P->id);
    free(P->cls);
    free(P->uniq);
    free(P->R);
    memset(P, 0, sizeof *P);
}

/* used: [n_used] indices of the prompts that enter. */
static ss_status prep_build(const ss_frames_input *in, const int *used, int n_used, prep *P)
{
    const int L = in->L, H = in->H;
    const size_t per = (size_t)L * H;
    memset(P, 0, sizeof *P);
    P->N = n_used;
    P->L = L;
    P->H = H;
    P->causal = in->causal;
    P->id = malloc((n_used ? n_used : 1) * per * sizeof *P->id);    /* [N][L][H] */
    P->cls = malloc((n_used ? n_used : 1) * per * sizeof *P->cls);  /* [N][L][H] */
    P->uniq = malloc((n_used ? n_used : 1) * per * sizeof *P->uniq); /* [<= N*L*H] */
    if (in->ref_count) P->R = malloc((size_t)(n_used ? n_used : 1) * L * sizeof *P->R); /* [N][L] */
    if (!P->id || !P->cls || !P->uniq || (in->ref_count && !P->R)) {
        prep_free(P);
        return ss_fail(SS_ERR_NOMEM, "frames: out of memory");
    }
    int n = 0;
    for (int u = 0; u < n_used; u++) {
        const int p = used[u];
        const int32_t *tok = in->tokens + (size_t)p * in->tok_stride; /* [n_tokens] */
        for (size_t k = 0; k < per; k++) {
            const size_t src = (size_t)p * per + k, dst = (size_t)u * per + k;
            const int32_t pos = in->top_pos[src], c = in->top_class[src];
            const int ok = pos >= 0 && pos < in->n_tokens[p] && c >= 0 && c < SS_TOK_N_CLASSES;
            P->id[dst] = ok ? tok[pos] : -1; /* the token id for now; made dense below */
            P->cls[dst] = (int8_t)(ok ? c : -1);
            if (ok) P->uniq[n++] = tok[pos];
        }
        if (P->R)
            for (int l = 0; l < L; l++) {
                const float r = in->ref_count[(size_t)p * L + l];
                P->R[(size_t)u * L + l] = r >= 0 ? (double)r : NAN; /* -1: not written */
            }
    }
    qsort(P->uniq, (size_t)n, sizeof *P->uniq, cmp_i32);
    int nu = 0;
    for (int i = 0; i < n; i++)
        if (nu == 0 || P->uniq[nu - 1] != P->uniq[i]) P->uniq[nu++] = P->uniq[i];
    P->n_uniq = nu;
    for (size_t k = 0; k < (size_t)n_used * per; k++)
        if (P->cls[k] >= 0) P->id[k] = dense_of(P, P->id[k]);
    P->first_third = (L + 2) / 3;
    return SS_OK;
}

/* One evaluation on multiplicities w[N]: the per-layer features into eb, the overall label returned.
 * With eb->r set (the full data), every per-layer output and overall score is written there too. */
static int evaluate(const prep *P, const int *w, const ss_frames_params *fp, evalbuf *eb)
{
    const int N = P->N, L = P->L, H = P->H;
    const size_t per = (size_t)L * H;
    ss_frames_result *r = eb->r;
    int n_layers_data = 0, heads_with_pairs = 0, heads_constant = 0;
    double R_sum = 0;
    int R_n = 0;
    for (int l = 0; l < L; l++) {
        int64_t cc[SS_TOK_N_CLASSES] = {0}, tot = 0;
        int best = -1, second = -1;
        int32_t best_c = 0, second_c = 0;
        double ent = 0;
        /* pass 1: class and id counts */
        for (int u = 0; u < N; u++) {
            if (!w[u]) continue;
            for (int h = 0; h < H; h++) {
                const size_t k = (size_t)u * per + (size_t)l * H + h;
                if (P->cls[k] < 0) continue;
                cc[P->cls[k]] += w[u];
                tot += w[u];
                eb->cnt[P->id[k]] += w[u];
                if (eb->ccnt) eb->ccnt[(size_t)P->id[k] * SS_TOK_N_CLASSES + P->cls[k]] += w[u];
            }
        }
        /* pass 2: the largest and second largest id counts (ties: the smaller id), entropy; counts reset */
        for (int u = 0; u < N; u++) {
            if (!w[u]) continue;
            for (int h = 0; h < H; h++) {
                const size_t k = (size_t)u * per + (size_t)l * H + h;
                if (P->cls[k] < 0) continue;
                const int i = P->id[k];
                const int32_t c = eb->cnt[i];
                if (c == 0) continue; /* already visited */
                const double q = (double)c / (double)tot;
                ent -= q * log(q);
                if (c > best_c || (c == best_c && i < best)) {
                    second = best, second_c = best_c;
                    best = i, best_c = c;
                } else if (c > second_c || (c == second_c && i < second)) {
                    second = i, second_c = c;
                }
                eb->cnt[i] = 0;
            }
        }
        /* heads whose top-key id is the same on every drawn prompt that has one */
        int l_heads = 0, l_const = 0;
        for (int h = 0; h < H; h++) {
            int first = -1, constant = 1, any = 0;
            for (int u = 0; u < N && constant; u++) {
                const size_t k = (size_t)u * per + (size_t)l * H + h;
                if (!w[u] || P->cls[k] < 0) continue;
                if (!any) first = P->id[k], any = 1;
                else if (P->id[k] != first) constant = 0;
            }
            if (!any) continue;
            l_heads++;
            l_const += constant;
        }
        double meanR = NAN;
        if (P->R) {
            double s = 0;
            int64_t n = 0;
            for (int u = 0; u < N; u++)
                if (w[u] && !isnan(P->R[(size_t)u * L + l])) s += (double)w[u] * P->R[(size_t)u * L + l], n += w[u];
            if (n > 0) meanR = s / (double)n;
        }
        const double t = (double)tot;
        eb->tot[l] = tot;
        eb->share_first[l] = tot ? (double)cc[SS_TOK_FIRST] / t : NAN;
        eb->share_start[l] = tot ? (double)cc[SS_TOK_START] / t : NAN;
        eb->share_end[l] = tot ? (double)cc[SS_TOK_END] / t : NAN;
        eb->m[l] = tot ? (double)best_c / t : NAN;
        eb->constant[l] = l_heads ? (double)l_const / l_heads : NAN;
        eb->meanR[l] = meanR;
        if (tot) {
            n_layers_data++;
            heads_with_pairs += l_heads;
            heads_constant += l_const;
            if (!isnan(meanR)) R_sum += meanR, R_n++;
        }
        if (r) {
            for (int c = 0; c < SS_TOK_N_CLASSES; c++)
                r->shares[(size_t)l * SS_TOK_N_CLASSES + c] = tot ? cc[c] / t : NAN;
            r->n_pairs[l] = (int32_t)tot;
            r->anchor_id[l] = best >= 0 ? P->uniq[best] : -1;
            r->anchor_share[l] = eb->m[l];
            r->m_l[l] = eb->m[l];
            r->anchor2_id[l] = second >= 0 ? P->uniq[second] : -1;
            r->anchor2_share[l] = second >= 0 ? second_c / t : (tot ? 0.0 : NAN);
            r->entropy[l] = tot ? ent + 0.0 : NAN; /* + 0.0: no -0 */
            r->mean_R[l] = meanR;
            r->constant_heads[l] = eb->constant[l];
            r->anchor_class[l] = -1;
            if (best >= 0 && eb->ccnt) {
                int32_t *cl = eb->ccnt + (size_t)best * SS_TOK_N_CLASSES; /* [5] */
                int bc = 0;
                for (int c = 1; c < SS_TOK_N_CLASSES; c++)
                    if (cl[c] > cl[bc]) bc = c;
                r->anchor_class[l] = bc;
            }
            if (eb->ccnt) /* reset the class counts of this layer's ids */
                for (int u = 0; u < N; u++)
                    for (int h = 0; h < H; h++) {
                        const size_t k = (size_t)u * per + (size_t)l * H + h;
                        if (P->cls[k] >= 0) memset(eb->ccnt + (size_t)P->id[k] * SS_TOK_N_CLASSES, 0,
                                                   SS_TOK_N_CLASSES * sizeof *eb->ccnt);
                    }
        }
    }

    /* rule 1: centralized */
    int n_counted = 0, n_cf = 0, n_cs = 0;
    for (int l = P->skip; l < L; l++) {
        if (!eb->tot[l]) continue;
        n_counted++;
        n_cf += ge(eb->share_first[l], fp->theta_c);
        n_cs += ge(eb->share_start[l], fp->theta_c);
    }
    const double frac_first = n_counted ? (double)n_cf / n_counted : NAN;
    const double frac_start = n_counted ? (double)n_cs / n_counted : NAN;
    const int central_class = (n_counted && n_cf > n_cs) ? SS_TOK_FIRST : SS_TOK_START;
    const double central = central_class == SS_TOK_FIRST ? frac_first : frac_start;
    /* rule 2: bidirectional */
    double bstart = NAN, bend = NAN;
    for (int l = 0; l < L; l++) {
        if (!eb->tot[l]) continue;
        if (l < P->first_third) bstart = isnan(bstart) || eb->share_start[l] > bstart ? eb->share_start[l] : bstart;
        else bend = isnan(bend) || eb->share_end[l] > bend ? eb->share_end[l] : bend;
    }
    /* rule 3: distributed */
    int n_low = 0;
    for (int l = 0; l < L; l++) n_low += eb->tot[l] && lt(eb->m[l], fp->theta_d);
    const double dfrac = n_layers_data ? (double)n_low / n_layers_data : NAN;
    const double constant_all = heads_with_pairs ? (double)heads_constant / heads_with_pairs : NAN;
    const double meanR_all = R_n ? R_sum / R_n : NAN;

    int label;
    if (N == 0 || n_layers_data == 0) label = SS_FRAME_NONE;
    else if (n_counted && ge(central, fp->phi)) label = SS_FRAME_CENTRALIZED;
    else if (!P->causal && !isnan(bstart) && !isnan(bend) && ge(bstart, fp->theta_b) && ge(bend, fp->theta_b))
        label = SS_FRAME_BIDIRECTIONAL;
    else if (ge(dfrac, fp->phi) && lt(constant_all, 0.5) && (!P->R || gt(meanR_all, 1.0)))
        label = SS_FRAME_DISTRIBUTED;
    else label = SS_FRAME_MIXED;

    if (r) {
        r->central_fraction = central;
        r->central_class = central_class;
        r->margin_centralized = central - fp->phi;
        r->bidir_start = bstart;
        r->bidir_end = bend;
        r->margin_bidirectional = (bstart < bend ? bstart : bend) - fp->theta_b;
        if (isnan(bstart) || isnan(bend)) r->margin_bidirectional = NAN;
        r->distributed_fraction = dfrac;
        r->constant_heads_all = constant_all;
        r->mean_R_all = meanR_all;
        r->margin_distributed_layers = dfrac - fp->phi;
        r->margin_distributed_heads = 0.5 - constant_all;
        r->margin_distributed_R = P->R ? meanR_all - 1.0 : NAN;
        double md = r->margin_distributed_layers;
        if (r->margin_distributed_heads < md) md = r->margin_distributed_heads;
        if (P->R && !(r->margin_distributed_R >= md)) md = r->margin_distributed_R; /* NaN |R| binds as NaN */
        r->margin_distributed = md;
        /* per-layer labels: the rules applied to the one layer */
        for (int l = 0; l < L; l++) {
            double *mg = r->margins + (size_t)l * 3; /* [3] */
            r->counted[l] = (int8_t)(l >= P->skip && eb->tot[l] > 0);
            if (!eb->tot[l]) {
                r->labels[l] = SS_FRAME_NONE;
                mg[0] = mg[1] = mg[2] = NAN;
                continue;
            }
            const double cmax = eb->share_first[l] > eb->share_start[l] ? eb->share_first[l] : eb->share_start[l];
            const double banchor = l < P->first_third ? eb->share_start[l] : eb->share_end[l];
            double dm = fp->theta_d - eb->m[l];
            if (0.5 - eb->constant[l] < dm) dm = 0.5 - eb->constant[l];
            if (P->R && !(eb->meanR[l] - 1.0 >= dm)) dm = eb->meanR[l] - 1.0;
            mg[SS_FRAME_MARGIN_CENTRALIZED] = cmax - fp->theta_c;
            mg[SS_FRAME_MARGIN_BIDIRECTIONAL] = banchor - fp->theta_b;
            mg[SS_FRAME_MARGIN_DISTRIBUTED] = dm;
            if (ge(cmax, fp->theta_c)) r->labels[l] = SS_FRAME_CENTRALIZED;
            else if (!P->causal && ge(banchor, fp->theta_b)) r->labels[l] = SS_FRAME_BIDIRECTIONAL;
            else if (lt(eb->m[l], fp->theta_d) && lt(eb->constant[l], 0.5) && (!P->R || gt(eb->meanR[l], 1.0)))
                r->labels[l] = SS_FRAME_DISTRIBUTED;
            else r->labels[l] = SS_FRAME_MIXED;
        }
    }
    return label;
}

void ss_frames_result_free(ss_frames_result *r)
{
    if (!r) return;
    free(r->block); /* one block holds every per-layer array */
    memset(r, 0, sizeof *r);
}

/* Carves the per-layer arrays out of one block. */
static ss_status result_alloc(ss_frames_result *r, int L)
{
    const size_t Ls = (size_t)(L > 0 ? L : 1);
    const size_t n_i32 = 5 * Ls, n_dbl = (SS_TOK_N_CLASSES + 3 + 8) * Ls;
    char *b = calloc(1, n_dbl * sizeof(double) + n_i32 * sizeof(int32_t) + Ls);
    if (!b) return ss_fail(SS_ERR_NOMEM, "frames: out of memory");
    double *d = (double *)b;
    r->shares = d, d += SS_TOK_N_CLASSES * Ls;
    r->margins = d, d += 3 * Ls;
    r->anchor_share = d, d += Ls;
    r->anchor2_share = d, d += Ls;
    r->m_l = d, d += Ls;
    r->entropy = d, d += Ls;
    r->mean_R = d, d += Ls;
    r->constant_heads = d, d += Ls;
    d += 2 * Ls; /* spare */
    int32_t *i = (int32_t *)d;
    r->anchor_id = i, i += Ls;
    r->anchor_class = i, i += Ls;
    r->anchor2_id = i, i += Ls;
    r->n_pairs = i, i += Ls;
    r->labels = i, i += Ls;
    r->counted = (int8_t *)i;
    r->block = b;
    return SS_OK;
}

static uint64_t splitmix64(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

ss_status ss_frames_classify(const ss_frames_input *in, const ss_frames_params *fp, ss_frames_result *out)
{
    ss_status st = SS_OK;
    const int N = in->n_prompts > 0 ? in->n_prompts : 0, L = in->L;
    prep P = {0};
    int *used = NULL, *w = NULL;
    evalbuf eb = {0};
    double *fbuf = NULL;
    memset(out, 0, sizeof *out);
    if (L <= 0 || in->H <= 0) return ss_fail(SS_ERR_INPUT, "frames: %d layers and %d heads", L, in->H);
    SS_TRY(result_alloc(out, L));
    out->L = L;
    out->none_reason = "";
    used = malloc((size_t)(N ? N : 1) * sizeof *used); /* [N] */
    if (!used) {
        st = ss_fail(SS_ERR_NOMEM, "frames: out of memory");
        goto done;
    }
    for (int p = 0; p < N; p++) {
        if (left_out_as_repeated(in, p, &out->n_repeated_kept)) out->n_repeated++;
        else used[out->n_used++] = p;
    }
    SS_TRY(prep_build(in, used, out->n_used, &P));
    P.skip = fp->skip_layers < L ? fp->skip_layers : 0;
    out->skip_effective = P.skip;
    out->r_rule = in->ref_count != NULL;
    out->first_third = P.first_third;

    w = malloc((size_t)(P.N ? P.N : 1) * sizeof *w);                                   /* [N] */
    eb.cnt = calloc((size_t)(P.n_uniq ? P.n_uniq : 1), sizeof *eb.cnt);                 /* [n_uniq] */
    eb.ccnt = calloc((size_t)(P.n_uniq ? P.n_uniq : 1) * SS_TOK_N_CLASSES, sizeof *eb.ccnt); /* [n_uniq][5] */
    fbuf = malloc((size_t)L * 6 * sizeof *fbuf);                                       /* 6 x [L] */
    eb.tot = malloc((size_t)L * sizeof *eb.tot);                                       /* [L] */
    if (!w || !eb.cnt || !eb.ccnt || !fbuf || !eb.tot) {
        st = ss_fail(SS_ERR_NOMEM, "frames: out of memory");
        goto done;
    }
    eb.share_first = fbuf, eb.share_start = fbuf + L, eb.share_end = fbuf + 2 * L;
    eb.m = fbuf + 3 * L, eb.constant = fbuf + 4 * L, eb.meanR = fbuf + 5 * L;

    for (int u = 0; u < P.N; u++) w[u] = 1;
    eb.r = out;
    out->label = evaluate(&P, w, fp, &eb);
    eb.r = NULL;
    free(eb.ccnt);
    eb.ccnt = NULL;
    if (out->label == SS_FRAME_NONE)
        out->none_reason = N == 0 ? "no usable prompts (no task of the group is done)"
                           : out->n_used == 0
                               ? "repeated-token inputs only, with no position signal: no sink by construction"
                               : "no head has a top key (prompts too short for the convention)";

    out->sink1 = NAN;
    if (in->sink1) {
        double s = 0;
        int n = 0;
        for (int u = 0; u < out->n_used; u++)
            if (!isnan(in->sink1[used[u]])) s += in->sink1[used[u]], n++;
        if (n) out->sink1 = s / n;
    }

    out->confidence = NAN;
    if (fp->bootstrap > 0) {
        uint64_t rng = fp->seed;
        int agree = 0;
        for (int b = 0; b < fp->bootstrap; b++) {
            memset(w, 0, (size_t)(P.N ? P.N : 1) * sizeof *w);
            for (int i = 0; i < P.N; i++) w[(int)((double)(splitmix64(&rng) >> 11) * 0x1p-53 * P.N)]++;
            agree += evaluate(&P, w, fp, &eb) == out->label;
        }
        out->confidence = (double)agree / fp->bootstrap;
    }

done:
    prep_free(&P);
    free(used);
    free(w);
    free(eb.cnt);
    free(eb.ccnt);
    free(eb.tot);
    free(fbuf);
    if (st != SS_OK) ss_frames_result_free(out);
    return st;
}
