#!/usr/bin/env bash
# test_requeue_farm: tessera requeue. A 3-frame 2x1-tiled render on 2 slaves; frames 1 and 3 requeued: the job is done
# again, exactly those frames' tiles were rendered again, the frames byte for byte the first render's (but for the
# run's date, times and paths Blender stamps in a PNG) and identical to plain Blender, the requester paid the new
# work's price and the ledger balances; a video at the end is made again, the same. A frame that fails (a worker that
# fails frame 2's tiles, --max-failures 1) fails its job; requeue --failed with a healthy slave finishes it exactly,
# the failing node still blocked, and the child it held runs. Refused: a requeue the balance cannot pay (402), an
# unknown job, frames outside the job, a cancelled job, a transcode job, --failed on a job without failed frames, a
# failed job's unfinished frames left out, an empty list.
source "$(dirname "$0")/lib.sh"

DB="$T/master/tessera.db"
sql() { python3 -c 'import sqlite3,sys; print("\n".join("|".join(map(str, r)) for r in sqlite3.connect(sys.argv[1]).execute(sys.argv[2])))' "$DB" "$1"; }
field() { "$BIN/tessera" status "$1" --json | python3 -c "import json,sys; print(json.load(sys.stdin)['$2'])"; }
balance() { "$BIN/tessera" wallet --json | python3 -c "import json,sys; print([a['balance'] for a in json.load(sys.stdin)['accounts'] if a['account']=='$1'][0])"; }
ledger_balanced() { # LABEL
  "$BIN/tessera" wallet --json | python3 -c '
import json, sys
w = json.load(sys.stdin)
held = sum(a["balance"] + a["stake"] + a["locked"] for a in w["accounts"])
assert held == w["minted"] == w["held"], (held, w["minted"], w["held"])' && pass "$1: the ledger holds what was minted" \
    || fail "$1: money created or lost: $("$BIN/tessera" wallet)"
}
# same_but_stamp A B: two PNG files alike byte for byte in every chunk but the values of the texts Blender stamps that
# differ between honest runs (when and how long it rendered, the scene's path and the machine).
same_but_stamp() {
  python3 - "$1" "$2" <<'PY'
import struct, sys
RUN_STAMPS = (b"Date", b"Time", b"RenderTime", b"File", b"Memory", b"PeakMemory", b"Hostname")
def chunks(path):
    data, i, out = open(path, "rb").read(), 8, []
    while i < len(data):
        n, = struct.unpack(">I", data[i:i + 4])
        kind, body = data[i + 4:i + 8], data[i + 8:i + 8 + n]
        key = body.split(b"\0")[0] if kind == b"tEXt" else None
        out.append((kind, key) if key in RUN_STAMPS else (kind, body))
        i += 12 + n
    return out
a, b = chunks(sys.argv[1]), chunks(sys.argv[2])
sys.exit(0 if a == b and any(k == b"IDAT" for k, _ in a) else 1)
PY
}
frames_same() { # DIR LABEL FRAMES...: each frame identical to plain Blender
  local dir=$1 label=$2; shift 2
  for f in "$@"; do
    n=$(printf %04d "$f")
    same_image "$dir/frame_$n.png" "$T/ref/s_$n.png" && pass "$label: frame $f identical to plain Blender" \
      || fail "$label: frame $f differs or is missing: $(tail -n 2 "$T/idiff.log")"
  done
}

make_scene "$T/s.blend" --width 64 --height 48 --samples 4 --frames 1-3 || { fail "make scene"; finish; }
# a worker that fails every tile of frame 2, as a broken node would (in a folder of its own, beside the worker it
# wraps: the renderer's sandbox shows the worker script's folder, nothing else of the test's)
mkdir -p "$T/worker" && cp "$BIN/tessera-worker.py" "$T/worker/"
cat >"$T/worker/fail2.py" <<PY
import runpy
w = runpy.run_path("$T/worker/tessera-worker.py", run_name="tessera_worker")
tile = w["Worker"].op_tile
def op_tile(self, req):
    if req.get("frame") == 2:
        raise w["RequestError"]("testing: this worker fails frame 2")
    return tile(self, req)
w["Worker"].op_tile = op_tile
w["main"]()
PY
start_master --max-failures 1 --check-wait 2 || finish
# two slaves for the first job's pool; for the second's, one whose worker fails and a healthy one, paused until then
start_slave a --tag studio
start_slave b --tag studio
start_slave bad --tag flaky --worker-script "$T/worker/fail2.py"
start_slave good --tag flaky
blender -b "$T/s.blend" -o "$T/ref/s_####" -s 1 -e 3 -a >"$T/reference.log" 2>&1 || fail "reference renders"
wait_nodes 4 || finish
"$BIN/tessera-slave" ctl pause --work "$T/slave-good" >/dev/null || fail "ctl pause"

