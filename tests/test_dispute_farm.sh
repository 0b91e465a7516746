#!/usr/bin/env bash
# test_dispute_farm: a farm of two slaves, one of them faking every tile (1 Cycles sample). Each disputed tile
# waits --check-wait for a third node that never comes; then the dispute is left unresolved: the job finishes,
# nobody is punished (no failed check, no block, no slash), and `tessera status` shows the unresolved disputes.
source "$(dirname "$0")/lib.sh"

make_scene "$T/s.blend" --width 64 --height 48 --samples 32 --frames 1 || fail "make scene"
start_master --check-wait 3 --check-floor 1 --check-trust 1000 || finish
start_slave honest
start_slave cheat --cheat-share 1 --cheat-samples 1
wait_nodes 2 || finish

# While a dispute waits, status says so; the job then finishes on its own.
"$BIN/tessera" submit render "$T/s.blend" --frames 1 --tiles 2x2 >"$T/submit.log" 2>&1 || fail "submit"
JOB=$(tail -n 1 "$T/submit.log")  # submit without --wait prints the job id
seen=0
for _ in $(seq 200); do
  "$BIN/tessera" status "$JOB" >"$T/status.txt" 2>&1
  grep -q "waiting for a third node" "$T/status.txt" && ! grep -q "0 waiting for a third node" "$T/status.txt" \
    && { seen=1; break; }
  sleep 0.1
done
[ $seen = 1 ] && pass "status shows a dispute waiting: $(grep disputes "$T/status.txt")" \
  || fail "no waiting dispute seen in status: $(cat "$T/status.txt")"
if "$BIN/tessera" wait "$JOB" --out "$T/out" --timeout 300 >"$T/wait.log" 2>&1; then
  pass "the job finished with two slaves and disputes"
else
  fail "the job did not finish: $(tail -n 3 "$T/wait.log"; "$BIN/tessera" status "$JOB")"
fi
"$BIN/tessera" status "$JOB" --json >"$T/status.json"
python3 - "$T/status.json" <<'PY' && pass "disputes left unresolved, none open, no failed check" \
  || fail "verification: $(cat "$T/status.json")"
import json, sys
v = json.load(open(sys.argv[1]))["verification"]
assert v["disputes_unresolved"] >= 1 and v["disputes_open"] == 0 and v["checks_failed"] == 0, v
PY
"$BIN/tessera" status "$JOB" | grep -q "unresolved (nobody punished)" && pass "status names the unresolved disputes" \
  || fail "status: $("$BIN/tessera" status "$JOB")"
for n in honest cheat; do
  [ "$(node_field $n checks_failed)" = 0 ] && [ "$(node_field $n state)" != blocked ] \
    && [ "$(node_field $n stake)" = "$(node_field honest stake)" ] && pass "$n: not punished (no failed check, no block, stake kept)" \
    || fail "$n punished: $("$BIN/tessera" nodes)"
done
grep -q "dispute(s) found no third node" "$T/master.log" && pass "the master logs the unresolved disputes" \
  || fail "no unresolved-dispute line in the master's log"
finish
