#!/usr/bin/env bash
# run_errors.sh: `sinkscope slurm` refuses bad input before anything is submitted: a missing or invalid
# sweep (no script written), malformed options, and options sbatch itself rejects (checked with
# sbatch --test-only). No job with the test's name ever reaches the queue.
source "$(dirname "$0")/slurm_lib.sh" "$@"
write_sweep "$WORK/sweep.yaml" slurmerr 0 4
name=ss-err-$$
S="$BIN slurm"
$S "$WORK/missing.yaml" -J $name --submit > "$WORK/o" 2> "$WORK/e"
expect_rc 2 $? "missing sweep"
expect_grep "missing.yaml.*(No such file|cannot)" "$WORK/e" "says the sweep is missing"
[ -e "$WORK/missing.sbatch" ] && bad "a script was written" || ok "no script written"
printf 'name: bad\ngrid:\n  model: 3\nanalyses: []\n' > "$WORK/bad.yaml"
$S "$WORK/bad.yaml" -J $name --submit > "$WORK/o" 2> "$WORK/e"
expect_rc 2 $? "invalid sweep"
expect_grep "bad.yaml:[0-9]+:[0-9]+: " "$WORK/e" "errors as FILE:LINE:COL like validate"
expect_grep "no job script was written, nothing was submitted" "$WORK/e" "says nothing was written or submitted"
[ -e "$WORK/bad.sbatch" ] && bad "a script was written" || ok "no script written"
$S "$WORK/sweep.yaml" -o "$WORK/x.h5" -J $name --sbatch 'qos=x' --submit > /dev/null 2> "$WORK/e"
expect_rc 2 $? "an --sbatch line that is not an option"
expect_grep "is not an sbatch option" "$WORK/e" "explains the --sbatch format"
$S "$WORK/sweep.yaml" -o "$WORK/x.h5" -J $name -t 1h --submit > /dev/null 2> "$WORK/e"
expect_rc 2 $? "a malformed --time"
$S "$WORK/sweep.yaml" -o "$WORK/x.h5" -J $name -n 0 --submit > /dev/null 2> "$WORK/e"
expect_rc 2 $? "--ntasks-per-node 0"
$S "$WORK/sweep.yaml" -o "$WORK/no/such/dir/x.h5" -J $name --submit > /dev/null 2> "$WORK/e"
expect_rc 2 $? "a results file in a missing directory"
$S "$WORK/sweep.yaml" -o "$WORK/x.h5" -J $name --sbatch '--no-such-sbatch-option=1' --submit > "$WORK/o" 2> "$WORK/e"
expect_rc 2 $? "an option sbatch does not know"
expect_grep "unrecognized option '--no-such-sbatch-option=1'" "$WORK/e" "sbatch's own message is shown"
expect_grep "Nothing was submitted" "$WORK/e" "says nothing was submitted"
[ -e "$WORK/sweep.sbatch" ] && bad "the refused script was left behind" || ok "the refused script was removed"
$S "$WORK/sweep.yaml" -o "$WORK/x.h5" -J $name -p no_such_partition --submit > "$WORK/o" 2> "$WORK/e"
expect_rc 2 $? "an unknown partition"
expect_grep "invalid partition" "$WORK/e" "sbatch's reason is shown"
[ -s "$WORK/o" ] && bad "a job id was printed" || ok "no job id printed"
queued=$(squeue -h -t all -n $name 2>/dev/null | wc -l)
expect_eq 0 "$queued" "jobs named $name in the queue"
# Without Slurm on the PATH: the script is written, the submission fails clearly.
PATH=/nonexistent $S "$WORK/sweep.yaml" -o "$WORK/x.h5" --submit > /dev/null 2> "$WORK/e"
expect_rc 2 $? "no sbatch on the PATH"
expect_grep "cannot run sbatch" "$WORK/e" "says sbatch is missing"
finish
