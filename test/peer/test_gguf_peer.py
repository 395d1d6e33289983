#!/usr/bin/env python3
"""kt's GGUF reader and writer against gguf-py (the `gguf` package).

(a) Files written by gguf-py's GGUFWriter (every value type, nested arrays,
    tensors of several ggml types incl. raw quantized bytes, custom alignment)
    must read identically through `$KTC gguf-info --json` and gguf.GGUFReader,
    and both must match what the test meant to write.
(b) Files written by kt's GgufWriter (kt_gguf_write_test, from a seed) must read
    through gguf.GGUFReader exactly as the generator's manifest says, every kv
    and every tensor byte.

Environment: KTC (ktc binary), KT_BUILD (build dir, to find kt_gguf_write_test;
or set KT_GGUF_WRITE_TEST). Exit 0 pass, 1 mismatch, 77 skipped.
"""
import glob
import json
import os
import random
import subprocess
import sys
import tempfile

try:
    import numpy as np
    import gguf
    from gguf import GGUFReader, GGUFValueType, GGUFWriter, GGMLQuantizationType
except ImportError as e:  # pragma: no cover
    print(f"skip: {e}")
    sys.exit(77)

FAILURES = []


def check(cond, what):
    if not cond:
        FAILURES.append(what)
        print(f"MISMATCH: {what}")
    return cond


def type_name(t):
    return GGUFValueType(int(t)).name.lower()


# ---- canonical value form: (type, value) or ("array", elem_type, [canon...]) ----

def canon_ours(d):
    """From a `ktc gguf-info --json` / manifest typed value."""
    if d["type"] == "array":
        et = d["elem_type"]
        if et == "array":
            return ("array", et, [canon_ours(e) for e in d["value"]])
        return ("array", et, [(et, v) for v in d["value"]])
    return (d["type"], d["value"])


def canon_py_parts(parts, i, gtype):
    """Walk gguf-py's parsed parts of one value (it flattens nested arrays in
    contents(), so the structure is rebuilt from the raw parts here)."""
    gtype = GGUFValueType(int(gtype))
    if gtype == GGUFValueType.STRING:
        return (("string", bytes(parts[i + 1]).decode("utf-8")), i + 2)
    if gtype == GGUFValueType.ARRAY:
        et = GGUFValueType(int(parts[i][0]))
        n = int(parts[i + 1][0])
        i += 2
        elems = []
        for _ in range(n):
            v, i = canon_py_parts(parts, i, et)
            elems.append(v)
        return (("array", type_name(et), elems), i)
    x = parts[i][0]
    if gtype == GGUFValueType.BOOL:
        v = bool(x)
    elif gtype in (GGUFValueType.FLOAT32, GGUFValueType.FLOAT64):
        v = float(x)
    else:
        v = int(x)
    return ((type_name(gtype), v), i + 1)


def py_view(path):
    r = GGUFReader(path)
    kvs = []
    for key, field in r.fields.items():
        if key.startswith("GGUF."):
            continue
        # parts: key length, key bytes, value type, then the value's parts
        v, end = canon_py_parts(field.parts, 3, field.parts[2][0])
        check(end == len(field.parts), f"{path}: {key}: parts walk ended at {end} of {len(field.parts)}")
        kvs.append((key, v))
    tensors = []
    for t in r.tensors:
        tensors.append({
            "name": t.name,
            "type_id": int(t.tensor_type),
            "ne": [int(x) for x in t.field.parts[3].tolist()],
            "offset": int(t.data_offset) - int(r.data_offset),
            "n_bytes": int(t.n_bytes),
            "data": bytes(t.data.tobytes()),
        })
    header = {
        "version": int(r.fields["GGUF.version"].parts[-1][0]),
        "alignment": int(r.alignment),
        "data_offset": int(r.data_offset),
        "kv_count": int(r.fields["GGUF.kv_count"].parts[-1][0]),
        "tensor_count": int(r.fields["GGUF.tensor_count"].parts[-1][0]),
    }
    return header, kvs, tensors


