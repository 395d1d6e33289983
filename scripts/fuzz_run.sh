# Sourced by scripts/fuzz.sh and scripts/fuzz_artifact.sh: runs a built
# libFuzzer binary on OUT/corpus for SECONDS with ASan/UBSan halting on the
# first report, keeps the log and crash inputs under OUT, and exits non-zero
# on any crash, leak, sanitizer report or timeout.
#
#   kt_fuzz_run BINARY OUT SECONDS
kt_fuzz_run() {
  local binary=$1 out=$2 seconds=$3 rc
  echo "[fuzz] seed corpus: $(ls "$out/corpus" | wc -l) files; running for ${seconds}s"
  set +e
  (cd "$out" && ASAN_OPTIONS="detect_leaks=1:abort_on_error=1" UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1" \
    "./$binary" corpus -max_total_time="$seconds" -max_len=65536 -timeout=10 \
    -rss_limit_mb=2048 -artifact_prefix="$out/crashes/" -print_final_stats=1) 2>&1 | tee "$out/fuzz.log" | \
    grep -E "^#[0-9]+[[:space:]]+(INITED|DONE)|ERROR|SUMMARY|stat::|runtime error"
  rc=${PIPESTATUS[0]}
  set -e
  if [ "$rc" -ne 0 ]; then
    echo "[fuzz] FAILED (exit $rc); see $out/fuzz.log and $out/crashes/"
    exit 1
  fi
  echo "[fuzz] no crashes in ${seconds}s"
}
