/* plan.c: expands a sweep into tasks in grid order and fingerprints it. */
#include "plan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis.h"
#include "hash.h"

static ss_status hash_prompt_set(const ss_prompt_spec *ps, const ss_prompt_set *set, char hex[65])
{
    ss_sha256 *h = ss_sha256_new();
    if (!h) return ss_fail(SS_ERR_NOMEM, "out of memory");
    char buf[256];
    snprintf(buf, sizeof buf, "kind=%d count=%d length=%d seed=%llu token_id=%d n=%d", (int)ps->kind, ps->count,
             ps->length, (unsigned long long)ps->seed, ps->token_id, ss_prompts_count(set));
    ss_sha256_str(h, buf);
    for (int i = 0; i < ss_prompts_count(set); i++) ss_sha256_str(h, ss_prompts_text(set, i));
    ss_sha256_final(h, hex);
    return SS_OK;
}

ss_status ss_plan_build(const ss_sweep *s, ss_plan **out)
{
    ss_status st = SS_OK;
    ss_plan *p = calloc(1, sizeof *p);
    if (!p) return ss_fail(SS_ERR_NOMEM, "out of memory");
    p->sweep = s;
    p->model_info = calloc((size_t)s->n_models, sizeof *p->model_info);
    p->model_max_tokens = calloc((size_t)s->n_models, sizeof *p->model_max_tokens);
    p->model_rows = calloc((size_t)s->n_models, sizeof *p->model_rows);
    p->model_hash = calloc((size_t)s->n_models, sizeof *p->model_hash);
    p->model_weights = calloc((size_t)s->n_models, sizeof *p->model_weights);
    p->prompt_sets = calloc((size_t)s->n_prompts, sizeof *p->prompt_sets);
    p->prompts_hash = calloc((size_t)s->n_prompts, sizeof *p->prompts_hash);
    if (!p->model_info || !p->model_max_tokens || !p->model_rows || !p->model_hash || !p->model_weights || !p->prompt_sets ||
        !p->prompts_hash) {
        st = ss_fail(SS_ERR_NOMEM, "out of memory");
        goto done;
    }

    for (int m = 0; m < s->n_models; m++) {
        const ss_model_spec *ms = &s->models[m];
        if ((st = ss_model_probe(ms->resolved_path, &p->model_info[m])) != SS_OK) {
            ss_wrap(st, "%s:%d:%d: model '%s'", s->file, ms->loc.line, ms->loc.col, ms->name);
            goto done;
        }
        int limit = p->model_info[m].max_positions;
        int mt = ms->max_tokens > 0 ? ms->max_tokens : limit;
        if (mt > limit) {
            st = ss_fail(SS_ERR_INPUT, "%s:%d:%d: model '%s': max_tokens %d exceeds the model's limit of %d positions",
                         s->file, ms->loc.line, ms->loc.col, ms->name, mt, limit);
            goto done;
        }
        p->model_max_tokens[m] = mt;
        if (mt > p->max_tokens_all) p->max_tokens_all = mt;
    }
    for (int q = 0; q < s->n_prompts; q++) {
        const ss_prompt_spec *ps = &s->prompts[q];
        if ((st = ss_prompts_open(ps, &p->prompt_sets[q])) != SS_OK) {
            ss_wrap(st, "%s:%d:%d: prompt set '%s'", s->file, ps->loc.line, ps->loc.col, ps->name);
            goto done;
        }
        if ((st = hash_prompt_set(ps, p->prompt_sets[q], p->prompts_hash[q])) != SS_OK) goto done;
    }

    /* A fixed-length prompt set longer than a model's positions can only fail, task after task. */
    for (int m = 0; m < s->n_models; m++)
        for (int q = 0; q < s->n_prompts; q++) {
            const ss_prompt_spec *ps = &s->prompts[q];
            if (ps->length > p->model_max_tokens[m]) {
                st = ss_fail(SS_ERR_INPUT,
                             "%s:%d:%d: prompt set '%s': length %d is longer than model '%s' allows (max_tokens %d; the "
                             "model has %d positions)",
                             s->file, ps->loc.line, ps->loc.col, ps->name, ps->length, s->models[m].name,
                             p->model_max_tokens[m], p->model_info[m].max_positions);
                goto done;
            }
        }

    long n = 0;
    for (int q = 0; q < s->n_prompts; q++) n += ss_prompts_count(p->prompt_sets[q]);
    n *= (long)s->n_models * s->n_encodings;
    if (n > 100000000L) {
        st = ss_fail(SS_ERR_INPUT, "%s: the grid has %ld tasks; at most 100000000 are supported", s->file, n);
        goto done;
    }
    p->tasks = calloc((size_t)(n > 0 ? n : 1), sizeof *p->tasks);
    if (!p->tasks) {
        st = ss_fail(SS_ERR_NOMEM, "out of memory for %ld tasks", n);
        goto done;
    }
    for (int m = 0; m < s->n_models; m++)
        for (int q = 0; q < s->n_prompts; q++)
            for (int e = 0; e < s->n_encodings; e++)
                for (int i = 0; i < ss_prompts_count(p->prompt_sets[q]); i++)
                    p->tasks[p->n_tasks++] = (ss_task){m, q, e, i, p->model_rows[m]++};

done:
    if (st != SS_OK) {
        ss_plan_free(p);
        p = NULL;
    }
    *out = p;
    return st;
}

