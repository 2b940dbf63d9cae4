#!/usr/bin/env bash
# emergence.sh: the emergence experiment of issue 8, in one command. Trains one small decoder per positional
# encoding and seed (the training grid of CONFIG, spread over NP MPI ranks), analyses every checkpoint on natural,
# random-token and repeated-token prompts (one sweep over all checkpoints: sink_rate, top_keys, attention_graph,
# attention_geometry, then the frame classifier), and writes the report with the emergence table and curves.
#
# usage: bash experiments/emergence.sh [CONFIG [OUT [NP]]]
#   CONFIG  the training grid (default experiments/emergence.yaml)
#   OUT     results directory (default results/emergence): checkpoints.yaml, emergence.h5 (git-ignored),
#           loss/<run>.csv, report/ (tables, figures, index.md)
#   NP      MPI ranks (default 2); BUILD (env) the build directory (default build)
# The checkpoints (weights) go to .cache/emergence/<name of OUT>/runs (or $SS_EMERGENCE_RUNS), never into results/. Re-running resumes:
# finished training runs are kept (sinkscope train resumes from their last checkpoint), and the sweep's results
# file continues where it stopped.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cfg=${1:-$repo/experiments/emergence.yaml}
out=${2:-$repo/results/emergence}
np=${3:-2}
build=${BUILD:-$repo/build}
sinkscope=$build/sinkscope
[ -x "$sinkscope" ] || { echo "emergence.sh: no $sinkscope (build first: cmake -S . -B build && cmake --build build)" >&2; exit 2; }
[ -f "$cfg" ] || { echo "emergence.sh: no config $cfg" >&2; exit 2; }
mkdir -p "$out"
out=$(cd "$out" && pwd)
runs=${SS_EMERGENCE_RUNS:-$repo/.cache/emergence/$(basename "$out")/runs}
mkdir -p "$runs"
if [ "$(id -u)" = 0 ]; then export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1; fi
export OMPI_MCA_rmaps_base_oversubscribe=1
t0=$SECONDS

# 1. training: one run per (encoding, seed), each into $runs/<encoding>_s<seed>/step_NNNNNN/
echo "[emergence] training $cfg -> $runs"
mpiexec -n "$np" "$sinkscope" train "$cfg" -o "$runs" --quiet
t_train=$((SECONDS - t0))
mkdir -p "$out/loss"
for r in "$runs"/*/; do cp "$r/loss.csv" "$out/loss/$(basename "$r").csv"; done

# 2. the sweep over every checkpoint (T = 64 bytes; Gu et al.'s three kinds of input)
sweep=$out/checkpoints.yaml
{
  echo "# checkpoints.yaml: written by experiments/emergence.sh from $(basename "$cfg"); every checkpoint of every run."
  echo "name: emergence"
  echo "seed: 2025"
  echo "output: emergence.h5"
  echo "run: {backend: auto, threads: 1}"
  echo "grid:"
  echo "  model:"
  for r in "$runs"/*/; do
    for s in "$r"step_*/; do
      name="$(basename "$r")_$(basename "$s")"
      echo "    - {name: $name, path: '${s%/}', max_tokens: 64}"
    done
  done
  echo "  prompts:"
  echo "    - {name: natural, generator: natural, count: ${SS_EMERGENCE_NATURAL:-32}, length: 64}"
  echo "    - {name: random, generator: random, count: ${SS_EMERGENCE_RANDOM:-16}, length: 64}"
  echo "    - {name: repeated, generator: repeated, count: ${SS_EMERGENCE_REPEATED:-8}, length: 64}"
  echo "  encoding: [native]"
  echo "analyses:"
  echo "  - {name: sink, type: sink_rate, epsilon: [0.3]}"
  echo "  - {name: top_keys, type: top_keys}"
  echo "  - {name: graph, type: attention_graph}"
  echo "  - {name: geometry, type: attention_geometry}"
} > "$sweep"
echo "[emergence] analysing $(grep -c 'step_' "$sweep") checkpoints ($sweep)"
t1=$SECONDS
mpiexec -n "$np" "$sinkscope" run "$sweep"
t_run=$((SECONDS - t1))

# 3. the report: emergence table, onset table, curves (and each run's last checkpoint in the per-model tables)
"$sinkscope" report "$out/emergence.h5" -o "$out/report"
echo "[emergence] done in $((SECONDS - t0)) s (training $t_train s, analysis $t_run s): $out/report/index.md"
