/* sink.c: column statistics of attention matrices for the sink analyses. */
#include "sink.h"

void ss_column_importance(const float *A, int T, int causal, float *alpha)
{
    for (int j = 0; j < T; j++) {
        int first = causal ? j : 0; /* queries that can see key j */
        double sum = 0.0;
        for (int i = first; i < T; i++) sum += A[(long)i * T + j];
        alpha[j] = (float)(sum / (double)(T - first));
    }
}

void ss_column_mean(const float *A, int T, float *r)
{
    for (int j = 0; j < T; j++) {
        double sum = 0.0;
        for (int i = 0; i < T; i++) sum += A[(long)i * T + j];
        r[j] = (float)(sum / (double)T);
    }
}

int ss_argmax(const float *v, int n_candidates)
{
    int best = 0;
    for (int j = 1; j < n_candidates; j++)
        if (v[j] > v[best]) best = j;
    return best;
}

int ss_key_candidates(int T, int causal, int min_queries)
{
    if (!causal) return T;
    int need = (T + 3) / 4;
    if (min_queries > need) need = min_queries;
    int n = T - need + 1; /* key j has T - j visible queries; need T - j >= need */
    return n < 0 ? 0 : n;
}
