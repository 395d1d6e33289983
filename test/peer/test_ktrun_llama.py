"""kt end to end against llama.cpp: `ktc gen` -> `ktc compile --vram 0` -> `ktrun generate`.

For tiny-v3 and tiny-v2-lite in f32 and q4_k_m it compiles the GGUF into a
CPU-only artifact and runs 32 greedy steps with both ktrun executors
(reference: plain float32; cpu: the optimized kernels), writing every step's
logits. llama_cpp.Llama(logits_all=True) runs the same GGUF on the same
prompt token ids, fed one token at a time. It requires:
  * identical greedy tokens for all 32 steps, for both executors (on a
    divergence it reports how many steps agree and both top-2 margins there);
  * max relative logit error (max |kt - llama| / max |llama| over a row,
    over the steps where the tokens agree) below a per-type threshold:
      f32     2e-3  both sides compute in f32; only summation order, the f16
                    KV cache of llama.cpp and exp/rope implementations differ.
      q4_k_m  5e-2  llama.cpp quantises activations to Q8_K/Q8_0 for every
                    quantised matmul; the reference executor does not, so
                    their logits differ by the activation rounding
                    (~2^-8 relative per dot product, accumulated over layers).
It also checks, independently with gguf-py, that `ktc plan --json` accounts
for exactly the GGUF's tensor bytes.
Env: KTC (ktc), KT_BUILD (ktrun at $KT_BUILD/tools/ktrun/ktrun).
Exit 0 pass, 1 fail, 77 skip (llama_cpp, numpy, gguf or binaries missing).
"""
import json
import os
import subprocess
import sys
import tempfile

CASES = [("tiny-v3", "f32"), ("tiny-v3", "q4_k_m"), ("tiny-v2-lite", "f32"), ("tiny-v2-lite", "q4_k_m")]
EXECUTORS = ["reference", "cpu"]
N_GEN = 32
THRESHOLD = {"f32": 2e-3, "q4_k_m": 5e-2}
PROMPT = b"The router picks a few experts for each token."


def llama_run(llama_cpp, np, path, prompt, wtype):
    # f32 models get an f32 KV cache so that only arithmetic order differs.
    kv = {"type_k": 0, "type_v": 0} if wtype == "f32" else {}
    llm = llama_cpp.Llama(model_path=path, n_ctx=256, n_batch=64, verbose=False, logits_all=True, seed=0,
                          n_threads=2, **kv)
    llm.eval(prompt)
    n_vocab = llm.n_vocab()
    rows, tokens = [], []
    for _ in range(N_GEN):
        row = np.array(llm.scores[llm.n_tokens - 1][:n_vocab], dtype=np.float64)
        tok = int(np.argmax(row))
        rows.append(row)
        tokens.append(tok)
        llm.eval([tok])
    del llm
    return tokens, np.stack(rows)


def top2_margin(np, row):
    s = np.sort(row)
    return float(s[-1] - s[-2])


def ungroup(gguf_mod, path):
    """Sets deepseek2.expert_group_count/used_count to 1 in place.

    llama.cpp as llama-cpp-python 0.3.16 ships it routes with plain top-k and
    ignores expert groups, while kt implements DeepSeek-V3's group-limited
    routing; with one group both are the same routing, so the comparison
    tests everything else. Returns the original (count, used)."""
    reader = gguf_mod.GGUFReader(path, "r+")
    old = []
    for key in ("deepseek2.expert_group_count", "deepseek2.expert_group_used_count"):
        field = reader.fields.get(key)
        if field is None:
            old.append(None)
            continue
        part = field.parts[field.data[0]]
        old.append(int(part[0]))
        part[0] = 1
    reader.data.flush()
    del reader
    return tuple(old)


def check_plan_bytes(ktc, path, gguf_mod):
    reader = gguf_mod.GGUFReader(path)
    total = sum(int(t.n_bytes) for t in reader.tensors)
    out = subprocess.run([ktc, "plan", path, "--vram", "0", "--ctx", "256", "--json"], check=True,
                         capture_output=True, text=True).stdout
    totals = json.loads(out)["totals"]
    placed = totals["gpu_weight_bytes"] + totals["cpu_weight_bytes"]
    if placed != total:
        raise AssertionError(f"{path}: plan places {placed} weight bytes, gguf-py counts {total}")


