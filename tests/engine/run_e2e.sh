#!/usr/bin/env bash
# run_e2e.sh: a sweep on 2 ranks writes one file that both ranks wrote to; values are checked
# independently with h5py; 1 rank and 3 ranks give identical results.
source "$(dirname "$0")/e2e_lib.sh" "$@"
write_sweep "$WORK/sweep.yaml" e2e

mpirun_n 2 "$BIN" run "$WORK/sweep.yaml" -o "$WORK/np2.h5" --progress lines > "$WORK/np2.out" 2> "$WORK/np2.err"
expect_rc 0 $? "2-rank run"
expect_grep "^results: $WORK/np2.h5" "$WORK/np2.out" "prints where the results are"
expect_grep "2 rank\(s\), 1 BLAS thread" "$WORK/np2.err" "reports ranks and BLAS threads once"
expect_grep "no CUDA device|CUDA device found" "$WORK/np2.err" "says which backend runs"
expect_grep "24/24 tasks, 0 failed" "$WORK/np2.err" "final progress line"
[ "$(grep -c 'BLAS thread' "$WORK/np2.err")" = 1 ] && ok "rank 0 speaks once" || bad "more than one rank printed the banner"
h5dump -H "$WORK/np2.h5" > "$WORK/np2.dump" 2>&1
expect_rc 0 $? "h5dump reads the file"
expect_grep 'DATASET "sink_rate"' "$WORK/np2.dump" "h5dump shows /results/tiny/sink/sink_rate"
$CHECK verify "$WORK/np2.h5"; rc=$?; [ $rc = 77 ] && exit 77; expect_rc 0 $rc "h5py verification"
$CHECK expect-ranks "$WORK/np2.h5" 2; expect_rc 0 $? "both ranks wrote results"

"$BIN" run "$WORK/sweep.yaml" -o "$WORK/np1.h5" --progress live > /dev/null 2> "$WORK/np1.err"
expect_rc 0 $? "single process without mpiexec"
grep -q $'\r\033\[K\[sinkscope\] 24/24 tasks' "$WORK/np1.err" && ok "live progress rewrites one line" \
  || bad "no live progress line in np1.err"
mpirun_n 3 "$BIN" run "$WORK/sweep.yaml" -o "$WORK/np3.h5" --progress none > /dev/null 2> "$WORK/np3.err"
expect_rc 0 $? "3-rank run"
h5diff -r "$WORK/np1.h5" "$WORK/np2.h5" /results /results > "$WORK/diff12" 2>&1
expect_rc 0 $? "1 rank and 2 ranks give identical /results"
h5diff "$WORK/np1.h5" "$WORK/np3.h5" /results /results > "$WORK/diff13" 2>&1
expect_rc 0 $? "1 rank and 3 ranks give identical /results"
h5diff "$WORK/np1.h5" "$WORK/np3.h5" /tasks/tokens /tasks/tokens > /dev/null 2>&1
expect_rc 0 $? "identical token ids"
finish
