#!/usr/bin/env bash
# test_slave_blender_faults: a Blender that crashes (SIGKILL) or hangs (SIGSTOP) mid-job is restarted by its
# slave, the task is reported failed and re-done, and the job still ends complete and exact.
source "$(dirname "$0")/lib.sh"

job_field() { "$BIN/tessera" status "$1" --json | python3 -c "import json,sys; print(json.load(sys.stdin)['$2'])"; }
wait_tasks_done() { for _ in $(seq 600); do [ "$(job_field "$1" tasks_done 2>/dev/null || echo 0)" -ge "$2" ] && return 0; sleep 0.1; done; return 1; }
# The Blender process itself: the slave logs the pid it started (bwrap's, when sandboxed), Blender is below it.
blender_pid() {
  local p
  p=$(sed -n 's/.*blender started (pid \([0-9]*\).*/\1/p' "$T/slave-a.log" | tail -n 1)
  while [ -n "$p" ] && [ "$(cat /proc/$p/comm 2>/dev/null)" != blender ]; do p=$(pgrep -P "$p" | head -n 1); done
  echo "$p"
}
failed_count() { "$BIN/tessera" nodes --json | python3 -c 'import json,sys; print(sum(n["tasks_failed"] for n in json.load(sys.stdin)))'; }

make_scene "$T/s.blend" --width 192 --height 108 --samples 128 --frames 1-1 || fail "make scene"
mkdir -p "$T/ref"; reference "$T/s.blend" 1 "$T/ref/s" || fail "reference render"
start_master || finish
start_slave a --task-timeout 6
wait_nodes 1 || finish

for fault in KILL STOP; do
  before=$(failed_count)
  # 64 tiles: Blender is still busy when the fault comes, even on a slow (sanitized) build whose CLI polls slowly
  JOB=$("$BIN/tessera" submit render "$T/s.blend" --frames 1 --tiles 8x8)
  wait_tasks_done "$JOB" 3 || fail "job $JOB made no progress"
  pid=$(blender_pid)
  kill -"$fault" "$pid"
  log "sent SIG$fault to Blender pid $pid with job $JOB at $(job_field "$JOB" tasks_done) tasks done"
  if "$BIN/tessera" wait "$JOB" --out "$T/out-$fault" --timeout 300 >"$T/wait-$fault.log" 2>&1 \
      && same_image "$T/out-$fault/frame_0001.png" "$T/ref/s_0001.png"; then
    pass "Blender SIG$fault: job complete and identical"
  else
    fail "Blender SIG$fault: $(tail -n 3 "$T/wait-$fault.log" "$T/idiff.log")"
  fi
  [ "$(failed_count)" -gt "$before" ] && pass "the interrupted task was reported failed" || fail "no failure recorded for SIG$fault"
  [ "$(blender_pid)" != "$pid" ] && pass "the slave started a new Blender" || fail "no new Blender after SIG$fault"
  kill -0 "$pid" 2>/dev/null && grep -q blender "/proc/$pid/cmdline" 2>/dev/null && fail "Blender $pid was not reaped"
done
grep -q "did not answer within 6 s" "$T/slave-a.log" && pass "the hung Blender was killed after --task-timeout" \
  || fail "no hang timeout in the slave log"

finish
