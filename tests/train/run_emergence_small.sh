#!/usr/bin/env bash
# run_emergence_small.sh: the emergence experiment end to end at toy size (experiments/emergence_ci.yaml: five
# encodings, 40 updates), through experiments/emergence.sh with 2 MPI ranks: the training grid spreads over the
# ranks and gives the same weights as one process; every checkpoint is analysed and carries its provenance into the
# results file; the report's emergence table has one row per (encoding, step) with the steps in order and Sink_1
# values in [0, 100], the onset table one row per encoding, and the curves exist.
# usage: run_emergence_small.sh SINKSCOPE_BINARY WORKDIR
set -u
bin=$1 work=$2
src=$(cd "$(dirname "$0")/../.." && pwd)
build=$(dirname "$bin")
rm -rf "$work" && mkdir -p "$work"
fail=0
check() { if eval "$2"; then echo "ok: $1"; else echo "FAIL: $1"; fail=1; fi; }
if [ "$(id -u)" = 0 ]; then export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1; fi
export OMPI_MCA_rmaps_base_oversubscribe=1 OPENBLAS_NUM_THREADS=1
BUILD=$build SS_EMERGENCE_RUNS=$work/runs SS_EMERGENCE_NATURAL=4 SS_EMERGENCE_RANDOM=2 SS_EMERGENCE_REPEATED=2 \
    bash "$src/experiments/emergence.sh" "$src/experiments/emergence_ci.yaml" "$work/out" 2 > "$work/log" 2>&1
rc=$?
check "emergence.sh exits 0 (log: $work/log)" "[ $rc = 0 ]"
[ $rc = 0 ] || { tail -20 "$work/log"; exit 1; }
for e in learned sinusoidal rope alibi none; do
  check "run ${e}_s1 has its last checkpoint" "[ -f $work/runs/${e}_s1/step_000040/model.safetensors ]"
done
# the grid on 2 ranks gives the same weights as a single process
"$bin" train "$src/experiments/emergence_ci.yaml" -o "$work/solo" --quiet > /dev/null 2>&1
check "a single process trains the same weights as the 2-rank grid" \
  "cmp -s $work/runs/rope_s1/step_000040/model.safetensors $work/solo/rope_s1/step_000040/model.safetensors && cmp -s $work/runs/alibi_s1/step_000040/model.safetensors $work/solo/alibi_s1/step_000040/model.safetensors"
r=$work/out/report
check "report index" "[ -s $r/index.md ]"
check "figures: Sink_1 curve" "[ -s $r/emergence_sink1.png ] && [ -s $r/emergence_sink1.svg ]"
/usr/bin/python3 - "$r" "$work/out/emergence.h5" <<'PY' || fail=1
import csv, json, sys
import h5py
r, h5 = sys.argv[1], sys.argv[2]
rows = list(csv.reader(open(f"{r}/emergence.csv")))
head, body = rows[0], rows[1:]
encs = ["learned", "sinusoidal", "rope", "alibi", "none"]
steps = [0, 1, 2, 4, 8, 16, 32, 40]
got = [(b[0], int(b[1])) for b in body]
want = [(e, s) for e in encs for s in steps]
assert got == want, f"emergence rows {got[:6]}... != {want[:6]}..."
sink_cols = [i for i, h in enumerate(head) if h.startswith("Sink_1^0.3") and "±" not in h]
assert len(sink_cols) == 3, head
for b in body:
    for i in sink_cols:
        v = float(b[i])
        assert 0.0 <= v <= 100.0, (b, i)
onset = list(csv.reader(open(f"{r}/sink_onset.csv")))[1:]
assert [o[0] for o in onset] == encs, onset
# provenance in the results file: every checkpoint model has its train attribute with step, seed, encoding
with h5py.File(h5, "r") as f:
    n = 0
    for name, g in f["models"].items():
        t = json.loads(g.attrs["train"])
        assert t["step"] == int(name.rsplit("_", 1)[1]) and t["seed"] == 1 and t["encoding"] in encs, (name, t)
        pe = g.attrs["positional_encoding"]
        pe = pe.decode() if isinstance(pe, bytes) else pe
        assert pe == t["encoding"], (name, pe)
        n += 1
    assert n == len(want), n
print(f"ok: {len(body)} emergence rows, {len(onset)} onset rows, provenance of {n} checkpoints")
PY
exit $fail
