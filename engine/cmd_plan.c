/* cmd_plan.c: `sinkscope plan SWEEP.yaml`: the expanded grid and its counts, without running. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "plan.h"
#include "sweep.h"

int ss_cmd_plan(int argc, char **argv)
{
    if (ss_wants_help(argc, argv)) {
        printf("usage: sinkscope plan SWEEP.yaml [--all]\n\n"
               "Validates the sweep, reads each model's config.json and each prompt set, and prints the task\n"
               "grid in its order (model > prompts > encoding > prompt index, last fastest) with the counts.\n"
               "Task ids are the row numbers of /tasks in the results file. --all lists every task\n"
               "(by default the first 50). Runs no model.\n");
        return SS_EXIT_OK;
    }
    const char *file = NULL;
    int all = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--all") == 0) all = 1;
        else if (argv[i][0] == '-' || file) {
            fprintf(stderr, "sinkscope plan: unexpected argument '%s'\nusage: sinkscope plan SWEEP.yaml [--all]\n",
                    argv[i]);
            return SS_EXIT_USAGE;
        } else file = argv[i];
    }
    if (!file) {
        fprintf(stderr, "usage: sinkscope plan SWEEP.yaml [--all]\n");
        return SS_EXIT_USAGE;
    }
    ss_sweep *s = NULL;
    ss_diags d = {0};
    if (ss_sweep_load(file, &s, &d) != SS_OK) {
        ss_diags_print(&d, file, stderr);
        fprintf(stderr, "%s: %d error(s)\n", file, d.n);
        ss_diags_free(&d);
        return SS_EXIT_USAGE;
    }
    ss_diags_free(&d);
    ss_plan *p = NULL;
    if (ss_plan_build(s, &p) != SS_OK) {
        fprintf(stderr, "sinkscope plan: %s\n", ss_errmsg());
        ss_sweep_free(s);
        return SS_EXIT_USAGE;
    }
    ss_plan_print(p, stdout, all ? -1 : 50);
    ss_plan_free(p);
    ss_sweep_free(s);
    return SS_EXIT_OK;
}
