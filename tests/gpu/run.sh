#!/usr/bin/env bash
# run.sh: the GPU session's check, in one go (under 8 minutes on an H200): configure and build with CUDA
# architectures 90 and 80, run the GPU tests (test_gpu_ops: every CUDA kernel against its CPU reference;
# test_backend; test_fwd_mirror: every architecture's forward pass on the CUDA backend against the CPU), the
# attention workbench (kernels/dev/attn_bench: validation of every kernel version, launch-shape sweep), the kernel
# benchmark (tests/bench/bench_gpu) and the model benchmark: SmolLM2-135M and Gemma-3-270M shapes (random weights,
# make_shape_model: the real weights cannot be fetched there) at T = 64, 512, 2048, forward and forward + default
# analyses tokens/s on CUDA (and forward + sink_rate/top_keys as summary passes: the maps stay on the device), and
# on the machine's CPU at T = 512 for the ratio. Everything goes to one log: $OUT/gpu.log when $OUT is set, else build-gpu/gpu.log.
# Usage: tests/gpu/run.sh [BUILD_DIR]     Exit: 0 all passed, 1 a step failed, 77 no device (nothing to check).
set -u
SRC=$(cd "$(dirname "$0")/../.." && pwd)
B=${1:-$SRC/build-gpu}
LOG=${OUT:+$OUT/gpu.log}
LOG=${LOG:-$B/gpu.log}
mkdir -p "$B" "$(dirname "$LOG")"
: > "$LOG"
JOBS=$(nproc 2>/dev/null || echo 4)
[ "$JOBS" -gt 16 ] && JOBS=16
rc=0
step() { # step NAME TIMEOUT_S CMD...: runs, logs, records failure (77 = skipped, not a failure)
    local name=$1 t=$2; shift 2
    echo "=== $name ($(date +%T)): $*" >> "$LOG"
    local t0=$SECONDS
    timeout "$t" "$@" >> "$LOG" 2>&1
    local r=$?
    echo "=== $name: exit $r after $((SECONDS - t0)) s" >> "$LOG"
    if [ $r -ne 0 ] && [ $r -ne 77 ]; then rc=1; fi
    return $r
}
{
    echo "sinkscope GPU check, $(date -u +%FT%TZ), commit $(git -C "$SRC" rev-parse --short HEAD 2>/dev/null)"
    nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv 2>&1 | head -3
    /usr/local/cuda/bin/nvcc --version 2>&1 | tail -2
} >> "$LOG"
step configure 120 cmake -S "$SRC" -B "$B" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSINKSCOPE_WERROR=ON \
    "-DCMAKE_CUDA_ARCHITECTURES=90;80" || { echo "configure failed: see $LOG"; exit 1; }
step build 300 cmake --build "$B" -j "$JOBS" --target test_gpu_ops test_backend test_fwd_mirror attn_bench bench_gpu \
    bench_analyses make_shape_model || { echo "build failed: see $LOG"; exit 1; }
step tests 150 ctest --test-dir "$B" -R '^(test_gpu_ops|test_backend|test_fwd_mirror)$' --output-on-failure -V
step workbench 60 "$B/kernels/attn_bench"
step workbench_gemma 45 "$B/kernels/attn_bench" 2048 4 1 256 512
step bench 60 "$B/tests/bench/bench_gpu"
# model benchmark: forward (+ default analyses, on the host) tokens/s
M=$B/shape_models
for shape in smollm2 gemma3; do
    step "make_$shape" 60 "$B/tests/bench/make_shape_model" "$shape" "$M/$shape"
    for T in 64 512 2048; do
        P=4; [ "$T" = 2048 ] && P=2
        # the default set's attention_graph diagonalises a T x T Laplacian per head: not at T = 2048 in this budget
        [ "$T" != 2048 ] && step "model_${shape}_T${T}_cuda" 90 "$B/tests/bench/bench_analyses" "$M/$shape" "$T" \
            --prompts "$P" --backend cuda --no-tokenizer --default-only
        step "model_${shape}_T${T}_cuda_summaries" 60 "$B/tests/bench/bench_analyses" "$M/$shape" "$T" --prompts "$P" \
            --backend cuda --no-tokenizer --summaries
    done
    OPENBLAS_NUM_THREADS=$JOBS step "model_${shape}_T512_cpu" 90 "$B/tests/bench/bench_analyses" "$M/$shape" 512 \
        --prompts 1 --backend cpu --no-tokenizer --default-only
    OPENBLAS_NUM_THREADS=$JOBS step "model_${shape}_T512_cpu_sink" 60 "$B/tests/bench/bench_analyses" "$M/$shape" 512 \
        --prompts 1 --backend cpu --no-tokenizer --summaries
    rm -rf "$M/$shape"
done
{
    echo "=== summary: tokens/s (forward, forward + default analyses)"
    grep -E "^tokens_per_s" "$LOG"
} >> "$LOG"
grep -E "FAIL|SKIP|exit [0-9]+ after" "$LOG"
echo "log: $LOG"
exit $rc
