"""Loads every tiny `ktc gen` preset in llama.cpp (llama-cpp-python) and runs it.

For tiny-v3 and tiny-v2-lite in f32 and q4_k_m, plus the legacy attn_kv_b
layout of tiny-v3, it generates the model, loads it with llama_cpp.Llama,
feeds a prompt and then 16 greedy tokens one at a time (so an EOS cannot stop
it early), and checks that every logit row is finite and not constant.
Exit 0 pass, 1 fail, 77 skip (no llama_cpp or no ktc).
"""
import math
import os
import subprocess
import sys
import tempfile
import time

CASES = [
    ("tiny-v3", "f32", []),
    ("tiny-v3", "q4_k_m", []),
    ("tiny-v2-lite", "f32", []),
    ("tiny-v2-lite", "q4_k_m", []),
    ("tiny-v3", "q4_k_m", ["--legacy-kv-b"]),
    ("tiny-v2-lite", "f32", ["--legacy-kv-b"]),
]
N_GEN = 16


def check_logits(row, what):
    vals = [float(x) for x in row]
    bad = [v for v in vals if not math.isfinite(v)]
    if bad:
        raise AssertionError(f"{what}: {len(bad)} non-finite logits")
    if max(vals) == min(vals):
        raise AssertionError(f"{what}: all {len(vals)} logits equal ({vals[0]})")


def run_case(llama_cpp, ktc, tmp, preset, wtype, extra):
    tag = f"{preset}-{wtype}{'-legacy' if extra else ''}"
    path = os.path.join(tmp, tag + ".gguf")
    t0 = time.monotonic()
    subprocess.run([ktc, "gen", "--preset", preset, "--type", wtype, "--seed", "3", "--quiet",
                    "-o", path] + extra, check=True)
    t_gen = time.monotonic() - t0

    t0 = time.monotonic()
    llm = llama_cpp.Llama(model_path=path, n_ctx=256, n_batch=64, verbose=False, logits_all=True,
                          seed=0, n_threads=2)
    t_load = time.monotonic() - t0

    t0 = time.monotonic()
    prompt = llm.tokenize(b"The router picks a few experts for each token.", add_bos=True)
    if len(prompt) < 3:
        raise AssertionError(f"{tag}: prompt tokenized to {prompt}")
    llm.eval(prompt)
    n_vocab = llm.n_vocab()
    check_logits(llm.scores[llm.n_tokens - 1][:n_vocab], f"{tag} prompt")
    produced = []
    for i in range(N_GEN):
        row = llm.scores[llm.n_tokens - 1][:n_vocab]
        check_logits(row, f"{tag} step {i}")
        tok = max(range(n_vocab), key=lambda j: row[j])
        produced.append(tok)
        llm.eval([tok])  # fed by hand: EOS does not end the loop
    check_logits(llm.scores[llm.n_tokens - 1][:n_vocab], f"{tag} last")
    t_run = time.monotonic() - t0
    if len(produced) != N_GEN:
        raise AssertionError(f"{tag}: produced {len(produced)} tokens")
    size = os.path.getsize(path)
    print(f"PASS {tag:28s} {size / 1e6:6.2f} MB  gen {t_gen:5.2f}s  load {t_load:5.2f}s  "
          f"prompt {len(prompt)} + {N_GEN} tokens {t_run:5.2f}s  tokens {produced}")
    del llm


def main():
    try:
        import llama_cpp
    except ImportError:
        print("SKIP: llama_cpp not installed")
        return 77
    ktc = os.environ.get("KTC")
    if not ktc or not os.path.exists(ktc):
        print("SKIP: set KTC to the ktc binary")
        return 77
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        for preset, wtype, extra in CASES:
            try:
                run_case(llama_cpp, ktc, tmp, preset, wtype, extra)
            except Exception as e:  # report every case, then fail
                failures += 1
                print(f"FAIL {preset} {wtype} {' '.join(extra)}: {type(e).__name__}: {e}")
    print(f"{len(CASES) - failures}/{len(CASES)} passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
