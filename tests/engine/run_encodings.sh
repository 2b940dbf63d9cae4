#!/usr/bin/env bash
# run_encodings.sh: the encoding axis in a sweep: bos on/off crosses with the model's policy, and an
# encoding that is not computed for the model is recorded as skipped (status 3, with its reason),
# exits 0, and is not re-run on resume.
source "$(dirname "$0")/e2e_lib.sh" "$@"
cat > "$WORK/enc.yaml" <<YAML
name: enc
grid:
  model: [{name: tiny, path: $TINY, bos: model_default}]
  prompts: [{name: rnd, generator: random, count: 3, length: 12}]
  encoding:
    - native
    - {name: nobos, type: native, bos: off}
    - none
analyses: [{name: sink, type: sink_rate}]
YAML
mpirun_n 2 "$BIN" run "$WORK/enc.yaml" -o "$WORK/enc.h5" --progress none > "$WORK/o1" 2> "$WORK/e1"
expect_rc 0 $? "a sweep with a skipped encoding exits 0"
expect_grep "3 task\(s\) skipped" "$WORK/e1" "the summary counts the skipped tasks"
expect_grep "3 x encoding 'none' \(none\) is not implemented for architecture 'bert'" "$WORK/e1" "and gives the reason once"
$PY - "$WORK/enc.h5" <<'PY'
import sys, h5py, numpy as np
f = h5py.File(sys.argv[1], "r")
st, enc, tok = f["tasks/status"][:], f["tasks/encoding"][:], f["tasks/tokens"][:]
names = {int(g.attrs["index"]): n for n, g in f["encodings"].items()}
cls = int(f["models/tiny"].attrs["cls_token_id"])
ok = True
for t in range(len(st)):
    e = names[int(enc[t])]
    want = 3 if e == "none" else 1
    if st[t] != want: print(f"task {t} ({e}): status {st[t]}, want {want}"); ok = False
    if e == "native" and tok[t, 0] != cls: print(f"task {t}: native starts with {tok[t,0]}, not [CLS] {cls}"); ok = False
    if e == "nobos" and tok[t, 0] == cls: print(f"task {t}: bos off still starts with [CLS]"); ok = False
if f["encodings/nobos"].attrs["bos"] not in (b"off", "off"): print("nobos bos attribute"); ok = False
err = f["tasks/error"][:]
if not all(b"not implemented" in err[t] for t in range(len(st)) if st[t] == 3): print("skip reason missing"); ok = False
sys.exit(0 if ok else 1)
PY
expect_rc 0 $? "statuses, bos framing and reasons in the file"
mpirun_n 2 "$BIN" run "$WORK/enc.yaml" -o "$WORK/enc.h5" --progress none > "$WORK/o2" 2> "$WORK/e2"
expect_rc 0 $? "resume"
expect_grep "9 of 9 tasks already done; running 0" "$WORK/e2" "skipped tasks are final: nothing re-run"
finish
