"""Prefill and decode speed of llama.cpp (llama-cpp-python) on a GGUF, measured
the way `ktrun bench` measures kt: a pseudo-random prompt of ordinary tokens,
then greedy single-token decode steps; medians over --repeat runs.

usage: python3 bench/llama_cpp_bench.py MODEL.gguf [--prompt-len 512] [--gen-len 128]
                                         [--repeat 3] [--threads N] [--out FILE]
"""
import argparse
import json
import os
import random
import statistics
import sys
import time


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model")
    ap.add_argument("--prompt-len", type=int, default=512)
    ap.add_argument("--gen-len", type=int, default=128)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--out")
    args = ap.parse_args()
    import llama_cpp
    import numpy as np

    llm = llama_cpp.Llama(model_path=args.model, n_ctx=args.prompt_len + args.gen_len + 8, n_batch=512,
                          n_threads=args.threads, n_threads_batch=args.threads, verbose=False)
    vocab = llm.n_vocab()
    rng = random.Random(12345)
    prompt = [rng.randrange(256, min(vocab, 1000)) for _ in range(args.prompt_len)]
    def last_argmax():
        # Without logits_all, llama-cpp-python keeps only the last row, in the context.
        return int(np.argmax(np.ctypeslib.as_array(llm._ctx.get_logits(), shape=(vocab,))))

    prefill, decode = [], []
    for _ in range(args.repeat):
        llm.reset()
        t0 = time.perf_counter()
        llm.eval(prompt)
        t1 = time.perf_counter()
        tok = last_argmax()
        t2 = time.perf_counter()
        for _ in range(args.gen_len - 1):
            llm.eval([tok])
            tok = last_argmax()
        t3 = time.perf_counter()
        prefill.append(args.prompt_len / (t1 - t0))
        decode.append((args.gen_len - 1) / (t3 - t2))
        print(f"[llama.cpp] prefill {prefill[-1]:.2f} tok/s, decode {decode[-1]:.2f} tok/s", file=sys.stderr)
    result = {
        "engine": "llama.cpp (llama-cpp-python %s)" % llama_cpp.__version__,
        "model": args.model, "threads": args.threads, "prompt_len": args.prompt_len, "gen_len": args.gen_len,
        "repeat": args.repeat,
        "prefill_tokens_per_second": statistics.median(prefill),
        "decode_tokens_per_second": statistics.median(decode),
    }
    text = json.dumps(result)
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    sys.exit(main())
