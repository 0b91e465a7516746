#!/usr/bin/env bash
# test_slavesim_farm: tessera-slavesim plays many slaves against a real master over the real protocol: they register
# (each with its own identity, kept across a restart of the simulator), run a synthetic job whose output is recomputed
# here, refuse every other kind by name, come back after the master is SIGKILLed and restarted, and the simulator's
# --stats file counts what happened.
source "$(dirname "$0")/lib.sh"

N=${SLAVESIM_N:-200}
TASKS=$((2 * N))
STATS=$T/sim-stats.json

start_sim() {
  "$BIN/tessera-slavesim" --master "tcp://127.0.0.1:$ZPORT" --master-cert "$T/master/master.cert" --slaves "$N" \
    --work "$T/sim" --stats "$STATS" --work-ms uniform:0-20 "$@" >>"$T/slavesim.log" 2>&1 &
  SIM_PID=$!
  PIDS+=("$SIM_PID")
}
drop_pid() { local keep=() p; for p in "${PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done; PIDS=("${keep[@]}"); }
# sim_stat KEY: one counter of the simulator's stats file (empty until it is written)
sim_stat() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$STATS" "$1" 2>/dev/null; }
# wait_stat KEY MIN SECONDS: until the counter reaches MIN
wait_stat() {
  for _ in $(seq $((${3} * 5))); do [ "$(sim_stat "$1")" -ge "$2" ] 2>/dev/null && return 0; sleep 0.2; done
  fail "$1 is $(sim_stat "$1"), wanted at least $2 within $3 s"; return 1
}
# nodes_check N: N nodes, each online with a state and a simulator's name
nodes_check() {
  "$BIN/tessera" nodes --json | python3 -c '
import json, re, sys
nodes, n = json.load(sys.stdin), int(sys.argv[1])
assert len(nodes) == n, "%d nodes, wanted %d" % (len(nodes), n)
assert all(x["online"] and x.get("state") for x in nodes), [x for x in nodes if not x["online"] or not x.get("state")][:2]
assert all(re.fullmatch(r"sim-\d{5}", x["name"]) for x in nodes), sorted(x["name"] for x in nodes)[:3]
' "$1"
}

start_master || finish
t0=$(date +%s.%N)
start_sim
wait_nodes "$N" || finish
pass "$N simulated slaves registered in $(python3 -c "print(round($(date +%s.%N) - $t0, 1))") s (wall clock, the start included)"
nodes_check "$N" && pass "tessera nodes: $N nodes, each online with a state, named sim-NNNNN" || fail "nodes: see above"
wait_stat welcomed "$N" 10 && pass "the simulator counts $N welcomed"

# a synthetic job on them: every piece's bytes, recomputed here (lib/ts_synthetic.h), and its checks passed
if "$BIN/tessera" submit synthetic --tasks $TASKS --wait --out "$T/syn.txt" --timeout 120 >"$T/submit.log" 2>&1; then
  pass "a synthetic job of $TASKS pieces completed on the simulated slaves"
else
  fail "synthetic job: $(tail -n 3 "$T/submit.log")"
fi
want=$(synthetic_line 1 $TASKS)
[ "$(cat "$T/syn.txt" 2>/dev/null)" = "$want" ] && pass "the output names every piece's bytes" \
  || fail "output '$(cat "$T/syn.txt" 2>/dev/null)', wanted '$want'"
"$BIN/tessera" status 1 --json >"$T/job.json"
python3 - "$T/job.json" $TASKS <<'PY' && pass "every piece done, the spot checks passed (results signed as a real slave signs them)" \
  || fail "job: $(head -c 400 "$T/job.json")"
import json, sys
j, n = json.load(open(sys.argv[1])), int(sys.argv[2])
assert j["state"] == "done" and j["tasks_total"] == n and j["tasks_done"] == n, j
assert j.get("checks_failed", 0) == 0, j
PY
sleep 1.2 # the stats file is written every second
python3 - "$STATS" $TASKS <<'PY' && pass "stats: $(python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print('%d assigns, %d results, latency p50 %.1f ms p99 %.1f ms' % (d['assigns_received'], d['results_sent'], d['assign_latency_ms']['p50'], d['assign_latency_ms']['p99']))" "$STATS")" \
  || fail "stats: $(cat "$STATS")"
import json, sys
d, n = json.load(open(sys.argv[1])), int(sys.argv[2])
assert d["results_sent"] >= n and d["results_sent"] == d["assigns_received"], d
assert d["assign_latency_ms"]["count"] >= n and d["assign_latency_ms"]["p50"] <= d["assign_latency_ms"]["p99"] <= d["assign_latency_ms"]["max"], d
assert d["results_refused_kind"] == 0 and d["online_now"] == d["slaves"], d
PY

# any other kind is refused with a failed result that says why (a render job's probe, through the API)
printf 'BLENDER-v304RENDH' >"$T/fake.blend"
head -c 512 /dev/urandom >>"$T/fake.blend"
scene=$(python3 -c 'import hashlib,sys; print(hashlib.blake2b(open(sys.argv[1],"rb").read(),digest_size=32).hexdigest())' "$T/fake.blend")
opcurl -sf -X PUT --data-binary @"$T/fake.blend" "$TESSERA_MASTER/api/v1/blobs/$scene" >/dev/null || fail "upload"
job=$(opcurl -sf -X POST -H 'Content-Type: application/json' -d "{\"type\":\"render\",\"scene\":\"$scene\",\"frames\":\"1\"}" \
  "$TESSERA_MASTER/api/v1/jobs" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
for _ in $(seq 100); do
  [ "$("$BIN/tessera" status "$job" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["state"])')" = failed ] && break
  sleep 0.2
done
err=$("$BIN/tessera" status "$job" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["error"])')
case "$err" in *"tessera-slavesim runs only synthetic tasks"*) pass "a render job fails on them, by name: $err" ;;
  *) fail "render job $job: error '$err'" ;; esac
[ "$(sim_stat results_refused_kind)" -ge 1 ] && pass "stats count the refusals" || fail "results_refused_kind $(sim_stat results_refused_kind)"

# the simulator stops on SIGTERM (exit 0) and a new one is the same nodes (identities kept under --work)
kill -TERM "$SIM_PID"; wait "$SIM_PID"; rc=$?; drop_pid "$SIM_PID"
[ $rc -eq 0 ] && pass "SIGTERM: the simulator exits 0" || fail "SIGTERM: exit $rc"
start_sim
wait_stat welcomed "$N" 30 && nodes_check "$N" && pass "a restarted simulator is the same $N nodes again" \
  || fail "after the simulator's restart: $("$BIN/tessera" nodes --json | head -c 300)"

# a master SIGKILLed and started again on its state: every slave is asked to register again and does
kill -KILL "$MASTER_PID"
start_master || finish
# (the restarted master marks every node offline; each is online again once it has said Hello: after a Reregister,
# or at once when its connection came back first)
t0=$(date +%s%N)
wait_nodes "$N" && pass "after the master's SIGKILL and restart all $N are back in $(( ($(date +%s%N) - t0) / 1000000 )) ms ($(sim_stat reregisters) were told to reregister)"
if "$BIN/tessera" submit synthetic --tasks $N --wait --timeout 120 >"$T/submit2.log" 2>&1; then
  pass "a synthetic job after the master's restart completed"
else
  fail "synthetic job after the restart: $(tail -n 3 "$T/submit2.log")"
fi
alive "the simulated farm"

finish
