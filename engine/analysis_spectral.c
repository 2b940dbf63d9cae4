/* analysis_spectral.c: random-matrix spectral metrics of each head's attention (science.md b8), done with
 * singular values (pitfalls C3, C5). Opt-in: an SVD per head and layer.
 *
 * Per head: singular values σ1 >= σ2 >= ... of A (LAPACK dgesdd); stable rank Σσ²/σ1², spectral norm σ1,
 * participation ratio (Σσ²)²/Σσ⁴, σ gap σ1/σ2; the sink concentration (mass on the columns at or above the
 * 90th percentile of column sums) and the mean row entropy in bits (b8's definition). Per layer: the
 * Marchenko–Pastur KL of all heads' squared singular values, each head's normalised to mean 1 and pooled,
 * with γ = 1 (C5: all n values, not the authors' top 10 eigenvalues). The eigenvalue metrics (|λ1|/|λ2|
 * and the participation ratio of |λ|) exist only for encoders: a causal A is triangular, its eigenvalues
 * are its diagonal (C3), so they are NaN there. */
#include <math.h>
#include <stdlib.h>

#include "analysis.h"
#include "spectral.h"

static const ss_param_decl g_params[] = {
    {"mp_gamma", SS_PARAM_FLOAT, 0.0, 1.0, 1, 0, "1", "Marchenko-Pastur ratio (0.99 reproduces the authors)"},
};

enum { N_HEAD = 8 };
static const char *const g_names[N_HEAD] = {"stable_rank", "sigma1", "participation", "sigma_gap",
                                            "sink_concentration", "entropy_bits", "eig_gap", "eig_participation"};
static const char *const g_units[N_HEAD] = {"rank", "singular value", "count", "ratio", "ratio", "bits", "ratio",
                                            "count"};
static const char *const g_docs[N_HEAD] = {
    "[layer][head] sum s^2 / s_1^2",
    "[layer][head] the largest singular value",
    "[layer][head] (sum s^2)^2 / sum s^4",
    "[layer][head] s_1 / s_2",
    "[layer][head] share of the attention on the columns at or above the 90th percentile of column sums",
    "[layer][head] mean row entropy in bits, 1e-10 inside the log (b8)",
    "[layer][head] |lambda_1| / |lambda_2|; encoders only (NaN for causal models: triangular A)",
    "[layer][head] (sum |lambda|)^2 / sum |lambda|^2; encoders only",
};

static ss_status declare(const ss_analysis_spec *spec, const ss_model_dims *dims, ss_dataset_decl *out, int *n_out)
{
    (void)spec;
    for (int k = 0; k < N_HEAD; k++)
        ss_decl(&out[k], g_names[k], SS_DT_F32, g_units[k], g_docs[k], 2, dims->n_layers, dims->n_heads, 0);
    ss_decl(&out[N_HEAD], "mp_kl", SS_DT_F32, "nats",
            "[layer] KL(histogram || Marchenko-Pastur) of all heads' squared singular values, each head normalised "
            "to mean 1",
            1, dims->n_layers, 0, 0);
    *n_out = N_HEAD + 1;
    return SS_OK;
}

static ss_status compute(const ss_analysis_spec *spec, const ss_model_dims *dims, const ss_capture *cap, void **bufs)
{
    (void)dims;
    ss_status st = SS_OK;
    const int L = cap->n_layers, H = cap->n_heads, T = cap->n_tokens;
    double *x = malloc((size_t)H * T * sizeof *x); /* [H][T] pooled normalised squared singular values */
    if (!x) return ss_fail(SS_ERR_NOMEM, "spectral: out of memory");
    for (int l = 0; l < L; l++) {
        for (int h = 0; h < H; h++) {
            const float *A = cap->attn + (((size_t)l * H + h) * T) * T; /* [T][T] */
            const size_t o = (size_t)l * H + h;
            ss_sv_metrics sv;
            double conc;
            if (ss_sv_metrics_compute(A, T, T, x + (size_t)h * T, &sv) != 0 ||
                ss_sink_concentration(A, T, SS_SINK_QUANTILE, &conc, NULL) != 0) {
                st = ss_fail(SS_ERR_RANGE, "spectral: layer %d head %d: LAPACK failed or out of memory", l, h);
                goto done;
            }
            ss_sv_normalise_sq(x + (size_t)h * T, T, x + (size_t)h * T);
            const double v[6] = {sv.stable_rank, sv.sigma1, sv.participation, sv.sigma_gap, conc,
                                 ss_mean_row_entropy_bits(A, T)};
            for (int k = 0; k < 6; k++) ((float *)bufs[k])[o] = (float)v[k];
            if (!cap->causal) {
                ss_eig_metrics e;
                if (ss_eig_metrics_compute(A, T, NULL, &e) != 0) {
                    st = ss_fail(SS_ERR_RANGE, "spectral: layer %d head %d: LAPACK dgeev failed", l, h);
                    goto done;
                }
                ((float *)bufs[6])[o] = (float)e.gap;
                ((float *)bufs[7])[o] = (float)e.participation;
            }
        }
        double kl;
        if (ss_mp_kl(x, (long)H * T, ss_param_num(spec, "mp_gamma"), SS_MP_BINS, &kl) == 0)
            ((float *)bufs[N_HEAD])[l] = (float)kl;
    }
done:
    free(x);
    return st;
}

const ss_analysis_type ss_analysis_spectral = {
    .type = "spectral",
    .doc = "singular-value metrics of each head (stable rank, participation, sigma gap), sink concentration, "
           "entropy, and the Marchenko-Pastur comparison per layer",
    .params = g_params,
    .n_params = (int)(sizeof g_params / sizeof g_params[0]),
    .declare = declare,
    .compute = compute,
};
