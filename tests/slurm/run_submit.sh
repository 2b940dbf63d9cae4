#!/usr/bin/env bash
# run_submit.sh: `sinkscope slurm --submit` on a small sweep, 2 ranks on the test cluster: the job
# completes, the results file is complete and correct, and the script is what the docs say.
source "$(dirname "$0")/slurm_lib.sh" "$@"
write_sweep "$WORK/sweep.yaml" slurmsubmit 0 8
jid=$("$BIN" slurm "$WORK/sweep.yaml" -o "$WORK/out.h5" -n 2 -c 1 -t 00:05:00 -J ss-submit --submit 2> "$WORK/submit.err")
expect_rc 0 $? "sinkscope slurm --submit"
[[ $jid =~ ^[0-9]+$ ]] && ok "prints the job id ($jid)" || { bad "job id: '$jid'"; cat "$WORK/submit.err"; finish; }
S=$WORK/sweep.sbatch
expect_grep "^srun --mpi=pmix --cpus-per-task=1 \"\\\$SINKSCOPE\" run \"\\\$SWEEP\" -o \"\\\$OUT\"" "$S" "script runs srun --mpi=pmix"
expect_grep "^SINKSCOPE='/.*/sinkscope'$" "$S" "absolute binary path"
expect_grep "^SWEEP='$WORK/sweep.yaml'$" "$S" "absolute sweep path"
expect_grep "^#SBATCH --signal=TERM@120$" "$S" "SIGTERM 120 s before the limit"
expect_grep "^#SBATCH --ntasks-per-node=2$" "$S" "ranks per node"
expect_grep "^#SBATCH --job-name=ss-submit$" "$S" "job name"
expect_grep "OPENBLAS_NUM_THREADS=\\\$SLURM_CPUS_PER_TASK" "$S" "BLAS threads from SLURM_CPUS_PER_TASK"
wait_job "$jid" 60
expect_eq COMPLETED "$JSTATE" "job state"
expect_eq 0:0 "$JEXIT" "job exit code"
log=$WORK/sweep-$jid.out
expect_grep "2 rank\(s\), 1 BLAS thread\(s\) per rank \((OPENBLAS_NUM_THREADS|SLURM_CPUS_PER_TASK)\)" "$log" "2 ranks, 1 thread each"
expect_grep "GPU binding: no rank sees a CUDA device|GPU binding \(node-local" "$log" "rank 0 reports the GPU binding"
expect_grep "^\[sbatch\] sweep complete" "$log" "the script reports completion"
$CHECK verify "$WORK/out.h5"; expect_rc 0 $? "results file verified (h5py)"
$CHECK expect-ranks "$WORK/out.h5" 2; expect_rc 0 $? "both ranks wrote tasks"
[ -s "$WORK/out.h5.lock" ] && bad "the lock record outlived the job" || ok "lock released at the end (empty record)"

# Options that need no cluster: GPUs, partition, account, extra lines, the time limit's warning.
"$BIN" slurm "$WORK/sweep.yaml" -o "$WORK/out.h5" -N 2 -n 4 -G 4 -t 30 -p gpu -A proj --sbatch '--qos=long' \
  --sbatch '#SBATCH --exclusive' --script "$WORK/gpu.sbatch" > "$WORK/gpu.path" 2>&1
expect_rc 0 $? "a GPU job script (not submitted)"
for line in "--nodes=2" "--ntasks-per-node=4" "--gpus-per-node=4" "--time=30" "--partition=gpu" "--account=proj" \
            "--qos=long" "--exclusive" "--signal=TERM@120" "--output=$WORK/gpu-%j.out"; do
  grep -qx -- "#SBATCH $line" "$WORK/gpu.sbatch" && ok "#SBATCH $line" || bad "#SBATCH $line missing"
done
"$BIN" slurm "$WORK/sweep.yaml" -o "$WORK/out.h5" -t 1:30 --script "$WORK/short.sbatch" > /dev/null 2>&1
expect_grep "^#SBATCH --signal=TERM@45$" "$WORK/short.sbatch" "a 90 s limit is warned at half-time"
finish
