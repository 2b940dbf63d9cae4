#!/usr/bin/env bash
# run_overcommit.sh: more ranks than cores. Without --overcommit the test cluster (2 cores) cannot
# place 4 tasks and sbatch --test-only says so before anything is submitted; with it the job runs
# 4 ranks that all take tasks.
source "$(dirname "$0")/slurm_lib.sh" "$@"
write_sweep "$WORK/sweep.yaml" slurmover 0 12
cores=$(sinfo -h -N -o '%c' | head -1)
n=$((cores * 2))
"$BIN" slurm "$WORK/sweep.yaml" -o "$WORK/out.h5" -n $n -J ss-over --submit > "$WORK/no.out" 2> "$WORK/no.err"
expect_rc 2 $? "$n ranks on $cores cores without --overcommit"
expect_grep "sbatch refused the job" "$WORK/no.err" "sbatch's refusal is shown"
[ -s "$WORK/no.out" ] && bad "a job id was printed" || ok "no job id"
jid=$(SINKSCOPE_FAULT=slow:60 "$BIN" slurm "$WORK/sweep.yaml" -o "$WORK/out.h5" -n $n --overcommit -J ss-over --submit 2> "$WORK/yes.err")
expect_rc 0 $? "with --overcommit"
grep -qx "#SBATCH --overcommit" "$WORK/sweep.sbatch" && grep -q "^srun --mpi=pmix --overcommit" "$WORK/sweep.sbatch" \
  && ok "--overcommit on #SBATCH and srun" || bad "--overcommit missing from the script"
wait_job "$jid" 60
expect_eq COMPLETED "$JSTATE" "the overcommitted job completes"
expect_grep "$n rank\(s\)" "$WORK/sweep-$jid.out" "$n ranks ran"
$CHECK expect-ranks "$WORK/out.h5" $n; expect_rc 0 $? "all $n ranks wrote tasks"
$CHECK verify "$WORK/out.h5"; expect_rc 0 $? "results file verified (h5py)"
finish
