/* checkpoint.c: writing and reading the trainer's checkpoints (checkpoint.h). */
#include "checkpoint.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../fsutil.h"           /* ss_path_join */
#include "../model/safetensors.h" /* ss_st_write, ss_st_open */
#include "export.h"

char *ss_tr_ckpt_dir(const char *out_dir, uint64_t step)
{
    char name[32];
    snprintf(name, sizeof name, "step_%06llu", (unsigned long long)step);
    return ss_path_join(out_dir, name);
}

static void to_limbs(float *f, uint64_t x)
{
    for (int i = 0; i < 4; i++) f[i] = (float)((x >> (16 * i)) & 0xffffu);
}
static int from_limbs(const float *f, uint64_t *x)
{
    uint64_t r = 0;
    for (int i = 0; i < 4; i++) {
        if (!(f[i] >= 0.0f && f[i] <= 65535.0f) || f[i] != (float)(uint32_t)f[i]) return 0;
        r |= (uint64_t)(uint32_t)f[i] << (16 * i);
    }
    *x = r;
    return 1;
}

/* The one place the trainer hands its weights to the exporter. */
static ss_status export_model(const char *dir, const ss_tr_layout *L, const float *params, const char *meta)
{
    ss_tr_export_layer *layers = calloc((size_t)L->a.n_layers, sizeof *layers);
    if (!layers) return ss_fail(SS_ERR_NOMEM, "out of memory exporting %s", dir);
    ss_tr_export_model m;
    ss_tr_export_view(L, params, layers, &m);
    m.metadata_json = meta;
    ss_status st = ss_tr_export(dir, &m);
    free(layers);
    return st;
}

ss_status ss_tr_ckpt_write(const char *out_dir, const ss_tr_layout *L, const float *params, const float *m,
                           const float *v, const ss_tr_counters *c, const char *metadata_json)
{
    ss_status st = SS_OK;
    char *dir = ss_tr_ckpt_dir(out_dir, c->step), *path = NULL;
    if (!dir) return ss_fail(SS_ERR_NOMEM, "out of memory");
    SS_TRY(export_model(dir, L, params, metadata_json));
    path = ss_path_join(dir, "trainer_state.safetensors");
    if (!path) SS_TRY(ss_fail(SS_ERR_NOMEM, "out of memory"));
    float step[4], rng[4], win[4];
    to_limbs(step, c->step);
    to_limbs(rng, c->data_rng);
    to_limbs(win, c->windows);
    const char *names[6] = {"params", "adam_m", "adam_v", "step", "data_rng", "windows"};
    int n_dims[6] = {1, 1, 1, 1, 1, 1};
    int64_t sn[1] = {(int64_t)L->n_params}, s4[1] = {4};
    const int64_t *shapes[6] = {sn, sn, sn, s4, s4, s4};
    const float *data[6] = {params, m, v, step, rng, win};
    SS_TRY(ss_st_write(path, 6, names, n_dims, shapes, data));
done:
    if (st != SS_OK) ss_wrap(st, "writing the checkpoint %s", dir);
    free(dir);
    free(path);
    return st;
}

ss_status ss_tr_ckpt_read(const char *ckpt_dir, const ss_tr_layout *L, float *params, float *m, float *v,
                          ss_tr_counters *c)
{
    ss_status st = SS_OK;
    ss_safetensors *sf = NULL;
    char *path = ss_path_join(ckpt_dir, "trainer_state.safetensors");
    if (!path) return ss_fail(SS_ERR_NOMEM, "out of memory");
    SS_TRY(ss_st_open(path, &sf));
    int64_t sn[1] = {(int64_t)L->n_params}, s4[1] = {4};
    float *dst[3] = {params, m, v};
    const char *big[3] = {"params", "adam_m", "adam_v"};
    for (int i = 0; i < 3; i++) {
        const float *p;
        SS_TRY(ss_st_get_f32(sf, big[i], 1, sn, &p));
        memcpy(dst[i], p, L->n_params * sizeof *p);
    }
    const char *small[3] = {"step", "data_rng", "windows"};
    uint64_t *out[3] = {&c->step, &c->data_rng, &c->windows};
    for (int i = 0; i < 3; i++) {
        const float *p;
        SS_TRY(ss_st_get_f32(sf, small[i], 1, s4, &p));
        if (!from_limbs(p, out[i])) SS_TRY(ss_fail(SS_ERR_FORMAT, "%s: '%s' is not a 64-bit counter", path, small[i]));
    }
done:
    ss_st_free(sf);
    free(path);
    return st;
}

int ss_tr_ckpt_latest(const char *out_dir, uint64_t *step)
{
    DIR *d = opendir(out_dir);
    if (!d) return 0;
    int found = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        unsigned long long k;
        char tail;
        if (sscanf(e->d_name, "step_%llu%c", &k, &tail) != 1 || strlen(e->d_name) < 11) continue;
        char *dir = ss_path_join(out_dir, e->d_name), *path = dir ? ss_path_join(dir, "trainer_state.safetensors") : NULL;
        struct stat sb;
        if (path && stat(path, &sb) == 0 && S_ISREG(sb.st_mode) && (!found || k > *step)) {
            *step = k;
            found = 1;
        }
        free(dir);
        free(path);
    }
    closedir(d);
    return found;
}
