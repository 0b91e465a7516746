#!/usr/bin/env bash
# test_gui_selftest: the app's self-tests (ts_gui_selftest: settings, jobs list, and the mosaic model replaying a
# recorded event stream); no display needed. Run from the source tree's top, where the recording lies.
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
BIN=${TESSERA_BIN:-$TOP/build/bin}
cd "$TOP" || exit 1
[ -x "$BIN/ts_gui_selftest" ] || { echo "FAIL: $BIN/ts_gui_selftest is not built"; exit 1; }
if "$BIN/ts_gui_selftest" -v; then echo "PASSED: test_gui_selftest.sh"; exit 0; fi
echo "FAILED: test_gui_selftest.sh"
exit 1
