#!/usr/bin/env bash
# run_bad_configs.sh: `sinkscope train` refuses bad configs and bad run directories with exit 2, naming the
# config file, the line (and column) and the field, and creates no output directory for a bad config.
# Usage: run_bad_configs.sh SINKSCOPE WORKDIR
set -u
BIN=$1; WORK=$2
rm -rf "$WORK" && mkdir -p "$WORK" && cd "$WORK" || exit 1
export OPENBLAS_NUM_THREADS=1
fails=0
ok()  { printf 'ok   %s\n' "$*"; }
bad() { printf 'FAIL %s\n' "$*" >&2; fails=$((fails + 1)); }
head -c 3000 /dev/zero | tr '\0' 'a' > train.txt

good() { # the base config: line 1 model:, 2-5 its fields, 6 data:, 7 train, 8 train:, 9-11 its fields
  cat <<'YAML'
model:
  n_layers: 1
  d_model: 16
  n_heads: 2
  n_ctx: 16
data:
  train: train.txt
train:
  steps: 2
  batch_size: 2
  lr: 1.0e-3
YAML
}
# case NAME PATTERN CONFIG-TEXT: exit 2, stderr matches PATTERN (file:line:col and the field), no output dir
case_() {
  local name=$1 pat=$2
  printf '%s\n' "$3" > "$name.yaml"
  "$BIN" train "$name.yaml" -o "out_$name" --quiet 2> "$name.err"; local rc=$?
  if [ $rc -ne 2 ]; then bad "$name: exit $rc, expected 2"; sed 's/^/    /' "$name.err" >&2; return; fi
  if ! grep -qE -- "$pat" "$name.err"; then bad "$name: /$pat/ not in:"; sed 's/^/    /' "$name.err" >&2; return; fi
  if [ -e "out_$name" ]; then bad "$name: the output directory was created"; return; fi
  ok "$name: $(head -1 "$name.err")"
}

case_ unknown_field  "^unknown_field.yaml:2:3: unknown field 'n_layer' in 'model'" "$(good | sed 's/n_layers/n_layer/')"
case_ heads          "^heads.yaml:4:12: 'n_heads' = 3 does not divide d_model = 16" "$(good | sed 's/n_heads: 2/n_heads: 3/')"
case_ posenc         "^posenc.yaml:6:11: 'posenc' must be one of learned, sinusoidal, rope, alibi, none, got 'abs'" \
  "$(good | sed 's/  n_ctx: 16/  n_ctx: 16\n  posenc: abs/')"
case_ steps_range    "^steps_range.yaml:9:10: 'steps' = -5 is outside" "$(good | sed 's/steps: 2/steps: -5/')"
case_ lr_type        "^lr_type.yaml:11:7: 'lr' must be a number, got 'fast'" "$(good | sed 's/lr: 1.0e-3/lr: fast/')"
case_ missing_train  "^missing_train.yaml:1:1: missing field 'data.train'" "$(good | sed 's/train: train.txt/heldout: train.txt/')"
case_ section        "^section.yaml:12:1: unknown field 'optimizer' in 'the config'" "$(good; echo 'optimizer: {}')"
case_ not_mapping    "^not_mapping.yaml:8:8: 'train' must be a mapping" "$(good | sed '8,$d'; echo 'train: [1, 2]')"
case_ syntax         "^syntax.yaml:[0-9]+:[0-9]+: YAML syntax error" "$(good; echo '  - oops: [')"
case_ alibi_dff      "^alibi_dff.yaml:7:9: 'd_ff' must be 4.d_model = 64 with posenc alibi" \
  "$(good | sed 's/  n_ctx: 16/  n_ctx: 16\n  posenc: alibi\n  d_ff: 48/')"
case_ too_big        "^too_big.yaml:10:15: 'batch_size' = 4000: 4000 windows of 4000 tokens need buffers" \
  "$(good | sed 's/batch_size: 2/batch_size: 4000/;s/n_ctx: 16/n_ctx: 4000/')"
case_ warmup         "^warmup.yaml:12:11: 'warmup' = 5 is longer than steps = 2" "$(good; echo '  warmup: 5')"

case_ no_data         "^no_data.yaml:7:10: 'train': cannot read ./nowhere.txt" "$(good | sed 's/train: train.txt/train: nowhere.txt/')"
case_ dir_data       "^dir_data.yaml:7:10: 'train': ./sub is not a file" "$(mkdir -p sub; good | sed 's/train: train.txt/train: sub/')"
head -c 10 /dev/zero > short.txt
case_ short_data     "short.txt has 10 bytes, fewer than one window \\(17\\)" "$(good | sed 's/train: train.txt/train: short.txt/')"

# run-directory errors
good > a.yaml
"$BIN" train a.yaml -o run --quiet 2> a.err || bad "the good config failed: $(cat a.err)"
good | sed 's/lr: 1.0e-3/lr: 2.0e-3/' > b.yaml
"$BIN" train b.yaml -o run --quiet 2> b.err; rc=$?
if [ $rc -eq 2 ] && grep -q "another config" b.err; then ok "other config on a run directory: $(cat b.err)"; else bad "other config: exit $rc"; cat b.err >&2; fi
"$BIN" train a.yaml --quiet 2> noout.err; rc=$?
[ $rc -eq 2 ] && ok "no -o: exit 2" || bad "no -o: exit $rc"
"$BIN" train a.yaml -o fresh --resume --quiet 2> nores.err; rc=$?
if [ $rc -eq 2 ] && grep -q "no checkpoint" nores.err; then ok "--resume without checkpoints: $(cat nores.err)"; else bad "--resume: exit $rc"; cat nores.err >&2; fi

if [ "$fails" -gt 0 ]; then echo "$fails check(s) failed"; exit 1; fi
echo "all checks passed"
