#!/usr/bin/env bash
# test_slave_probe: a slave asks Blender for its version and devices once and caches the answer in its work dir
# (blender-info.json): a restart starts no Blender, a changed Blender (mtime) or a corrupt cache is probed again,
# a transcode starts no Blender at all, and a render still starts it when it needs it.
source "$(dirname "$0")/lib.sh"

REAL=$(command -v blender) || { echo "FAILED: $(basename "$0") (no blender on PATH)"; exit 1; }
WRAP=$T/blender-wrap
# A Blender that says each start on its stderr, which the slave keeps in blender.log (the wrapper runs in the
# renderer's sandbox, where nothing but its output folder is writable).
printf '#!/bin/sh\necho "tessera-test-wrapper-start $*" >&2\nexec "%s" "$@"\n' "$REAL" >"$WRAP"
chmod +x "$WRAP"
CACHE=$T/slave-a/blender-info.json
VERSION=$("$REAL" --version 2>/dev/null | sed -n '1s/^Blender \([^ ]*\).*/\1/p')

calls() { cat "$T/slave-a/blender.log" 2>/dev/null | grep -c "^tessera-test-wrapper-start"; }
starts() { grep -c "blender started (pid" "$T/slave-a.log"; }
# up N: start slave a and wait until it has registered for the N-th time (its log says so once per start).
up() {
  start_slave a --blender "$WRAP"; SLAVE=$SLAVE_PID
  for _ in $(seq 300); do
    [ "$(grep -c "registered with the master" "$T/slave-a.log")" -ge "$1" ] && return 0
    kill -0 "$SLAVE" 2>/dev/null || break
    sleep 0.1
  done
  fail "slave start $1 did not register"; return 1
}
down() { kill -TERM "$SLAVE"; wait "$SLAVE"; local rc=$?; [ $rc -eq 0 ] || fail "the slave exited $rc on SIGTERM"; }
# expect_calls N LABEL: the wrapper ran N times in all.
expect_calls() { [ "$(calls)" -eq "$1" ] && pass "$2 (Blender started $1 time(s) in all)" || fail "$2: Blender started $(calls) times, wanted $1"; }

start_master || finish

# 1. First start: one probe, cached.
up 1 || finish
expect_calls 1 "the first start probes Blender"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["blender"]==sys.argv[2] and "CPU" in d["devices"]' \
  "$CACHE" "$VERSION" 2>/dev/null && pass "the answer is cached in blender-info.json (Blender $VERSION)" \
  || fail "no valid cache: $(head -c 300 "$CACHE" 2>&1)"
[ "$(node_field a blender)" = "$VERSION" ] && pass "the node shows Blender $VERSION" || fail "the node shows Blender '$(node_field a blender)'"

# 2. A transcode on this farm starts no Blender.
ffmpeg -hide_banner -loglevel error -y -f lavfi -i testsrc2=size=160x90:rate=25:duration=2 -c:v libx264 \
  -preset veryfast -g 25 "$T/src.mp4" || fail "make source"
before=$(starts)
if "$BIN/tessera" submit transcode "$T/src.mp4" --vcodec libx264 --crf 23 --preset veryfast --segment 1 \
    --out "$T/out.mp4" --wait --timeout 120 >"$T/transcode.log" 2>&1 && [ -s "$T/out.mp4" ]; then
  pass "a transcode job completed"
else
  fail "transcode: $(tail -n 3 "$T/transcode.log")"
fi
[ "$(starts)" -eq "$before" ] && expect_calls 1 "the transcode started no Blender" \
  || fail "the transcode started Blender ($(starts) starts in the log, $before before)"

# 3. A restart asks the cache, not Blender, and the master still hears the version.
down; up 2 || finish
expect_calls 1 "a restart starts no Blender"
grep -q "blender $VERSION, devices: .*(cached" "$T/slave-a.log" && pass "the restart read the cache" || fail "no cached line in the log"
[ "$(node_field a blender)" = "$VERSION" ] && pass "the restarted node shows Blender $VERSION" \
  || fail "the restarted node shows Blender '$(node_field a blender)'"

# 4. A changed Blender (its mtime) is probed again.
down; touch -d '+1 second' "$WRAP"; up 3 || finish
expect_calls 2 "a changed Blender executable is probed again"

# 5. A corrupt cache is probed again, without an error, and rewritten.
down; head -c 200 /dev/urandom >"$CACHE"; up 4 || finish
expect_calls 3 "a corrupt cache is probed again"
grep -qi "error\|not caching" "$T/slave-a.log" && fail "errors in the slave log: $(grep -i "error\|not caching" "$T/slave-a.log" | head -n 3)" \
  || pass "no error or warning about the cache"
down; up 5 || finish
expect_calls 3 "the rewritten cache serves the next start"

# 6. A render still starts Blender when its first task needs it.
make_scene "$T/s.blend" --width 48 --height 27 --samples 4 --frames 1-1 || fail "make scene"
if "$BIN/tessera" submit render "$T/s.blend" --frames 1 --tiles 1x1 --out "$T/render" --wait --timeout 120 \
    >"$T/render.log" 2>&1 && [ -s "$T/render/frame_0001.png" ]; then
  pass "a render completed on a slave that started from the cache"
else
  fail "render: $(tail -n 3 "$T/render.log")"
fi
expect_calls 4 "the render started Blender"

finish
