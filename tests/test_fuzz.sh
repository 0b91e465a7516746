#!/usr/bin/env bash
# test_fuzz: builds the libFuzzer targets (protocol messages, job bodies) with ASan+UBSan and runs each for a while.
# FUZZ_SECONDS (default 20) per target; a crash or sanitizer report fails the test.
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP"
SECONDS_PER=${FUZZ_SECONDS:-20}
OUT=build/fuzz
mkdir -p "$OUT"
if ! command -v clang >/dev/null; then echo "SKIP: clang not installed"; exit 0; fi
FLAGS="-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -std=c11 -D_GNU_SOURCE -I. -Ibuild/gen"
COMMON="lib/ts_wire.c lib/ts_error.c build/gen/lib/tessera.pb-c.c"
LIBS="$(pkg-config --cflags --libs libprotobuf-c libzmq jansson libsodium libavcodec libavutil)"
clang $FLAGS tests/fuzz_wire.c $COMMON $LIBS -o "$OUT/fuzz_wire" || exit 1
clang $FLAGS tests/fuzz_jobreq.c master/ts_jobreq.c splitter/ts_tileplan.c lib/ts_error.c lib/ts_hash.c $LIBS -o "$OUT/fuzz_jobreq" || exit 1
fails=0
for t in fuzz_wire fuzz_jobreq; do
  mkdir -p "$OUT/corpus-$t"
  if "$OUT/$t" -max_total_time="$SECONDS_PER" -max_len=4096 "$OUT/corpus-$t" >"$OUT/$t.log" 2>&1; then
    echo "ok: $t ran ${SECONDS_PER}s: $(grep -o 'Done [0-9]* runs' "$OUT/$t.log")"
  else
    echo "FAIL: $t"; tail -n 30 "$OUT/$t.log"; fails=$((fails + 1))
  fi
done
[ $fails -eq 0 ] && echo "PASSED: test_fuzz.sh" || { echo "FAILED: test_fuzz.sh"; exit 1; }
