#!/usr/bin/env bash
# run_cli.sh: the command line: help, usage errors and exit codes, validate and plan.
source "$(dirname "$0")/e2e_lib.sh" "$@"
"$BIN" > "$WORK/o" 2>&1; expect_rc 2 $? "no command"
"$BIN" --help > "$WORK/o" 2>&1; expect_rc 0 $? "--help"
expect_grep "validate SWEEP.yaml" "$WORK/o" "help lists the commands"
for c in validate plan run; do
  "$BIN" $c --help > "$WORK/o" 2>&1; expect_rc 0 $? "$c --help"
  expect_grep "usage: .*sinkscope $c" "$WORK/o" "$c --help shows its usage"
done
"$BIN" frobnicate > "$WORK/o" 2>&1; expect_rc 2 $? "unknown command"
"$BIN" run > "$WORK/o" 2>&1; expect_rc 2 $? "run without a sweep"
"$BIN" run "$WORK/missing.yaml" -o "$WORK/x.h5" > "$WORK/o" 2>&1; expect_rc 2 $? "run with a missing sweep file"
expect_grep "missing.yaml" "$WORK/o" "names the missing file"
write_sweep "$WORK/sweep.yaml" cli
"$BIN" run "$WORK/sweep.yaml" --bogus > "$WORK/o" 2>&1; expect_rc 2 $? "unknown option"
"$BIN" run "$WORK/sweep.yaml" > "$WORK/o" 2>&1; expect_rc 2 $? "no output file"
expect_grep "no output file" "$WORK/o" "says the output is missing"
"$BIN" validate "$WORK/sweep.yaml" > "$WORK/o" 2>&1; expect_rc 0 $? "validate a good sweep"
"$BIN" plan "$WORK/sweep.yaml" > "$WORK/o" 2>&1; expect_rc 0 $? "plan"
expect_grep "24 task\(s\)" "$WORK/o" "plan counts 24 tasks (16 + 6 + 2)"
expect_grep "#23 +model=tiny prompts=repeated encoding=native prompt=1" "$WORK/o" "plan lists the last task"
[ ! -e "$WORK/x.h5" ] && ok "plan and failed runs write no file" || bad "a file was written"
# bad output paths: clear errors, exit 2, nothing touched
"$BIN" run "$WORK/sweep.yaml" -o "$WORK/no/such/dir/x.h5" > "$WORK/o" 2>&1; expect_rc 2 $? "output in a missing directory"
expect_grep "cannot create .*no/such/dir/x.h5: directory .*: No such file or directory" "$WORK/o" "says which directory is missing"
mkdir -p "$WORK/adir/keep"
"$BIN" run "$WORK/sweep.yaml" -o "$WORK/adir" --force > "$WORK/o" 2>&1; expect_rc 2 $? "output that is a directory, even with --force"
expect_grep "not a regular file" "$WORK/o" "says it is not a regular file"
[ -d "$WORK/adir/keep" ] && ok "the directory was left alone" || bad "the directory was moved"
"$BIN" run "$WORK/sweep.yaml" -o "" > "$WORK/o" 2>&1; expect_rc 2 $? "empty output path"
cat > "$WORK/bad.yaml" <<YAML
name: bad
grid:
  modle:
    - name: tiny
      path: $TINY
  prompts:
    - name: p
      generator: natural
  encoding: []
analyses:
  - name: s
    type: sink_rate
    epsilon: [1.5]
YAML
"$BIN" validate "$WORK/bad.yaml" > "$WORK/o" 2>&1; expect_rc 2 $? "validate a bad sweep"
expect_grep "bad.yaml:3:3: .*modle.*did you mean 'model'" "$WORK/o" "unknown key with line, column and suggestion"
expect_grep "bad.yaml:[0-9]+:[0-9]+: .*encoding" "$WORK/o" "empty axis reported too (all errors, not the first)"
expect_grep "bad.yaml:[0-9]+:[0-9]+: .*1.5" "$WORK/o" "out-of-range epsilon reported too"
"$BIN" run "$WORK/bad.yaml" -o "$WORK/x.h5" > "$WORK/o" 2>&1; expect_rc 2 $? "run refuses a bad sweep"
mpirun_n 2 "$BIN" run "$WORK/bad.yaml" -o "$WORK/x.h5" > "$WORK/o" 2>&1; expect_rc 2 $? "2 ranks refuse a bad sweep, none hangs"
[ "$(grep -c 'modle' "$WORK/o")" = 1 ] && ok "only rank 0 reports" || bad "errors printed by several ranks"
finish
