#!/usr/bin/env bash
# run_report.sh: `sinkscope report` end to end on the tiny BERT (tests/engine's `tiny` fixture), checked by
# check_report.py against numbers recomputed from the HDF5 datasets (not from the report code):
#   1. a sweep (two encodings, natural / random / repeated prompts, the default analysis set and attention_map)
#      with two injected task failures, then the report: every table in tex/md/csv, figures in png/svg,
#      index.md with provenance; the failed tasks are marked, not a crash;
#   2. the main table's Sink_1, Gini, entropy and prompt counts equal the means recomputed from /results, and
#      the tex and md versions show the same values;
#   3. the LaTeX master compiles with pdflatex (when Debian's TeX is installed: .ci/setup installs it);
#   4. two files merge into one report; --format and --select restrict it;
#   5. a file that is not a sinkscope results file, a missing file and bad options give exit 2.
source "$(dirname "$0")/../engine/e2e_lib.sh" "$@"
cd "$WORK"
cat > a.yaml <<YAML
name: report_a
seed: 21
grid:
  model: [{name: tiny, path: $TINY}]
  prompts:
    - {name: natural, generator: natural, count: 10}
    - {name: random, generator: random, count: 4, length: 16}
    - {name: repeated, generator: repeated, count: 2, length: 16}
  encoding: [native, none]
analyses:
  - {name: sink, type: sink_rate}
  - {name: top, type: top_keys}
  - {name: ref, type: reference_tokens}
  - {name: graph, type: attention_graph}
  - {name: geo, type: attention_geometry}
  - {name: map, type: attention_map}
YAML
sed -e 's/name: report_a/name: report_b/' -e 's/seed: 21/seed: 22/' -e 's/name: tiny,/name: tiny_b,/' a.yaml > b.yaml
mpirun_n 2 env SINKSCOPE_FAULT=fail:1,fail:2 "$BIN" run a.yaml -o a.h5 --progress none > run_a.log 2>&1
expect_rc 1 $? "sweep a runs (two injected failures)"
mpirun_n 2 "$BIN" run b.yaml -o b.h5 --progress none > run_b.log 2>&1; expect_rc 0 $? "sweep b runs"

"$BIN" report a.h5 -o rep > rep.log 2>&1; expect_rc 0 $? "report on one file"
expect_grep "report: rep/index.md" rep.log "it prints the index path"
$PY "$HERE/../report/check_report.py" a.h5 rep > check.log 2>&1 && ok "tables match the HDF5 datasets; files valid" \
    || { bad "check_report.py"; sed 's/^/    /' check.log >&2; }
sed 's/^/    /' check.log

if command -v pdflatex > /dev/null; then
    (cd rep && pdflatex -interaction=nonstopmode -halt-on-error report.tex > pdflatex.log 2>&1)
    expect_rc 0 $? "the LaTeX master compiles"
    [ -s rep/report.pdf ] && ok "report.pdf written" || bad "no report.pdf"
    (cd rep && pdflatex -interaction=nonstopmode -halt-on-error main.tex > main.log 2>&1)
    expect_rc 0 $? "the main table compiles on its own"
else
    echo "note: pdflatex is not installed (bash .ci/setup installs it): the LaTeX compile is not checked"
fi

"$BIN" report a.h5 b.h5 -o both > both.log 2>&1; expect_rc 0 $? "two files merge"
$PY - both/main.csv <<'PY' && ok "the merged main table has both sweeps' rows" || bad "merged rows"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
models = sorted({r['Model'] for r in rows})
assert models == ['tiny / native', 'tiny / none', 'tiny_b / native', 'tiny_b / none'], models
PY
"$BIN" report a.h5 -o md_only --format md --select encoding=none > sel.log 2>&1; expect_rc 0 $? "--format md --select"
[ -f md_only/main.md ] && [ ! -f md_only/main.tex ] && [ ! -f md_only/main.csv ] && ok "only markdown written" \
    || bad "--format md wrote other formats"
grep -q "tiny / none" md_only/main.md && ! grep -q "tiny / native" md_only/main.md && ok "--select kept encoding=none" \
    || bad "--select"

$PY -c "import h5py; f = h5py.File('plain.h5', 'w'); f['x'] = [1, 2, 3]"
"$BIN" report plain.h5 -o bad1 > bad1.log 2>&1; expect_rc 2 $? "an HDF5 file that is not a results file"
expect_grep "plain.h5 is not a sinkscope results file" bad1.log "and says so"
echo "not hdf5" > text.h5
"$BIN" report text.h5 -o bad2 > bad2.log 2>&1; expect_rc 2 $? "a file that is not HDF5"
"$BIN" report missing.h5 -o bad3 > bad3.log 2>&1; expect_rc 2 $? "a missing file"
"$BIN" report a.h5 > bad4.log 2>&1; expect_rc 2 $? "no -o"
"$BIN" report a.h5 -o bad5 --format pdf > bad5.log 2>&1; expect_rc 2 $? "an unknown format"
"$BIN" report a.h5 -o bad6 --select colour=red > bad6.log 2>&1; expect_rc 2 $? "an unknown --select key"
finish
