#!/usr/bin/env python3
"""gen_unicode_tables.py: writes engine/model/utf8_tables.h, the Unicode data that BERT normalisation needs.

    python3 engine/model/gen_unicode_tables.py            # regenerate utf8_tables.h next to this script
    python3 engine/model/gen_unicode_tables.py --verify   # also probe every code point against the
                                                          # Hugging Face `tokenizers` package (pip install tokenizers)

What the WordPiece tokenizer (wordpiece.c) asks of a code point, with the semantics of the Hugging Face
fast tokenizer (BertNormalizer + BertPreTokenizer):
  OTHER   dropped by clean_text (general category Cc, Cf, Co; \\t \\n \\r excepted in C code)
  WS      Rust char::is_whitespace, i.e. the White_Space property
  PUNCT   ASCII punctuation (33-47, 58-64, 91-96, 123-126) or general category P*
  MN      general category Mn (dropped after NFD when stripping accents)
  CJK     the CJK ideograph blocks that BERT pads with spaces
plus three maps: canonical decomposition (NFD, one step; Hangul is algorithmic in C), canonical combining
class (for the canonical reordering that NFD does) and full lower-case mapping (Rust char::to_lowercase).

For the byte-level BPE pre-tokenizers (pretok.c), a second table gives the regex classes of the Oniguruma
engine inside HF tokenizers and the Digits pre-tokenizer's test:
  L        \\p{L} (general category L*)
  N        \\p{N} (general category N*)
  SPACE    \\s (White_Space, the same set as WS above)
  NUMERIC  Rust char::is_numeric (Nd, Nl, No), used by pre_tokenizers.Digits
Probing tokenizers 0.19.1 (--verify) shows \\p{L} and \\p{N} equal to unicodedata 14.0.0's categories, while
is_numeric comes from a newer Rust std that also knows the numbers added in Unicode 15 (RUST_NUMERIC_EXTRA).

The data come from Python's unicodedata.  Hugging Face's tokenizers, however, takes categories from the
`unicode_categories` crate (Unicode 8.0 tables) and decompositions / combining classes from
`unicode-normalization-alignments` (Unicode 9.0 tables).  Characters assigned or re-categorised since then
therefore behave differently there, and exactness is the point of this tokenizer.  The HF_* lists below hold
those differences as code-point ranges; they were found by probing tokenizers 0.23.3 code point by code point
(what --verify does) and are applied on top of unicodedata.  Python's unicodedata version is recorded in the
output.  Lower-casing comes from Rust's std (recent Unicode), which matches unicodedata for every character
unicodedata knows.
"""
import argparse
import os
import sys
import unicodedata as ud

MAX_CP = 0x110000

# ---- differences between Python's unicodedata and the (older) tables inside HF tokenizers -------------------
DERIVED_WITH = "14.0.0"  # the unicodedata version these lists are relative to (Python 3.11)
# Cf in recent Unicode, unassigned (so not "other", kept by clean_text) in HF's Unicode 8.0 tables.
HF_OTHER_FLIP = "0890-0891 08E2 110CD 13430-13438"
# Mn membership that differs (mostly marks assigned after 8.0; 1734 was Mn, 1885-1886 were Lo, 111C9 was Po).
HF_MN_FLIP = (
    "07FD 0898-089F 08CA-08E1 09FE 0AFA-0AFF 0B55 0C04 0C3C 0D00 0D3B-0D3C 0D81 0EBA 1734 180F 1885-1886 "
    "1ABF-1ACE 1DF6-1DFB A82C A8C5 A8FF A9BD 10D24-10D27 10EAB-10EAC 10F46-10F50 10F82-10F85 11070 "
    "11073-11074 110C2 111C9 111CF 1123E 1133B 11438-1143F 11442-11444 11446 1145E 1182F-11837 11839-1183A "
    "1193B-1193C 1193E 11943 119D4-119D7 119DA-119DB 119E0 11A01-11A0A 11A33-11A38 11A3B-11A3E 11A47 "
    "11A51-11A56 11A59-11A5B 11A8A-11A96 11A98-11A99 11C30-11C36 11C38-11C3D 11C3F 11C92-11CA7 11CAA-11CB0 "
    "11CB2-11CB3 11CB5-11CB6 11D31-11D36 11D3A 11D3C-11D3D 11D3F-11D45 11D47 11D90-11D91 11D95 11D97 "
    "11EF3-11EF4 16F4F 16FE4 1CF00-1CF2D 1CF30-1CF46 1E000-1E006 1E008-1E018 1E01B-1E021 1E023-1E024 "
    "1E026-1E02A 1E130-1E136 1E2AE 1E2EC-1E2EF 1E944-1E94A"
)
# Unicode P* membership that differs (punctuation assigned after 8.0; 166D was Po, 111C9 was Po).
HF_PUNCT_FLIP = (
    "061D 09FD 0A76 0C77 0C84 166D 1B7D-1B7E 2E43-2E4F 2E52-2E5D 10EAD 10F55-10F59 10F86-10F89 111C9 "
    "1144B-1144F 1145A-1145B 1145D 11660-1166C 116B9 1183B 11944-11946 119E2 11A3F-11A46 11A9A-11A9C "
    "11A9E-11AA2 11C41-11C45 11C70-11C71 11EF7-11EF8 11FFF 12FF1-12FF2 16E97-16E9A 16FE2 1E95E-1E95F"
)
# Canonical decompositions that HF's Unicode 9.0 normalisation data lack.
HF_NO_DECOMP = "11938"
# Non-zero combining classes that HF's Unicode 9.0 normalisation data lack (class 0 there).
HF_CCC_ZERO = (
    "07FD 0898-089F 08CA-08D3 09FE 0C3C 0D3B-0D3C 0EBA 1715 1ABF-1ACE 1DF6-1DFA A82C 10D24-10D27 "
    "10EAB-10EAC 10F46-10F50 10F82-10F85 11070 1133B 1145E 11839-1183A 1193D-1193E 11943 119E0 11A34 11A47 "
    "11A99 11D42 11D44-11D45 11D97 16FF0-16FF1 1E130-1E136 1E2AE 1E2EC-1E2EF"
)

