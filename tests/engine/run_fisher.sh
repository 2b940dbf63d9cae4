#!/usr/bin/env bash
# run_fisher.sh: the fisher analysis through `sinkscope run` and `sinkscope report`. On the tiny Llama (the
# fixture of tests/fixtures/tiny/llama with a WordPiece vocab.txt of its 128 ids, as run_encodings.sh) the native
# tasks are done and write F_l per layer (finite, > 0, attention + mlp + norms = layer) with sink_rate beside it;
# the `none` encoding and every task of the tiny BERT (no MLM head) are skipped (status 3) with the reason, the
# run exits 0. The report's fisher table carries the correlations of F_l with the layer index, recomputed here
# from the HDF5 rows.
source "$(dirname "$0")/e2e_lib.sh" "$@"
SRC=${SS_SOURCE_DIR:-$HERE/../..}
FIX="$SRC/tests/fixtures/tiny/llama"
[ -f "$FIX/model.safetensors" ] || { echo "SKIP: $FIX is absent"; exit 77; }
for a in llama gemma3; do
  mkdir -p "$WORK/tiny_$a"
  ln -s "$SRC/tests/fixtures/tiny/$a/config.json" "$SRC/tests/fixtures/tiny/$a/model.safetensors" "$WORK/tiny_$a/"
  { printf "%s\n" "[PAD]" "[UNK]" "[CLS]" "[SEP]" "[MASK]"; for i in $(seq 5 127); do echo "tok$i"; done; } > "$WORK/tiny_$a/vocab.txt"
done

cat > "$WORK/f.yaml" <<YAML
name: fisher
grid:
  model:
    - {name: tiny, path: $TINY}
    - {name: llama, path: $WORK/tiny_llama, bos: none}
    - {name: gemma, path: $WORK/tiny_gemma3, bos: none}
  prompts: [{name: rnd, generator: random, count: 3, length: 12}]
  encoding: [native, none]
analyses: [{name: fish, type: fisher}, {name: sink, type: sink_rate}]
YAML
mpirun_n 2 "$BIN" run "$WORK/f.yaml" -o "$WORK/f.h5" --progress none > "$WORK/o1" 2> "$WORK/e1"
expect_rc 0 $? "a sweep with fisher on an encoder exits 0"
expect_grep "12 task\(s\) skipped" "$WORK/e1" "the summary counts the skipped tasks (BERT x 2 encodings, llama and gemma x none)"
expect_grep "not applicable to bert" "$WORK/e1" "and gives the encoder's reason"
$PY - "$WORK/f.h5" "$WORK/want_corr" <<'PY'
import sys, h5py, numpy as np
f = h5py.File(sys.argv[1], "r")
st, enc, mod, row, err = (f["tasks/" + k][:] for k in ("status", "encoding", "model", "row", "error"))
enames = {int(g.attrs["index"]): n for n, g in f["encodings"].items()}
mnames = {int(g.attrs["index"]): n for n, g in f["models"].items()}
ok = True
done, gdone = [], []
for t in range(len(st)):
    m, e = mnames[int(mod[t])], enames[int(enc[t])]
    want = 1 if m != "tiny" and e == "native" else 3
    if st[t] != want: print(f"task {t} ({m}, {e}): status {st[t]}, want {want}: {err[t]}"); ok = False
    if m == "tiny" and b"not applicable" not in err[t]: print(f"task {t}: reason {err[t]}"); ok = False
    if m != "tiny" and e == "none" and b"native positional encoding only" not in err[t]: print(f"task {t}: {err[t]}"); ok = False
    if want == 1 and m == "llama": done.append(int(row[t]))
    if want == 1 and m == "gemma": gdone.append(int(row[t]))
g = f["results/llama/fish"]
F, A, M, N = (g[k][:][done] for k in ("layer", "attention", "mlp", "norms"))
if len(done) != 3 or F.shape[1] != 2: print("rows", done, F.shape); ok = False
if not (np.isfinite(F).all() and (F > 0).all()): print("F", F); ok = False
if not np.allclose(F, A + M + N, rtol=1e-5): print("groups", F, A + M + N); ok = False
for k in ("embedding", "final_norm", "loss"):
    v = g[k][:][done]
    if not (np.isfinite(v).all() and (v > 0).all()): print(k, v); ok = False
if not np.isnan(g["lm_head"][:][done]).all(): print("lm_head should be NaN (tied)"); ok = False
if not np.isfinite(f["results/llama/sink/sink_rate"][:][done][:, 0, 0]).all(): print("sink_rate beside fisher"); ok = False
# the report's correlations of F_l with the layer index: from the per-layer means over prompts (gemma: 3 layers)
Fg = f["results/gemma/fish/layer"][:][gdone].mean(axis=0)
l = np.arange(len(Fg), dtype=float)
r = np.corrcoef(l, Fg)[0, 1]
rk = np.argsort(np.argsort(Fg)).astype(float)  # no ties in practice
rho = np.corrcoef(l, rk)[0, 1]
open(sys.argv[2], "w").write(f"Pearson r = {r:.3f}, Spearman rho = {rho:.3f}; Pearson r over the 3-layer windows centred on layers 1..1: {r:.2f}.\n")
print("gemma F_l means", Fg, "r", r, "rho", rho)
sys.exit(0 if ok else 1)
PY
expect_rc 0 $? "fisher rows: done on llama native, skipped elsewhere, groups sum to the layer total"
"$BIN" report "$WORK/f.h5" -o "$WORK/rep" --format md > "$WORK/rep.log" 2>&1
expect_rc 0 $? "report on the fisher file"
expect_grep "fish \(fisher\) by layer" "$WORK/rep/fish_llama_native.md" "the report has the fisher family table"
if grep -qF "$(cat "$WORK/want_corr")" "$WORK/rep/fish_gemma_native.md"; then ok "its caption has the correlations with the layer index"
else bad "correlations: want '$(cat "$WORK/want_corr")' in"; cat "$WORK/rep/fish_gemma_native.md" >&2; fi
finish