def values_equal(a, b, where):
    if a[0] != b[0]:
        return check(False, f"{where}: type {a[0]} vs {b[0]}")
    if a[0] == "array":
        if not check(a[1] == b[1], f"{where}: elem_type {a[1]} vs {b[1]}"):
            return False
        if not check(len(a[2]) == len(b[2]), f"{where}: length {len(a[2])} vs {len(b[2])}"):
            return False
        ok = True
        for k, (x, y) in enumerate(zip(a[2], b[2])):
            ok = values_equal(x, y, f"{where}[{k}]") and ok
            if not ok:
                break
        return ok
    x, y = a[1], b[1]
    if a[0] == "bool":
        return check(bool(x) == bool(y) and isinstance(x, bool) and isinstance(y, bool),
                     f"{where}: {x!r} vs {y!r}")
    if a[0] in ("float32", "float64"):
        return check(float(x) == float(y), f"{where}: {x!r} vs {y!r}")
    return check(x == y and type(x) is type(y), f"{where}: {x!r} vs {y!r}")


def ktc_json(path):
    ktc = os.environ["KTC"]
    out = subprocess.run([ktc, "gguf-info", path, "--json"], capture_output=True, text=True)
    if not check(out.returncode == 0, f"ktc gguf-info --json {path} failed: {out.stderr}"):
        return None
    human = subprocess.run([ktc, "gguf-info", path], capture_output=True, text=True)
    check(human.returncode == 0 and "tensors:" in human.stdout, f"ktc gguf-info {path} (human) failed")
    return json.loads(out.stdout)


def compare_ktc_with_py(path):
    ours = ktc_json(path)
    if ours is None:
        return
    header, kvs, tensors = py_view(path)
    for k in ("version", "alignment", "data_offset", "kv_count", "tensor_count"):
        check(ours[k] == header[k], f"{path}: {k} ours {ours[k]} gguf-py {header[k]}")
    check(ours["file_size"] == os.path.getsize(path), f"{path}: file_size")
    check([m["key"] for m in ours["metadata"]] == [k for k, _ in kvs], f"{path}: key order")
    for m, (key, v) in zip(ours["metadata"], kvs):
        values_equal(canon_ours(m), v, f"{path}: {key}")
    check(len(ours["tensors"]) == len(tensors), f"{path}: tensor count")
    for a, b in zip(ours["tensors"], tensors):
        for k in ("name", "type_id", "ne", "offset", "n_bytes"):
            check(a[k] == b[k], f"{path}: tensor {b['name']} {k}: ours {a[k]} gguf-py {b[k]}")
    check(ours["tensor_bytes"] == sum(t["n_bytes"] for t in tensors), f"{path}: tensor_bytes")
    return ours


# ---- (a) gguf-py writes, kt reads -------------------------------------------------

SCALARS = [
    (GGUFValueType.UINT8, lambda r: r.randrange(256)),
    (GGUFValueType.INT8, lambda r: r.randrange(-128, 128)),
    (GGUFValueType.UINT16, lambda r: r.randrange(1 << 16)),
    (GGUFValueType.INT16, lambda r: r.randrange(-(1 << 15), 1 << 15)),
    (GGUFValueType.UINT32, lambda r: r.randrange(1 << 32)),
    (GGUFValueType.INT32, lambda r: r.randrange(-(1 << 31), 1 << 31)),
    (GGUFValueType.UINT64, lambda r: r.randrange(1 << 64)),
    (GGUFValueType.INT64, lambda r: r.randrange(-(1 << 63), 1 << 63)),
    (GGUFValueType.FLOAT32, lambda r: float(np.float32(r.uniform(-1e6, 1e6)))),
    (GGUFValueType.FLOAT64, lambda r: r.uniform(-1e300, 1e300)),
    (GGUFValueType.BOOL, lambda r: r.random() < 0.5),
    (GGUFValueType.STRING, lambda r: "".join(r.choice(["a", "é", "\n", "\"", "\\", "\x01", "中", "🙂", " ", "\x7f"])
                                            for _ in range(r.randrange(10)))),
]


