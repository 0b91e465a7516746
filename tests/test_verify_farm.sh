#!/usr/bin/env bash
# test_verify_farm: 3 slaves, one of them dishonest (1 Cycles sample in a third of its tiles; a higher CRF and a
# faster preset in a third of its segments). The spot checks catch it: the job's output is still exact (pixel-identical
# to plain `blender -b`; the transcode byte-identical to an honest farm's), the cheater is blocked for the job, and
# neither honest node is. An operator lifts a quarantine.
source "$(dirname "$0")/lib.sh"
FF="ffmpeg -hide_banner -loglevel error -y"

make_scene "$T/s.blend" --width 96 --height 64 --samples 24 --frames 1-2 || fail "make scene"
mkdir -p "$T/ref"
reference "$T/s.blend" 1 "$T/ref/s" && reference "$T/s.blend" 2 "$T/ref/s" || fail "reference renders"
$FF -f lavfi -i testsrc2=size=320x180:rate=25:duration=8 -c:v libx264 -preset veryfast -g 12 -bf 2 "$T/src.mp4" \
  || fail "make video"

# quarantine after 2 blocked jobs: the render and the transcode; no slashing, so that the cheater keeps the stake
# it needs for work after its first failed check (test_ledger_farm covers slashing)
start_master --quarantine-after 2 --check-wait 20 --slash-share 0 || finish
# the cheater starts first and cheats on every task: on a loaded machine it may get only one or two of the
# render's 32 tiles (make check once saw two, neither picked by a share of 1/3)
start_slave cheat --cheat-share 1 --cheat-samples 1 --cheat-crf 40 --cheat-preset ultrafast
start_slave honest1
start_slave honest2
wait_nodes 3 || finish

# job_blocked NAME JOB: whether the node is blocked for the job
job_blocked() {
  "$BIN/tessera" nodes --json | python3 -c "
import json, sys
n = [n for n in json.load(sys.stdin) if n['name'] == '$1'][0]
sys.exit(0 if $2 in n['blocked_jobs'] else 1)"
}

# --- render: 2 frames in 4x4 tiles ---
if "$BIN/tessera" submit render "$T/s.blend" --frames 1-2 --tiles 4x4 --out "$T/out" --wait --timeout 600 \
    >"$T/submit-render.log" 2>&1; then
  for f in 1 2; do
    n=$(printf %04d $f)
    if same_image "$T/out/frame_$n.png" "$T/ref/s_$n.png"; then pass "render frame $f pixel-identical to blender -b"
    else fail "render frame $f differs: $(tail -n 3 "$T/idiff.log")"; fi
  done
else
  fail "render job: $(tail -n 3 "$T/submit-render.log")"
fi
RJOB=$(sed -n 's/.*job \([0-9]*\).*/\1/p' "$T/submit-render.log" | head -n 1)
c=$(grep -c "cheating on task" "$T/slave-cheat.log")
[ "$c" -ge 1 ] && pass "the cheater cheated ($c tasks)" || fail "the cheater never cheated"
job_blocked cheat "$RJOB" && pass "cheater blocked for render job $RJOB" || fail "cheater not blocked for job $RJOB: $("$BIN/tessera" nodes)"
for h in honest1 honest2; do
  [ "$(node_field $h checks_failed)" = 0 ] && ! job_blocked $h "$RJOB" && pass "$h not blocked, no failed check" \
    || fail "$h punished: $("$BIN/tessera" nodes)"
done
[ "$(node_field cheat state)" = blocked ] && pass "nodes shows the cheater as blocked" || fail "cheater state $(node_field cheat state)"

# --- transcode: 8 s in 0.5 s segments ---
if "$BIN/tessera" submit transcode "$T/src.mp4" --vcodec libx264 --crf 23 --preset medium --segment 0.5 \
    --out "$T/tc.mp4" --wait --timeout 600 >"$T/submit-tc.log" 2>&1; then
  pass "transcode with a cheater done"
else
  fail "transcode: $(tail -n 3 "$T/submit-tc.log")"
fi
TJOB=$(sed -n 's/.*job \([0-9]*\).*/\1/p' "$T/submit-tc.log" | head -n 1)
job_blocked cheat "$TJOB" && pass "cheater blocked for transcode job $TJOB" || fail "cheater not blocked for job $TJOB: $("$BIN/tessera" nodes)"
for h in honest1 honest2; do
  [ "$(node_field $h checks_failed)" = 0 ] && pass "$h still has no failed check" || fail "$h punished: $("$BIN/tessera" nodes)"
done
[ "$(node_field cheat state)" = quarantined ] && pass "blocked on 2 jobs: quarantined" || fail "cheater state $(node_field cheat state)"

# The same transcode on the honest nodes alone is byte-identical (encodes are deterministic).
if "$BIN/tessera" submit transcode "$T/src.mp4" --vcodec libx264 --crf 23 --preset medium --segment 0.5 \
    --out "$T/tc-honest.mp4" --wait --timeout 600 >"$T/submit-tc2.log" 2>&1 \
    && cmp -s "$T/tc.mp4" "$T/tc-honest.mp4"; then
  pass "transcode output byte-identical to the honest farm's"
else
  fail "transcode differs from the honest farm's: $(tail -n 3 "$T/submit-tc2.log"); $(ls -l "$T"/tc*.mp4)"
fi

# An operator lifts the quarantine; the node's history stays.
"$BIN/tessera" lift cheat >"$T/lift.log" 2>&1 && grep -q "quarantine lifted" "$T/lift.log" \
  && [ "$(node_field cheat state)" = blocked ] && pass "lift ends the quarantine" || fail "lift: $(cat "$T/lift.log")"
"$BIN/tessera" lift cheat >"$T/lift2.log" 2>&1; rc=$?
[ $rc = 2 ] && grep -q "not quarantined" "$T/lift2.log" && pass "lifting again is refused (exit 2)" \
  || fail "second lift: rc $rc $(cat "$T/lift2.log")"
"$BIN/tessera" lift nosuchnode >"$T/lift3.log" 2>&1; rc=$?
[ $rc = 3 ] && pass "lifting an unknown node: exit 3" || fail "unknown node lift: rc $rc $(cat "$T/lift3.log")"
finish
