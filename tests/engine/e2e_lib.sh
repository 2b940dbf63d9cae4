# e2e_lib.sh: shared set-up for the end-to-end scripts. Sourced with: BIN TINY_MODEL WORKDIR MPIEXEC
set -u
BIN=$1; TINY=$2; WORK=$3; MPIEXEC=${4:-mpiexec}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PY=/usr/bin/python3
CHECK="$PY $HERE/check_results.py"
rm -rf "$WORK" && mkdir -p "$WORK"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
export OPENBLAS_NUM_THREADS=1
fails=0
ok()   { printf 'ok   %s\n' "$*"; }
bad()  { printf 'FAIL %s\n' "$*" >&2; fails=$((fails + 1)); }
expect_rc() { # expect_rc WANT GOT WHAT
  if [ "$1" = "$2" ]; then ok "$3 (exit $2)"; else bad "$3: exit $2, expected $1"; fi
}
expect_grep() { # expect_grep PATTERN FILE WHAT
  if grep -qE -- "$1" "$2"; then ok "$3"; else bad "$3: /$1/ not in $2:"; sed 's/^/    /' "$2" >&2; fi
}
mpirun_n() { local n=$1; shift; "$MPIEXEC" -n "$n" --oversubscribe "$@"; }
finish() {
  if [ "$fails" -gt 0 ]; then echo "$fails check(s) failed"; exit 1; fi
  echo "all checks passed"; exit 0
}
# write_sweep FILE NAME [max_tokens] [n_natural] : a sweep on the tiny model
write_sweep() {
  cat > "$1" <<YAML
name: $2
seed: 11
grid:
  model:
    - name: tiny
      path: $TINY
      max_tokens: ${3:-0}
  prompts:
    - name: natural
      generator: natural
      count: ${4:-16}
    - name: random
      generator: random
      count: 6
      length: 24
    - name: repeated
      generator: repeated
      count: 2
      length: 24
  encoding: [native]
analyses:
  - name: sink
    type: sink_rate
    epsilon: [0.1, 0.3]
  - name: top
    type: top_keys
YAML
}