def write_py_file(path, seed, alignment):
    r = random.Random(seed)
    expect = []  # (key, canonical value)
    w = GGUFWriter(path, "deepseek2")
    expect.append(("general.architecture", ("string", "deepseek2")))
    if alignment is not None:
        w.add_custom_alignment(alignment)
        expect.append(("general.alignment", ("uint32", alignment)))
    for vt, gen in SCALARS:
        name = type_name(vt)
        v = gen(r)
        w.add_key_value(f"peer.scalar.{name}", v, vt)
        expect.append((f"peer.scalar.{name}", (name, v)))
        arr = [gen(r) for _ in range(1 + r.randrange(30))]
        w.add_key_value(f"peer.array.{name}", arr, GGUFValueType.ARRAY, sub_type=vt)
        expect.append((f"peer.array.{name}", ("array", name, [(name, x) for x in arr])))
    # Nested arrays: gguf-py infers inner types (int -> int32, str -> string).
    nested_i = [[r.randrange(-1000, 1000) for _ in range(1 + r.randrange(4))] for _ in range(3)]
    w.add_array("peer.nested.int32", nested_i)
    expect.append(("peer.nested.int32",
                   ("array", "array", [("array", "int32", [("int32", x) for x in a]) for a in nested_i])))
    nested_s = [[["x", "yé"], ["z"]], [["🙂"]]]
    w.add_array("peer.nested.strings3", nested_s)
    expect.append(("peer.nested.strings3",
                   ("array", "array", [("array", "array", [("array", "string", [("string", s) for s in b])
                                                          for b in a]) for a in nested_s])))
    w.add_array("peer.array.tokens", ["<s>", "</s>", "▁the", "Ġa"] * 50)  # longer than the human view
    expect.append(("peer.array.tokens", ("array", "string", [("string", s) for s in ["<s>", "</s>", "▁the", "Ġa"] * 50])))

    rng = np.random.default_rng(seed)
    tensors = [
        ("t.f32", rng.standard_normal((3, 5), dtype=np.float32), None, None),
        ("t.f16", rng.standard_normal((2, 7)).astype(np.float16), None, None),
        ("t.f64", rng.standard_normal((4,)), None, None),
        ("t.i8", rng.integers(-128, 127, (9,), dtype=np.int8), None, None),
        ("t.i16", rng.integers(-1000, 1000, (2, 3), dtype=np.int16), None, None),
        ("t.i32", rng.integers(-1 << 30, 1 << 30, (5,), dtype=np.int32), None, None),
        ("t.i64", rng.integers(-1 << 60, 1 << 60, (2, 2), dtype=np.int64), None, None),
    ]
    for name, qt, rows, cols in [("t.q8_0", GGMLQuantizationType.Q8_0, 3, 64),
                                 ("t.q4_K", GGMLQuantizationType.Q4_K, 2, 512),
                                 ("t.q6_K", GGMLQuantizationType.Q6_K, 1, 256),
                                 ("t.q5_0", GGMLQuantizationType.Q5_0, 4, 32),
                                 ("t.q4_0", GGMLQuantizationType.Q4_0, 2, 96),
                                 ("t.bf16", GGMLQuantizationType.BF16, 3, 3)]:
        block, nbytes = gguf.GGML_QUANT_SIZES[qt]
        raw = rng.integers(0, 256, (rows, cols // block * nbytes), dtype=np.uint8)
        tensors.append((name, raw, qt, (rows, cols)))
    expected_tensors = []
    for name, arr, qt, shape in tensors:
        if qt is None:
            w.add_tensor(name, arr)
            expected_tensors.append((name, list(reversed(arr.shape)), arr.tobytes()))
        else:
            w.add_tensor(name, arr, raw_dtype=qt)
            expected_tensors.append((name, list(reversed(shape)), arr.tobytes()))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return expect, expected_tensors


def run_part_a(tmp):
    for seed, alignment in [(1, None), (2, 64), (3, 8), (4, 256), (5, 32)]:
        path = os.path.join(tmp, f"py_{seed}.gguf")
        expect, expected_tensors = write_py_file(path, seed, alignment)
        ours = compare_ktc_with_py(path)
        if ours is None:
            continue
        # Both readers agree; check them against what was written, too.
        got = {m["key"]: canon_ours(m) for m in ours["metadata"]}
        for key, v in expect:
            if check(key in got, f"{path}: ours lacks {key}"):
                values_equal(got[key], v, f"{path}: intended {key}")
        check(ours["alignment"] == (alignment or 32), f"{path}: alignment")
        by_name = {t["name"]: t for t in ours["tensors"]}
        _, _, py_tensors = py_view(path)
        py_by_name = {t["name"]: t for t in py_tensors}
        for name, ne, data in expected_tensors:
            if check(name in by_name, f"{path}: ours lacks tensor {name}"):
                check(by_name[name]["ne"] == ne, f"{path}: {name} ne {by_name[name]['ne']} vs {ne}")
                check(by_name[name]["n_bytes"] == len(data), f"{path}: {name} n_bytes")
                check(py_by_name[name]["data"] == data, f"{path}: {name} bytes as gguf-py reads them")
        print(f"(a) gguf-py -> kt: {path} alignment {ours['alignment']}: {len(ours['metadata'])} kvs, "
              f"{len(ours['tensors'])} tensors compared")


# ---- (b) kt writes, gguf-py reads ---------------------------------------------------

def find_write_tool():
    tool = os.environ.get("KT_GGUF_WRITE_TEST")
    if tool:
        return tool
    build = os.environ.get("KT_BUILD", "")
    for cand in [os.path.join(build, "compiler", "gguf", "kt_gguf_write_test")] + \
            glob.glob(os.path.join(build, "**", "kt_gguf_write_test"), recursive=True):
        if os.path.isfile(cand) and os.access(cand, os.X_OK):
            return cand
    return None


def run_part_b(tmp, tool):
    for seed in [0, 1, 2, 3, 4, 7, 99]:
        path = os.path.join(tmp, f"kt_{seed}.gguf")
        out = subprocess.run([tool, path, "--seed", str(seed), "--manifest"], capture_output=True, text=True)
        if not check(out.returncode == 0, f"{tool} --seed {seed}: {out.stderr}"):
            continue
        manifest = json.loads(out.stdout)
        header, kvs, tensors = py_view(path)
        align = manifest["alignment"]
        want = [(m["key"], canon_ours(m)) for m in manifest["metadata"]]
        if align != 32:
            want.append(("general.alignment", ("uint32", align)))
        check(header["version"] == 3, f"{path}: version {header['version']}")
        check(header["alignment"] == align, f"{path}: gguf-py alignment {header['alignment']} vs {align}")
        check([k for k, _ in kvs] == [k for k, _ in want], f"{path}: keys {[k for k, _ in kvs]}")
        for (k, a), (_, b) in zip(kvs, want):
            values_equal(a, b, f"{path}: {k}")
        check(len(tensors) == len(manifest["tensors"]), f"{path}: tensor count")
        end = 0
        for t, m in zip(tensors, manifest["tensors"]):
            check(t["name"] == m["name"], f"{path}: tensor name {t['name']} vs {m['name']}")
            check(t["type_id"] == m["type_id"], f"{path}: {m['name']} type {t['type_id']} vs {m['type_id']}")
            check(t["ne"] == m["ne"], f"{path}: {m['name']} ne {t['ne']} vs {m['ne']}")
            check(t["offset"] % align == 0 and t["offset"] >= end, f"{path}: {m['name']} offset {t['offset']}")
            end = t["offset"] + t["n_bytes"]
            check(t["data"].hex() == m["data_hex"], f"{path}: {m['name']} tensor bytes differ")
        check(os.path.getsize(path) >= header["data_offset"] + end, f"{path}: file too short")
        # And our own reader agrees with gguf-py on our file.
        compare_ktc_with_py(path)
        print(f"(b) kt -> gguf-py: seed {seed} alignment {align}: {len(kvs)} kvs, {len(tensors)} tensors, "
              f"{sum(len(t['data']) for t in tensors)} tensor bytes compared")


def main():
    if not os.environ.get("KTC") or not os.path.exists(os.environ["KTC"]):
        print("skip: KTC not set or missing")
        return 77
    tool = find_write_tool()
    if tool is None:
        print("skip: kt_gguf_write_test not found (set KT_BUILD or KT_GGUF_WRITE_TEST)")
        return 77
    with tempfile.TemporaryDirectory(prefix="kt_gguf_peer_") as tmp:
        run_part_a(tmp)
        run_part_b(tmp, tool)
    # A file written by llama.cpp's own tooling, if the test data is there.
    src = os.environ.get("KT_SOURCE", "")
    vocab = os.path.join(src, "test", "data", "tokenizer", "ggml-vocab-deepseek-llm.gguf")
    if src and os.path.exists(vocab):
        if compare_ktc_with_py(vocab) is not None:
            print(f"(c) llama.cpp vocab file read identically: {vocab}")
    if FAILURES:
        print(f"FAIL: {len(FAILURES)} mismatches")
        return 1
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
