#!/usr/bin/env bash
# run_resume_kill.sh: kill -9 a 2-rank run at several moments; every time, the file stays readable,
# every task it marks done equals the uninterrupted run, and re-running finishes the rest with no
# task recomputed and none missing.
source "$(dirname "$0")/e2e_lib.sh" "$@"
write_sweep "$WORK/sweep.yaml" killme 0 30
"$BIN" run "$WORK/sweep.yaml" -o "$WORK/ref.h5" --progress none > /dev/null 2>&1
expect_rc 0 $? "uninterrupted reference run"
$CHECK status "$WORK/ref.h5" > /dev/null; [ $? = 77 ] && exit 77

out="$WORK/out.h5"
prev_done=0
for delay in 0.2 1.5 3.0 4.5; do
  setsid "$MPIEXEC" -n 2 --oversubscribe env SINKSCOPE_FAULT=slow:120 "$BIN" run "$WORK/sweep.yaml" -o "$out" \
      --progress none > "$WORK/kill_$delay.log" 2>&1 &
  pid=$!
  sleep "$delay"
  kill -9 -- -"$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  pkill -9 -f "sinkscope run $WORK/sweep.yaml" 2>/dev/null
  sleep 0.2
  if [ ! -f "$out" ]; then ok "killed at ${delay}s before the file existed (a .partial may remain)"; continue; fi
  h5dump -H "$out" > /dev/null 2>&1; expect_rc 0 $? "killed at ${delay}s: file readable"
  s=$($CHECK status "$out"); echo "  after kill at ${delay}s: $s"
  d=$(echo "$s" | sed -E 's/.*done=([0-9]+).*/\1/')
  [ "$d" -ge "$prev_done" ] && ok "done count never goes back ($prev_done -> $d)" || bad "done went from $prev_done to $d"
  prev_done=$d
  $CHECK same-done "$out" "$WORK/ref.h5" > /dev/null; expect_rc 0 $? "killed at ${delay}s: every done task equals the reference"
  cp "$out" "$WORK/snap_$delay.h5"
  # resume one step and kill again in the next iteration
done
cp "$out" "$WORK/before_final.h5" 2>/dev/null
mpirun_n 2 "$BIN" run "$WORK/sweep.yaml" -o "$out" --progress lines > "$WORK/final.out" 2> "$WORK/final.err"
expect_rc 0 $? "final resume completes"
expect_grep "resuming .*: $prev_done of 38 tasks already done; running $((38 - prev_done))" "$WORK/final.err" \
  "the resume runs exactly the missing tasks"
expect_grep "$((38 - prev_done))/$((38 - prev_done)) tasks" "$WORK/final.err" "and reports that many finished"
h5diff "$out" "$WORK/ref.h5" /results /results > "$WORK/diff" 2>&1; expect_rc 0 $? "final /results equal the uninterrupted run"
h5diff "$out" "$WORK/ref.h5" /tasks/status /tasks/status > /dev/null 2>&1; expect_rc 0 $? "every task done"
[ -f "$WORK/before_final.h5" ] && { $CHECK same-done "$WORK/before_final.h5" "$out" > /dev/null; expect_rc 0 $? "tasks done before the resume were not rewritten"; }
# tasks done before the last resume kept their timing record: they were not recomputed
if [ -f "$WORK/before_final.h5" ]; then
  $PY - "$WORK/before_final.h5" "$out" <<'PY'
import sys, h5py, numpy as np
a, b = (h5py.File(p, "r") for p in sys.argv[1:3])
done = a["tasks/status"][:] == 1
same = np.array_equal(a["tasks/seconds"][:][done], b["tasks/seconds"][:][done]) and \
       np.array_equal(a["tasks/rank"][:][done], b["tasks/rank"][:][done])
sys.exit(0 if same else 1)
PY
  expect_rc 0 $? "no done task was recomputed (same seconds and rank records)"
fi
finish