# 1. A done job; its frames 1 and 3 again. The budget (600 of the requester's 1000) leaves exactly what they cost.
JOB=$("$BIN/tessera" submit render "$T/s.blend" --frames 1-3 --tiles 2x1 --pool studio --requester studio --budget 600)
"$BIN/tessera" wait "$JOB" --out "$T/first" --timeout 120 >"$T/wait1.log" 2>&1 || fail "job $JOB: $(tail -n 2 "$T/wait1.log")"
frames_same "$T/first" "first render" 1 2 3
before=$(balance studio)
code=$(opcurl -s -o "$T/402.json" -w '%{http_code}' -X POST -d '{"frames": [1, 2, 3]}' "$TESSERA_MASTER/api/v1/jobs/$JOB/requeue")
[ "$code" = 402 ] && grep -q "costs 600: requester studio: balance .* is below the price 600" "$T/402.json" \
  && pass "a requeue the balance cannot pay: 402, $(head -c 160 "$T/402.json")" || fail "402: HTTP $code $(cat "$T/402.json")"
[ "$(field "$JOB" state) $(field "$JOB" tasks_superseded) $(balance studio)" = "done 0 $before" ] \
  && pass "the refused requeue changed nothing" || fail "after the refusal: $("$BIN/tessera" status "$JOB")"
"$BIN/tessera" requeue "$JOB" --frames 1,3 --wait --out "$T/second" --timeout 120 >"$T/rq1.out" 2>"$T/rq1.err" \
  && grep -q "frames 1, 3 requeued (4 tiles; paid 400)" "$T/rq1.err" \
  && pass "tessera requeue --frames 1,3 --wait: $(head -n 1 "$T/rq1.err")" || fail "requeue: $(tail -n 3 "$T/rq1.err")"
[ "$(field "$JOB" state) $(field "$JOB" tasks_superseded)" = "done 6" ] && pass "the job is done again, 6 tasks set aside" \
  || fail "job after the requeue: $("$BIN/tessera" status "$JOB")"
[ "$(sql "SELECT frame, group_concat(state) FROM (SELECT frame, state FROM tasks WHERE job_id=$JOB AND kind=2 AND check_of=0 ORDER BY frame, id) GROUP BY frame")" \
  = "$(printf '1|superseded,superseded,done,done\n2|done,done\n3|superseded,superseded,done,done')" ] \
  && pass "exactly the tiles of frames 1 and 3 were rendered again" \
  || fail "tiles by frame: $(sql "SELECT frame, state, count(*) FROM tasks WHERE job_id=$JOB AND kind=2 GROUP BY frame, state")"
for f in 1 2 3; do
  n=$(printf %04d $f)
  same_but_stamp "$T/first/frame_$n.png" "$T/second/frame_$n.png" && pass "frame $f byte for byte the first render's" \
    || fail "frame $f differs from the first render"
done
frames_same "$T/second" "requeued" 1 3
paid_old=$(sql "SELECT sum(price) FROM tasks WHERE job_id=$JOB AND frame IN (1,3) AND check_of=0 AND paid>0 AND state='superseded'")
paid_new=$(sql "SELECT sum(price) FROM tasks WHERE job_id=$JOB AND frame IN (1,3) AND check_of=0 AND paid>0 AND state='done'")
[ "$paid_new" = "$paid_old" ] && [ "$paid_new" = 400000000 ] && [ "$(balance studio)" = $((before - paid_new)) ] \
  && pass "the new work was paid as the old (400 tokens), from the requester's balance" \
  || fail "payments: old $paid_old new $paid_new, balance $before -> $(balance studio)"
[ -z "$(sql "SELECT task FROM ledger_xacts WHERE job=$JOB AND kind='release' GROUP BY task HAVING count(*)>1")" ] \
  && pass "no piece was paid twice" || fail "a piece was paid twice"
ledger_balanced "after the requeue"

# 1b. A render that ends in a video: a requeued frame makes the video again, cut and encoded anew.
JV=$("$BIN/tessera" submit render "$T/s.blend" --frames 1-3 --tiles 2x1 --format png --encode libx264 --pool studio \
  --requester vid)
"$BIN/tessera" wait "$JV" --out "$T/v1" --timeout 120 >"$T/waitv.log" 2>&1 || fail "video job $JV: $(tail -n 2 "$T/waitv.log")"
"$BIN/tessera" requeue "$JV" --frames 2 --wait --out "$T/v2" --timeout 120 >"$T/rqv.out" 2>"$T/rqv.err" \
  && grep -q "frame 2 requeued (2 tiles and the video" "$T/rqv.err" \
  && pass "a frame of a video job requeued: $(head -n 1 "$T/rqv.err")" || fail "video requeue: $(tail -n 3 "$T/rqv.err")"
[ "$(sql "SELECT group_concat(state) FROM (SELECT state FROM tasks WHERE job_id=$JV AND kind=4 AND check_of=0 ORDER BY id)")" \
  = superseded,done ] && [ "$(field "$JV" state)" = done ] \
  && pass "the video was encoded again: its old segment set aside, a new one done" \
  || fail "segments: $(sql "SELECT id, state FROM tasks WHERE job_id=$JV AND kind=4")"
