#!/usr/bin/env python3
"""Peer test: kt's tokenizer against llama.cpp's (llama-cpp-python).

Tokenizes a corpus (English, Chinese, Japanese, Korean, code, numbers, emoji,
white space runs, mixed newlines and tabs, control-token text) with both and
requires identical ids, with and without special-token parsing, for:
  * the DeepSeek-LLM vocabulary in test/data (pre-tokenizer deepseek-llm),
    plus a sweep over every code point to check the letter / CJK classes;
  * a model written by `ktc gen --preset tiny-v3` (pre-tokenizer deepseek-v3).
Exits 1 on any mismatch, printing the first differing string and both id
lists; 77 (skipped) when a peer or the generator is missing.

Environment: KT_BUILD (build dir), KT_SOURCE (source dir), KTC (ktc binary).
"""
import os
import subprocess
import sys
import tempfile

from tokenizer_corpus import FIXED, codepoint_sweep, random_corpus, run_kt

SKIP = 77

SOURCE = os.environ.get("KT_SOURCE", os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("KT_BUILD", os.path.join(SOURCE, "build"))
KT_TOKENIZE = os.path.join(BUILD, "runtime", "tokenizer", "kt_tokenize")
VOCAB = os.path.join(SOURCE, "test", "data", "tokenizer", "ggml-vocab-deepseek-llm.gguf")

try:
    import llama_cpp
except ImportError:
    print("SKIP: llama_cpp (llama-cpp-python) is not installed; run scripts/setup.sh")
    sys.exit(SKIP)


def compare(label, model, texts, special):
    llm = llama_cpp.Llama(model_path=model, vocab_only=True, verbose=False)
    ours = run_kt(KT_TOKENIZE, model, texts, special)
    assert len(ours) == len(texts), (len(ours), len(texts))
    mismatches = []
    for text, mine in zip(texts, ours):
        theirs = llm.tokenize(text.encode("utf-8"), add_bos=False, special=special)
        if mine != theirs:
            mismatches.append((text, mine, theirs))
    n_tokens = sum(len(x) for x in ours)
    if mismatches:
        text, mine, theirs = mismatches[0]
        print(f"FAIL {label} (special={special}): {len(mismatches)}/{len(texts)} strings differ; first:")
        print(f"  text:     {text!r}")
        print(f"  kt:       {mine}")
        print(f"  llama.cpp:{theirs}")
        for text, mine, theirs in mismatches[1:6]:
            print(f"  also: {text!r}")
        return False
    print(f"ok   {label} (special={special}): {len(texts)} strings, {n_tokens} tokens identical")
    return True


def main():
    if not os.path.exists(KT_TOKENIZE):
        print(f"FAIL: {KT_TOKENIZE} not built (build target kt_tokenize)")
        return 1
    corpus = FIXED + random_corpus(1234, 300)
    ok = True
    for special in (False, True):
        ok &= compare("deepseek-llm corpus", VOCAB, corpus, special)
    ok &= compare("deepseek-llm code-point sweep", VOCAB, codepoint_sweep(), False)

    skipped = None
    ktc = os.environ.get("KTC", "")
    if not ktc or not os.path.exists(ktc):
        skipped = f"KTC ({ktc or 'unset'}) is not built, cannot write a tiny-v3 model"
    else:
        with tempfile.TemporaryDirectory() as tmp:
            model = os.path.join(tmp, "tiny-v3.gguf")
            r = subprocess.run([ktc, "gen", "--preset", "tiny-v3", "--type", "f32", "-o", model], capture_output=True)
            if r.returncode != 0 or not os.path.exists(model):
                skipped = f"`ktc gen --preset tiny-v3` failed ({r.returncode}): {r.stderr.decode(errors='replace')[:300]}"
            else:
                for special in (False, True):
                    ok &= compare("tiny-v3 (deepseek-v3) corpus", model, corpus, special)
                ok &= compare("tiny-v3 (deepseek-v3) code-point sweep", model, codepoint_sweep(), False)
    if not ok:
        return 1
    if skipped:
        print(f"SKIP (deepseek-v3 part): {skipped}")
        return SKIP
    return 0


if __name__ == "__main__":
    sys.exit(main())
