#!/usr/bin/env python3
"""check_export_hf.py: loads checkpoints written by ss_tr_export (engine/train/export.h) with Hugging Face
transformers and compares their hidden states with the engine's. By hand only (needs torch + transformers; CTest
does not run it):

    SS_EXPORT_KEEP_DIR=/tmp/export build/tests/model/test_train_export
    /opt/sinkscope-hf2/bin/python tests/train/check_export_hf.py /tmp/export

For every <case>/step_*/ with a <case>/step_*.engine.json beside it (input ids and the engine's hidden states
[L+1][T][d]), runs AutoModelForCausalLM in float32 on the same ids and prints the largest absolute difference of
each hidden state; checks the tokenizer too (UTF-8 text -> its bytes, "<|endoftext|>" -> 256 when present).
Post-LN checkpoints (config "sinkscope_post_ln") are skipped: that key is sinkscope's and transformers ignores it.
Exit status 1 when a difference exceeds --tol."""
import argparse
import glob
import json
import os
import sys

import torch
from transformers import AutoModelForCausalLM, PreTrainedTokenizerFast


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("root")
    ap.add_argument("--tol", type=float, default=1e-4)
    args = ap.parse_args()
    bad = 0
    for eng in sorted(glob.glob(os.path.join(args.root, "*", "step_*.engine.json"))):
        ckpt = eng[: -len(".engine.json")]
        cfg = json.load(open(os.path.join(ckpt, "config.json")))
        name = os.path.relpath(ckpt, args.root)
        if cfg.get("sinkscope_post_ln"):
            print(f"{name:36s} {cfg['model_type']:9s} skipped (post-LN: a sinkscope extension)")
            continue
        e = json.load(open(eng))
        ids = torch.tensor([e["ids"]])
        model = AutoModelForCausalLM.from_pretrained(ckpt, torch_dtype=torch.float32)
        model.eval()
        with torch.no_grad():
            out = model(ids, output_hidden_states=True)
        hs = out.hidden_states
        T = ids.shape[1]
        d = hs[0].shape[-1]
        want = torch.tensor(e["hidden"]).reshape(len(hs), T, d)
        diffs = [float((hs[l][0] - want[l]).abs().max()) for l in range(len(hs))]
        # logits = last hidden · wteᵀ (the tied / copied head)
        wte = model.get_input_embeddings().weight
        logit_diff = float((out.logits[0] - want[-1] @ wte.T).abs().max())
        tok = PreTrainedTokenizerFast(tokenizer_file=os.path.join(ckpt, "tokenizer.json"))
        text = "Héllo, wörld ☃ 😀\n\tend"
        tok_ok = tok.encode(text) == list(text.encode("utf-8"))
        if cfg.get("bos_token_id") is not None:
            tok_ok = tok_ok and tok.encode("a<|endoftext|>b") == [97, 256, 98]
        worst = max(diffs + [logit_diff])
        ok = worst <= args.tol and tok_ok
        bad += not ok
        print(f"{name:36s} {cfg['model_type']:9s} max|HF - engine| per hidden state "
              f"{' '.join(f'{x:.1e}' for x in diffs)}, logits {logit_diff:.1e}, tokenizer {'ok' if tok_ok else 'WRONG'}"
              f"{'' if ok else '  <-- FAIL'}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
