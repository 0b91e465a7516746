#!/usr/bin/env bash
# test_guest_farm: a café slave is a good guest. Under Xvfb, a slave with --idle-after 2 renders while the display
# is idle; an X input event (xdotool) in the middle of a tile ends its Blender's whole process group within 1 s and
# tells the master, which hands the tile to another node at once; the frame is identical to plain Blender; the node
# is `paused` while input goes on and works again 2 s after it stops, with no failure counted against it. The owner
# pauses and resumes it over its control socket (another user cannot); a transcode segment is preempted as well, and
# so is work when a work window (--hours) closes; malformed --hours, an unknown config key and no idle source are
# refused by name. The owner's memory cap is a hard limit on Blender and keeps jobs that need more away.
source "$(dirname "$0")/lib.sh"
command -v Xvfb >/dev/null && command -v xdotool >/dev/null || { echo "Xvfb and xdotool are needed: make deps"; exit 1; }

DISP=:$((100 + $$ % 800))
Xvfb "$DISP" -screen 0 640x480x24 -nolisten tcp >"$T/xvfb.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 50); do DISPLAY=$DISP xdotool getmouselocation >/dev/null 2>&1 && break; sleep 0.1; done
move() { DISPLAY=$DISP xdotool mousemove $((RANDOM % 600 + 10)) $((RANDOM % 400 + 10)); }
node_json() { "$BIN/tessera" nodes --json | python3 -c "import json,sys; n=[n for n in json.load(sys.stdin) if n['name']=='$1'][0]; print(n.get('$2'))"; }
# the process group of the slave's latest Blender (its pid: "blender started (pid N)")
blender_pid() { sed -n 's/.*blender started (pid \([0-9]*\)[,)].*/\1/p' "$T/slave-$1.log" | tail -n 1; }
group_alive() { [ -n "$1" ] && pgrep -g "$1" >/dev/null 2>&1; }

# 1. Bad input first (no farm needed).
expect_fail 2 "hours" "a malformed --hours is refused" -- "$BIN/tessera-slave" --master-cert /dev/null --work "$T/bad" --hours 25:00-09:00
printf 'idle_afer = 3\n' >"$T/bad.conf"
expect_fail 2 "unknown key 'idle_afer'" "an unknown config key is refused by name" -- "$BIN/tessera-slave" --config "$T/bad.conf" --print-config
src=auto; ls /dev/input/event* >/dev/null 2>&1 && src=logind # a machine with input devices: auto would take them
expect_fail 2 "logind" "--idle-after without a display or a logind session names what it tried" -- \
  env -u DISPLAY "$BIN/tessera-slave" --master-cert /dev/null --work "$T/bad" --idle-after 2 --idle-source $src
printf 'idle-after = 300\nhours = "22:00-09:00"\n' >"$T/good.conf"
"$BIN/tessera-slave" --config "$T/good.conf" --print-config >"$T/printed.conf" 2>&1 && grep -q '^idle-after = 300' "$T/printed.conf" \
  && grep -q '^hours = "\?22:00-09:00' "$T/printed.conf" && pass "--print-config shows the config file's settings" \
  || fail "print-config: $(cat "$T/printed.conf")"