def run_case(llama_cpp, np, gguf_mod, ktc, ktrun, tmp, preset, wtype, table):
    tag = f"{preset}-{wtype}"
    gguf_path = os.path.join(tmp, tag + ".gguf")
    kta = os.path.join(tmp, tag + ".kta")
    subprocess.run([ktc, "gen", "--preset", preset, "--type", wtype, "--seed", "3", "--quiet", "-o", gguf_path],
                   check=True)
    groups = ungroup(gguf_mod, gguf_path)
    check_plan_bytes(ktc, gguf_path, gguf_mod)
    subprocess.run([ktc, "compile", gguf_path, "--vram", "0", "--ctx", "256", "--quiet", "-o", kta], check=True)

    tok_llm = llama_cpp.Llama(model_path=gguf_path, n_ctx=64, verbose=False, vocab_only=True)
    prompt = tok_llm.tokenize(PROMPT, add_bos=True)
    del tok_llm
    ref_tokens, ref_rows = llama_run(llama_cpp, np, gguf_path, prompt, wtype)
    n_vocab = ref_rows.shape[1]
    failures = []
    for ex in EXECUTORS:
        logits_path = os.path.join(tmp, f"{tag}-{ex}.f32")
        proc = subprocess.run([ktrun, "generate", kta, "--executor", ex, "--threads", "2",
                               "--tokens", ",".join(map(str, prompt)), "--max-tokens", str(N_GEN),
                               "--ignore-eos", "--json", "--logits-out", logits_path],
                              capture_output=True, text=True)
        if proc.returncode != 0:
            failures.append(f"{tag} {ex}: ktrun exited {proc.returncode}: {proc.stderr.strip()}")
            table.append((tag, ex, "-", float("nan"), "ktrun failed"))
            continue
        result = json.loads(proc.stdout)
        kt_tokens = [int(t) for t in result["tokens"]]
        rows = np.fromfile(logits_path, dtype=np.float32).astype(np.float64)
        if rows.size != len(kt_tokens) * n_vocab:
            failures.append(f"{tag} {ex}: {rows.size} logits for {len(kt_tokens)} tokens x {n_vocab}")
            continue
        rows = rows.reshape(len(kt_tokens), n_vocab)
        agree = 0
        while agree < min(len(kt_tokens), N_GEN) and kt_tokens[agree] == ref_tokens[agree]:
            agree += 1
        # Rows up to and including the first divergence saw the same context.
        n_cmp = min(agree + 1, len(kt_tokens), N_GEN)
        rel = max(float(np.max(np.abs(rows[i] - ref_rows[i])) / max(np.max(np.abs(ref_rows[i])), 1e-30))
                  for i in range(n_cmp))
        note = ""
        if agree < N_GEN:
            i = agree
            note = (f"diverge at step {i}: kt {kt_tokens[i] if i < len(kt_tokens) else None} "
                    f"(margin {top2_margin(np, rows[i]) if i < len(rows) else float('nan'):.4g}) vs llama "
                    f"{ref_tokens[i]} (margin {top2_margin(np, ref_rows[i]):.4g})")
            failures.append(f"{tag} {ex}: tokens agree for {agree}/{N_GEN} steps; {note}")
        if rel > THRESHOLD[wtype]:
            failures.append(f"{tag} {ex}: max relative logit error {rel:.3g} > {THRESHOLD[wtype]:g}")
        table.append((tag, ex, f"{agree}/{N_GEN}", rel, note or "ok"))
    return failures


def main():
    try:
        import llama_cpp
        import numpy as np
        import gguf as gguf_mod
    except ImportError as e:
        print(f"SKIP: {e}")
        return 77
    ktc = os.environ.get("KTC")
    build = os.environ.get("KT_BUILD")
    ktrun = os.path.join(build, "tools", "ktrun", "ktrun") if build else None
    if not ktc or not os.path.exists(ktc) or not ktrun or not os.path.exists(ktrun):
        print("SKIP: set KTC and KT_BUILD (ktc with the compiler, ktrun built)")
        return 77
    if subprocess.run([ktc, "compile", "--help"], capture_output=True).returncode != 0:
        print("SKIP: this ktc was built without the compiler (no `ktc compile`)")
        return 77
    failures, table = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for preset, wtype in CASES:
            try:
                failures += run_case(llama_cpp, np, gguf_mod, ktc, ktrun, tmp, preset, wtype, table)
            except (AssertionError, subprocess.CalledProcessError) as e:
                failures.append(f"{preset}-{wtype}: {e}")
    print(f"{'model':22s} {'executor':10s} {'tokens':>7s} {'max rel err':>12s}  note")
    for tag, ex, agree, rel, note in table:
        print(f"{tag:22s} {ex:10s} {agree:>7s} {rel:12.3g}  {note}")
    for f in failures:
        print("FAIL:", f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
