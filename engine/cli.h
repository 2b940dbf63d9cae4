/* cli.h: the subcommands of the sinkscope binary. Each returns the process exit code:
 * 0 ok, 1 the run finished with failed tasks, 2 bad input or usage, 3 internal error, 4 the run was
 * stopped by a signal (SIGTERM, SIGINT) with tasks left: re-running continues it. */
#ifndef SS_CLI_H
#define SS_CLI_H

enum { SS_EXIT_OK = 0, SS_EXIT_FAILED_TASKS = 1, SS_EXIT_USAGE = 2, SS_EXIT_INTERNAL = 3, SS_EXIT_STOPPED = 4 };

int ss_cmd_validate(int argc, char **argv);
int ss_cmd_plan(int argc, char **argv);
int ss_cmd_run(int argc, char **argv);
int ss_cmd_inspect(int argc, char **argv); /* sinkscope inspect MODEL: what a model file holds */
int ss_cmd_frames(int argc, char **argv);  /* sinkscope frames OUT.h5: reference-frame labels (cmd_frames.c) */
int ss_cmd_report(int argc, char **argv);  /* sinkscope report OUT.h5 ... -o DIR: tables and figures (cmd_report.c) */
int ss_cmd_slurm(int argc, char **argv);   /* sinkscope slurm SWEEP.yaml: write (and submit) a Slurm job (cmd_slurm.c) */
int ss_cmd_train(int argc, char **argv);   /* sinkscope train CONFIG.yaml -o DIR: train a small decoder (cmd_train.c) */

/* 1 if argv holds -h/--help (then the command prints its help and returns 0). */
int ss_wants_help(int argc, char **argv);

#endif
