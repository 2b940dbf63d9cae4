#!/usr/bin/env bash
# run_failures.sh: failed tasks, the summary and exit 1; resume retries only failed tasks; a
# different sweep on the same file is refused (exit 2) and loses nothing; --force keeps the old file.
source "$(dirname "$0")/e2e_lib.sh" "$@"
write_sweep "$WORK/sweep.yaml" failures 30   # max_tokens 30: random prompts (24 tokens) fit, long sentences fail
mpirun_n 2 "$BIN" run "$WORK/sweep.yaml" -o "$WORK/out.h5" --progress none > "$WORK/o1" 2> "$WORK/e1"
expect_rc 1 $? "a run with failed tasks exits 1"
expect_grep "task\(s\) failed:" "$WORK/e1" "summary lists the failed tasks"
expect_grep "max_tokens is 30" "$WORK/e1" "the summary gives each failure's reason"
expect_grep "^results: " "$WORK/o1" "still says where the results are"
st1=$($CHECK status "$WORK/out.h5"); rc=$?; [ $rc = 77 ] && exit 77
echo "after run 1: $st1"
failed=$(echo "$st1" | sed -E 's/.*failed=([0-9]+).*/\1/'); done1=$(echo "$st1" | sed -E 's/.*done=([0-9]+).*/\1/')
[ "$failed" -gt 0 ] && [ "$done1" -gt 0 ] && ok "some tasks done, some failed" || bad "expected both done and failed tasks: $st1"
$CHECK verify "$WORK/out.h5" > /dev/null; expect_rc 0 $? "done tasks verify"
cp "$WORK/out.h5" "$WORK/before.h5"

mpirun_n 2 "$BIN" run "$WORK/sweep.yaml" -o "$WORK/out.h5" --progress lines > "$WORK/o2" 2> "$WORK/e2"
expect_rc 1 $? "re-run: the same tasks fail again"
expect_grep "resuming .*: $done1 of 24 tasks already done; running $failed" "$WORK/e2" "resume runs only the failed tasks"
$CHECK same-done "$WORK/before.h5" "$WORK/out.h5"; expect_rc 0 $? "done tasks untouched by the re-run"

# the same sweep with a larger max_tokens is a different sweep: refused, file untouched
write_sweep "$WORK/other.yaml" failures 0
sum0=$(sha256sum < "$WORK/out.h5")
mpirun_n 2 "$BIN" run "$WORK/other.yaml" -o "$WORK/out.h5" > "$WORK/o3" 2> "$WORK/e3"
expect_rc 2 $? "a different sweep on the same file is refused"
expect_grep "different sweep.*--force" "$WORK/e3" "the refusal says why and how"
[ "$(sha256sum < "$WORK/out.h5")" = "$sum0" ] && ok "the refused run left the file byte-identical" || bad "file changed"

# a bad sweep aimed at the file: exit 2, file untouched
printf 'name: x\ngrid: [\n' > "$WORK/broken.yaml"
"$BIN" run "$WORK/broken.yaml" -o "$WORK/out.h5" > /dev/null 2> "$WORK/e4"
expect_rc 2 $? "a broken YAML is refused"
expect_grep "broken.yaml:[0-9]+:[0-9]+:" "$WORK/e4" "with file:line:col"
[ "$(sha256sum < "$WORK/out.h5")" = "$sum0" ] && ok "the broken sweep left the file byte-identical" || bad "file changed"

mpirun_n 2 "$BIN" run "$WORK/other.yaml" -o "$WORK/out.h5" --force --progress none > "$WORK/o5" 2> "$WORK/e5"
expect_rc 0 $? "--force replaces it and the new sweep completes"
ls "$WORK"/out.h5.replaced-* > /dev/null 2>&1 && ok "the old file was kept aside" || bad "no out.h5.replaced-* file"
old=$(ls "$WORK"/out.h5.replaced-* | head -1)
[ "$(sha256sum < "$old")" = "$sum0" ] && ok "the kept file is the old results, intact" || bad "kept file differs"

# --force twice within one second keeps both old files (distinct names)
mpirun_n 2 "$BIN" run "$WORK/sweep.yaml" -o "$WORK/out.h5" --force --progress none > /dev/null 2>&1
mpirun_n 2 "$BIN" run "$WORK/other.yaml" -o "$WORK/out.h5" --force --progress none > /dev/null 2>&1
n_aside=$(ls "$WORK"/out.h5.replaced-* | wc -l)
[ "$n_aside" = 3 ] && ok "three replacements kept three old files" || bad "$n_aside old files kept, expected 3"

# ranks that see different prompt files refuse to start instead of hanging
mkdir -p "$WORK/da" "$WORK/db"
printf 'one\n' > "$WORK/da/p.txt"; printf 'one\ntwo\nthree\n' > "$WORK/db/p.txt"
for d in da db; do cat > "$WORK/$d/s.yaml" <<YAML
name: mismatch
grid:
  model: [{name: tiny, path: $TINY}]
  prompts: [{name: p, file: p.txt}]
  encoding: [native]
analyses: [{name: sink, type: sink_rate}]
YAML
done
timeout 60 "$MPIEXEC" -n 1 "$BIN" run "$WORK/da/s.yaml" -o "$WORK/mm.h5" : -n 1 "$BIN" run "$WORK/db/s.yaml" -o "$WORK/mm.h5" \
  > "$WORK/o7" 2>&1
expect_rc 2 $? "ranks with different plans refuse (no hang)"
expect_grep "sees a different sweep than rank 0" "$WORK/o7" "and say why"

# a model whose attention is NaN: the tasks fail with the reason, nothing reads as 'no sink'
"${BIN%/sinkscope}/tests/engine/make_tiny_model" "$WORK/nan_model" 7 512 nan > /dev/null
sed "s#$TINY#$WORK/nan_model#" "$WORK/other.yaml" > "$WORK/nan.yaml"
"$BIN" run "$WORK/nan.yaml" -o "$WORK/nan.h5" --progress none > /dev/null 2> "$WORK/e8"
expect_rc 1 $? "NaN attention fails the tasks"
expect_grep "non-finite attention probability in layer 0" "$WORK/e8" "with the reason"

# a fault-injected task failure is recorded with its message
mpirun_n 2 env SINKSCOPE_FAULT=fail:3 "$BIN" run "$WORK/other.yaml" -o "$WORK/f.h5" --progress none > /dev/null 2> "$WORK/e6"
expect_rc 1 $? "an injected task failure exits 1"
expect_grep "#3 model=tiny prompts=natural prompt=3: injected failure" "$WORK/e6" "names the task and the reason"
finish
