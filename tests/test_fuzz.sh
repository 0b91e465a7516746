#!/usr/bin/env bash
# test_fuzz: builds the libFuzzer targets (protocol messages, job bodies, .torrent files, returned video segments and
# tile images, a chain's answers) with ASan+UBSan and runs each for a while.
# FUZZ_SECONDS (default 20) per target; a crash or sanitizer report fails the test.
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP"
SECONDS_PER=${FUZZ_SECONDS:-20}
OUT=build/fuzz
mkdir -p "$OUT"
if ! command -v clang >/dev/null; then echo "SKIP: clang not installed (make deps installs it)"; exit 77; fi
FLAGS="-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -std=c11 -D_GNU_SOURCE -I. -Ibuild/gen"
COMMON="lib/ts_wire.c lib/ts_error.c build/gen/lib/tessera.pb-c.c"
LIBS="$(pkg-config --cflags --libs libprotobuf-c libzmq jansson libsodium libavcodec libavutil)"
clang $FLAGS tests/fuzz_wire.c $COMMON $LIBS -o "$OUT/fuzz_wire" || exit 1
clang $FLAGS tests/fuzz_jobreq.c master/ts_jobreq.c lib/ts_request.c splitter/ts_tileplan.c escrow/ts_amount.c lib/ts_error.c lib/ts_hash.c $LIBS -o "$OUT/fuzz_jobreq" || exit 1
clang $FLAGS tests/fuzz_chain.c escrow/ts_abi.c escrow/ts_keccak.c escrow/ts_hexbytes.c escrow/ts_amount.c lib/ts_error.c \
  $(pkg-config --cflags --libs jansson) -o "$OUT/fuzz_chain" || exit 1
SAN_CXX="-g -O1 -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined -std=c++17 -I."
clang++ $SAN_CXX $(pkg-config --cflags libtorrent-rasterbar) -c torrent/ts_torrent.cpp -o "$OUT/ts_torrent.o" || exit 1
clang $FLAGS -c tests/fuzz_torrent.c -o "$OUT/fuzz_torrent.o" || exit 1
clang $FLAGS -c lib/ts_error.c -o "$OUT/ts_error.o" && clang $FLAGS -c lib/ts_log.c -o "$OUT/ts_log.o" || exit 1
clang++ -fsanitize=fuzzer,address,undefined "$OUT/fuzz_torrent.o" "$OUT/ts_torrent.o" "$OUT/ts_error.o" "$OUT/ts_log.o" \
  $(pkg-config --libs libtorrent-rasterbar) -lpthread -o "$OUT/fuzz_torrent" || exit 1
clang $FLAGS tests/fuzz_segcheck.c verifier/ts_segcheck.c lib/ts_hash.c lib/ts_error.c \
  $(pkg-config --cflags --libs libavformat libavcodec libswscale libavutil libsodium) -o "$OUT/fuzz_segcheck" || exit 1
clang++ $SAN_CXX $(pkg-config --cflags OpenImageIO) -c splitter/ts_image.cpp -o "$OUT/ts_image.o" || exit 1
for f in tests/fuzz_tile.c verifier/ts_check.c verifier/ts_agree.c verifier/ts_pixdiff.c verifier/ts_segcheck.c verifier/ts_exrhead.c \
         lib/ts_kind.c lib/ts_hash.c build/gen/lib/tessera.pb-c.c; do
  clang $FLAGS $(pkg-config --cflags libavformat libprotobuf-c) -c "$f" -o "$OUT/tile_$(basename "$f").o" || exit 1
done
clang++ -fsanitize=fuzzer,address,undefined "$OUT"/tile_*.o "$OUT/ts_image.o" "$OUT/ts_error.o" \
  $(pkg-config --libs OpenImageIO libavformat libavcodec libswscale libavutil libsodium libprotobuf-c) -o "$OUT/fuzz_tile" || exit 1
# A valid 8x8 float RGBA EXR (the tile fuzz_tile plans) and an 8x8 PNG as seeds, so the fuzzer starts inside the readers.
mkdir -p "$OUT/corpus-fuzz_tile"
[ -s "$OUT/corpus-fuzz_tile/tile.exr" ] || oiiotool --create 8x8 4 -d float -o "$OUT/corpus-fuzz_tile/tile.exr" || exit 1
[ -s "$OUT/corpus-fuzz_tile/frame.png" ] || oiiotool --create 8x8 4 -d uint8 -o "$OUT/corpus-fuzz_tile/frame.png" || exit 1
# Small valid segments (H.264 and VP9 in NUT, as slaves return them) as seeds, so the fuzzer starts inside the codecs.
mkdir -p "$OUT/corpus-fuzz_segcheck"
for c in libx264 libvpx-vp9; do
  [ -s "$OUT/corpus-fuzz_segcheck/$c.nut" ] || ffmpeg -hide_banner -loglevel error -y -f lavfi -i testsrc2=size=32x24:rate=5:duration=1 \
    -c:v $c -f nut "$OUT/corpus-fuzz_segcheck/$c.nut" || exit 1
done
# A valid single-file torrent and a multi-file one as seeds, so the fuzzer starts past the bencode syntax.
mkdir -p "$OUT/corpus-fuzz_torrent"
python3 - "$OUT/corpus-fuzz_torrent" <<'PY'
import sys
def b(x):
    if isinstance(x, int): return b"i%de" % x
    if isinstance(x, str): x = x.encode()
    if isinstance(x, bytes): return b"%d:%s" % (len(x), x)
    if isinstance(x, list): return b"l" + b"".join(b(i) for i in x) + b"e"
    return b"d" + b"".join(b(k) + b(v) for k, v in sorted(x.items())) + b"e"
one = {"url-list": "http://127.0.0.1:1/b", "info": {"name": "a" * 64, "length": 40000, "piece length": 16384, "pieces": b"\1" * 60}}
many = {"info": {"name": "dir", "piece length": 16384, "pieces": b"\2" * 20,
                 "files": [{"length": 5, "path": ["x", "y"]}, {"length": 7, "path": ["z"]}]}}
for name, t in (("single", one), ("multi", many)):
    open("%s/%s.torrent" % (sys.argv[1], name), "wb").write(b(t))
PY
fails=0
for t in fuzz_wire fuzz_jobreq fuzz_torrent fuzz_segcheck fuzz_chain fuzz_tile; do
  mkdir -p "$OUT/corpus-$t"
  # third-party leaks are suppressed as in make check-asan; fuzz_tile's (OpenImageIO's PNG reader) needs full stacks
  # to match its suppression (only there: full stacks make ASan report its own thread start in fuzz_torrent)
  unwind=""
  [ "$t" = fuzz_tile ] && unwind=fast_unwind_on_malloc=0
  if ASAN_OPTIONS="$unwind" LSAN_OPTIONS=suppressions="$TOP/tests/lsan.supp" \
      "$OUT/$t" -max_total_time="$SECONDS_PER" -max_len=8192 "$OUT/corpus-$t" >"$OUT/$t.log" 2>&1; then
    echo "ok: $t ran ${SECONDS_PER}s: $(grep -o 'Done [0-9]* runs' "$OUT/$t.log")"
  else
    echo "FAIL: $t"; tail -n 30 "$OUT/$t.log"; fails=$((fails + 1))
  fi
done
[ $fails -eq 0 ] && echo "PASSED: test_fuzz.sh" || { echo "FAILED: test_fuzz.sh"; exit 1; }
