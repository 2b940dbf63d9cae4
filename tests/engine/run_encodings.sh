#!/usr/bin/env bash
# run_encodings.sh: the encoding axis in a sweep. On the tiny BERT every ablation is computed (status 1):
# native, bos off, none, rope, alibi (symmetric), sinusoidal, shuffled. On a tiny Llama (the Hugging Face
# fixture of tests/fixtures/tiny/llama with a WordPiece vocab.txt of its 128 ids, so that the runner
# can load it) shuffled does not apply (no learned position rows) and, on the BERT, a rope fraction that
# rotates 0 of its 4 head dimensions does not either: those tasks are recorded as skipped (status 3)
# with the reason, the run exits 0, and nothing is re-run on resume. The ablations change the
# attention: no two encodings of a model give the same maps, except where they coincide by definition.
source "$(dirname "$0")/e2e_lib.sh" "$@"
SRC=${SS_SOURCE_DIR:-$HERE/../..}
FIX="$SRC/tests/fixtures/tiny/llama"
[ -f "$FIX/model.safetensors" ] || { echo "SKIP: $FIX is absent"; exit 77; }
mkdir -p "$WORK/tiny_llama"
ln -s "$FIX/config.json" "$FIX/model.safetensors" "$WORK/tiny_llama/"
{ printf "%s\n" "[PAD]" "[UNK]" "[CLS]" "[SEP]" "[MASK]"; for i in $(seq 5 127); do echo "tok$i"; done; } > "$WORK/tiny_llama/vocab.txt"

cat > "$WORK/enc.yaml" <<YAML
name: enc
grid:
  model:
    - {name: tiny, path: $TINY, bos: model_default}
    - {name: llama, path: $WORK/tiny_llama, bos: none}
  prompts: [{name: rnd, generator: random, count: 3, length: 12}]
  encoding:
    - native
    - {name: nobos, type: native, bos: off}
    - none
    - {type: rope, theta: 10000}
    - {name: rope_q, type: rope, theta: 500, fraction: 0.25}
    - alibi
    - sinusoidal
    - {type: shuffled, seed: 3}
analyses: [{name: sink, type: sink_rate}]
YAML
mpirun_n 2 "$BIN" run "$WORK/enc.yaml" -o "$WORK/enc.h5" --progress none > "$WORK/o1" 2> "$WORK/e1"
expect_rc 0 $? "a sweep with skipped encodings exits 0"
expect_grep "6 task\(s\) skipped" "$WORK/e1" "the summary counts the skipped tasks"
expect_grep "3 x encoding 'shuffled' \(shuffled\) does not apply to llama: model has no learned position embeddings to shuffle" \
  "$WORK/e1" "and gives the shuffled reason once"
expect_grep "3 x encoding 'rope_q' \(rope, fraction 0.25\) does not apply to bert: it rotates 0 of the 4 dimensions" \
  "$WORK/e1" "and the rope fraction reason once"
$PY - "$WORK/enc.h5" <<'PY'
import sys, h5py, numpy as np
f = h5py.File(sys.argv[1], "r")
st, enc, mod, tok = f["tasks/status"][:], f["tasks/encoding"][:], f["tasks/model"][:], f["tasks/tokens"][:]
err = f["tasks/error"][:]
enames = {int(g.attrs["index"]): n for n, g in f["encodings"].items()}
mnames = {int(g.attrs["index"]): n for n, g in f["models"].items()}
cls = int(f["models/tiny"].attrs["cls_token_id"])
skip = {("tiny", "rope_q"): b"rotates 0 of the 4 dimensions", ("llama", "shuffled"): b"no learned position embeddings"}
ok = True
for t in range(len(st)):
    m, e = mnames[int(mod[t])], enames[int(enc[t])]
    want = 3 if (m, e) in skip else 1
    if st[t] != want: print(f"task {t} ({m}, {e}): status {st[t]}, want {want}: {err[t]}"); ok = False
    if want == 3 and skip[(m, e)] not in err[t]: print(f"task {t}: reason {err[t]}"); ok = False
    if m == "tiny" and e == "native" and tok[t, 0] != cls: print(f"task {t}: native starts with {tok[t,0]}, not [CLS] {cls}"); ok = False
    if m == "tiny" and e == "nobos" and tok[t, 0] == cls: print(f"task {t}: bos off still starts with [CLS]"); ok = False
if f["encodings/nobos"].attrs["bos"] not in (b"off", "off"): print("nobos bos attribute"); ok = False
# every computed ablation changes the first keys' attention mass alpha [L][H][k] of a model, except where
# two encodings coincide by definition: on the Llama (BOS policy none) bos off is native, and rope with
# theta 10000 on every dimension is its own RoPE; those must agree exactly
row = f["tasks/row"][:]
def by_enc(model):
    alpha = f[f"results/{model}/sink/alpha"]
    out = {}
    for t in range(len(st)):
        if mnames[int(mod[t])] == model and st[t] == 1:
            out.setdefault(enames[int(enc[t])], []).append(np.asarray(alpha[int(row[t])], dtype=np.float64))
    return {k: np.stack(v) for k, v in out.items()}
same = {"tiny": set(), "llama": {"native", "nobos", "rope"}}
for model in ("tiny", "llama"):
    r = by_enc(model)
    keys = sorted(r)
    for i, a in enumerate(keys):
        for b in keys[i + 1:]:
            want = a in same[model] and b in same[model]
            if np.array_equal(r[a], r[b]) != want:
                print(f"{model}: {a} and {b} give {'different' if want else 'identical'} results"); ok = False
print("results:", {m: sorted(by_enc(m)) for m in ("tiny", "llama")})
sys.exit(0 if ok else 1)
PY
expect_rc 0 $? "statuses, reasons, bos framing and distinct results per encoding in the file"
mpirun_n 2 "$BIN" run "$WORK/enc.yaml" -o "$WORK/enc.h5" --progress none > "$WORK/o2" 2> "$WORK/e2"
expect_rc 0 $? "resume"
expect_grep "48 of 48 tasks already done; running 0" "$WORK/e2" "skipped tasks are final: nothing re-run"
finish