make_scene "$T/scene.blend" --width 320 --height 240 --samples 256 --frames 1-1 || { fail "make scene"; finish; }
start_master || finish
start_slave cafe --idle-after 2 --display "$DISP"
wait_nodes 1 || finish
JOB=$("$BIN/tessera" submit render "$T/scene.blend" --frames 1 --tiles 2x1 --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')

# 2. Mid-tile, a mouse move: every renderer of the café slave is gone within a second, and it is paused.
for _ in $(seq 600); do grep -q "job $JOB planned" "$T/master.log" && break; sleep 0.1; done
sleep 1.5
PG=$(blender_pid cafe)
group_alive "$PG" || fail "the café slave is not rendering a tile when the input comes"
t0=$(date +%s%N); move
while group_alive "$PG" && [ $(( ($(date +%s%N) - t0) / 1000000 )) -lt 3000 ]; do sleep 0.01; done
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
group_alive "$PG" && fail "Blender's process group still runs 3 s after the input" \
  || { [ "$ms" -lt 1000 ] && pass "input to every renderer gone: $ms ms" || fail "renderers gone only after $ms ms"; }
move # input goes on (a slow machine takes a while to ask the master)
[ "$(node_json cafe state)" = paused ] && [ "$(node_json cafe paused_reason)" = "in use" ] \
  && pass "the node is paused (in use) in tessera nodes" || fail "node state $(node_json cafe state) / $(node_json cafe paused_reason)"
grep -q "paused (in use): [1-9] task(s) back to the queue" "$T/master.log" && pass "the master re-queued the given-back tile at once" \
  || fail "no re-queue on the master: $(grep paused "$T/master.log")"

# 3. Another node takes the tile; input goes on for 3 s: the café node stays paused; then it comes back by itself.
start_slave other
for i in $(seq 6); do move; sleep 0.5; done
[ "$(node_json cafe state)" = paused ] && pass "still paused while input goes on" || fail "not paused during input"
t0=$(date +%s)
while [ "$(node_json cafe state)" = paused ] && [ $(( $(date +%s) - t0 )) -lt 10 ]; do sleep 0.2; done
took=$(( $(date +%s) - t0 ))
[ "$(node_json cafe state)" != paused ] && [ $took -le 4 ] && pass "works again ${took}s after the input stopped (idle-after 2)" \
  || fail "back after ${took}s: $(node_json cafe state)"
if "$BIN/tessera" wait "$JOB" --out "$T/out" --timeout 600 >"$T/wait.log" 2>&1; then
  reference "$T/scene.blend" 1 "$T/ref"
  same_image "$T/out/frame_0001.png" "$T/ref_0001.png" && pass "the frame is identical to plain Blender" \
    || fail "frame differs: $(tail -n 3 "$T/idiff.log")"
else fail "job: $(tail -n 3 "$T/wait.log")"; fi
[ "$(node_json cafe tasks_failed)" = 0 ] && [ "$(node_json cafe preemptions_24h)" -ge 1 ] \
  && pass "no failure counted against the preempted node; its preemptions are counted" \
  || fail "failed $(node_json cafe tasks_failed), preemptions $(node_json cafe preemptions_24h)"
"$BIN/tessera" status "$JOB" --json | python3 -c "
import json,sys; j=json.load(sys.stdin); assert not j.get('verification',{}).get('blocked'), j" 2>/dev/null || true

# 4. The owner's control socket: pause, status, resume; another user is refused.
"$BIN/tessera-slave" ctl pause --work "$T/slave-cafe" >/dev/null && sleep 0.3 \
  && [ "$(node_json cafe paused_reason)" = "paused by owner" ] && pass "ctl pause: paused by owner" || fail "ctl pause"
"$BIN/tessera-slave" ctl status --work "$T/slave-cafe" --json >"$T/status.json" \
  && python3 -c "import json; s=json.load(open('$T/status.json')); assert s['state']=='paused' and s['reason']=='paused by owner' and s['preemptions_today']>=1, s" \
  && pass "ctl status: $(tr -d '\n ' <"$T/status.json" | head -c 200)" || fail "ctl status: $(cat "$T/status.json")"
"$BIN/tessera-slave" ctl resume --work "$T/slave-cafe" >/dev/null && sleep 0.3 \
  && [ "$(node_json cafe state)" != paused ] && pass "ctl resume" || fail "ctl resume: $(node_json cafe state)"
if command -v setpriv >/dev/null && [ "$(id -u)" = 0 ]; then
  setpriv --reuid=65534 --regid=65534 --clear-groups "$BIN/tessera-slave" ctl pause --ctl "$T/slave-cafe/ctl.sock" >"$T/other.txt" 2>&1
  rc=$?
  [ $rc -ne 0 ] && grep -qi "permission denied\|refused" "$T/other.txt" && [ "$(node_json cafe state)" != paused ] \
    && pass "another user's ctl pause is refused ($(head -c 120 "$T/other.txt"))" || fail "another user: rc $rc $(cat "$T/other.txt")"
fi

# 5. A transcode segment being encoded is preempted the same way: the encode stops, the segment is re-done elsewhere.
ffmpeg -hide_banner -loglevel error -f lavfi -i testsrc2=size=640x360:rate=25:duration=24 -c:v libx264 -g 25 "$T/in.mp4" \
  || fail "ffmpeg source"
kill -STOP "$(pgrep -f "tessera-slave.*--name other" | head -n 1)" 2>/dev/null # only the café node takes the first segments
TJ=$("$BIN/tessera" submit transcode "$T/in.mp4" --vcodec libx264 --crf 23 --preset veryslow --segment 8 --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
for _ in $(seq 300); do grep -q "task .* done\|encoding" "$T/slave-cafe.log" >/dev/null; n=$(grep -c "segment" "$T/slave-cafe.log"); [ "$(node_json cafe state)" = busy ] && break; sleep 0.1; done
sleep 1
move; sleep 0.5
grep -q "paused: in use; [1-9] task(s) given back" "$T/slave-cafe.log" && pass "a segment being encoded is given back" \
  || fail "segment preemption: $(grep -E 'paused|given' "$T/slave-cafe.log" | tail -n 3)"
kill -CONT "$(pgrep -f "tessera-slave.*--name other" | head -n 1)" 2>/dev/null
"$BIN/tessera" wait "$TJ" --out "$T/out.mp4" --timeout 600 >"$T/twait.log" 2>&1 && pass "the transcode finishes on the other node" \
  || fail "transcode: $(tail -n 3 "$T/twait.log")"
[ "$(node_json cafe tasks_failed)" = 0 ] && pass "still no failure against the café node" || fail "café failures: $(node_json cafe tasks_failed)"

# 6. A work window that closes mid-task: a slave whose local time (a TZ offset made for it) reads 21:59:48, with
#    --hours 06:00-22:00, works for 12 s on a job of 64 tiles, then gives its work back at 22:00 and is paused
#    "outside hours".
WJ=$("$BIN/tessera" submit render "$T/scene.blend" --frames 1 --tiles 8x8 --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
kill -STOP "$(pgrep -f "tessera-slave.*--name other" | head -n 1)" 2>/dev/null
NIGHT_TZ=$(python3 -c "
import time; o = (int(time.time()) - (21 * 3600 + 59 * 60 + 48)) % 86400; print('NIT%02d:%02d:%02d' % (o // 3600, o % 3600 // 60, o % 60))")
TZ=$NIGHT_TZ "$BIN/tessera-slave" --master "tcp://127.0.0.1:$ZPORT" --master-cert "$T/master/master.cert" \
  --work "$T/slave-night" --name night --no-lsd --torrent-listen 127.0.0.1:0 --hours 06:00-22:00 >>"$T/slave-night.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 400); do grep -q "paused: outside hours" "$T/slave-night.log" && break; sleep 0.1; done
grep -q "paused: outside hours; [1-9] task(s) given back" "$T/slave-night.log" && [ "$(node_json night paused_reason)" = "outside hours" ] \
  && pass "the work window closed mid-task: work given back, paused outside hours" \
  || fail "work window: $(grep -E 'paused|task' "$T/slave-night.log" | tail -n 3) / $(node_json night paused_reason)"
kill -CONT "$(pgrep -f "tessera-slave.*--name other" | head -n 1)" 2>/dev/null
"$BIN/tessera" wait "$WJ" --timeout 600 >/dev/null 2>&1 && [ "$(node_json night tasks_failed)" = 0 ] \
  && pass "the job finishes elsewhere; nothing counted against the node" || fail "work-window job"

# 7. The owner's caps. A slave with --max-memory-mb 4096 runs Blender under that hard limit (RLIMIT_DATA). A job's
#    need is its renders' resident peak; a slave whose owner allows 1 MiB less gets none of its tasks.
start_slave capped --max-memory-mb 4096 --max-threads 1
MJ=$("$BIN/tessera" submit render "$T/scene.blend" --frames 1 --tiles 4x4 --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
limits=""
for _ in $(seq 600); do # its Blender, while one runs (the start-up one asked for its version, or a task's)
  limits=$(grep 'Max data size' "/proc/$(blender_pid capped)/limits" 2>/dev/null) && [ -n "$limits" ] && break; sleep 0.1
done
echo "$limits" | grep -Eq "^Max data size +4294967296 +4294967296 " \
  && pass "--max-memory-mb 4096: the slave's Blender runs with a 4 GiB hard data limit" || fail "rlimit: '$limits'"
need=0
for _ in $(seq 600); do
  need=$("$BIN/tessera" status "$MJ" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["memory_need_mb"])')
  [ "$need" -gt 0 ] && break; sleep 0.1
done
[ "$need" -gt 1 ] && pass "the job's renders were seen to need $need MiB" || fail "memory need: $need"
start_slave tight --max-memory-mb $((need - 1)) # Blender starts with its data capped at that, but a render needs more
wait_nodes 5 || finish
"$BIN/tessera" wait "$MJ" --timeout 600 >/dev/null 2>&1 || fail "the job with a memory need"
[ "$(node_json tight max_memory_mb)" = $((need - 1)) ] && [ "$(node_json tight tasks_done)" = 0 ] && [ "$(node_json tight tasks_failed)" = 0 ] \
  && pass "a node allowing $((need - 1)) MiB got none of the job's tasks (its cap shows in tessera nodes)" \
  || fail "tight node: cap $(node_json tight max_memory_mb), done $(node_json tight tasks_done), failed $(node_json tight tasks_failed)"

# 8. What the café PC earned, in its owner's ctl status: what the master's ledger says the node was paid.
cafe_id=$(node_json cafe id)
earned=no
for _ in $(seq 40); do # the master tells a node every few seconds
  "$BIN/tessera-slave" ctl status --work "$T/slave-cafe" --json >"$T/status.json" 2>/dev/null
  "$BIN/tessera" wallet --json >"$T/wallet.json"
  python3 - "$T/status.json" "$T/wallet.json" "$cafe_id" <<'PY' >/dev/null 2>&1
import json, sys
s, w = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
paid = [a["balance"] for a in w["accounts"] if a["kind"] == "node" and a["account"] == sys.argv[3]][0]
assert s["tokens_total"] is not None and round(float(s["tokens_total"]) * 1e6) == paid and paid > 0, (s, paid)
assert s["tokens_today"] == s["tokens_total"], s
PY
  [ $? = 0 ] && { earned=yes; break; }
  sleep 0.25
done
[ $earned = yes ] && pass "ctl status shows what the café node earned, as the ledger has it ($(python3 -c "import json; print(json.load(open('$T/status.json'))['tokens_total'])") tokens)" \
  || fail "ctl status earnings: $(cat "$T/status.json")"
finish
