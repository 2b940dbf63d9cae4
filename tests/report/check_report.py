#!/usr/bin/env python3
"""check_report.py RESULTS.h5 REPORT_DIR: the report's main table against values recomputed here from the
results file's datasets (h5py + numpy, independent of the C report code), the tex and md versions against each
other, and the figure files. Exit 1 on any mismatch, printing what differs."""
import csv
import math
import re
import struct
import sys

import h5py
import numpy as np

fails = 0


def bad(msg):
    global fails
    fails += 1
    print("MISMATCH:", msg)


def t975(nu):
    """97.5% quantile of Student's t: bisection on the CDF, the density integrated by Simpson's rule."""
    c = math.exp(math.lgamma((nu + 1) / 2) - math.lgamma(nu / 2)) / math.sqrt(nu * math.pi)
    pdf = lambda x: c * (1 + x * x / nu) ** (-(nu + 1) / 2)
    def cdf(x, m=4000):
        h = x / m
        s = pdf(0) + pdf(x) + sum((4 if i % 2 else 2) * pdf(i * h) for i in range(1, m))
        return 0.5 + s * h / 3
    lo, hi = 0.0, 100.0
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if cdf(mid) < 0.975 else (lo, mid)
    return (lo + hi) / 2


def summary(x):
    x = np.asarray([v for v in x if not math.isnan(v)], dtype=float)
    n = len(x)
    if n == 0:
        return float('nan'), float('nan'), 0
    if n == 1:
        return x.mean(), float('nan'), 1
    return x.mean(), t975(n - 1) * x.std(ddof=1) / math.sqrt(n), n


def by_type(g, typ):
    for k in g:
        if g[k].attrs.get('type', b'') in (typ, typ.encode()):
            return g[k]
    return None


def s(v):
    return v.decode() if isinstance(v, bytes) else str(v)


def main(path, rep):
    f = h5py.File(path, 'r')
    tasks = f['tasks']
    status, model, prompts, enc, row = (tasks[k][()] for k in ('status', 'model', 'prompts', 'encoding', 'row'))
    models = {int(f['models'][m].attrs['index']): m for m in f['models']}
    encs = {int(f['encodings'][e].attrs['index']): e for e in f['encodings']}
    sets = {int(f['prompts'][p].attrs['index']): p for p in f['prompts']}
    natural = [i for i, p in sets.items() if s(f['prompts'][p].attrs['kind']) in ('natural', 'file')][0]
    table = {r['Model']: r for r in csv.DictReader(open(f'{rep}/main.csv'))}
    cols = list(next(iter(table.values())).keys())
    def col(prefix, ci=False):
        for c in cols:
            if c.startswith(prefix) and (('95' in c) == ci):
                return c
        bad(f'no column {prefix} (ci={ci}) in {cols}')
        return None
    for mi, mname in models.items():
        res = f['results'][mname]
        sink, graph, geo = by_type(res, 'sink_rate'), by_type(res, 'attention_graph'), by_type(res, 'attention_geometry')
        eps = list(sink.attrs['epsilon'])
        e03 = eps.index(0.3) if 0.3 in eps else 0
        taus = list(graph.attrs['thresholds'])
        k = int(np.argmin([abs(t - 0.1) for t in taus]))
        for ei, ename in encs.items():
            sel = (model == mi) & (enc == ei) & (prompts == natural)
            done = sel & (status == 1)
            rows = row[done]
            key = f'{mname} / {ename}'
            if key not in table:
                bad(f'row {key} missing from main.csv')
                continue
            r = table[key]
            s1 = [sink['sink_rate'][i][e03][0] for i in rows]
            gi = [np.nanmean(graph['gini'][i][:, :, k]) for i in rows]
            en = [np.nanmean(geo['entropy'][i]) for i in rows]
            for name, vals, digits in (('Sink_1^0.3', s1, 1), ('Gini', gi, 3), ('Entropy', en, 2)):
                m, h, n = summary(vals)
                got = float(r[col(name)])
                if abs(got - round(m, digits)) > 0.51 * 10 ** -digits:
                    bad(f'{key} {name}: csv {got}, recomputed {m:.6f}')
                hc = col(name, True)
                if hc and r[hc] != '' and abs(float(r[hc]) - h) > 0.51 * 10 ** -digits:
                    bad(f'{key} {name} 95% half-width: csv {r[hc]}, recomputed {h:.6f}')
            nd = int(round(float(r[col('Prompts')])))
            if nd != int(done.sum()):
                bad(f'{key} prompts: csv {nd}, done tasks {int(done.sum())}')
            print(f'{key}: n={int(done.sum())} of {int(sel.sum())}, Sink_1 {summary(s1)[0]:.2f}, '
                  f'Gini {summary(gi)[0]:.4f}, entropy {summary(en)[0]:.4f} (recomputed)')
    # tex and md show the same numbers
    def numbers(text):
        return re.findall(r'-?\d+\.\d+|-?\d+', text)
    md_rows = [l for l in open(f'{rep}/main.md') if l.startswith('|') and not set(l.strip()) <= set('|-: ')][1:]
    tex = open(f'{rep}/main.tex').read()
    body = tex[tex.index('\\midrule') + len('\\midrule'):tex.index('\\bottomrule')]
    tex_rows = [l for l in body.split('\\\\') if l.strip()]
    if len(md_rows) != len(tex_rows):
        bad(f'md has {len(md_rows)} rows, tex {len(tex_rows)}')
    for a, b in zip(md_rows, tex_rows):
        na, nb = numbers(a.split('|', 2)[2]), numbers(re.sub(r'\\[a-zA-Z]+', ' ', b.split('&', 1)[1]))
        if na != nb:
            bad(f'md and tex rows differ: {na} vs {nb}')
    # failed tasks are marked
    if '†' not in open(f'{rep}/main.md').read():
        bad('the failed tasks are not marked in main.md')
    idx = open(f'{rep}/index.md').read()
    for m in models.values():
        sha = s(f['models'][m].attrs['sha256'])[:16]
        if sha not in idx:
            bad(f'index.md lacks the sha256 of {m}')
    if s(f.attrs['sweep_name']) not in idx:
        bad('index.md lacks the sweep name')
    # figures: PNG signature and size, SVG text
    figs = re.findall(r'\[png\]\(([^)]+)\.png\)', idx)
    if len(figs) < 4:
        bad(f'only {len(figs)} figures listed')
    for stem in figs:
        png = open(f'{rep}/{stem}.png', 'rb').read()
        if png[:8] != b'\x89PNG\r\n\x1a\n':
            bad(f'{stem}.png is not a PNG')
            continue
        w, h = struct.unpack('>II', png[16:24])
        if not (200 <= w <= 2000 and 200 <= h <= 2000):
            bad(f'{stem}.png is {w}x{h}')
        svg = open(f'{rep}/{stem}.svg').read()
        if '<svg' not in svg:
            bad(f'{stem}.svg is not SVG')
        print(f'figure {stem}: {w}x{h} png, {len(svg)} bytes svg')
    return 1 if fails else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1], sys.argv[2]))
