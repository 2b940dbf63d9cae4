#!/usr/bin/env python3
"""summarize.py: the tables of results/validation/README.md, from the results file of experiments/validation.yaml.

    /usr/bin/python3 results/validation/summarize.py results/validation/validation.h5 [--layers]

Needs h5py and numpy only. Every number is recomputed here from the /results and /tasks datasets (Sink_1 from the
stored alpha_1^{l,h}, anchors from the stored top keys and token ids); the only values read from the C side are the
frame labels and their confidence in /frames, which are the classifier's output (schemas/frames.md). The Sink_1 and
anchor recomputations are cross-checked against the engine's own sink_rate and /frames anchors, and a disagreement is
printed. Token ids are decoded with the model's own vocabulary (vocab.txt for BERT, tokenizer.ggml.tokens for GGUF).
"""
import os
import struct
import sys

import h5py
import numpy as np

EPS = 0.3
CLASSES = ["content", "first", "start", "end", "punct"]
POS_FREE = {"rope", "none", "alibi"}  # no absolute position signal: Gu et al. Props. 1-4 give Sink_1 = 0


def s(x):
    return x.decode() if isinstance(x, bytes) else str(x)


def gguf_tokens(path):
    """tokenizer.ggml.tokens of a GGUF file (header only)."""
    sizes = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}
    with open(path, "rb") as fh:
        def rd(n):
            return fh.read(n)

        def rstr():
            (n,) = struct.unpack("<Q", rd(8))
            return rd(n).decode("utf-8", "replace")

        def skip(t):
            if t in sizes:
                rd(sizes[t])
            elif t == 8:
                rstr()
            elif t == 9:
                et, n = struct.unpack("<IQ", rd(12))
                if et in sizes:
                    rd(sizes[et] * n)
                else:
                    for _ in range(n):
                        skip(et)
            else:
                raise ValueError("gguf type %d" % t)

        if rd(4) != b"GGUF":
            return None
        struct.unpack("<I", rd(4))
        _, nkv = struct.unpack("<QQ", rd(16))
        for _ in range(nkv):
            key = rstr()
            (t,) = struct.unpack("<I", rd(4))
            if key == "tokenizer.ggml.tokens" and t == 9:
                et, n = struct.unpack("<IQ", rd(12))
                return [rstr() for _ in range(n)]
            skip(t)
    return None


def vocab_of(path):
    try:
        if path.endswith(".gguf"):
            return gguf_tokens(path)
        v = os.path.join(path, "vocab.txt")
        if os.path.exists(v):
            with open(v, encoding="utf-8") as fh:
                return [line.rstrip("\n") for line in fh]
    except OSError:
        pass
    return None


def tokstr(vocab, i):
    if i < 0:
        return "-"
    t = vocab[i] if vocab and i < len(vocab) else "#%d" % i
    t = t.replace("\u0120", "_").replace("\u2581", "_").replace("\u010a", "\\n").replace("\n", "\\n")
    return "'%s'" % t.replace("|", "\u00a6")  # no '|' inside a markdown cell


def boot_ci(x, rng, n_boot=10000):
    x = np.asarray(x, float)
    x = x[~np.isnan(x)]
    if len(x) == 0:
        return np.nan, np.nan, np.nan
    if np.all(x == x[0]):
        return x[0], x[0], x[0]
    idx = rng.integers(0, len(x), size=(n_boot, len(x)))
    m = x[idx].mean(axis=1)
    return x.mean(), np.percentile(m, 2.5), np.percentile(m, 97.5)


def analysis_of(f, model, typ):
    g = f["results"][model]
    for name in sorted(g):
        if s(g[name].attrs.get("type", "")) == typ:
            return g[name]
    return None


