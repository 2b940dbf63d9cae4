#!/usr/bin/python3
"""check_frames.py: independent checks of /frames in a sinkscope results file with h5py.

  check_frames.py verify FILE [THETA_C PHI THETA_B THETA_D SKIP BOOTSTRAP]

Every /frames/<model>/<encoding>/<prompt set> group is recomputed from /tasks and /results (the first top_keys,
sink_rate and reference_tokens analyses by name), following schemas/frames.md, and compared with what sinkscope
wrote: the counts, the per-layer features, margins and labels, and the overall label and scores. When the
thresholds are given they must be the ones recorded. Exit 0 when everything matches, 1 otherwise, 77 without h5py.
"""
import math
import sys

try:
    import h5py
    import numpy as np
except ImportError as e:  # pragma: no cover
    print(f"SKIP: h5py/numpy not importable with {sys.executable}: {e}", file=sys.stderr)
    sys.exit(77)

NAMES = ["none", "centralized", "bidirectional", "distributed", "mixed"]
CONTENT, FIRST, START, END, PUNCT = range(5)
EPS = 1e-12
errors = []


def err(msg):
    errors.append(msg)
    print(f"check_frames: {msg}", file=sys.stderr)


def s(v):
    return v.decode() if isinstance(v, bytes) else str(v)


def close(a, b, tol=1e-9):
    if (a is None or (isinstance(a, float) and math.isnan(a))) and (b is None or math.isnan(b)):
        return True
    if a is None or b is None or math.isnan(a) or math.isnan(b):
        return False
    return abs(a - b) <= tol


def first_analysis(group, kind):
    for name in sorted(group.keys()):
        if s(group[name].attrs.get("type", b"")) == kind:
            return name
    return ""


def classify(ids, classes, R, causal, th):
    """ids, classes: lists over prompts of [L][H] arrays (id -1 = no pair); R: [N][L] or None."""
    N = len(ids)
    L, H = (ids[0].shape if N else (0, 0))
    out = {"layers": []}
    n_data, heads_pairs, heads_const, R_vals = 0, 0, 0, []
    for l in range(L):
        pairs = [(ids[p][l, h], classes[p][l, h]) for p in range(N) for h in range(H) if ids[p][l, h] >= 0]
        tot = len(pairs)
        lay = {"tot": tot}
        if tot:
            cc = np.bincount([c for _, c in pairs], minlength=5) / tot
            uniq, cnt = np.unique([i for i, _ in pairs], return_counts=True)
            order = sorted(range(len(uniq)), key=lambda k: (-cnt[k], uniq[k]))
            q = cnt / tot
            lay.update(shares=cc, anchor=int(uniq[order[0]]), m=float(cnt[order[0]]) / tot,
                       entropy=float(-(q * np.log(q)).sum()))
            const, nh = 0, 0
            for h in range(H):
                hv = [ids[p][l, h] for p in range(N) if ids[p][l, h] >= 0]
                if hv:
                    nh += 1
                    const += len(set(hv)) == 1
            lay["constant"] = const / nh
            heads_pairs += nh
            heads_const += const
            n_data += 1
            lay["R"] = float(np.mean([R[p][l] for p in range(N)])) if R is not None else float("nan")
            if R is not None:
                R_vals.append(lay["R"])
        out["layers"].append(lay)
    th_c, phi, th_b, th_d, skip = th["theta_c"], th["phi"], th["theta_b"], th["theta_d"], th["skip"]
    skip = skip if skip < L else 0
    first_third = (L + 2) // 3
    counted = [l for l in range(skip, L) if out["layers"][l]["tot"]]
    fr = {c: (sum(out["layers"][l]["shares"][c] >= th_c - EPS for l in counted) / len(counted)) if counted else
          float("nan") for c in (FIRST, START)}
    cclass = FIRST if counted and fr[FIRST] > fr[START] else START
    central = fr[cclass]
    starts = [out["layers"][l]["shares"][START] for l in range(L) if l < first_third and out["layers"][l]["tot"]]
    ends = [out["layers"][l]["shares"][END] for l in range(L) if l >= first_third and out["layers"][l]["tot"]]
    bstart = max(starts) if starts else float("nan")
    bend = max(ends) if ends else float("nan")
    dfrac = (sum(out["layers"][l]["m"] < th_d - EPS for l in range(L) if out["layers"][l]["tot"]) / n_data
             if n_data else float("nan"))
    const_all = heads_const / heads_pairs if heads_pairs else float("nan")
    R_all = float(np.mean(R_vals)) if R_vals else float("nan")
    if N == 0 or n_data == 0:
        label = 0
    elif counted and central >= phi - EPS:
        label = 1
    elif not causal and starts and ends and bstart >= th_b - EPS and bend >= th_b - EPS:
        label = 2
    elif dfrac >= phi - EPS and const_all < 0.5 - EPS and (R is None or R_all > 1 + EPS):
        label = 3
    else:
        label = 4
    out.update(label=label, central=central, cclass=cclass, bstart=bstart, bend=bend, dfrac=dfrac,
               const_all=const_all, R_all=R_all, first_third=first_third, skip=skip)
    for l, lay in enumerate(out["layers"]):
        if not lay["tot"]:
            lay["label"] = 0
            continue
        sh = lay["shares"]
        banchor = sh[START] if l < first_third else sh[END]
        if max(sh[FIRST], sh[START]) >= th_c - EPS:
            lay["label"] = 1
        elif not causal and banchor >= th_b - EPS:
            lay["label"] = 2
        elif lay["m"] < th_d - EPS and lay["constant"] < 0.5 - EPS and (R is None or lay["R"] > 1 + EPS):
            lay["label"] = 3
        else:
            lay["label"] = 4
        lay["margins"] = [max(sh[FIRST], sh[START]) - th_c, banchor - th_b,
                          min([th_d - lay["m"], 0.5 - lay["constant"]] + ([lay["R"] - 1] if R is not None else []))]
    return out


