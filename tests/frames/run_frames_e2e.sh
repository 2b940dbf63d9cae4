#!/usr/bin/env bash
# run_frames_e2e.sh: `sinkscope run` on the tiny BERT (2 ranks), then `sinkscope frames`; /frames is recomputed
# with h5py from /results (check_frames.py), thresholds come from the sweep's `frames:` and options override them,
# a rerun replaces /frames and touches nothing else, and bad inputs exit 2.
# usage: run_frames_e2e.sh BIN TINY_MODEL WORKDIR [MPIEXEC]
HERE_FRAMES=$(cd "$(dirname "$0")" && pwd)
source "$HERE_FRAMES/../engine/e2e_lib.sh" "$@"
FCHECK="$PY $HERE_FRAMES/check_frames.py"
$PY -c 'import h5py, numpy' 2> /dev/null || { echo "SKIP: h5py/numpy not importable with $PY"; exit 77; }

# reference_tokens (|R|) when this build has it; the classifier skips the |R| rule without it
REF=""
cat > "$WORK/probe.yaml" <<YAML
name: v
grid: {model: [{name: m, path: $TINY}], prompts: [{name: n, generator: natural}], encoding: [native]}
analyses: [{name: r, type: reference_tokens}]
YAML
"$BIN" validate "$WORK/probe.yaml" > /dev/null 2>&1 && REF="  - name: ref
    type: reference_tokens"

# Two models on the same weights: 'short' (max_tokens 80) fails the longer natural prompts (missing prompts).
cat > "$WORK/sweep.yaml" <<YAML
name: frames_e2e
seed: 11
grid:
  model:
    - name: tiny
      path: $TINY
    - name: short
      path: $TINY
      max_tokens: 80
  prompts:
    - name: natural
      generator: natural
      count: 16
    - name: random
      generator: random
      count: 6
      length: 12
    - name: repeated
      generator: repeated
      count: 2
      length: 12
  encoding: [native, none]
analyses:
  - name: sink
    type: sink_rate
    epsilon: [0.1, 0.3]
  - name: top
    type: top_keys
$REF
frames:
  theta_d: 0.45
  bootstrap: 100
  seed: 3
YAML
"$BIN" validate "$WORK/sweep.yaml" > "$WORK/validate.out" 2>&1
expect_rc 0 $? "the sweep with a frames: mapping validates"
mpirun_n 2 "$BIN" run "$WORK/sweep.yaml" -o "$WORK/out.h5" --progress none > "$WORK/run.out" 2> "$WORK/run.err"
expect_rc 1 $? "2-rank run (the short model fails its long prompts)"
cp "$WORK/out.h5" "$WORK/before.h5"

"$BIN" frames "$WORK/out.h5" > "$WORK/frames.out" 2> "$WORK/frames.err"
expect_rc 0 $? "sinkscope frames"
expect_grep '^tiny / native / natural: (centralized|bidirectional|distributed|mixed) \(confidence' "$WORK/frames.out" \
  "prints a label and a confidence per group"
# [CLS] x..x [SEP] on learned positions (native), and on none with [CLS]/[SEP] around the repeated id: position 1
# has its own signal or token, a sink can form, so these are classified (schemas/frames.md, repeated-token prompts)
expect_grep '^tiny / native / repeated: (centralized|bidirectional|distributed|mixed) .*0 repeated-token left out, 2 kept' \
  "$WORK/frames.out" "repeated-token inputs with learned positions are classified"
expect_grep '^tiny / none / repeated: (centralized|bidirectional|distributed|mixed) .*0 repeated-token left out, 2 kept' \
  "$WORK/frames.out" "repeated-token inputs between [CLS] and [SEP] are classified"
