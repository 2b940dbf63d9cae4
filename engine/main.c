/* main.c: the sinkscope command line: dispatches to the subcommands. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static void usage(FILE *f)
{
    fprintf(f,
            "sinkscope %s: attention-sink experiments over grids of models and prompts\n"
            "\n"
            "usage: sinkscope <command> [options]\n"
            "\n"
            "commands:\n"
            "  validate SWEEP.yaml          check a sweep file; prints every error as FILE:LINE:COL: message\n"
            "  plan SWEEP.yaml              show the expanded task grid and its counts; runs nothing\n"
            "  run SWEEP.yaml -o OUT.h5     run the grid; under mpiexec -n N on N ranks, one results file\n"
            "  inspect MODEL                a model directory or .gguf file: architecture, sizes, tokens, tensors\n"
            "  frames OUT.h5                label reference frames (centralized, bidirectional, ...) into /frames\n"
            "  report OUT.h5 ... -o DIR     publication tables (LaTeX, Markdown, CSV) and figures (PNG, SVG)\n"
            "  slurm SWEEP.yaml [--submit]  write a Slurm job script for the sweep (and submit it, or a chain)\n"
            "  train CONFIG.yaml -o DIR     train a small byte-level decoder; checkpoints load like any model\n"
            "  version                      print the version\n"
            "\n"
            "'sinkscope <command> --help' explains a command. Exit codes: 0 ok, 1 the run finished with\n"
            "failed tasks, 2 bad input or usage, 3 internal error, 4 the run was stopped by a signal with\n"
            "tasks left (re-run it to continue).\n",
            SINKSCOPE_VERSION);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return SS_EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "validate") == 0) return ss_cmd_validate(argc - 1, argv + 1);
    if (strcmp(cmd, "plan") == 0) return ss_cmd_plan(argc - 1, argv + 1);
    if (strcmp(cmd, "run") == 0) return ss_cmd_run(argc - 1, argv + 1);
    if (strcmp(cmd, "inspect") == 0) return ss_cmd_inspect(argc - 1, argv + 1);
    if (strcmp(cmd, "frames") == 0) return ss_cmd_frames(argc - 1, argv + 1);
    if (strcmp(cmd, "report") == 0) return ss_cmd_report(argc - 1, argv + 1);
    if (strcmp(cmd, "slurm") == 0) return ss_cmd_slurm(argc - 1, argv + 1);
    if (strcmp(cmd, "train") == 0) return ss_cmd_train(argc - 1, argv + 1);
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
        printf("sinkscope %s\n", SINKSCOPE_VERSION);
        return SS_EXIT_OK;
    }
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        usage(stdout);
        return SS_EXIT_OK;
    }
    fprintf(stderr, "sinkscope: unknown command '%s'\n\n", cmd);
    usage(stderr);
    return SS_EXIT_USAGE;
}
