#!/usr/bin/env bash
# test_synthetic_farm: the synthetic job type (a scheduler benchmark's pieces) on real slaves: every piece goes through
# assignment, a signed result, the verifier (spot checks on fresh nodes) and the ledger; the output names every
# piece's bytes as lib/ts_synthetic.h defines them (recomputed here in Python), and bad requests are refused by name.
source "$(dirname "$0")/lib.sh"

start_master || finish
start_slave a; start_slave b
wait_nodes 2 || finish

N=40
if "$BIN/tessera" submit synthetic --tasks $N --wait --out "$T/syn.txt" --timeout 120 >"$T/submit.log" 2>&1; then
  pass "a synthetic job of $N pieces completed"
else
  fail "synthetic job: $(tail -n 3 "$T/submit.log")"
fi
want=$(synthetic_line 1 $N)
[ "$(cat "$T/syn.txt" 2>/dev/null)" = "$want" ] && pass "the output names every piece's bytes: $want" \
  || fail "output '$(cat "$T/syn.txt" 2>/dev/null)', wanted '$want'"
"$BIN/tessera" status 1 --json >"$T/job.json"
python3 - "$T/job.json" $N <<'PY' && pass "every piece done once, spot checks on the fresh nodes, the budget paid out" \
  || fail "job: $(head -c 400 "$T/job.json")"
import json, sys
j, n = json.load(open(sys.argv[1])), int(sys.argv[2])
assert j["state"] == "done" and j["tasks_total"] == n and j["tasks_done"] == n, j
assert j["checks_total"] >= 1 and j.get("checks_failed", 0) == 0, j
assert j["paid"] > 0, j
PY

expect_fail 2 "out of range 1..1000000" "--tasks 0 is refused" -- "$BIN/tessera" submit synthetic --tasks 0
code=$(opcurl -s -o "$T/api.json" -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
  -d '{"type":"synthetic"}' "$TESSERA_MASTER/api/v1/jobs")
[ "$code" = 400 ] && grep -q "field 'tasks' is required" "$T/api.json" && pass "a request without tasks: 400 naming the field" \
  || fail "no tasks: $code $(cat "$T/api.json")"
code=$(opcurl -s -o "$T/api.json" -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
  -d '{"type":"synthetic","tasks":2000000}' "$TESSERA_MASTER/api/v1/jobs")
[ "$code" = 400 ] && grep -q "out of range" "$T/api.json" && pass "2,000,000 tasks: 400, out of range" \
  || fail "too many tasks: $code $(cat "$T/api.json")"
alive "bad synthetic requests"

finish
