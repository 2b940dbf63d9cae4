#!/usr/bin/env bash
# run_hard_failure.sh: when one rank dies, every rank exits non-zero and none hangs.
source "$(dirname "$0")/e2e_lib.sh" "$@"
write_sweep "$WORK/sweep.yaml" hard
for np in 2 3; do
  start=$(date +%s)
  timeout 120 "$MPIEXEC" -n $np --oversubscribe env SINKSCOPE_FAULT=crash:5,slow:20 "$BIN" run "$WORK/sweep.yaml" \
      -o "$WORK/np$np.h5" --progress none > "$WORK/o$np" 2>&1
  rc=$?
  took=$(( $(date +%s) - start ))
  if [ $rc -ne 0 ] && [ $rc -ne 124 ]; then ok "$np ranks: a crashed rank ends the job (exit $rc, ${took}s)"
  else bad "$np ranks: exit $rc after ${took}s (124 = hung)"; fi
  [ -z "$(pgrep -f "sinkscope run $WORK/sweep.yaml" || true)" ] && ok "$np ranks: no process left behind" \
    || { bad "processes left"; pkill -9 -f "sinkscope run $WORK/sweep.yaml"; }
  # what finished before the crash is intact, and a re-run completes the sweep
  if [ -f "$WORK/np$np.h5" ]; then
    h5dump -H "$WORK/np$np.h5" > /dev/null 2>&1; expect_rc 0 $? "$np ranks: file readable after the crash"
    mpirun_n $np "$BIN" run "$WORK/sweep.yaml" -o "$WORK/np$np.h5" --progress none > /dev/null 2>&1
    expect_rc 0 $? "$np ranks: re-run completes the sweep"
  fi
done
timeout 60 env SINKSCOPE_FAULT=crash:2 "$BIN" run "$WORK/sweep.yaml" -o "$WORK/np1.h5" --progress none > "$WORK/o1" 2>&1
rc=$?; [ $rc -ne 0 ] && [ $rc -ne 124 ] && ok "single process crash exits $rc" || bad "single process: exit $rc"
finish