ss_status ss_plan_hash_models(ss_plan *p)
{
    for (int m = 0; m < p->sweep->n_models; m++) {
        ss_status st = ss_model_hash(p->sweep->models[m].resolved_path, p->model_hash[m]);
        if (st != SS_OK) return ss_wrap(st, "hashing model '%s'", p->sweep->models[m].name);
    }
    return SS_OK;
}

ss_status ss_plan_fingerprint(ss_plan *p)
{
    const ss_sweep *s = p->sweep;
    ss_sha256 *h = ss_sha256_new();
    if (!h) return ss_fail(SS_ERR_NOMEM, "out of memory");
    char buf[512];
    ss_sha256_str(h, "sinkscope-fingerprint-v1");
    for (int m = 0; m < s->n_models; m++) {
        const ss_model_spec *ms = &s->models[m];
        snprintf(buf, sizeof buf, "model %s bos=%s max_tokens=%d truncate=%d", ms->name, ss_bos_policy_name(ms->bos),
                 p->model_max_tokens[m], ms->truncate);
        ss_sha256_str(h, buf);
        ss_sha256_str(h, p->model_hash[m]);
    }
    for (int q = 0; q < s->n_prompts; q++) {
        ss_sha256_str(h, s->prompts[q].name);
        ss_sha256_str(h, p->prompts_hash[q]);
    }
    for (int e = 0; e < s->n_encodings; e++) {
        const ss_encoding_spec *es = &s->encodings[e];
        snprintf(buf, sizeof buf, "encoding %s type=%s theta=%.17g fraction=%.17g seed=%llu bos=%d", es->name,
                 ss_encoding_type_name(es->type), es->theta, es->fraction, (unsigned long long)es->seed, es->bos);
        ss_sha256_str(h, buf);
    }
    for (int a = 0; a < s->n_analyses; a++) {
        const ss_analysis_spec *as = &s->analyses[a];
        ss_sha256_str(h, as->name);
        ss_sha256_str(h, as->type);
        for (int k = 0; k < as->n_params; k++) {
            const ss_param_value *v = &as->params[k];
            ss_sha256_str(h, v->name);
            switch (v->type) {
            case SS_PARAM_INT:
            case SS_PARAM_FLOAT: snprintf(buf, sizeof buf, "%.17g", v->num); break;
            case SS_PARAM_FLOAT_LIST: /* every element on its own, however long the list */
                snprintf(buf, sizeof buf, "list of %d", v->n_list);
                for (int i = 0; i < v->n_list; i++) {
                    char x[40];
                    snprintf(x, sizeof x, "%.17g", v->list[i]);
                    ss_sha256_str(h, x);
                }
                break;
            case SS_PARAM_STRING: snprintf(buf, sizeof buf, "%s", v->str ? v->str : ""); break;
            }
            ss_sha256_str(h, buf);
        }
    }
    ss_sha256_final(h, p->fingerprint);
    return SS_OK;
}

double ss_plan_file_bytes(const ss_plan *p)
{
    const ss_sweep *s = p->sweep;
    /* /tasks: model, prompts, encoding, prompt_index, row, rank, n_tokens (int32), status (int8),
     * seconds (f32), error (256 bytes), tokens (int32 [max_tokens_all]) */
    double bytes = (double)p->n_tasks * (7 * 4 + 1 + 4 + 256 + 4.0 * p->max_tokens_all);
    for (int m = 0; m < s->n_models; m++) {
        ss_model_dims dims = {p->model_info[m].n_layers, p->model_info[m].n_heads, p->model_max_tokens[m],
                              p->model_info[m].causal};
        for (int a = 0; a < s->n_analyses; a++) {
            ss_dataset_decl decl[SS_MAX_DATASETS];
            int nd = 0;
            if (ss_analysis_find(s->analyses[a].type)->declare(&s->analyses[a], &dims, decl, &nd) != SS_OK) continue;
            for (int k = 0; k < nd; k++)
                bytes += (double)p->model_rows[m] * (double)ss_dataset_elems(&decl[k]) *
                         (double)ss_dataset_dtype_size(decl[k].dtype);
        }
    }
    return bytes;
}