expect_grep '^  layer  label' "$WORK/frames.out" "prints the per-layer table"
$FCHECK verify "$WORK/out.h5" 0.9 0.9 0.5 0.45 2 100 > "$WORK/check1.out" 2>&1
expect_rc 0 $? "h5py recomputation of /frames (thresholds from the sweep's frames:)"
$PY - "$WORK/out.h5" > "$WORK/attrs.out" 2>&1 <<'PY'
import sys, h5py
f = h5py.File(sys.argv[1], "r")
g = f["frames/short/native/natural"]
assert int(g.attrs["n_failed"]) > 0 and int(g.attrs["n_prompts"]) > 0, dict(g.attrs)
assert int(g.attrs["n_prompts"]) + int(g.attrs["n_missing"]) + int(g.attrs["n_repeated"]) == 16
g = f["frames/tiny/native/natural"]
assert int(g.attrs["seed"]) == 3 and abs(float(g.attrs["sink_eps"]) - 0.3) < 1e-12, dict(g.attrs)
assert g["shares"].shape == (2, 5) and g["margins"].shape == (2, 3)
assert "centralized" in g["labels"].attrs["codes"].decode() if isinstance(g["labels"].attrs["codes"], bytes) \
    else "centralized" in g["labels"].attrs["codes"]
print("attributes ok")
PY
expect_rc 0 $? "missing prompts counted, seed and Sink_1 epsilon recorded"
confidence() {
  $PY -c 'import sys,h5py; print(h5py.File(sys.argv[1])["frames/tiny/native/random"].attrs["confidence"])' "$1"
}
conf1=$(confidence "$WORK/out.h5")

# nothing outside /frames changed
for obj in /results /tasks /sweep /models; do
  h5diff "$WORK/before.h5" "$WORK/out.h5" $obj $obj > /dev/null 2>&1
  expect_rc 0 $? "$obj unchanged by frames"
done

# options override the sweep's thresholds; a rerun replaces /frames
"$BIN" frames "$WORK/out.h5" --theta-c 0.8 --phi 0.85 --skip-layers 0 --quiet > "$WORK/frames2.out" 2>&1
expect_rc 0 $? "sinkscope frames with options"
[ -s "$WORK/frames2.out" ] && bad "--quiet printed something" || ok "--quiet prints nothing"
$FCHECK verify "$WORK/out.h5" 0.8 0.85 0.5 0.45 0 100 > "$WORK/check2.out" 2>&1
expect_rc 0 $? "h5py recomputation with the overridden thresholds (theta_d still from the sweep)"
"$BIN" frames "$WORK/out.h5" --quiet > /dev/null 2>&1
conf2=$(confidence "$WORK/out.h5")
[ "$conf1" = "$conf2" ] && ok "the same seed gives the same confidence ($conf1)" || bad "confidence $conf1 then $conf2"
h5diff "$WORK/before.h5" "$WORK/out.h5" /results /results > /dev/null 2>&1
expect_rc 0 $? "/results unchanged after three frames runs"

# bad inputs: exit 2 with a message
$PY -c 'import sys,h5py; f=h5py.File(sys.argv[1],"w"); f.attrs["format"]="something-else"; f["x"]=[1,2]' \
  "$WORK/other.h5"
"$BIN" frames "$WORK/other.h5" > /dev/null 2> "$WORK/other.err"
expect_rc 2 $? "an HDF5 file that is not a results file"
expect_grep "not a sinkscope results file" "$WORK/other.err" "says why"
echo "plain text" > "$WORK/text.h5"
"$BIN" frames "$WORK/text.h5" > /dev/null 2>&1
expect_rc 2 $? "a file that is not HDF5"
"$BIN" frames "$WORK/missing.h5" > /dev/null 2>&1
expect_rc 2 $? "a missing file"
"$BIN" frames "$WORK/out.h5" --theta-c 2 > /dev/null 2> "$WORK/range.err"
expect_rc 2 $? "--theta-c out of range"
expect_grep "theta-c must be a number in \[0.5, 1\]" "$WORK/range.err" "names the range"
"$BIN" frames "$WORK/out.h5" --bogus > /dev/null 2>&1
expect_rc 2 $? "an unknown option"
"$BIN" frames > /dev/null 2>&1
expect_rc 2 $? "no file"
"$BIN" frames --help > "$WORK/help.out" 2>&1
expect_rc 0 $? "--help"
expect_grep "sinkscope's own operationalisation" "$WORK/help.out" "the help says whose method it is"
finish
