#!/usr/bin/env python3
"""hf_forward_bench.py: the Hugging Face peer of bench_model.c, on the same token ids.

usage: hf_forward_bench.py MODEL T [--prompts P] [--repeat R] [--threads N]
MODEL is a Hugging Face directory or a .gguf file (loaded by transformers, dequantized to fp32; needs
transformers >= 4.50 for Gemma-3, e.g. the /opt/sinkscope-hf2 venv of make_decoder_fixtures.py).
Runs the base model (no logits) eagerly in fp32 with output_attentions=True and output_hidden_states=True,
batch 1, one untimed warm-up, best of R. Prints:
  hf_forward model=<type> T=<T> prompts=<P> tokens_per_s=<x> threads=<n> torch=<v> transformers=<v>
Exit 77 when torch/transformers cannot be imported, 2 on bad arguments.
"""
import argparse
import os
import sys
import time

try:
    import torch
    import transformers
    from transformers import AutoModel, AutoModelForCausalLM
except ImportError as e:
    print(f"SKIP: torch/transformers not importable with {sys.executable}: {e}", file=sys.stderr)
    sys.exit(77)


def draw_ids(T, V, p):
    """The same ids as bench_model.c: a 64-bit LCG seeded with 12345 + p."""
    x, out = 12345 + p, []
    for _ in range(T):
        x = (x * 6364136223846793005 + 1442695040888963407) % (1 << 64)
        out.append(3 + (x >> 33) % (V - 3))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("T", type=int)
    ap.add_argument("--prompts", type=int, default=4)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if a.model.endswith(".gguf"):
        m = AutoModelForCausalLM.from_pretrained(os.path.dirname(a.model) or ".", gguf_file=os.path.basename(a.model),
                                                 torch_dtype=torch.float32, attn_implementation="eager")
        base = m.model
    else:
        base = AutoModel.from_pretrained(a.model, torch_dtype=torch.float32, attn_implementation="eager")
    base.eval()
    V = base.config.vocab_size
    ids = [torch.tensor([draw_ids(a.T, V, p)]) for p in range(a.prompts)]
    best = float("inf")
    with torch.inference_mode():
        for r in range(a.repeat + 1):
            t0 = time.perf_counter()
            for x in ids:
                base(x, output_attentions=True, output_hidden_states=True)
            dt = time.perf_counter() - t0
            if r > 0:
                best = min(best, dt)
    print(f"hf_forward model={base.config.model_type} T={a.T} prompts={a.prompts} "
          f"tokens_per_s={a.prompts * a.T / best:.1f} threads={a.threads} torch={torch.__version__} "
          f"transformers={transformers.__version__}")


if __name__ == "__main__":
    main()
