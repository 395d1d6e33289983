#!/usr/bin/env python3
"""Checks ref_cpu.h (the GPU tests' CPU reference) against the gguf package's
dequantizers on random blocks. Usage: ref_cpu_check.py PATH/TO/ref_cpu_dump"""
import subprocess
import sys

import numpy as np

try:
    from gguf import GGMLQuantizationType as Q
    from gguf import quants
except ImportError:
    print("SKIPPED: python package gguf not installed")
    sys.exit(77)

BLOCK = {Q.Q8_0: (32, 34), Q.Q4_K: (256, 144), Q.Q5_K: (256, 176), Q.Q6_K: (256, 210),
         Q.F16: (1, 2), Q.BF16: (1, 2)}


def random_blocks(t, nblocks, rng):
    elems, nbytes = BLOCK[t]
    raw = rng.integers(0, 256, size=(nblocks, nbytes), dtype=np.uint8)
    def put_half(col, vals):
        raw[:, col:col + 2] = vals.astype(np.float16).view(np.uint8).reshape(-1, 2)
    if t == Q.Q8_0:
        put_half(0, rng.uniform(-0.01, 0.01, nblocks))
    elif t in (Q.Q4_K, Q.Q5_K):
        put_half(0, rng.uniform(0, 0.02, nblocks))
        put_half(2, rng.uniform(0, 0.02, nblocks))
    elif t == Q.Q6_K:
        put_half(208, rng.uniform(-0.01, 0.01, nblocks))
    elif t == Q.F16:
        raw = rng.uniform(-1, 1, nblocks).astype(np.float16).view(np.uint8).reshape(nblocks, 2)
    elif t == Q.BF16:
        f = rng.uniform(-1, 1, nblocks).astype(np.float32).view(np.uint32)
        raw = (f >> 16).astype(np.uint16).view(np.uint8).reshape(nblocks, 2)
    return raw


def main():
    tool = sys.argv[1]
    rng = np.random.default_rng(7)
    bad = 0
    for t in BLOCK:
        k = 1024
        rows = 8
        elems, _ = BLOCK[t]
        raw = random_blocks(t, rows * k // elems, rng)
        want = quants.dequantize(raw.reshape(rows, -1), t).astype(np.float32).reshape(-1)
        out = subprocess.run([tool, str(int(t)), str(k), str(rows)], input=raw.tobytes(),
                             capture_output=True, check=True).stdout
        got = np.frombuffer(out, dtype=np.float32)
        diff = np.max(np.abs(got - want)) if got.shape == want.shape else float("inf")
        ok = got.shape == want.shape and np.allclose(got, want, rtol=1e-6, atol=1e-7)
        print(f"{t.name:5s} max |diff| {diff:.3e} {'PASS' if ok else 'FAIL'}")
        bad += not ok
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