# White_Space (PropList.txt); stable since Unicode 6.3 (U+180E left it then).
WHITE_SPACE = "0009-000D 0020 0085 00A0 1680 2000-200A 2028 2029 202F 205F 3000"
# The CJK blocks BERT treats as Chinese characters. HF's BertNormalizer starts the sixth block at 2B920
# where the original Python BasicTokenizer has 2B820: U+2B820-2B91F are not padded by the fast tokenizer.
CJK = "4E00-9FFF 3400-4DBF 20000-2A6DF 2A700-2B73F 2B740-2B81F 2B920-2CEAF F900-FAFF 2F800-2FA1F"

F_OTHER, F_WS, F_PUNCT, F_MN, F_CJK = 0x01, 0x02, 0x04, 0x08, 0x10

# ---- byte-level BPE classes (ss_uc_bpe_class) ---------------------------------------------------------------
# Numbers assigned in Unicode 15 (Kawi, Kaktovik, Nag Mundari digits): is_numeric in the Rust std that HF
# tokenizers 0.19.1 was built with, unassigned for its Oniguruma (\p{N}) and for unicodedata 14.0.0.
RUST_NUMERIC_EXTRA = "11F50-11F59 1D2C0-1D2D3 1E4F0-1E4F9"
# \p{L} / \p{N} membership that differs between unicodedata and HF's Oniguruma (none for tokenizers 0.19.1).
ONIG_L_FLIP = ""
ONIG_N_FLIP = ""
B_L, B_N, B_SPACE, B_NUMERIC = 0x01, 0x02, 0x04, 0x08


def parse_ranges(spec):
    out = set()
    for item in spec.split():
        lo, _, hi = item.partition("-")
        out.update(range(int(lo, 16), int(hi or lo, 16) + 1))
    return out


def is_surrogate(c):
    return 0xD800 <= c <= 0xDFFF