[ -s "$T/v2/video.mp4" ] && cmp -s "$T/v1/video.mp4" "$T/v2/video.mp4" \
  && pass "the video made again is byte for byte the first" || fail "the video differs or is missing"
ledger_balanced "after the video's requeue"

# 2. A failed frame: a node whose worker fails frame 2 fails the job; requeue --failed with a healthy node finishes it.
[ "$(node_field good state)" = paused ] || fail "the healthy flaky-pool node is not paused: $(node_field good state)"
J2=$("$BIN/tessera" submit render "$T/s.blend" --frames 1-3 --tiles 2x1 --pool flaky --requester ann)
"$BIN/tessera" wait "$J2" --timeout 120 >"$T/wait2.log" 2>&1
[ "$(field "$J2" state)" = failed ] && field "$J2" error | grep -q "this worker fails frame 2" \
  && pass "frame 2 failed the job: $(field "$J2" error | head -c 120)" || fail "job $J2: $("$BIN/tessera" status "$J2")"
JK=$("$BIN/tessera" submit render "$T/s.blend" --frames 1 --after "$J2" --pool flaky --requester ann)
[ "$(field "$JK" state)" = held ] || fail "the child of the failed job is $(field "$JK" state), not held"
expect_fail 2 "frames* .*2.* did not finish" "a failed job's unfinished frames cannot be left out" -- \
  "$BIN/tessera" requeue "$J2" --frames 1
"$BIN/tessera-slave" ctl resume --work "$T/slave-good" >/dev/null || fail "ctl resume"
"$BIN/tessera" requeue "$J2" --failed --wait --out "$T/third" --timeout 120 >"$T/rq2.out" 2>"$T/rq2.err" \
  && pass "tessera requeue --failed --wait: $(head -n 1 "$T/rq2.err")" || fail "requeue --failed: $(tail -n 3 "$T/rq2.err")"
[ "$(field "$J2" state)" = done ] && [ "$(field "$J2" error)" = None ] && pass "the failed job is done, its error cleared" \
  || fail "job $J2: $("$BIN/tessera" status "$J2")"
frames_same "$T/third" "after requeue --failed" 1 2 3
"$BIN/tessera" wait "$JK" --timeout 60 >"$T/waitk.log" 2>&1 \
  && pass "the child it held ran once it was done again" || fail "child $JK: $("$BIN/tessera" status "$JK")"
BAD=$("$BIN/tessera" nodes --json | python3 -c "import json,sys; print([n['id'] for n in json.load(sys.stdin) if n['name']=='bad'][0])")
last=$(sql "SELECT max(id) FROM tasks WHERE job_id=$J2 AND state='superseded'")
[ "$(sql "SELECT count(*) FROM tasks WHERE job_id=$J2 AND id>$last AND node='$BAD'")" = 0 ] \
  && [ "$(sql "SELECT failures FROM blocklist WHERE job_id=$J2 AND node='$BAD'")" = 1 ] \
  && pass "the failing node stayed blocked for the job and did none of the requeued work" || fail "blocklist"
[ "$(sql "SELECT max(failures) FROM tasks WHERE job_id=$J2 AND id>$last")" = 0 ] \
  && pass "the requeued tasks started with no failures" || fail "failures carried over"
ledger_balanced "after requeue --failed"

# 3. Refusals.
expect_fail 3 "no such job" "an unknown job" -- "$BIN/tessera" requeue 99999 --frames 1
expect_fail 2 "frame 9 is outside job $JOB's frames 1-3" "frames outside the job" -- "$BIN/tessera" requeue "$JOB" --frames 2,9
expect_fail 2 "no failed frames" "--failed on a done job" -- "$BIN/tessera" requeue "$JOB" --failed
expect_fail 2 "which frames" "nothing chosen" -- "$BIN/tessera" requeue "$JOB"
JC=$("$BIN/tessera" submit render "$T/s.blend" --frames 1 --paused)
"$BIN/tessera" cancel "$JC" >/dev/null
expect_fail 2 "was cancelled" "a cancelled job" -- "$BIN/tessera" requeue "$JC" --frames 1
ffmpeg -hide_banner -loglevel error -y -f lavfi -i testsrc=size=64x48:rate=10:duration=1 -c:v libx264 "$T/v.mp4" \
  || fail "ffmpeg"
JT=$("$BIN/tessera" submit transcode "$T/v.mp4" --paused)
expect_fail 2 "is a transcode job: only render jobs can be requeued" "a transcode job" -- "$BIN/tessera" requeue "$JT" --frames 0
code=$(opcurl -s -o "$T/400.json" -w '%{http_code}' -X POST -d '{"frames": []}' "$TESSERA_MASTER/api/v1/jobs/$JOB/requeue")
[ "$code" = 400 ] && grep -q "field 'frames': the list is empty" "$T/400.json" && pass "an empty list: 400" \
  || fail "empty list: HTTP $code $(cat "$T/400.json")"
alive "the refusals"
finish
