#!/usr/bin/env bash
# test_farm_faults: a slave SIGKILLed mid-job, and a master SIGKILLed mid-job and restarted on its state
# directory, both end with the job complete and pixel-identical to plain Blender.
source "$(dirname "$0")/lib.sh"

job_field() { "$BIN/tessera" status "$1" --json | python3 -c "import json,sys; print(json.load(sys.stdin)['$2'])"; }
wait_tasks_done() { # JOB N
  for _ in $(seq 600); do
    [ "$(job_field "$1" tasks_done 2>/dev/null || echo 0)" -ge "$2" ] && return 0
    sleep 0.1
  done
  return 1
}
check_frames() { # OUTDIR LABEL
  for f in 1 2; do
    n=$(printf %04d $f)
    if same_image "$1/frame_$n.png" "$T/ref/f_$n.png"; then pass "$2: frame $f identical"
    else fail "$2: frame $f differs or missing: $(tail -n 2 "$T/idiff.log")"; fi
  done
}

make_scene "$T/f.blend" --width 192 --height 108 --samples 128 --frames 1-2 || fail "make scene"
mkdir -p "$T/ref"
reference "$T/f.blend" 1 "$T/ref/f" && reference "$T/f.blend" 2 "$T/ref/f" || fail "reference renders"

start_master || finish
start_slave a; SLAVE_A=$SLAVE_PID
start_slave b
wait_nodes 2 || finish

# 1. A slave dies in the middle of a job.
JOB=$("$BIN/tessera" submit render "$T/f.blend" --frames 1-2 --tiles 4x4)
wait_tasks_done "$JOB" 4 || fail "job $JOB made no progress"
kill -KILL "$SLAVE_A"
done_at_kill=$(job_field "$JOB" tasks_done); total=$(job_field "$JOB" tasks_total)
log "killed slave a (pid $SLAVE_A) with job $JOB at $done_at_kill of $total tasks done"
[ "$done_at_kill" -lt "$total" ] || fail "the job had finished before the slave was killed: the test proves nothing"
if "$BIN/tessera" wait "$JOB" --out "$T/out-slavekill" --timeout 600 >"$T/wait1.log" 2>&1; then
  check_frames "$T/out-slavekill" "slave killed"
else
  fail "job $JOB did not complete after a slave was killed: $(tail -n 3 "$T/wait1.log")"
fi
"$BIN/tessera" nodes --json | python3 -c '
import json, sys
states = {n["name"]: n["state"] for n in json.load(sys.stdin)}
assert states["a"] == "offline", states
' && pass "the killed slave is offline" || fail "the killed slave is not shown offline"

# 2. The master dies in the middle of a job and comes back on the same state directory.
start_slave a
wait_nodes 2 || finish
JOB=$("$BIN/tessera" submit render "$T/f.blend" --frames 1-2 --tiles 4x4)
wait_tasks_done "$JOB" 6 || fail "job $JOB made no progress"
done_at_kill=$(job_field "$JOB" tasks_done); total=$(job_field "$JOB" tasks_total)
kill -KILL "$MASTER_PID"
wait "$MASTER_PID" 2>/dev/null
log "killed the master with job $JOB at $done_at_kill of $total tasks done"
[ "$done_at_kill" -lt "$total" ] || fail "the job had finished before the master was killed: the test proves nothing"
sleep 1
start_master || finish
if "$BIN/tessera" wait "$JOB" --out "$T/out-masterkill" --timeout 600 >"$T/wait2.log" 2>&1; then
  check_frames "$T/out-masterkill" "master killed and restarted"
else
  fail "job $JOB did not complete after the master restarted: $(tail -n 3 "$T/wait2.log")"
fi

finish
