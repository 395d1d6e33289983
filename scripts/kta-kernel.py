#!/usr/bin/env python3
"""Writes one kernel image of a kt artifact to a file.

  scripts/kta-kernel.py model.kta decode.sm_90a.cubin -o decode.cubin

Reads the layout from `ktc inspect --json` (ktc on PATH, or --ktc PATH), so
it needs no artifact parser of its own. Used to hand the cubin that ktc
compile embedded to the GPU check (KT_ARTIFACT_CUBIN, scripts/gpu-check.sh).
"""
import argparse
import json
import subprocess
import sys


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("artifact")
    ap.add_argument("image", help="kernel image name, as `ktc inspect` lists it")
    ap.add_argument("-o", "--output", required=True)
    ap.add_argument("--ktc", default="ktc")
    args = ap.parse_args()
    info = json.loads(subprocess.run([args.ktc, "inspect", args.artifact, "--json"], check=True,
                                     capture_output=True, text=True).stdout)
    images = {k["name"]: k for k in info["kernels"]}
    if args.image not in images:
        sys.exit(f"kta-kernel: {args.artifact} has no kernel image '{args.image}' (it has: {', '.join(images) or 'none'})")
    k = images[args.image]
    seg = info["segments"][k["segment"]]
    if k["offset"] + k["length"] > seg["length"]:
        sys.exit(f"kta-kernel: image '{args.image}' runs past its segment")
    with open(args.artifact, "rb") as f:
        f.seek(seg["offset"] + k["offset"])
        data = f.read(k["length"])
    if len(data) != k["length"]:
        sys.exit(f"kta-kernel: {args.artifact} is shorter than its manifest says")
    with open(args.output, "wb") as f:
        f.write(data)


if __name__ == "__main__":
    main()
