/* cmd_validate.c: `sinkscope validate SWEEP.yaml`. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "sweep.h"

int ss_wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) return 1;
    return 0;
}

int ss_cmd_validate(int argc, char **argv)
{
    if (ss_wants_help(argc, argv)) {
        printf("usage: sinkscope validate SWEEP.yaml\n\n"
               "Checks a sweep file without running anything: YAML syntax, keys, types, ranges, duplicate names,\n"
               "and that every model directory and prompt file exists. Prints every error found as\n"
               "FILE:LINE:COL: message (not only the first). Exit 0 when valid, 2 otherwise.\n"
               "The format is documented in experiments/README.md and schemas/sweep.schema.json.\n");
        return SS_EXIT_OK;
    }
    if (argc != 2) {
        fprintf(stderr, "usage: sinkscope validate SWEEP.yaml\n");
        return SS_EXIT_USAGE;
    }
    ss_sweep *s = NULL;
    ss_diags d = {0};
    ss_status st = ss_sweep_load(argv[1], &s, &d);
    if (st != SS_OK) {
        ss_diags_print(&d, argv[1], stderr);
        fprintf(stderr, "%s: %d error(s)\n", argv[1], d.n);
        ss_diags_free(&d);
        return SS_EXIT_USAGE;
    }
    printf("%s: valid (%d model(s), %d prompt set(s), %d encoding(s), %d analysis/analyses)\n", argv[1], s->n_models,
           s->n_prompts, s->n_encodings, s->n_analyses);
    ss_diags_free(&d);
    ss_sweep_free(s);
    return SS_EXIT_OK;
}
