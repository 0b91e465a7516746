#!/usr/bin/env bash
# tests/run.sh: runs every self-test, then every integration test (tests/test_*.sh), and prints the summary line.
# Usage: tests/run.sh [test_name.sh ...]   (TESSERA_QUICK=1 runs only the self-tests)
set -u
cd "$(dirname "$0")/.."
passed=0; failed=0; failed_names=()

out=$(build/bin/ts_selftest 2>&1); echo "$out" | grep -v ' passed, '
p=$(echo "$out" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1/p')
f=$(echo "$out" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\2/p')
passed=$((passed + ${p:-0})); failed=$((failed + ${f:-1}))
[ "${f:-1}" -eq 0 ] || failed_names+=(selftest)

if [ "${TESSERA_QUICK:-0}" != 1 ]; then
  tests=("$@")
  [ ${#tests[@]} -gt 0 ] || tests=(tests/test_*.sh)
  for t in "${tests[@]}"; do
    [ -f "$t" ] || t=tests/$t
    echo "=== $t"
    start=$(date +%s)
    if bash "$t"; then passed=$((passed + 1)); else failed=$((failed + 1)); failed_names+=("$t"); fi
    echo "=== $t took $(( $(date +%s) - start )) s"
  done
fi
[ ${#failed_names[@]} -eq 0 ] || echo "failed: ${failed_names[*]}"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