class Model:
    """Per-code-point properties with HF tokenizers semantics."""

    def __init__(self):
        self.other_flip = parse_ranges(HF_OTHER_FLIP)
        self.mn_flip = parse_ranges(HF_MN_FLIP)
        self.punct_flip = parse_ranges(HF_PUNCT_FLIP)
        self.no_decomp = parse_ranges(HF_NO_DECOMP)
        self.ccc_zero = parse_ranges(HF_CCC_ZERO)
        self.ws = parse_ranges(WHITE_SPACE)
        self.cjk = parse_ranges(CJK)
        self.numeric_extra = parse_ranges(RUST_NUMERIC_EXTRA)
        self.l_flip = parse_ranges(ONIG_L_FLIP)
        self.n_flip = parse_ranges(ONIG_N_FLIP)

    def bpe_flags(self, c):
        if is_surrogate(c):
            return 0
        cat = ud.category(chr(c))
        f = 0
        if (cat[0] == "L") != (c in self.l_flip):
            f |= B_L
        if (cat[0] == "N") != (c in self.n_flip):
            f |= B_N
        if c in self.ws:
            f |= B_SPACE
        if cat[0] == "N" or c in self.numeric_extra:
            f |= B_NUMERIC
        return f

    def flags(self, c):
        if is_surrogate(c):
            return 0
        ch = chr(c)
        cat = ud.category(ch)
        f = 0
        if (cat in ("Cc", "Cf", "Co")) != (c in self.other_flip):
            f |= F_OTHER
        if c in self.ws:
            f |= F_WS
        ascii_punct = 33 <= c <= 47 or 58 <= c <= 64 or 91 <= c <= 96 or 123 <= c <= 126
        if ascii_punct or ((cat[0] == "P") != (c in self.punct_flip)):
            f |= F_PUNCT
        if (cat == "Mn") != (c in self.mn_flip):
            f |= F_MN
        if c in self.cjk:
            f |= F_CJK
        return f

    def decomp(self, c):
        """One-step canonical decomposition (list of code points) or None. Hangul is left to C."""
        if is_surrogate(c) or c in self.no_decomp:
            return None
        d = ud.decomposition(chr(c))
        if not d or d.startswith("<"):
            return None
        return [int(x, 16) for x in d.split()]

    def ccc(self, c):
        if is_surrogate(c) or c in self.ccc_zero:
            return 0
        return ud.combining(chr(c))

    def lower(self, c):
        if is_surrogate(c):
            return [c]
        return [ord(x) for x in chr(c).lower()]

    # Python mirrors of what the C code does with these tables (used by --verify).
    def nfd(self, cps):
        out = []

        def rec(c):
            if 0xAC00 <= c <= 0xD7A3:
                s = c - 0xAC00
                out.append(0x1100 + s // 588)
                out.append(0x1161 + (s % 588) // 28)
                if s % 28:
                    out.append(0x11A7 + s % 28)
                return
            d = self.decomp(c)
            if d is None:
                out.append(c)
            else:
                for x in d:
                    rec(x)

        for c in cps:
            rec(c)
        # canonical reordering: stable sort of each run of non-zero classes
        i = 0
        while i < len(out):
            if self.ccc(out[i]) == 0:
                i += 1
                continue
            j = i
            while j < len(out) and self.ccc(out[j]) != 0:
                j += 1
            out[i:j] = sorted(out[i:j], key=self.ccc)
            i = j
        return out


def ranges_of(pred):
    """[(lo, hi, value)] runs where value = pred(c) != 0, merging equal neighbours."""
    runs = []
    for c in range(MAX_CP):
        v = pred(c)
        if not v:
            continue
        if runs and runs[-1][1] == c - 1 and runs[-1][2] == v:
            runs[-1][1] = c
        else:
            runs.append([c, c, v])
    return runs


def lower_runs(m):
    """Compress the lower-case map into (lo, hi, stride, delta) runs; multi-code-point results go apart."""
    single, multi = [], []
    for c in range(MAX_CP):
        lo = m.lower(c)
        if lo == [c]:
            continue
        if len(lo) == 1:
            single.append((c, lo[0] - c))
        else:
            multi.append((c, lo))
    runs = []  # [lo, hi, stride, delta]
    for c, d in single:
        if runs:
            r = runs[-1]
            if r[3] == d and r[0] == r[1] and c - r[1] in (1, 2):
                r[1], r[2] = c, c - r[0]
                continue
            if r[3] == d and r[2] and c - r[1] == r[2]:
                r[1] = c
                continue
        runs.append([c, c, 0, d])
    for r in runs:
        if r[2] == 0:
            r[2] = 1
    return runs, multi


def emit_rows(out, items, per_line):
    for i in range(0, len(items), per_line):
        out.append("    " + " ".join(items[i : i + per_line]))


def generate(path):
    m = Model()
    flag_runs = ranges_of(m.flags)
    ccc_runs = ranges_of(m.ccc)
    decomp = [(c, m.decomp(c)) for c in range(MAX_CP) if m.decomp(c) is not None]
    for c, d in decomp:
        assert 1 <= len(d) <= 2, hex(c)
    bpe_runs = ranges_of(m.bpe_flags)
    low, low_multi = lower_runs(m)
    for c, lo in low_multi:
        assert len(lo) <= 3, hex(c)

    o = []
    o.append("/* utf8_tables.h: GENERATED by gen_unicode_tables.py from Python %s unicodedata %s (plus the" %
             (sys.version.split()[0], ud.unidata_version))
    o.append(" * HF tokenizers compatibility lists in that script). Do not edit; rerun the script. Included by utf8.c only. */")
    o.append("#ifndef SS_UTF8_TABLES_H")
    o.append("#define SS_UTF8_TABLES_H")
    o.append("")
    o.append("#include <stdint.h>")
    o.append("")
    o.append('#define SS_UC_UNIDATA_VERSION "%s"' % ud.unidata_version)
    o.append("")
    o.append("/* Property runs [lo, hi] -> SS_UC_* flags (utf8.h), sorted, non-overlapping; absent code points have none. */")
    o.append("static const struct { uint32_t lo, hi; uint8_t flags; } ss_uc_prop_runs[%d] = {" % len(flag_runs))
    emit_rows(o, ["{0x%X, 0x%X, 0x%02X}," % tuple(r) for r in flag_runs], 4)
    o.append("};")
    o.append("")
    o.append("/* Canonical combining class runs [lo, hi] -> class (non-zero only). */")
    o.append("static const struct { uint32_t lo, hi; uint8_t ccc; } ss_uc_ccc_runs[%d] = {" % len(ccc_runs))
    emit_rows(o, ["{0x%X, 0x%X, %d}," % tuple(r) for r in ccc_runs], 4)
    o.append("};")
    o.append("")
    o.append("/* One-step canonical decompositions: cp -> d0 [d1] (d1 = 0 for singletons). Hangul is algorithmic. */")
    o.append("static const struct { uint32_t cp, d0, d1; } ss_uc_decomp[%d] = {" % len(decomp))
    emit_rows(o, ["{0x%X, 0x%X, 0x%X}," % (c, d[0], d[1] if len(d) > 1 else 0) for c, d in decomp], 4)
    o.append("};")
    o.append("")
    o.append("/* Lower-case runs: for cp in [lo, hi] with (cp - lo) %% stride == 0, lower = cp + delta. */")
    o.append("static const struct { uint32_t lo, hi; uint16_t stride; int32_t delta; } ss_uc_lower_runs[%d] = {" % len(low))
    emit_rows(o, ["{0x%X, 0x%X, %d, %d}," % tuple(r) for r in low], 4)
    o.append("};")
    o.append("")
    o.append("/* Lower-case mappings to more than one code point (0-terminated). */")
    o.append("static const struct { uint32_t cp, lower[3]; } ss_uc_lower_multi[%d] = {" % len(low_multi))
    emit_rows(o, ["{0x%X, {%s}}," % (c, ", ".join("0x%X" % x for x in lo + [0] * (3 - len(lo)))) for c, lo in low_multi], 4)
    o.append("};")
    o.append("")
    o.append("/* Byte-level BPE regex classes: runs [lo, hi] -> SS_UCB_* flags (utf8.h); absent code points have none. */")
    o.append("static const struct { uint32_t lo, hi; uint8_t flags; } ss_uc_bpe_runs[%d] = {" % len(bpe_runs))
    emit_rows(o, ["{0x%X, 0x%X, 0x%02X}," % tuple(r) for r in bpe_runs], 4)
    o.append("};")
    o.append("")
    o.append("#endif")
    with open(path, "w") as f:
        f.write("\n".join(o) + "\n")
    print("wrote %s: %d property runs, %d ccc runs, %d decompositions, %d lower runs, %d multi, %d bpe runs" %
          (path, len(flag_runs), len(ccc_runs), len(decomp), len(low), len(low_multi), len(bpe_runs)))
    return m


def verify(m):
    """Probes every code point through HF tokenizers and compares with the model above."""
    from tokenizers.normalizers import BertNormalizer
    from tokenizers.pre_tokenizers import BertPreTokenizer

    clean = BertNormalizer(clean_text=True, handle_chinese_chars=False, strip_accents=False, lowercase=False)
    cjk = BertNormalizer(clean_text=False, handle_chinese_chars=True, strip_accents=False, lowercase=False)
    strip = BertNormalizer(clean_text=False, handle_chinese_chars=False, strip_accents=True, lowercase=False)
    lower = BertNormalizer(clean_text=False, handle_chinese_chars=False, strip_accents=False, lowercase=True)
    pre = BertPreTokenizer()
    bad = 0

    def report(what, c, got, want):
        nonlocal bad
        bad += 1
        if bad <= 40:
            print("MISMATCH %s U+%04X: hf %r, tables %r" % (what, c, got, want))

    for c in range(MAX_CP):
        if is_surrogate(c):
            continue
        ch, f = chr(c), m.flags(c)
        if c in (9, 10, 13):
            want = " "
        elif c == 0 or c == 0xFFFD or f & F_OTHER:
            want = ""
        elif f & F_WS:
            want = " "
        else:
            want = ch
        got = clean.normalize_str(ch)
        if got != want:
            report("clean", c, got, want)
        want = " %s " % ch if f & F_CJK else ch
        got = cjk.normalize_str(ch)
        if got != want:
            report("cjk", c, got, want)
        want = "".join(chr(x) for x in m.nfd([c]) if not m.flags(x) & F_MN)
        got = strip.normalize_str(ch)
        if got != want:
            report("strip", c, got, want)
        want = "".join(chr(x) for x in m.lower(c))
        got = lower.normalize_str(ch)
        if got != want and ud.category(ch) != "Cn":  # Rust std knows newer letters; see the header note
            report("lower", c, got, want)
        if f & F_WS:
            want = ["a", "a"]
        elif f & F_PUNCT:
            want = ["a", ch, "a"]
        else:
            want = ["a" + ch + "a"]
        got = [t for t, _ in pre.pre_tokenize_str("a" + ch + "a")]
        if got != want:
            report("punct", c, got, want)
    # canonical reordering against two old marks (U+1D16D class 226, U+1D165 class 216, both Mc)
    for c in range(MAX_CP):
        if is_surrogate(c) or not ud.combining(chr(c)):
            continue
        s = [ord("x"), 0x1D16D, c, 0x1D165]
        want = "".join(chr(x) for x in m.nfd(s) if not m.flags(x) & F_MN)
        got = strip.normalize_str("".join(map(chr, s)))
        if got != want:
            report("reorder", c, got, want)
    bad += verify_bpe(m)
    print("verify: %d mismatch(es)" % bad)
    return bad == 0


def verify_bpe(m):
    """Probes HF tokenizers' regex engine (\\p{L}, \\p{N}, \\s) and Digits pre-tokenizer for every code point."""
    from tokenizers import Regex
    from tokenizers.pre_tokenizers import Digits, Split

    cps = [c for c in range(MAX_CP) if not is_surrogate(c)]
    bad = 0

    def removed(pattern):  # code points the pattern matches (Split "removed" drops them)
        pt = Split(Regex(pattern), behavior="removed")
        hit = set()
        for i in range(0, len(cps), 50000):
            chunk = cps[i:i + 50000]
            kept = bytearray(len(chunk))
            for _, (a, b) in pt.pre_tokenize_str("".join(map(chr, chunk))):  # offsets in code points
                kept[a:b] = b"\x01" * (b - a)
            hit.update(chunk[k] for k in range(len(chunk)) if not kept[k])
        return hit

    numeric = set()
    digits = Digits(individual_digits=True)
    for i in range(0, len(cps), 50000):
        chunk = cps[i:i + 50000]
        for _, (a, b) in digits.pre_tokenize_str("".join("a" + chr(c) for c in chunk) + "a"):
            if b - a == 1 and a % 2 == 1:  # an isolated character between two "a"
                numeric.add(chunk[a // 2])
    for name, flag, got in (("\\p{L}", B_L, removed(r"\p{L}")), ("\\p{N}", B_N, removed(r"\p{N}")),
                            ("\\s", B_SPACE, removed(r"\s")), ("is_numeric", B_NUMERIC, numeric)):
        want = {c for c in cps if m.bpe_flags(c) & flag}
        for c in sorted(got ^ want):
            bad += 1
            if bad <= 40:
                print("MISMATCH %s U+%04X: hf %d, tables %d" % (name, c, c in got, c in want))
    return bad


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "utf8_tables.h"))
    ap.add_argument("--verify", action="store_true", help="probe HF tokenizers (pip install tokenizers)")
    ap.add_argument("--any-unicode", action="store_true",
                    help="run with a unicodedata other than %s (then --verify is a must)" % DERIVED_WITH)
    a = ap.parse_args()
    if ud.unidata_version != DERIVED_WITH and not a.any_unicode:
        sys.exit("gen_unicode_tables.py: the HF_* lists were derived against unicodedata %s, this Python has %s; "
                 "characters added since would be misclassified. Use a Python with %s, or pass --any-unicode "
                 "together with --verify and update the lists from its report." % (DERIVED_WITH, ud.unidata_version,
                                                                                   DERIVED_WITH))
    m = generate(a.out)
    if a.verify and not verify(m):
        sys.exit(1)


if __name__ == "__main__":
    main()
