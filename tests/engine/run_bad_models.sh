#!/usr/bin/env bash
# run_bad_models.sh: bad model inputs fail a run before anything is written. Each case is built here
# from the committed fixtures (the tiny Llama of tests/fixtures/tiny/llama, the tiny GGUF of
# tests/fixtures/gguf, the tiny BERT of make_tiny_model):
#   truncated safetensors, corrupt safetensors header, truncated GGUF, a file that is not GGUF,
#   unknown architecture, unsupported tensor type (F8_E4M3), tokenizer larger than the model's
#   vocabulary, config vocab_size disagreeing with the embedding, a prompt set longer than the model's
#   positions.
# Each must: exit 2; name the sweep file and line of the model (or prompt set), the bad file and the
# field; create no results file; and leave an existing results file byte for byte as it was.
# `sinkscope inspect` on the same bad models also exits 2 with the file named (where inspect reads
# the broken part: it does not read the weights).
source "$(dirname "$0")/e2e_lib.sh" "$@"
SRC=${SS_SOURCE_DIR:-$HERE/../..}
LLAMA="$SRC/tests/fixtures/tiny/llama" GGUF="$SRC/tests/fixtures/gguf/tiny.gguf"
[ -f "$LLAMA/model.safetensors" ] && [ -f "$GGUF" ] || { echo "SKIP: the tiny fixtures are absent"; exit 77; }
cd "$WORK"

# A loadable tiny Llama (a WordPiece vocab.txt of its 128 ids), the base of the broken copies.
mk_llama() { mkdir -p "$1"; cp "$LLAMA/config.json" "$LLAMA/model.safetensors" "$1/";
  { printf "%s\n" "[PAD]" "[UNK]" "[CLS]" "[SEP]" "[MASK]"; for i in $(seq 5 "${2:-127}"); do echo "tok$i"; done; } > "$1/vocab.txt"; }
mk_llama good
mk_llama trunc_st; $PY -c "import os; p='trunc_st/model.safetensors'; open(p,'r+b').truncate(os.path.getsize(p)//2)"
mk_llama corrupt_st; $PY - <<'PY'
import struct
p = 'corrupt_st/model.safetensors'; d = bytearray(open(p, 'rb').read()); n = struct.unpack('<Q', d[:8])[0]
d[8:8 + 40] = b'{"oops": [1, 2,' + b' ' * 25     # the JSON header no longer parses
open(p, 'wb').write(d)
PY
mk_llama f8; $PY - <<'PY'
import json, struct
p = 'f8/model.safetensors'; d = open(p, 'rb').read(); n = struct.unpack('<Q', d[:8])[0]; h = json.loads(d[8:8 + n])
h['model.embed_tokens.weight']['dtype'] = 'F8_E4M3'; h['model.embed_tokens.weight']['shape'] = [128, 128]  # same bytes
b = json.dumps(h).encode(); b += b' ' * (-len(b) % 8)
open(p, 'wb').write(struct.pack('<Q', len(b)) + b + d[8 + n:])
PY
mk_llama unknown; sed -i 's/"model_type": "llama"/"model_type": "mamba"/' unknown/config.json
mk_llama bigtok 199                                   # 200 tokenizer entries for a 128-row embedding
mk_llama vocabcfg; sed -i 's/"vocab_size": 128/"vocab_size": 120/' vocabcfg/config.json
$PY -c "d=open('$GGUF','rb').read(); open('trunc.gguf','wb').write(d[:len(d)*2//3]); open('short.gguf','wb').write(d[:100])"
printf 'GGUX not a model' > notgguf.gguf

sweep() { # sweep FILE MODEL_PATH [LENGTH]
  cat > "$1" <<YAML
name: bad
seed: 3
output: out.h5
grid:
  model:
    - name: m
      path: $2
      bos: none
  prompts:
    - name: rnd
      generator: random
      count: 2
      length: ${3:-12}
  encoding: [native]
analyses:
  - {name: sink, type: sink_rate}
YAML
}

# a good run first: its results file must survive every bad run that names the same output
sweep good.yaml good
"$BIN" run good.yaml > good.log 2>&1; expect_rc 0 $? "the good tiny Llama runs"
sum0=$(sha256sum out.h5 | cut -d' ' -f1)

check() { # check NAME MODEL_PATH 'PATTERN' [LENGTH]
  local name=$1 model=$2 pat=$3
  sweep "$name.yaml" "$model" "${4:-12}"
  "$BIN" run "$name.yaml" > "$name.log" 2>&1; expect_rc 2 $? "$name: run refused"
  expect_grep "$pat" "$name.log" "$name: the message names the place and the field"
  [ "$(sha256sum out.h5 | cut -d' ' -f1)" = "$sum0" ] && [ ! -e out.h5.partial ] \
    && ok "$name: the existing results are untouched" || bad "$name: the results file changed"
  rm -f out.h5.partial
}
check trunc_st   trunc_st      "trunc_st.yaml:6:7: model 'm': .*trunc_st/model.safetensors: tensor '[^']+': data_offsets .* out of range"
check corrupt_st corrupt_st    "corrupt_st.yaml:6:7: model 'm': .*corrupt_st/model.safetensors.*(JSON|header)"
check f8         f8            "f8.yaml:6:7: model 'm': .*f8/model.safetensors: tensor 'model.embed_tokens.weight' has dtype F8_E4M3"
check unknown    unknown       "unknown.yaml:6:7: model 'm': .*unknown/config.json: model_type 'mamba' is not supported"
check bigtok     bigtok        "bigtok.yaml:6:7: model 'm': .*bigtok.*the tokenizer has 200 tokens but config.json vocab_size is 128"
check vocabcfg   vocabcfg      "vocabcfg.yaml:6:7: model 'm': .*vocabcfg/model.safetensors: tensor 'model.embed_tokens.weight' has shape \[128, 32\]; expected \[120, 32\]"
check trunc_gguf trunc.gguf    "trunc_gguf.yaml:6:7: model 'm': .*trunc.gguf: tensor '[^']+': data .* runs past the end of the file"
check short_gguf short.gguf    "short_gguf.yaml:6:7: model 'm': .*short.gguf: .*metadata"
check not_gguf   notgguf.gguf  "not_gguf.yaml:6:7: model 'm': .*notgguf.gguf is neither a GGUF file nor a model directory"
check too_long   good          "too_long.yaml:10:7: prompt set 'rnd': length 65 is longer than model 'm' allows .*64 positions" 65

# inspect names the broken file too (it reads headers and configs, not the weights)
for m in trunc_st corrupt_st unknown trunc.gguf short.gguf notgguf.gguf; do
  "$BIN" inspect "$m" > "inspect_$m.log" 2>&1; rc=$?
  [ $rc = 2 ] && grep -q "$m" "inspect_$m.log" && ok "inspect $m: exit 2, file named" \
    || { bad "inspect $m: exit $rc"; cat "inspect_$m.log" >&2; }
done
finish
