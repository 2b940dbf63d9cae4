#!/usr/bin/python3
"""check_results.py: independent checks of a sinkscope results file with h5py (Debian's python3-h5py).

  check_results.py verify FILE            layout, statuses, and Sink_k recomputed from the stored alpha
  check_results.py status FILE            prints "done=N failed=M pending=P ranks=r0,r1,..."
  check_results.py same-done A B          every task done in A is done in B with identical rows
  check_results.py expect-ranks FILE N    both/all N ranks wrote at least one task

Exit 0 when the check holds, 1 otherwise (message on stderr), 77 when h5py is missing.
"""
import sys

try:
    import h5py
    import numpy as np
except ImportError as e:  # pragma: no cover
    print(f"SKIP: h5py/numpy not importable with {sys.executable}: {e}", file=sys.stderr)
    sys.exit(77)


def fail(msg):
    print(f"check_results: {msg}", file=sys.stderr)
    sys.exit(1)


def analyses(f):
    for model in f["results"]:
        for name, g in f["results"][model].items():
            yield model, name, g


def verify(path):
    with h5py.File(path, "r") as f:
        if f.attrs.get("format") not in (b"sinkscope-results", "sinkscope-results"):
            fail(f"{path}: format attribute is {f.attrs.get('format')!r}")
        for key in ("fingerprint", "sinkscope_version", "sweep_name", "created_utc"):
            if key not in f.attrs:
                fail(f"{path}: root attribute {key} missing")
        yaml = f["sweep/yaml"][()]
        if b"analyses" not in (yaml if isinstance(yaml, bytes) else yaml.encode()):
            fail("sweep/yaml does not hold the sweep")
        n = int(f.attrs["n_tasks"])
        status = f["tasks/status"][:]
        ntok = f["tasks/n_tokens"][:]
        row = f["tasks/row"][:]
        model_idx = f["tasks/model"][:]
        tokens = f["tasks/tokens"][:]
        if len(status) != n:
            fail("status length differs from n_tasks")
        models = list(f["models"].keys())
        for m in models:
            g = f["models"][m]
            for key in ("sha256", "bos_policy", "bos_policy_effective", "architecture", "n_layers", "n_heads"):
                if key not in g.attrs:
                    fail(f"/models/{m} lacks attribute {key}")
            if len(g.attrs["sha256"]) != 64:
                fail(f"/models/{m} sha256 is not a hex digest")
        checked = 0
        for model, name, g in analyses(f):
            typ = g.attrs["type"]
            typ = typ.decode() if isinstance(typ, bytes) else typ
            tasks = [t for t in range(n) if status[t] == 1 and model_of(f, model_idx[t]) == model]
            for t in tasks:
                T = int(ntok[t])
                r = int(row[t])
                if T <= 0 or tokens[t, T - 1] < 0 or (T < tokens.shape[1] and tokens[t, T] != -1):
                    fail(f"task {t}: tokens do not match n_tokens={T}")
                if typ == "sink_rate":
                    eps = g.attrs["epsilon"]
                    sr = g["sink_rate"][r]       # [n_eps][Tmax]
                    alpha = g["alpha"][r]        # [L][H][k_store]
                    if not np.all(np.isnan(sr[:, T:])):
                        fail(f"task {t}: sink_rate beyond n_tokens is not NaN")
                    if np.any(np.isnan(sr[:, :T])) or np.any(sr[:, :T] < 0) or np.any(sr[:, :T] > 100):
                        fail(f"task {t}: sink_rate outside [0, 100]")
                    K = min(alpha.shape[2], T)
                    for e, ev in enumerate(eps):
                        for k in range(K):
                            want = 100.0 * np.mean(alpha[:, :, k] > ev)
                            if abs(want - sr[e, k]) > 1e-3:
                                fail(f"task {t}: Sink_{k+1}^{ev} = {sr[e, k]} but alpha gives {want}")
                    if not np.all((alpha[:, :, :K] >= 0) & (alpha[:, :, :K] <= 1 + 1e-6)):
                        fail(f"task {t}: alpha outside [0, 1]")
                    checked += 1
                elif typ == "top_keys":
                    tk, ts = g["top_key"][r], g["top_share"][r]
                    if np.any(tk < 0) or np.any(tk >= T):
                        fail(f"task {t}: top_key outside [0, {T})")
                    if np.any(ts <= 0) or np.any(ts > 1 + 1e-6) or np.any(ts < 1.0 / T - 1e-6):
                        fail(f"task {t}: top_share outside [1/T, 1]")
                    checked += 1
        print(f"verified {path}: {n} tasks, {int((status == 1).sum())} done, {checked} analysis rows checked")


def sweep_models(f):
    """Model names in sweep order (/tasks/model indexes them), from each group's 'index' attribute."""
    names = {int(g.attrs["index"]): name for name, g in f["models"].items()}
    return [names[i] for i in range(len(names))]


def model_of(f, idx):
    return sweep_models(f)[idx]


def status(path):
    with h5py.File(path, "r") as f:
        st = f["tasks/status"][:]
        rk = f["tasks/rank"][:]
        ranks = sorted(set(int(r) for r, s in zip(rk, st) if s != 0))
        print(f"done={int((st == 1).sum())} failed={int((st == 2).sum())} pending={int((st == 0).sum())} "
              f"ranks={','.join(map(str, ranks))}")


def same_done(a, b):
    with h5py.File(a, "r") as fa, h5py.File(b, "r") as fb:
        sa, sb = fa["tasks/status"][:], fb["tasks/status"][:]
        done = np.nonzero(sa == 1)[0]
        if np.any(sb[done] != 1):
            fail(f"tasks done in {a} are not done in {b}")
        for key in ("row", "n_tokens", "tokens"):
            if not np.array_equal(fa["tasks"][key][:][done], fb["tasks"][key][:][done]):
                fail(f"/tasks/{key} differs on done tasks")
        rows = fa["tasks/row"][:]
        models = fa["tasks/model"][:]
        names = sweep_models(fa)
        n = 0
        for model, name, g in analyses(fa):
            for ds in g:
                for t in done:
                    if names[models[t]] != model:
                        continue
                    x, y = g[ds][rows[t]], fb["results"][model][name][ds][rows[t]]
                    if not np.array_equal(x, y, equal_nan=True) if x.dtype.kind == "f" else not np.array_equal(x, y):
                        fail(f"{model}/{name}/{ds} differs for task {t}")
                    n += 1
        print(f"{len(done)} done tasks of {a} are identical in {b} ({n} rows compared)")


def expect_ranks(path, n):
    with h5py.File(path, "r") as f:
        st, rk = f["tasks/status"][:], f["tasks/rank"][:]
        ranks = set(int(r) for r, s in zip(rk, st) if s == 1)
        if ranks != set(range(n)):
            fail(f"tasks were written by ranks {sorted(ranks)}, expected 0..{n - 1}")
        print(f"tasks written by ranks {sorted(ranks)}")


if __name__ == "__main__":
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    cmd = sys.argv[1]
    if cmd == "verify":
        verify(sys.argv[2])
    elif cmd == "status":
        status(sys.argv[2])
    elif cmd == "same-done":
        same_done(sys.argv[2], sys.argv[3])
    elif cmd == "expect-ranks":
        expect_ranks(sys.argv[2], int(sys.argv[3]))
    else:
        fail(f"unknown command {cmd}")
