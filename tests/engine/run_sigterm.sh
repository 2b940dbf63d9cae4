#!/usr/bin/env bash
# run_sigterm.sh: graceful stop under plain mpiexec. SIGTERM to every rank at once (as Slurm sends it),
# SIGTERM to one worker only, SIGINT to rank 0 only: each time no new task starts, every rank finishes
# its current one, the file is closed consistent, rank 0 says how many tasks are left, exit 4; and the
# writer lock refuses a second run meanwhile. Re-running finishes the rest; the values equal an
# uninterrupted run's.
source "$(dirname "$0")/e2e_lib.sh" "$@"
write_sweep "$WORK/sweep.yaml" sigterm 0 30   # 38 tasks
"$BIN" run "$WORK/sweep.yaml" -o "$WORK/ref.h5" --progress none > /dev/null 2>&1
expect_rc 0 $? "uninterrupted reference run"
$CHECK status "$WORK/ref.h5" > /dev/null; [ $? = 77 ] && exit 77
out=$WORK/out.h5

# start_run TAG MS: 2 ranks, tasks slowed by MS ms; each rank writes its pid (exec keeps it) to $WORK/pids.TAG.
start_run() {
  rm -f "$WORK/pids.$1"
  "$MPIEXEC" -n 2 --oversubscribe env SINKSCOPE_FAULT=slow:$2 sh -c \
    'echo "${OMPI_COMM_WORLD_RANK:-0} $$" >> "$0"; exec "$@"' "$WORK/pids.$1" \
    "$BIN" run "$WORK/sweep.yaml" -o "$out" --progress none > "$WORK/$1.log" 2>&1 &
  run_pid=$!
  for _ in $(seq 100); do [ "$(wc -l < "$WORK/pids.$1" 2>/dev/null)" = 2 ] && break; sleep 0.05; done
  for _ in $(seq 100); do grep -Eq "writing|resuming" "$WORK/$1.log" && break; sleep 0.05; done
}
pid_of() { awk -v r="$2" '$1 == r {print $2}' "$WORK/pids.$1"; }
# stopped TAG: checks after a graceful stop; sets left
stopped() {
  wait "$run_pid"; local rc=$?
  expect_rc 4 $rc "$1: exit 4 (stopped with tasks left)"
  expect_grep "rank [01] received signal $2" "$WORK/$1.log" "$1: rank 0 announces the stop"
  expect_grep "stopped by signal $2 .* [0-9]+ of 38 tasks left in .*Re-run the same command" "$WORK/$1.log" \
    "$1: rank 0 says how many tasks are left and that re-running continues"
  h5dump -H "$out" > /dev/null 2>&1; expect_rc 0 $? "$1: file readable"
  $CHECK same-done "$out" "$WORK/ref.h5" > /dev/null; expect_rc 0 $? "$1: every done task equals the reference"
  local s; s=$($CHECK status "$out"); echo "  after $1: $s"
  grep -q "pending=0" <<< "$s" && bad "$1: nothing was left to do" || ok "$1: tasks remain ($s)"
}

start_run all 1000   # slow enough that the second writer (seconds under a sanitizer) finds it running
"$BIN" run "$WORK/sweep.yaml" -o "$out" --progress none > "$WORK/second.log" 2>&1
expect_rc 2 $? "a second writer while the run holds the lock"
expect_grep "being written by another sinkscope run \(host=.* pid=$(pid_of all 0) slurm_job=none" "$WORK/second.log" \
  "the refusal names the holder (host, rank 0's pid)"
kill -TERM "$(pid_of all 0)" "$(pid_of all 1)"   # both at once, as Slurm does
stopped all 15
d1=$($CHECK status "$out" | sed -E 's/.*done=([0-9]+).*/\1/')

start_run worker 250
sleep 0.6
kill -TERM "$(pid_of worker 1)"                   # one worker only: the whole run stops
stopped worker 15
expect_grep "rank 1 received signal 15" "$WORK/worker.log" "worker: the signalled rank is named"
d2=$($CHECK status "$out" | sed -E 's/.*done=([0-9]+).*/\1/')
[ "$d2" -gt "$d1" ] && ok "worker: the run made progress before stopping ($d1 -> $d2)" || bad "no progress: $d1 -> $d2"

start_run int 250
sleep 0.6
kill -INT "$(pid_of int 0)"                       # Ctrl-C on rank 0
stopped int 2

"$BIN" run "$WORK/sweep.yaml" -o "$out" --progress none > "$WORK/final.log" 2>&1
expect_rc 0 $? "re-running finishes the sweep"
h5diff "$out" "$WORK/ref.h5" /results /results > /dev/null 2>&1; expect_rc 0 $? "/results equal the uninterrupted run's"
h5diff "$out" "$WORK/ref.h5" /tasks/status /tasks/status > /dev/null 2>&1; expect_rc 0 $? "every task done"
[ -s "$out.lock" ] && bad "the lock record outlived the run" || ok "the lock is released (empty record)"
finish
