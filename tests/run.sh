#!/usr/bin/env bash
# tests/run.sh: runs every self-test, then every integration test (tests/test_*.sh), and prints the summary line.
# Usage: tests/run.sh [test_name.sh ...]   (TESSERA_QUICK=1 runs only the self-tests)
set -u
cd "$(dirname "$0")/.."
passed=0; failed=0; skipped=0; failed_names=(); skipped_names=()
SKIP_RC=77 # a test that cannot run here (tests/ts_test.h TS_TEST_SKIPPED): counted apart, never as a pass

out=$(build/bin/ts_selftest 2>&1); echo "$out" | grep -v ' passed, '
summary='^\([0-9]*\) passed, \([0-9]*\) failed, \([0-9]*\) skipped$'
p=$(echo "$out" | sed -n "s/$summary/\1/p")
f=$(echo "$out" | sed -n "s/$summary/\2/p")
s=$(echo "$out" | sed -n "s/$summary/\3/p")
passed=$((passed + ${p:-0})); failed=$((failed + ${f:-1})); skipped=$((skipped + ${s:-0}))
[ "${f:-1}" -eq 0 ] || failed_names+=(selftest)

if [ "${TESSERA_QUICK:-0}" != 1 ]; then
  tests=("$@")
  [ ${#tests[@]} -gt 0 ] || tests=(tests/test_*.sh)
  for t in "${tests[@]}"; do
    [ -f "$t" ] || t=tests/$t
    echo "=== $t"
    start=$(date +%s)
    bash "$t"; rc=$?
    if [ $rc -eq 0 ]; then passed=$((passed + 1))
    elif [ $rc -eq $SKIP_RC ]; then skipped=$((skipped + 1)); skipped_names+=("$t")
    else failed=$((failed + 1)); failed_names+=("$t"); fi
    echo "=== $t took $(( $(date +%s) - start )) s"
  done
fi
[ ${#skipped_names[@]} -eq 0 ] || echo "skipped: ${skipped_names[*]}"
[ ${#failed_names[@]} -eq 0 ] || echo "failed: ${failed_names[*]}"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
