#!/usr/bin/env python3
"""Peer test: `ktc inspect` against an independent reading of a .kta file.

Writes the sample artifact with kt_artifact_sample, then checks what
`ktc inspect --json --verify` reports against the file itself, read here
with plain Python (struct) and the `gguf` package's block sizes: header
fields, segment alignment and bounds, every tensor's byte range and ggml
size, and that plan references name existing tensors. Also checks that a
damaged copy is rejected with exit status 1 and a message naming the field.
Exits 77 when a binary or the gguf package is missing.

Environment: KT_BUILD (build dir), KTC (ktc binary).
"""
import json
import os
import struct
import subprocess
import sys
import tempfile

SKIP = 77
SOURCE = os.environ.get("KT_SOURCE", os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("KT_BUILD", os.path.join(SOURCE, "build"))
KTC = os.environ.get("KTC", os.path.join(BUILD, "tools", "ktc", "ktc"))
SAMPLE = os.path.join(BUILD, "compiler", "artifact", "kt_artifact_sample")

try:
    from gguf.constants import GGML_QUANT_SIZES, GGMLQuantizationType
except ImportError:
    print("SKIP: the gguf package is not installed; run scripts/setup.sh")
    sys.exit(SKIP)
for binary in (KTC, SAMPLE):
    if not os.access(binary, os.X_OK):
        print(f"SKIP: {binary} is not built")
        sys.exit(SKIP)

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)


def ggml_bytes(type_id, shape):
    block_elems, block_bytes = GGML_QUANT_SIZES[GGMLQuantizationType(type_id)]
    assert shape[0] % block_elems == 0
    n = shape[0] // block_elems * block_bytes
    for d in shape[1:]:
        n *= d
    return n


with tempfile.TemporaryDirectory() as tmp:
    path = os.path.join(tmp, "sample.kta")
    subprocess.run([SAMPLE, path], check=True, stdout=subprocess.DEVNULL)
    data = open(path, "rb").read()
    out = subprocess.run([KTC, "inspect", path, "--json", "--verify"], capture_output=True, text=True)
    check(out.returncode == 0, f"ktc inspect exit {out.returncode}: {out.stderr}")
    info = json.loads(out.stdout)

    magic, version, flags, header_size, m_off, m_len, file_size = struct.unpack_from("<4sIIIQQQ", data, 0)
    check(magic == b"KTA\0", "magic")
    h = info["header"]
    check((version, flags, m_off, m_len) == (h["format_version"], h["flags"], h["manifest_offset"],
                                              h["manifest_length"]), "header fields")
    check(file_size == len(data) == info["file_size"], "file size")
    prefix = struct.unpack_from("<I", data, m_off)[0]
    check(prefix + 4 == m_len, "size prefix")
    check(data[m_off + 8:m_off + 12] == b"KTA1", "file identifier")
    check(info["checksums"] == "verified", "checksums verified")

    segs = info["segments"]
    end = m_off + m_len
    for i, s in enumerate(sorted(segs, key=lambda s: s["offset"])):
        check(s["offset"] % s["alignment"] == 0 and s["alignment"] >= 4096, f"segment {i} alignment")
        check(s["offset"] >= end, f"segment {i} overlaps what precedes it")
        end = s["offset"] + s["length"]
    check(end <= len(data), "segments inside the file")

    names = set()
    for t in info["tensors"]:
        seg = segs[t["segment"]]
        check(t["length"] == ggml_bytes(t["type_id"], t["shape"]), f"{t['name']}: length vs gguf block sizes")
        check(t["offset"] + t["length"] <= seg["length"], f"{t['name']}: inside its segment")
        check(t["offset"] % 64 == 0, f"{t['name']}: aligned")
        names.add(t["name"])
    check(len(names) == len(info["tensors"]), "unique tensor names")
    steps = [s for p in info["plans"] for s in p["steps"]]
    check(all(n in names for s in steps for n in s["tensors"]), "plan tensor references")
    check({p["name"] for p in info["plans"]} == {"decode", "prefill"}, "plans")
    check(info["hyperparameters"]["architecture"] == "deepseek2", "architecture")

    # Human output and help.
    human = subprocess.run([KTC, "inspect", path], capture_output=True, text=True)
    check(human.returncode == 0 and "plan @decode" in human.stdout, "human output")
    helped = subprocess.run([KTC, "inspect", "--help"], capture_output=True, text=True)
    check(helped.returncode == 0 and "examples:" in helped.stdout, "--help")

    # One flipped weight byte: structure fine, --verify names the tensor.
    t = info["tensors"][3]
    pos = segs[t["segment"]]["offset"] + t["offset"] + 5
    bad = bytearray(data)
    bad[pos] ^= 0xFF
    bad_path = os.path.join(tmp, "bad.kta")
    open(bad_path, "wb").write(bad)
    plain = subprocess.run([KTC, "inspect", bad_path, "--no-tensors"], capture_output=True, text=True)
    check(plain.returncode == 0, "damaged weights load without --verify")
    verified = subprocess.run([KTC, "inspect", bad_path, "--verify"], capture_output=True, text=True)
    check(verified.returncode == 1 and f"tensor '{t['name']}': checksum mismatch" in verified.stderr,
          f"--verify names the damaged tensor: {verified.stderr.strip()}")

    # Truncated: rejected before anything else.
    open(bad_path, "wb").write(data[:-1])
    trunc = subprocess.run([KTC, "inspect", bad_path], capture_output=True, text=True)
    check(trunc.returncode == 1 and "file_size mismatch" in trunc.stderr, f"truncated: {trunc.stderr.strip()}")

if failures:
    print(f"{len(failures)} check(s) failed")
    sys.exit(1)
print("ok: ktc inspect agrees with an independent reading of the artifact")
