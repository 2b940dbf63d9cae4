"""bench_train_torch.py: training tokens/s of the sinkscope trainer's model in PyTorch, against tests/bench/bench_train.

The model is written here as a plain nn.Module with the trainer's architecture (engine/train/model.h): byte
embedding (+ learned positions), pre-LN blocks with separate q, k, v linears (biases), causal softmax attention
(scale 1/sqrt(d_head)), GELU-tanh MLP of 4d, final LayerNorm, LM head tied to the embedding; cross-entropy on
random bytes. One step = forward, backward, global-norm clipping at 1.0, AdamW (weight decay 0.1 on the linear
weights only), as bench_train does. Float32 on the CPU, torch.set_num_threads(K).

Usage: bench_train_torch.py [--layers L] [--d D] [--heads H] [--ctx T] [--batch B] [--steps N]
                            [--threads K ...] [--bench-train PATH/TO/bench_train]
For each thread count, prints PyTorch's tokens/s and, with --bench-train, runs bench_train with the same
arguments and prints sinkscope's tokens/s and the ratio sinkscope / PyTorch.
"""
import argparse
import math
import re
import subprocess
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self, d, h):
        super().__init__()
        self.h = h
        self.ln1 = nn.LayerNorm(d, eps=1e-5)
        self.q = nn.Linear(d, d)
        self.k = nn.Linear(d, d)
        self.v = nn.Linear(d, d)
        self.o = nn.Linear(d, d)
        self.ln2 = nn.LayerNorm(d, eps=1e-5)
        self.fc = nn.Linear(d, 4 * d)
        self.proj = nn.Linear(4 * d, d)

    def forward(self, x):
        B, T, d = x.shape
        dh = d // self.h
        a = self.ln1(x)
        q = self.q(a).view(B, T, self.h, dh).transpose(1, 2)
        k = self.k(a).view(B, T, self.h, dh).transpose(1, 2)
        v = self.v(a).view(B, T, self.h, dh).transpose(1, 2)
        s = (q @ k.transpose(-1, -2)) / math.sqrt(dh)
        mask = torch.ones(T, T, dtype=torch.bool).triu(1)
        p = s.masked_fill(mask, float("-inf")).softmax(-1)
        y = (p @ v).transpose(1, 2).reshape(B, T, d)
        x = x + self.o(y)
        return x + self.proj(F.gelu(self.fc(self.ln2(x)), approximate="tanh"))


class Decoder(nn.Module):
    def __init__(self, layers, d, h, ctx, vocab=256):
        super().__init__()
        self.wte = nn.Embedding(vocab, d)
        self.wpe = nn.Embedding(ctx, d)
        self.blocks = nn.ModuleList(Block(d, h) for _ in range(layers))
        self.lnf = nn.LayerNorm(d, eps=1e-5)

    def forward(self, ids, targets):
        T = ids.shape[1]
        x = self.wte(ids) + self.wpe(torch.arange(T))
        for b in self.blocks:
            x = b(x)
        logits = self.lnf(x) @ self.wte.weight.t()
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))


def torch_tokens_per_s(a, threads):
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    m = Decoder(a.layers, a.d, a.heads, a.ctx)
    decay = [p for n, p in m.named_parameters() if p.dim() == 2 and "wte" not in n and "wpe" not in n]
    rest = [p for n, p in m.named_parameters() if not (p.dim() == 2 and "wte" not in n and "wpe" not in n)]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": rest, "weight_decay": 0.0}],
                            lr=1e-3, betas=(0.9, 0.95), eps=1e-8, foreach=False)
    g = torch.Generator().manual_seed(42)
    t0 = None
    for s in range(a.steps + 3):
        if s == 3:
            t0 = time.perf_counter()
        ids = torch.randint(0, 256, (a.batch, a.ctx), generator=g)
        tg = torch.randint(0, 256, (a.batch, a.ctx), generator=g)
        opt.zero_grad(set_to_none=False)
        loss = m(ids, tg)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(m.parameters(), 1.0)
        opt.step()
    dt = time.perf_counter() - t0
    return a.steps * a.batch * a.ctx / dt


def main():
    ap = argparse.ArgumentParser()
    for k, v in (("layers", 4), ("d", 128), ("heads", 4), ("ctx", 128), ("batch", 16), ("steps", 20)):
        ap.add_argument("--" + k, type=int, default=v)
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--bench-train", help="the bench_train executable: also time sinkscope and print the ratio")
    a = ap.parse_args()
    shape = f"layers={a.layers} d={a.d} heads={a.heads} ctx={a.ctx} batch={a.batch}"
    for th in a.threads:
        tps = torch_tokens_per_s(a, th)
        print(f"pytorch_train tokens_per_s={tps:.1f} threads={th} {shape} torch={torch.__version__}", flush=True)
        if a.bench_train:
            out = subprocess.run([a.bench_train, "--layers", str(a.layers), "--d", str(a.d), "--heads", str(a.heads),
                                  "--ctx", str(a.ctx), "--batch", str(a.batch), "--steps", str(a.steps),
                                  "--threads", str(th)], check=True, capture_output=True, text=True).stdout
            print(out.strip(), flush=True)
            ss = float(re.search(r"tokens_per_s=([0-9.]+)", out).group(1))
            print(f"ratio sinkscope/pytorch = {ss / tps:.2f} (threads={th} {shape})", flush=True)


if __name__ == "__main__":
    main()
