#!/usr/bin/env bash
# test_fuzz: builds the libFuzzer targets (protocol messages, job bodies, .torrent files, returned video segments and
# tile images, a contact sheet's images, a chain's answers, a project's manifest, event ids and streams, the mosaic routes' paths) with ASan+UBSan against the project's libraries (make fuzzlib) and runs each for a while.
# FUZZ_SECONDS (default 20) per target; a crash or sanitizer report fails the test. What a target finds (crash-*,
# oom-*, slow-unit-* files) is kept in build/fuzz as <target>-<kind>-<hash>, out of the source tree.
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP"
SECONDS_PER=${FUZZ_SECONDS:-20}
OUT=build/fuzz
mkdir -p "$OUT"
if ! command -v clang >/dev/null; then echo "SKIP: clang not installed (make deps installs it)"; exit 77; fi
# The project's libraries built by clang with the fuzzer sanitizers (make fuzzlib: build-fuzz/libtessera.a and the
# master's parts, build-fuzz/libtessera-master.a); each target is its own .c linked against them, by clang++ as the
# libraries hold C++ (OpenImageIO, libtorrent). Libraries and flags come from the Makefile, so a target may use any part.
make -j2 --no-print-directory fuzzlib >"$OUT/fuzzlib.log" 2>&1 || { tail -n 40 "$OUT/fuzzlib.log"; echo "FAIL: make fuzzlib"; exit 1; }
PKGS=$(make -s --no-print-directory print-PKGS) && LDLIBS=$(make -s --no-print-directory print-LDLIBS) || exit 1
FLAGS="-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -std=c11 -D_GNU_SOURCE -I. -Ibuild-fuzz/gen"
FLAGS="$FLAGS $(pkg-config --cflags $PKGS)"
LIBS="build-fuzz/libtessera-master.a build-fuzz/libtessera.a $LDLIBS"
pids=""
for t in fuzz_wire fuzz_jobreq fuzz_chain fuzz_torrent fuzz_segcheck fuzz_tile fuzz_sheet fuzz_manifest fuzz_auth fuzz_slaveconf fuzz_events fuzz_view fuzz_quote; do
  { clang $FLAGS -c "tests/$t.c" -o "$OUT/$t.o" && clang++ -fsanitize=fuzzer,address,undefined "$OUT/$t.o" $LIBS -o "$OUT/$t"; } &
  pids="$pids $!"
done
for p in $pids; do wait "$p" || exit 1; done
# A valid 8x8 float RGBA EXR (the tile fuzz_tile plans) and an 8x8 PNG as seeds, so the fuzzer starts inside the readers.
mkdir -p "$OUT/corpus-fuzz_tile"
[ -s "$OUT/corpus-fuzz_tile/tile.exr" ] || oiiotool --create 8x8 4 -d float -o "$OUT/corpus-fuzz_tile/tile.exr" || exit 1
[ -s "$OUT/corpus-fuzz_tile/frame.png" ] || oiiotool --create 8x8 4 -d uint8 -o "$OUT/corpus-fuzz_tile/frame.png" || exit 1
# Small images of each format a contact sheet takes (PNG with alpha, JPEG, float EXR, 16-bit TIFF) as seeds.
mkdir -p "$OUT/corpus-fuzz_sheet"
for f in a.png b.jpg c.exr d.tif; do
  case $f in *.png) spec="4 -d uint8" ;; *.jpg) spec="3 -d uint8" ;; *.exr) spec="3 -d half" ;; *.tif) spec="2 -d uint16" ;; esac
  [ -s "$OUT/corpus-fuzz_sheet/$f" ] || oiiotool --pattern checker:width=2:height=2 6x4 $spec -o "$OUT/corpus-fuzz_sheet/$f" || exit 1
done
# Small valid segments (H.264 and VP9 in NUT, as slaves return them) as seeds, so the fuzzer starts inside the codecs.
mkdir -p "$OUT/corpus-fuzz_segcheck"
for c in libx264 libvpx-vp9; do
  [ -s "$OUT/corpus-fuzz_segcheck/$c.nut" ] || ffmpeg -hide_banner -loglevel error -y -f lavfi -i testsrc2=size=32x24:rate=5:duration=1 \
    -c:v $c -f nut "$OUT/corpus-fuzz_segcheck/$c.nut" || exit 1
done
# A valid body of each job type as seeds, so the fuzzer starts inside each type's parser and the manifest's.
mkdir -p "$OUT/corpus-fuzz_jobreq"
H=bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319
printf '%s' '{"type":"render","scene":"'$H'","frames":"1-3","tiles":"2x2","format":"png","encode":{"vcodec":"libx264","crf":20}}' \
  >"$OUT/corpus-fuzz_jobreq/render.json"