def effective_pe(enc_type, model_pe):
    if enc_type == "native":
        return model_pe
    if enc_type == "shuffled":
        return "learned"
    if enc_type == "sinusoidal":
        return "sinusoidal"
    return enc_type


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    path = sys.argv[1]
    layers_all = "--layers" in sys.argv
    f = h5py.File(path, "r")
    rng = np.random.default_rng(0)
    t = f["tasks"]
    T_model, T_prompts, T_enc = t["model"][:], t["prompts"][:], t["encoding"][:]
    T_row, T_status, T_ntok, T_tok = t["row"][:], t["status"][:], t["n_tokens"][:], t["tokens"][:]
    byidx = lambda grp: [n for n, _ in sorted(((n, int(f[grp][n].attrs["index"])) for n in f[grp]), key=lambda a: a[1])]
    models, psets, encs = byidx("models"), byidx("prompts"), byidx("encodings")
    enc_type = {e: s(f["encodings"][e].attrs["type"]) for e in encs}
    enc_bos = {e: s(f["encodings"][e].attrs["bos"]) for e in encs}
    minfo = {m: f["models"][m].attrs for m in models}
    vocab = {m: vocab_of(s(minfo[m]["path"])) for m in models}
    print("# sinkscope validation summary: %s" % path)
    print("sweep %s, sinkscope %s, created %s, %d tasks: %d done, %d failed, %d skipped" % (
        s(f.attrs["sweep_name"]), s(f.attrs["sinkscope_version"]), s(f.attrs["created_utc"]), len(T_status),
        (T_status == 1).sum(), (T_status == 2).sum(), (T_status == 3).sum()))
    for m in models:
        a = minfo[m]
        print("model %s: %s, positions %s, causal %d, %d layers x %d heads, d %d, weights %s, BOS policy %s" % (
            m, s(a["architecture"]), s(a["positional_encoding"]), a["causal"], a["n_layers"], a["n_heads"],
            a["d_model"], s(a["weight_types"]), s(a["bos_policy_effective"])))
    print("seconds per task (mean over done tasks): " + ", ".join(
        "%s %.3f" % (m, t["seconds"][:][(T_model == i) & (T_status == 1)].mean()) for i, m in enumerate(models)))

    def rows_of(mi, pi, ei):
        sel = (T_model == mi) & (T_prompts == pi) & (T_enc == ei) & (T_status == 1)
        return np.where(sel)[0]

    # ---- Sink_1 ------------------------------------------------------------------------------------------
    sink1 = {}
    mismatch = 0
    for mi, m in enumerate(models):
        sr = analysis_of(f, m, "sink_rate")
        alpha = sr["alpha"][:]  # [rows][L][H][k]
        eps = list(np.atleast_1d(sr.attrs["epsilon"]))
        ei_eps = int(np.argmin([abs(e - EPS) for e in eps]))
        engine = sr["sink_rate"][:, ei_eps, 0]
        for pi, p in enumerate(psets):
            for ei, e in enumerate(encs):
                tk = rows_of(mi, pi, ei)
                rr = T_row[tk]
                a1 = alpha[rr, :, :, 0]
                v = 100.0 * (a1 > EPS).mean(axis=(1, 2))
                mismatch += int(np.sum(np.abs(v - engine[rr]) > 1e-3))
                sink1[m, p, e] = (v, a1, tk)
    print("\n## Sink_1^%.1f (%%), mean over prompts [95%% bootstrap CI]; recomputed from alpha_1^{l,h} > %.1f" % (EPS, EPS))
    print("(engine's sink_rate disagrees on %d prompts)" % mismatch)
    print("| model | encoding | " + " | ".join(psets) + " |")
    print("|---|---|" + "---|" * len(psets))
    for m in models:
        for e in encs:
            cells = []
            for p in psets:
                v = sink1[m, p, e][0]
                if len(v) == 0:
                    cells.append("skipped")
                    continue
                mu, lo, hi = boot_ci(v, rng)
                cells.append("%.2f [%.2f, %.2f] (n=%d)" % (mu, lo, hi, len(v)))
            print("| %s | %s | %s |" % (m, e, " | ".join(cells)))

    # ---- repeated-token check ------------------------------------------------------------------------------
    print("\n## Repeated-token check (Gu et al. Props. 1-4): Sink_1 = 0 when the encoding in effect carries no absolute")
    print("position (RoPE / none / ALiBi), > 0 with learned absolute positions. 'all equal' = every token of the prompt,")
    print("specials included, is the repeated id (the propositions' premise); max alpha_1 = the largest alpha_1^{l,h}.")
    print("| model | encoding | PE in effect | position 1 | all equal | Sink_1 mean | max alpha_1 | expected | result |")
    print("|---|---|---|---|---|---|---|---|---|")
    pr = psets.index("repeated") if "repeated" in psets else None
    for m in models:
        for e in encs:
            if pr is None:
                break
            v, a1, tk = sink1[m, "repeated", e]
            if len(v) == 0:
                continue
            pe = effective_pe(enc_type[e], s(minfo[m]["positional_encoding"]))
            first = sorted(set(tokstr(vocab[m], int(T_tok[k][0])) for k in tk))
            pos1 = first[0] if len(first) == 1 else "repeated token" if all(
                T_tok[k][0] == T_tok[k][1] for k in tk) else ", ".join(first)
            alleq = all(np.all(T_tok[k][:T_ntok[k]] == T_tok[k][0]) for k in tk)
            mu = float(np.mean(v))
            if pe in POS_FREE:
                exp, ok = "0", mu == 0.0
            else:
                exp, ok = "> 0", mu > 0.0
            print("| %s | %s | %s | %s | %s | %.2f | %.3f | %s | %s |" % (
                m, e, pe, pos1, "yes" if alleq else "no", mu, np.nanmax(a1), exp, "PASS" if ok else "FAIL"))

    # ---- frames -----------------------------------------------------------------------------------------------
    if "frames" not in f:
        print("\n(no /frames: run `sinkscope frames FILE`)")
        return
    print("\n## Frame labels (/frames, sinkscope's classifier; thresholds theta_c %.2f, phi %.2f, theta_b %.2f, "
          "theta_d %.2f, skip_layers %d)" % tuple(f["frames"].attrs[k] for k in
                                                   ["theta_c", "phi", "theta_b", "theta_d", "skip_layers"]))
    print("| model | encoding | prompts | label | confidence | prompts used | repeated left out | central fraction "
          "(class) | bidir start / end | why none |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for m in models:
        for e in encs:
            for p in psets:
                gp = "frames/%s/%s/%s" % (m, e, p)
                if gp not in f:
                    continue
                a = f[gp].attrs
                print("| %s | %s | %s | %s | %.2f | %d | %d | %.2f (%s) | %.2f / %.2f | %s |" % (
                    m, e, p, s(a["label"]), a["confidence"], a["n_prompts"], a["n_repeated"], a["central_fraction"],
                    s(a["central_class"]), a["bidir_start"],
                    a["bidir_end"], s(a["none_reason"])))

    # ---- per-layer anchors, recomputed from the top keys ---------------------------------------------------------
    anchor_mismatch = 0
    for m in models:
        tkg = analysis_of(f, m, "top_keys")
        causal = int(minfo[m]["causal"])
        top_a = tkg["top_key_alpha" if causal else "top_key"][:]
        cls_a = tkg["top_class_alpha" if causal else "top_class"][:]
        top_r, cls_r = tkg["top_key"][:], tkg["top_class"][:]
        L = int(minfo[m]["n_layers"])
        for p in (psets if layers_all else [q for q in psets if q != "repeated"]):
            print("\n### %s, %s: per layer, dominant top-key token and its share of (head, prompt) pairs; "
                  "first/start = share of the first-position / start-special class%s" % (
                      m, p, "; alpha convention (raw r in brackets)" if causal else "; raw column means"))
            print("| layer | " + " | ".join(encs) + " |")
            print("|---|" + "---|" * len(encs))
            cols = {}
            for ei, e in enumerate(encs):
                tk = sink1[m, p, e][2]
                cols[e] = []
                if len(tk) == 0:
                    cols[e] = ["skipped"] * L
                    continue
                rr = T_row[tk]
                for l in range(L):
                    def anchor(top, cls):
                        ids, cl = [], []
                        for j, k in enumerate(tk):
                            for h in range(top.shape[2]):
                                pos = int(top[rr[j], l, h])
                                if 0 <= pos < T_ntok[k] and cls[rr[j], l, h] >= 0:
                                    ids.append(int(T_tok[k][pos]))
                                    cl.append(int(cls[rr[j], l, h]))
                        if not ids:
                            return -1, np.nan, np.nan
                        u, c = np.unique(ids, return_counts=True)
                        best = int(u[np.argmax(c)])  # np.unique sorts: ties go to the smaller id
                        cl = np.array(cl)
                        fs = max(np.mean(cl == 1), np.mean(cl == 2))
                        return best, c.max() / len(ids), fs
                    aid, ash, fs = anchor(top_a, cls_a)
                    cell = "%s %.2f f/s %.2f" % (tokstr(vocab[m], aid), ash, fs)
                    if causal:
                        rid, rsh, rfs = anchor(top_r, cls_r)
                        cell += " [%s %.2f f/s %.2f]" % (tokstr(vocab[m], rid), rsh, rfs)
                    gp = "frames/%s/%s/%s" % (m, e, p)
                    if gp in f and f[gp].attrs["n_repeated"] == 0 and f[gp]["anchor_id"][l] != aid:
                        anchor_mismatch += 1
                    cols[e].append(cell)
            for l in range(L):
                print("| %d | %s |" % (l, " | ".join(cols[e][l] for e in encs)))
    print("\n(anchors recomputed here that differ from /frames anchor_id: %d)" % anchor_mismatch)

    # ---- mechanism: massive activations, q/k decomposition, hidden geometry (position 1) ----------------------------
    print("\n## Mechanism at position 1 (natural prompts; means over prompts, then over layers 1..L-1 / states 1..L)")
    print("| model | encoding | Sink_1 | |h_1|/|h_j| | |k_1|/|k_j| | |v_1|/|v_j| | cos(q,k_1) | cos(q,k_j) | "
          "max |h|/median | states whose max |h| is at position 1 | massive (>100, >1000x median) per prompt |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for m in models:
        qk, ma, hg = analysis_of(f, m, "qk_decomposition"), analysis_of(f, m, "massive_activations"), \
            analysis_of(f, m, "hidden_geometry")
        for e in encs:
            v, _, tk = sink1[m, "natural", e]
            if len(tk) == 0 or qk is None:
                continue
            rr = T_row[tk]
            hn = np.nanmean(qk["h_norm_ratio"][rr][:, 1:])
            kn = np.nanmean(qk["k_norm_ratio"][rr][:, 1:])
            vn = np.nanmean(qk["v_norm_ratio"][rr][:, 1:])
            cs = np.nanmean(qk["cos_sink"][rr][:, 1:])
            co = np.nanmean(qk["cos_other"][rr][:, 1:])
            mr = ma["max_ratio"][rr][:, 1:] if ma is not None else np.full((1, 1), np.nan)
            mt = ma["max_token"][rr][:, 1:] if ma is not None else np.full((1, 1), -1)
            nm = ma["n_massive"][rr][:, 1:].sum(axis=1).mean() if ma is not None else np.nan
            print("| %s | %s | %.1f | %.2f | %.2f | %.2f | %.3f | %.3f | %.0f | %.2f | %.1f |" % (
                m, e, np.mean(v), hn, kn, vn, cs, co, np.nanmedian(mr), np.mean(mt == 0), nm))
    print("\n## Per-layer Sink_1 (%% of heads with alpha_1 > %.1f), natural prompts" % EPS)
    for m in models:
        L = int(minfo[m]["n_layers"])
        print("| %s | " % m + " | ".join("L%d" % l for l in range(L)) + " |")
        print("|---|" + "---|" * L)
        for e in encs:
            a1 = sink1[m, "natural", e][1]
            if len(a1) == 0:
                continue
            print("| %s | " % e + " | ".join("%.0f" % x for x in 100 * (a1 > EPS).mean(axis=(0, 2))) + " |")


if __name__ == "__main__":
    main()