def verify(path, want):
    with h5py.File(path, "r") as f:
        fr = f["frames"]
        if s(fr.attrs["method"]) != "sinkscope-frames-1":
            err(f"/frames method is {fr.attrs['method']!r}")
        th = {k: float(fr.attrs[k]) for k in ("theta_c", "phi", "theta_b", "theta_d")}
        th["skip"] = int(fr.attrs["skip_layers"])
        if want:
            got = [th["theta_c"], th["phi"], th["theta_b"], th["theta_d"], th["skip"], int(fr.attrs["bootstrap"])]
            if any(abs(a - b) > 1e-12 for a, b in zip(got, want)):
                err(f"thresholds {got}, expected {want}")
        mnames = {int(f["models"][m].attrs["index"]): m for m in f["models"]}
        pnames = {int(f["prompts"][q].attrs["index"]): q for q in f["prompts"]}
        enames = {int(f["encodings"][e].attrs["index"]): e for e in f["encodings"]}
        T = f["tasks"]
        tm, tq, te, trow = T["model"][:], T["prompts"][:], T["encoding"][:], T["row"][:]
        status, ntok, tokens = T["status"][:], T["n_tokens"][:], T["tokens"][:]
        n_groups = 0
        for mi, m in mnames.items():
            res = f["results"][m]
            top = first_analysis(res, "top_keys")
            if not top:
                if m in fr:
                    err(f"/frames/{m} exists without a top_keys analysis")
                continue
            ma = f["models"][m].attrs
            causal = int(ma["causal"])
            specials = {int(ma[k]) for k in ("bos_token_id", "cls_token_id", "sep_token_id", "eos_token_id")
                        if int(ma[k]) >= 0}
            kp, kc = ("top_key_alpha", "top_class_alpha") if causal else ("top_key", "top_class")
            pos_all, cls_all = res[top][kp][:], res[top][kc][:]
            ref = first_analysis(res, "reference_tokens")
            R_all = None
            if ref:
                R_all = res[ref]["ref_count_raw" if not causal and "ref_count_raw" in res[ref] else "ref_count"][:]
            for ei, e in enames.items():
                for qi, q in pnames.items():
                    n_groups += 1
                    gname = f"{m}/{e}/{q}"
                    if gname not in fr:
                        err(f"/frames/{gname} missing")
                        continue
                    g = fr[gname]
                    tasks = [t for t in range(len(status)) if tm[t] == mi and tq[t] == qi and te[t] == ei]
                    done = [t for t in tasks if status[t] == 1]
                    used, n_rep, n_kept = [], 0, 0
                    # a repeated-token prompt has no sink by construction only when every token (specials
                    # included) is one id and the encoding in effect carries no absolute position (RoPE, ALiBi,
                    # none): Gu et al. Props. 1-4; otherwise it is classified like any prompt
                    etype = s(f["encodings"][e].attrs["type"])
                    pe = s(ma["positional_encoding"]) if etype == "native" else etype
                    absolute = pe not in ("rope", "alibi", "none")
                    for t in done:
                        toks = [int(x) for x in tokens[t][:ntok[t]]]
                        content = [x for x in toks if x not in specials]
                        repeated = len(content) >= 2 and len(set(content)) == 1
                        if repeated and len(content) == len(toks) and not absolute:
                            n_rep += 1
                        else:
                            n_kept += repeated
                            used.append(t)
                    if int(g.attrs["absolute_positions"]) != int(absolute):
                        err(f"{gname}: absolute_positions {int(g.attrs['absolute_positions'])}, expected {int(absolute)}")
                    for key, v in (("n_tasks", len(tasks)), ("n_missing", len(tasks) - len(done)),
                                   ("n_prompts", len(used)), ("n_repeated", n_rep), ("n_repeated_kept", n_kept),
                                   ("n_failed", sum(status[t] == 2 for t in tasks))):
                        if int(g.attrs[key]) != v:
                            err(f"{gname}: {key} {int(g.attrs[key])}, expected {v}")
                    ids, classes, R = [], [], ([] if R_all is not None else None)
                    for t in used:
                        p, c = pos_all[trow[t]], cls_all[trow[t]]
                        ok = (p >= 0) & (p < ntok[t]) & (c >= 0)
                        ids.append(np.where(ok, tokens[t][np.clip(p, 0, tokens.shape[1] - 1)], -1))
                        classes.append(c)
                        if R is not None:
                            R.append(R_all[trow[t]].astype(float))
                    want_g = classify(ids, classes, R, causal, th)
                    label = s(g.attrs["label"])
                    if label != NAMES[want_g["label"]]:
                        err(f"{gname}: label {label}, recomputed {NAMES[want_g['label']]}")
                    conf = float(g.attrs["confidence"])
                    if not (0 <= conf <= 1):
                        err(f"{gname}: confidence {conf}")
                    for key, v in (("central_fraction", want_g["central"]), ("bidir_start", want_g["bstart"]),
                                   ("bidir_end", want_g["bend"]), ("distributed_fraction", want_g["dfrac"]),
                                   ("constant_heads", want_g["const_all"]), ("mean_R", want_g["R_all"])):
                        if used and not close(float(g.attrs[key]), v):
                            err(f"{gname}: {key} {float(g.attrs[key])}, recomputed {v}")
                    if used and not close(float(g.attrs["margin_centralized"]), want_g["central"] - th["phi"]):
                        err(f"{gname}: margin_centralized")
                    if int(g.attrs["skip_layers_effective"]) != want_g["skip"]:
                        err(f"{gname}: skip_layers_effective")
                    labels, shares = g["labels"][:], g["shares"][:]
                    for l, lay in enumerate(want_g["layers"]):
                        if int(labels[l]) != lay["label"]:
                            err(f"{gname} layer {l}: label {NAMES[labels[l]]}, recomputed {NAMES[lay['label']]}")
                        if not lay["tot"]:
                            if int(g["anchor_id"][l]) != -1 or int(g["n_pairs"][l]) != 0:
                                err(f"{gname} layer {l}: features of an empty layer")
                            continue
                        if int(g["n_pairs"][l]) != lay["tot"]:
                            err(f"{gname} layer {l}: n_pairs")
                        if not np.allclose(shares[l], lay["shares"], atol=1e-12):
                            err(f"{gname} layer {l}: shares {shares[l]}, recomputed {lay['shares']}")
                        if int(g["anchor_id"][l]) != lay["anchor"]:
                            err(f"{gname} layer {l}: anchor_id {int(g['anchor_id'][l])}, recomputed {lay['anchor']}")
                        for key, v in (("anchor_share", lay["m"]), ("m_l", lay["m"]), ("entropy", lay["entropy"]),
                                       ("constant_heads", lay["constant"]), ("mean_R", lay["R"])):
                            if not close(float(g[key][l]), v):
                                err(f"{gname} layer {l}: {key} {float(g[key][l])}, recomputed {v}")
                        if not np.allclose(g["margins"][l], lay["margins"], atol=1e-9):
                            err(f"{gname} layer {l}: margins {g['margins'][l]}, recomputed {lay['margins']}")
        if n_groups == 0:
            err("no group checked")
        print(f"check_frames: {n_groups} group(s) recomputed")


def main():
    if len(sys.argv) < 3 or sys.argv[1] != "verify":
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    want = [float(x) for x in sys.argv[3:9]] if len(sys.argv) >= 9 else None
    verify(sys.argv[2], want)
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()
