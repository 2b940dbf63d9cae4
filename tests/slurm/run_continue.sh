#!/usr/bin/env bash
# run_continue.sh: a chain of two jobs (--chain 2, afterany). The first is scancel'ed mid-sweep: its ranks
# get SIGTERM, finish their current task and close the file (exit 4). The second continues: every task is
# done exactly once, the values equal an uninterrupted run's, and while it runs the lock refuses a
# second writer, naming its Slurm job.
source "$(dirname "$0")/slurm_lib.sh" "$@"
write_sweep "$WORK/sweep.yaml" slurmcont 0 30   # 38 tasks
"$BIN" run "$WORK/sweep.yaml" -o "$WORK/ref.h5" --progress none > /dev/null 2>&1
expect_rc 0 $? "uninterrupted reference run"
$CHECK status "$WORK/ref.h5" > /dev/null; [ $? = 77 ] && exit 77

ids=$(SINKSCOPE_FAULT=slow:250 "$BIN" slurm "$WORK/sweep.yaml" -o "$WORK/out.h5" -n 2 -J ss-cont --submit --chain 2 \
      2> "$WORK/submit.err")
expect_rc 0 $? "submit a chain of 2"
read -r first second <<< "$(echo $ids)"
[ -n "$second" ] && ok "two job ids ($first, $second)" || { bad "job ids '$ids'"; cat "$WORK/submit.err"; finish; }
scontrol -o show job "$second" | grep -q "Dependency=afterany:$first" && ok "the second depends on the first (afterany)" \
  || bad "no afterany dependency: $(scontrol -o show job "$second" | grep -o 'Dependency=[^ ]*')"
wait_running "$first"
for _ in $(seq 100); do grep -q "writing $WORK/out.h5" "$WORK/sweep-$first.out" 2>/dev/null && break; sleep 0.1; done
sleep 1.5
scancel "$first"
wait_job "$first" 30
expect_eq CANCELLED "$JSTATE" "first job cancelled"
expect_eq 4:0 "$JEXIT" "its ranks exited 4 (stopped with tasks left)"
log1=$WORK/sweep-$first.out
expect_grep "received signal 15 \(Terminated\): no more tasks" "$log1" "rank 0 announces the graceful stop"
expect_grep "stopped by signal 15 .*: [0-9]+ task\(s\) never started, [0-9]+ of 38 tasks left" "$log1" "and says how many tasks are left"
expect_grep "^\[sbatch\] stopped with tasks left" "$log1" "the batch script outlived the ranks"
n1=$(sed -nE 's/.*tasks: ([0-9]+) done now.*/\1/p' "$log1")

# The continuation holds the lock: a second writer is refused, naming the job.
wait_running "$second"
for _ in $(seq 100); do grep -q "slurm_job=$second" "$WORK/out.h5.lock" 2>/dev/null && break; sleep 0.1; done
"$BIN" run "$WORK/sweep.yaml" -o "$WORK/out.h5" --progress none > "$WORK/second_writer.log" 2>&1
expect_rc 2 $? "a second writer while the continuation runs"
expect_grep "being written by another sinkscope run \(host=.* slurm_job=$second " "$WORK/second_writer.log" \
  "the refusal names the holder and its Slurm job"

wait_job "$second" 60
expect_eq COMPLETED "$JSTATE" "the continuation completes"
log2=$WORK/sweep-$second.out
expect_grep "resuming $WORK/out.h5: $n1 of 38 tasks already done; running $((38 - n1))" "$log2" \
  "it runs exactly the tasks the first left ($((38 - n1)))"
expect_grep "tasks: $((38 - n1)) done now, 0 failed now" "$log2" "and does each of them once"
[ "$n1" -gt 0 ] && [ "$n1" -lt 38 ] && ok "the first job stopped mid-sweep ($n1 of 38 done)" || bad "first job did $n1 of 38"
h5diff "$WORK/out.h5" "$WORK/ref.h5" /results /results > "$WORK/diff" 2>&1
expect_rc 0 $? "/results equal the uninterrupted run's"
h5diff "$WORK/out.h5" "$WORK/ref.h5" /tasks/status /tasks/status > /dev/null 2>&1; expect_rc 0 $? "every task done"
$CHECK verify "$WORK/out.h5"; expect_rc 0 $? "results file verified (h5py)"
finish
