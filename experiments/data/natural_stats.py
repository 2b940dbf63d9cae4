#!/usr/bin/env python3
"""Word-count statistics of the built-in natural-text set, and a check of its constraints.

Usage: python3 experiments/data/natural_stats.py [path/to/natural.txt]

Rules checked (exit status 1 when one fails):
  * at least 240 sentences, each 8..50 words (words = whitespace-separated pieces);
  * at least 6 fields, every sentence under a '# field: <name>' comment;
  * no tabs, no duplicate sentences, valid UTF-8;
  * the first 40 sentences cover at least 6 fields and all four length classes.
Length classes (non-overlapping versions of the authors' ranges in docs/science.md (f)):
  short 8-18, medium 19-27, long 28-37, very long 38-50 words.
"""
import collections
import os
import statistics
import sys

CLASSES = [("short", 8, 18), ("medium", 19, 27), ("long", 28, 37), ("very long", 38, 50)]


def length_class(n):
    for name, lo, hi in CLASSES:
        if lo <= n <= hi:
            return name
    return None


def load(path):
    """Returns [(line_number, field, sentence)] and a list of problems."""
    rows, problems, field = [], [], None
    with open(path, "rb") as f:
        raw = f.read()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        return [], ["invalid UTF-8: %s" % e]
    for no, line in enumerate(text.split("\n"), 1):
        line = line.rstrip("\r")
        if not line:
            continue
        if line.startswith("#"):
            if line.startswith("# field:"):
                field = line[len("# field:"):].strip()
            continue
        if "\t" in line:
            problems.append("line %d: contains a tab" % no)
        if field is None:
            problems.append("line %d: sentence before any '# field:' comment" % no)
        rows.append((no, field, line))
    return rows, problems


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "natural.txt")
    rows, problems = load(path)
    words = [len(s.split()) for _, _, s in rows]
    for (no, _, s), n in zip(rows, words):
        if not 8 <= n <= 50:
            problems.append("line %d: %d words (must be 8..50)" % (no, n))
    seen = {}
    for no, _, s in rows:
        if s in seen:
            problems.append("line %d: duplicate of line %d" % (no, seen[s]))
        seen.setdefault(s, no)
    fields = collections.Counter(f for _, f, _ in rows)
    if len(rows) < 240:
        problems.append("%d sentences (need at least 240)" % len(rows))
    if len(fields) < 6:
        problems.append("%d fields (need at least 6)" % len(fields))
    first = rows[:40]
    first_fields = {f for _, f, _ in first}
    first_classes = {length_class(len(s.split())) for _, _, s in first}
    if len(first_fields) < 6 or len(first_classes) < 4:
        problems.append("the first 40 sentences cover %d fields and %d length classes (need 6 and 4)"
                        % (len(first_fields), len(first_classes)))

    print("file: %s" % path)
    print("sentences: %d" % len(rows))
    if words:
        print("words per sentence: min %d, max %d, mean %.1f, median %.1f, sd %.1f"
              % (min(words), max(words), statistics.mean(words), statistics.median(words),
                 statistics.pstdev(words)))
    print("length classes (all / first 40):")
    for name, lo, hi in CLASSES:
        a = sum(1 for n in words if lo <= n <= hi)
        b = sum(1 for _, _, s in first if lo <= len(s.split()) <= hi)
        print("  %-9s %2d-%2d words: %3d (%4.1f%%) / %2d" % (name, lo, hi, a, 100.0 * a / max(1, len(words)), b))
    print("fields (all / first 40):")
    first_counter = collections.Counter(f for _, f, _ in first)
    for f, c in sorted(fields.items(), key=lambda kv: -kv[1]):
        print("  %-14s %3d / %2d" % (f, c, first_counter.get(f, 0)))
    non_ascii = [no for no, _, s in rows if any(ord(ch) > 127 for ch in s)]
    print("sentences with non-ASCII characters: %d %s" % (len(non_ascii), non_ascii))
    if problems:
        print("PROBLEMS:")
        for p in problems:
            print("  " + p)
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