printf '%s' '{"type":"transcode","input":"'$H'","vcodec":"libvpx-vp9","bitrate":500000,"size":"640x360","segment":2.5}' \
  >"$OUT/corpus-fuzz_jobreq/transcode.json"
printf '%s' '{"type":"contactsheet","inputs":[{"name":"a/b.png","hash":"'$H'"},{"name":"c.exr","hash":"'$H'"}],"columns":3,"cell":"64x32"}' \
  >"$OUT/corpus-fuzz_jobreq/contactsheet.json"
# A project's manifest and a render of a project as seeds.
mkdir -p "$OUT/corpus-fuzz_manifest"
printf '%s' '{"version":1,"root":"/home/ann/proj","scene":"shot.blend","allow_missing":false,"files":[{"name":"shot.blend","hash":"'$H'","size":9},{"name":"_outside/srv/w.png","hash":"'$H'","size":0}]}' \
  >"$OUT/corpus-fuzz_manifest/project.json"
printf '%s' '{"type":"render","scene":"'$H'","scene_name":"s/shot.blend","frames":"1","inputs":[{"name":"s/shot.blend","hash":"'$H'","size":9}],"project_root":"/p","allow_missing":true,"missing":["/p/t.png"]}' \
  >"$OUT/corpus-fuzz_jobreq/project.json"
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
mkdir -p "$OUT/corpus-fuzz_auth"
printf 'Bearer tsk_%080d' 1 >"$OUT/corpus-fuzz_auth/header"
printf '{"name":"ann.smith@studio"}' >"$OUT/corpus-fuzz_auth/add.json"
printf '{"amount":"12.5"}' >"$OUT/corpus-fuzz_auth/credit.json"
# The slave's --hours windows and a slave.conf with a setting of each kind (quoted, commented, CRLF).
mkdir -p "$OUT/corpus-fuzz_slaveconf"
printf '22:00-09:00, 12:00-13:00' >"$OUT/corpus-fuzz_slaveconf/hours"
printf '# slave\ntext = "a # b\\tc"  # note\r\ncount = 7\nshare = 0.25\nflag = true\n# unset =\n' >"$OUT/corpus-fuzz_slaveconf/slave.conf"
# An event stream as the master writes it (with a reset and a keepalive) and a Last-Event-ID.
mkdir -p "$OUT/corpus-fuzz_events"
printf 'retry: 1000\nid: 7\n\n: keepalive\n\nid: 8\nevent: job\ndata: {"id":8,"to":"done"}\n\nid: 0\r\nevent: reset\r\ndata: {}\r\n\r\n' \
  >"$OUT/corpus-fuzz_events/stream"
printf '12345' >"$OUT/corpus-fuzz_events/id"
# The mosaic routes' paths (tests/fuzz_view.c: the path, a NUL, the ?max= parameter).
mkdir -p "$OUT/corpus-fuzz_view"
printf '/frames/-12/preview.png\000640' >"$OUT/corpus-fuzz_view/preview"
printf '/frames/3/tiles/15.png' >"$OUT/corpus-fuzz_view/tile"
# A quote's body (tests/fuzz_quote.c).
mkdir -p "$OUT/corpus-fuzz_quote"
printf '{"frames": 2, "tiles_x": 4, "tiles_y": 4, "width": 640, "height": 360, "samples": 32, "budget": "3.5"}' \
  >"$OUT/corpus-fuzz_quote/quote"
fails=0
for t in fuzz_wire fuzz_jobreq fuzz_torrent fuzz_segcheck fuzz_chain fuzz_tile fuzz_sheet fuzz_manifest fuzz_auth fuzz_slaveconf fuzz_events fuzz_view fuzz_quote; do
  mkdir -p "$OUT/corpus-$t"
  # third-party leaks are suppressed as in make check-asan; fuzz_tile's and fuzz_sheet's (OpenImageIO's PNG reader) need full stacks
  # to match its suppression (only there: full stacks make ASan report its own thread start in fuzz_torrent)
  unwind=""
  case $t in fuzz_tile | fuzz_sheet) unwind=fast_unwind_on_malloc=0 ;; esac
  if ASAN_OPTIONS="$unwind" LSAN_OPTIONS=suppressions="$TOP/tests/lsan.supp" \
      "$OUT/$t" -max_total_time="$SECONDS_PER" -max_len=8192 -artifact_prefix="$OUT/$t-" "$OUT/corpus-$t" >"$OUT/$t.log" 2>&1; then
    echo "ok: $t ran ${SECONDS_PER}s: $(grep -o 'Done [0-9]* runs' "$OUT/$t.log")"
  else
    echo "FAIL: $t"; tail -n 30 "$OUT/$t.log"; fails=$((fails + 1))
  fi
done
[ $fails -eq 0 ] && echo "PASSED: test_fuzz.sh" || { echo "FAILED: test_fuzz.sh"; exit 1; }
