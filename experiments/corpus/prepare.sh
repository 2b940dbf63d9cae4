#!/usr/bin/env bash
# prepare.sh: the training corpus of `sinkscope train` (issue 8): the English fortune-cookie files of Debian's
# fortunes and fortunes-min packages (quotations, literature, jokes, poems, definitions), cleaned and split into
# train.txt and heldout.txt. See README.md beside this file.
# Usage: bash experiments/corpus/prepare.sh [SRC_DIR [OUT_DIR]]
#   SRC_DIR  the fortune files (default /usr/share/games/fortunes, where .ci/setup installs them)
#   OUT_DIR  where train.txt and heldout.txt go (default <repo>/.cache/corpus)
# Deterministic: the files in byte order of their names (ascii-art excluded: pictures, not text); in each, the
# fortunes (separated by lines holding only "%") in file order; the 10th, 20th, ... fortune overall goes to
# heldout.txt, every other one to train.txt. Cleaning: overstrike sequences "X<backspace>" (underlining and bold of
# old terminals) are removed, leaving the struck character; other control characters except tab and newline are
# dropped; trailing blanks of each line and blank lines around each fortune are removed. Fortunes are written one
# after another, separated by one empty line. Both files are written under temporary names and renamed.
set -euo pipefail
export LC_ALL=C
repo=$(cd "$(dirname "$0")/../.." && pwd)
src=${1:-/usr/share/games/fortunes}
out=${2:-$repo/.cache/corpus}
[ -d "$src" ] || { echo "prepare.sh: no fortune directory $src (install the Debian packages fortunes and fortunes-min)" >&2; exit 2; }
files=()
while IFS= read -r f; do
  case "$(basename "$f")" in *.dat|*.u8|ascii-art) continue ;; esac
  files+=("$f")
done < <(find "$src" -maxdepth 1 -type f | sort)
[ ${#files[@]} -gt 0 ] || { echo "prepare.sh: no fortune files in $src" >&2; exit 2; }
mkdir -p "$out"
for f in "${files[@]}"; do
  sed 's/.\x08//g' "$f" | tr -d '\000-\010\013-\037\177'
  printf '%%\n'   # a file's last fortune ends at the end of the file
done | awk -v train="$out/train.txt.tmp" -v held="$out/heldout.txt.tmp" '
  function flush(   i, first, last, dst) {
    first = 1; last = n
    while (first <= last && lines[first] == "") first++
    while (last >= first && lines[last] == "") last--
    n = 0
    if (first > last) return
    count++
    dst = count % 10 == 0 ? held : train
    if (dst in started) printf "\n" > dst
    started[dst] = 1
    for (i = first; i <= last; i++) print lines[i] > dst
  }
  $0 == "%" { flush(); next }
  { sub(/[ \t]+$/, ""); lines[++n] = $0 }
  END {
    flush()
    close(train); close(held)
    printf "%d fortunes: %d train, %d held out\n", count, count - int(count / 10), int(count / 10) > "/dev/stderr"
  }'
mv "$out/train.txt.tmp" "$out/train.txt"
mv "$out/heldout.txt.tmp" "$out/heldout.txt"
for s in train heldout; do
  printf '%s.txt: %d bytes, sha256 %s\n' "$s" "$(wc -c < "$out/$s.txt")" "$(sha256sum "$out/$s.txt" | cut -d' ' -f1)"
done