void ss_plan_print(const ss_plan *p, void *stream, int max_rows)
{
    FILE *f = stream;
    const ss_sweep *s = p->sweep;
    fprintf(f, "sweep '%s': %d model(s) x %d prompt set(s) x %d encoding(s) = %d grid cell(s); %d task(s); "
               "%d analysis/analyses per task\n",
            s->name, s->n_models, s->n_prompts, s->n_encodings, s->n_models * s->n_prompts * s->n_encodings,
            p->n_tasks, s->n_analyses);
    fprintf(f, "grid order: model (slowest) > prompts > encoding > prompt index (fastest)\n");
    fprintf(f, "results file: about %.1f MB, allocated when it is created\n\n", ss_plan_file_bytes(p) / 1e6);
    fprintf(f, "models:\n");
    for (int m = 0; m < s->n_models; m++) {
        const ss_model_info *mi = &p->model_info[m];
        fprintf(f, "  [%d] %-16s %s, %d layers x %d heads, d=%d, %s positions, bos=%s, max_tokens=%d, %d task(s)\n", m,
                s->models[m].name, mi->arch, mi->n_layers, mi->n_heads, mi->d_model, mi->pos_encoding,
                ss_bos_policy_name(s->models[m].bos), p->model_max_tokens[m], p->model_rows[m]);
    }
    fprintf(f, "prompt sets:\n");
    static const char *kinds[] = {"file", "natural", "random", "repeated"};
    for (int q = 0; q < s->n_prompts; q++) {
        const ss_prompt_spec *ps = &s->prompts[q];
        char what[512] = "";
        if (ps->kind == SS_PROMPTS_FILE) snprintf(what, sizeof what, ", %s", ps->path);
        else if (ps->length > 0)
            snprintf(what, sizeof what, ", %d tokens each, seed %llu", ps->length, (unsigned long long)ps->seed);
        fprintf(f, "  [%d] %-16s %-8s %d prompt(s)%s\n", q, ps->name, kinds[ps->kind], ss_prompts_count(p->prompt_sets[q]),
                what);
    }
    fprintf(f, "encodings:");
    for (int e = 0; e < s->n_encodings; e++) fprintf(f, " %s", s->encodings[e].name);
    fprintf(f, "\nanalyses:");
    for (int a = 0; a < s->n_analyses; a++) fprintf(f, " %s(%s)", s->analyses[a].name, s->analyses[a].type);
    fprintf(f, "\n\ntasks:\n");
    int shown = 0;
    for (int t = 0; t < p->n_tasks; t++) {
        if (max_rows >= 0 && shown >= max_rows && t < p->n_tasks - 1) {
            if (shown == max_rows) fprintf(f, "  ... (%d more; --all lists every task)\n", p->n_tasks - max_rows - 1);
            shown++;
            continue;
        }
        const ss_task *k = &p->tasks[t];
        fprintf(f, "  #%-6d model=%s prompts=%s encoding=%s prompt=%d\n", t, s->models[k->model].name,
                s->prompts[k->prompts].name, s->encodings[k->encoding].name, k->prompt_index);
        shown++;
    }
}

void ss_plan_free(ss_plan *p)
{
    if (!p) return;
    if (p->prompt_sets)
        for (int q = 0; q < p->sweep->n_prompts; q++) ss_prompts_free(p->prompt_sets[q]);
    free(p->prompt_sets);
    free(p->prompts_hash);
    free(p->model_info);
    free(p->model_max_tokens);
    free(p->model_rows);
    free(p->model_hash);
    free(p->model_weights);
    free(p->tasks);
    free(p);
}

ss_status ss_plan_check_models(ss_plan *p)
{
    const ss_sweep *s = p->sweep;
    for (int m = 0; m < s->n_models; m++) {
        const ss_model_spec *ms = &s->models[m];
        ss_model *model = NULL;
        ss_status st = ss_model_load(ms->resolved_path, &model);
        if (st == SS_OK) ss_model_weight_types(model, p->model_weights[m], sizeof p->model_weights[m]);
        ss_model_free(model);
        if (st != SS_OK) {
            ss_wrap(st, "%s:%d:%d: model '%s'", s->file, ms->loc.line, ms->loc.col, ms->name);
            return st == SS_ERR_NOMEM ? st : SS_ERR_INPUT;
        }
    }
    return SS_OK;
}
