#!/usr/bin/env bash
# test_events_farm: job and task events. A render's every state change is in GET /api/v1/events in order (the job
# new -> queued -> running -> done, each task from new to done, each change continuing from the one before); a stream
# cut mid-job and resumed with Last-Event-ID misses and repeats nothing; a requester's stream holds its own job alone
# and, quiet, is kept open by keepalives past --http-idle; `tessera jobs --watch --json` goes on across a master
# restart mid-job with every event once; a webhook that fails at first, and whose job spans the restart, gets each of
# its job's events exactly once, in order; bad ids and webhook URLs are refused by name. Every comparison is against
# the whole stream read from id 0 at the end.
source "$(dirname "$0")/lib.sh"

make_scene "$T/s.blend" --width 64 --height 48 --samples 4 --frames 1-2 || { fail "make scene"; finish; }
start_master --http-idle 5 || finish # streams quiet for longer than --http-idle must stay open
start_slave a
wait_nodes 1 || finish
OP=$TESSERA_TOKEN
"$BIN/tessera" account add ann --json >"$T/ann.json" || fail "account add ann"
ANN=$(python3 -c "import json; print(json.load(open('$T/ann.json'))['token'])")
idof() { python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])'; }
# Followers and the webhook receiver: not daemons of the farm (finish checks those exit 0), killed at the end.
HELPERS=()
trap 'for p in "${PIDS[@]}" "${HELPERS[@]}"; do kill -KILL "$p" 2>/dev/null; done' EXIT
finish_events() { for p in "${HELPERS[@]}"; do kill -KILL "$p" 2>/dev/null; done; finish; }
field() { "$BIN/tessera" status "$1" --json | python3 -c "import json,sys; print(json.load(sys.stdin)['$2'])"; }

# The SSE reader the checks share: complete events only (an event cut by a killed reader does not count).
cat >"$T/sse.py" <<'PY'
import json
def events(path):
    out, ev = [], {}
    for line in open(path, encoding="utf-8").read().split("\n"):
        if line == "":
            if "data" in ev and ev.get("event") in ("job", "task"):
                out.append((int(ev["id"]), json.loads(ev["data"])))
            ev = {}
        elif not line.startswith(":") and ":" in line:
            k, v = line.split(":", 1)
            ev[k] = v[1:] if v.startswith(" ") else v
    return out
def first_difference(got, want):
    i = next((i for i, (a, b) in enumerate(zip(got, want)) if a != b), min(len(got), len(want)))
    return "%d and %d ids; from position %d: got %s, wanted %s" % (len(got), len(want), i, got[i:i + 5], want[i:i + 5])
PY

# A webhook receiver: each POST as "path header-id body" on a line; the first 3 POSTs are answered 500.
cat >"$T/hook.py" <<'PY'
import http.server, sys
out, portfile = sys.argv[1], sys.argv[2]
seen = [0]
class Hook(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        seen[0] += 1
        code = 500 if seen[0] <= 3 else 204
        with open(out, "a") as f:
            f.write("%d %s %s %s\n" % (code, self.path.split("?")[0], self.headers.get("Tessera-Event-Id"), body.decode()))
        self.send_response(code)
        self.end_headers()
    def log_message(self, *args):
        pass
server = http.server.HTTPServer(("127.0.0.1", 0), Hook)
open(portfile, "w").write(str(server.server_address[1]))
server.serve_forever()
PY
python3 "$T/hook.py" "$T/hook.log" "$T/hook.port" &
HELPERS+=($!)
for _ in $(seq 50); do [ -s "$T/hook.port" ] && break; sleep 0.1; done
HOOK=http://127.0.0.1:$(cat "$T/hook.port")

# 1. Followers from the start: the CLI (JSON and text), ann's stream, and one that is cut mid-job.
"$BIN/tessera" jobs --watch --json >"$T/watch.jsonl" 2>"$T/watch.err" &
WATCH=$!
"$BIN/tessera" jobs --watch >"$T/watch.txt" 2>"$T/watch-text.err" &
WATCH_TEXT=$!
curl -sN -H "Authorization: Bearer $ANN" "$TESSERA_MASTER/api/v1/events?after=0" >"$T/ann.sse" &
ANN_CURL=$!
curl -sN -H "Authorization: Bearer $OP" "$TESSERA_MASTER/api/v1/events?after=0" >"$T/cut1.sse" & # curl itself: its pid is killed
CUT=$!
HELPERS+=($WATCH $WATCH_TEXT $ANN_CURL $CUT)
sleep 0.5

J1=$("$BIN/tessera" submit render "$T/s.blend" --frames 1-2 --tiles 2x1 --name ev1 --notify-url "$HOOK/hook1?key=s3cret" --json | idof)
[ -n "$J1" ] || { fail "submit"; finish_events; }

# 2. Cut a follower mid-job; it resumes from the last complete event it has.
for _ in $(seq 200); do
  n=$(python3 -c "import sys; sys.path.insert(0, '$T'); import sse; print(sum(e['job'] == $J1 for _, e in sse.events('$T/cut1.sse')))")
  [ "$n" -ge 3 ] && break; sleep 0.1 # the job, its probe, the probe assigned: Blender starts on the slave
done
kill "$CUT"
wait "$CUT" 2>/dev/null
LAST=$(python3 -c "import sys; sys.path.insert(0, '$T'); import sse; print(sse.events('$T/cut1.sse')[-1][0])")
[ "$(field "$J1" state)" != done ] && pass "a follower cut mid-job after event $LAST ($n events of job $J1)" \
  || fail "the follower was cut only after job $J1 ended"
curl -sN -H "Authorization: Bearer $OP" -H "Last-Event-ID: $LAST" "$TESSERA_MASTER/api/v1/events" >"$T/cut2.sse" &
HELPERS+=($!)
J2=$(TESSERA_TOKEN=$ANN "$BIN/tessera" submit render "$T/s.blend" --frames 1 --name ann1 --json | idof)
[ -n "$J2" ] && pass "jobs $J1 (with a webhook) and $J2 (ann's) submitted" || { fail "submit"; finish_events; }

"$BIN/tessera" wait "$J1" --timeout 120 >/dev/null 2>&1 && TESSERA_TOKEN=$ANN "$BIN/tessera" wait "$J2" --timeout 120 >/dev/null 2>&1 \
  || fail "jobs $J1 and $J2 did not finish: $("$BIN/tessera" status "$J1")"

# 3. ann's stream, quiet since her job ended, stays open past --http-idle 5 with keepalives.
for _ in $(seq 250); do grep -q '^: keepalive' "$T/ann.sse" && break; sleep 0.1; done
grep -q '^: keepalive' "$T/ann.sse" && kill -0 "$ANN_CURL" 2>/dev/null \
  && pass "ann's quiet stream is still open, with a keepalive (the master runs with --http-idle 5)" \
  || fail "ann's stream: keepalive $(grep -c keepalive "$T/ann.sse"), curl alive: $(kill -0 "$ANN_CURL" 2>/dev/null && echo yes || echo no)"

# 4. A job file's notify_url; the master restarts while that job runs (130 tasks: a few seconds).
printf '{"jobs": [{"name": "ev3", "type": "render", "scene": "s.blend", "frames": "1-2", "tiles": "8x8", "notify_url": "%s/hook3"}]}' \
  "$HOOK" >"$T/night.json"
J3=$("$BIN/tessera" submit --file "$T/night.json" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["jobs"][0]["id"])')
for _ in $(seq 300); do [ "$(field "$J3" tasks_done)" -ge 2 ] && break; sleep 0.1; done
[ "$(field "$J3" state)" = running ] && pass "job $J3 (from a job file, with notify_url) is running: restarting the master" \
  || fail "job $J3 is $(field "$J3" state) before the restart"
kill -TERM "$MASTER_PID"
HOOK3_BEFORE=$(grep -c '^204 /hook3 ' "$T/hook.log")
wait "$MASTER_PID" && pass "the master stopped cleanly with its event streams open" || fail "the master's exit with streams open"
start_master --http-idle 5 || finish_events
"$BIN/tessera" wait "$J3" --timeout 120 >/dev/null 2>&1 || fail "job $J3 after the restart: $("$BIN/tessera" status "$J3")"
expected_hooks() {
  python3 - "$T" "$J1" "$J3" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1] + "/master/tessera.db")
print(sum(db.execute("SELECT count(*) FROM events WHERE job_id=?", (int(j),)).fetchone()[0] for j in sys.argv[2:]))
PY
}
for _ in $(seq 300); do [ "$(grep -c '^204 ' "$T/hook.log" 2>/dev/null)" -ge "$(expected_hooks)" ] && break; sleep 0.1; done
sleep 1 # a webhook sent twice would arrive now
opcurl -sN --max-time 2 "$TESSERA_MASTER/api/v1/events?after=0" >"$T/all.sse"
kill -INT "$WATCH" "$WATCH_TEXT"
wait "$WATCH" && wait "$WATCH_TEXT" && pass "Ctrl-C ends tessera jobs --watch with exit 0" || fail "watch exit on SIGINT"

# 5. The checks, each against the whole stream from id 0.
python3 - "$T" "$J1" <<'PY' && pass "job $J1: every change in order (job new -> queued -> running -> done; each task new -> queued -> ... -> done)" || fail "job $J1's events"
import sqlite3, sys
sys.path.insert(0, sys.argv[1]); import sse
t, job = sys.argv[1], int(sys.argv[2])
all_ = sse.events(t + "/all.sse")
ids = [i for i, _ in all_]
assert ids == sorted(set(ids)) and ids[0] == 1, "ids not increasing from 1"
evs = [e for _, e in all_ if e["job"] == job]
life = [(e["from"], e["to"]) for e in evs if e["type"] == "job"]
assert life == [(None, "queued"), ("queued", "running"), ("running", "done")], life
tasks = {}
for e in evs:
    if e["type"] == "task":
        tasks.setdefault(e["task"], []).append(e)
db = sqlite3.connect(t + "/master/tessera.db")
assert sorted(tasks) == [r[0] for r in db.execute("SELECT id FROM tasks WHERE job_id=? ORDER BY id", (job,))], "tasks"
for tid, chain in tasks.items():
    states = [c["to"] for c in chain]
    assert chain[0]["from"] is None and states[0] == "queued" and states[-1] == "done", (tid, states)
    assert all(b["from"] == a["to"] for a, b in zip(chain, chain[1:])), (tid, states)
    assert "assigned" in states and all(c["name"] == "ev1" for c in chain), (tid, states)
    assert db.execute("SELECT state FROM tasks WHERE id=?", (tid,)).fetchone()[0] == "done"
kinds = sorted({c["kind"] for ch in tasks.values() for c in ch})
print("    %d events: %d of the job, %d tasks (%s)" % (len(evs), len(life), len(tasks), ", ".join(kinds)))
PY
python3 - "$T" "$LAST" <<'PY' && pass "the follower resumed with Last-Event-ID $LAST: nothing missed, nothing repeated" || fail "resumed follower"
import sys
sys.path.insert(0, sys.argv[1]); import sse
t, last = sys.argv[1], int(sys.argv[2])
got = sse.events(t + "/cut1.sse") + sse.events(t + "/cut2.sse")
ref = sse.events(t + "/all.sse")
assert got[len(sse.events(t + "/cut1.sse")) - 1][0] == last
assert len(got) > len(sse.events(t + "/cut1.sse")), "nothing after the cut"
assert got == ref[:len(got)], sse.first_difference([i for i, _ in got], [i for i, _ in ref])
print("    %d + %d events = the first %d of the whole stream" % (len(sse.events(t + "/cut1.sse")), len(got) - len(sse.events(t + "/cut1.sse")), len(got)))
PY
python3 - "$T" "$J2" <<'PY' && pass "ann's stream: her job $J2's events, all of them, and no other job's" || fail "ann's stream"
import sys
sys.path.insert(0, sys.argv[1]); import sse
t, job = sys.argv[1], int(sys.argv[2])
ann = sse.events(t + "/ann.sse")
mine = [x for x in sse.events(t + "/all.sse") if x[1]["job"] == job]
assert ann == mine, sse.first_difference([i for i, _ in ann], [i for i, _ in mine])
assert {e["requester"] for _, e in ann} == {"ann"}
PY
python3 - "$T" "$J3" <<'PY' && pass "tessera jobs --watch --json: every event once, in order, across the master restart" || fail "watch --json"
import json, sys
sys.path.insert(0, sys.argv[1]); import sse
t, j3 = sys.argv[1], int(sys.argv[2])
watched = [json.loads(l) for l in open(t + "/watch.jsonl")]
ref = [e for _, e in sse.events(t + "/all.sse")]
assert [e["id"] for e in watched] == [e["id"] for e in ref], sse.first_difference([e["id"] for e in watched], [e["id"] for e in ref])
assert watched == ref
restart = [e for e in ref if e["job"] == j3 and e["type"] == "job" and e["to"] == "done"]
assert restart, "job %d's end is not in the watch" % j3
print("    %d events" % len(watched))
PY
grep -q "connected again" "$T/watch.err" && pass "the watch said it lost the master and reconnected" || fail "watch stderr: $(cat "$T/watch.err")"
grep -q "job $J1 (ev1) running -> done" "$T/watch.txt" && grep -Eq "job $J1 \(ev1\) task [0-9]+ tile frame 1 #[01] queued -> assigned on [0-9a-f]{12}" "$T/watch.txt" \
  && pass "tessera jobs --watch: '$(grep "job $J1 (ev1) running -> done" "$T/watch.txt")'" || fail "watch text: $(head -n 5 "$T/watch.txt")"
python3 - "$T" "$J1" "$J3" "$HOOK3_BEFORE" <<'PY' && pass "webhooks: every event of jobs $J1 and $J3 once, in order, after 3 answers of 500 and across the restart" || fail "webhooks"
import json, sys
sys.path.insert(0, sys.argv[1]); import sse
from sse import first_difference
t, j1, j3 = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
lines = [l.rstrip("\n").split(" ", 3) for l in open(t + "/hook.log")]
assert [l[0] for l in lines[:3]] == ["500"] * 3 and all(l[0] == "204" for l in lines[3:]), [l[0] for l in lines]
ref = sse.events(t + "/all.sse")
for job, path in ((j1, "/hook1"), (j3, "/hook3")):
    got = [(int(l[2]), json.loads(l[3])) for l in lines if l[0] == "204" and l[1] == path]
    assert all(i == e["id"] for i, e in got), "Tessera-Event-Id differs from the body's id"
    want = [x for x in ref if x[1]["job"] == job]
    assert got == want, (path, first_difference([i for i, _ in got], [i for i, _ in want]))
    print("    job %d: %d events" % (job, len(got)))
    if job == j3:
        before = int(sys.argv[4])
        assert 0 < before < len(got), "job %d: %d of %d delivered before the restart" % (j3, before, len(got))
        print("    job %d: %d delivered before the restart, the rest after it" % (j3, before))
PY
LAST1=$(python3 -c "import sys; sys.path.insert(0, '$T'); import sse; print([i for i, e in sse.events('$T/all.sse') if e['job'] == $J1][-1])")
"$BIN/tessera" status "$J1" | grep -q "webhook   delivered up to event $LAST1\$" \
  && pass "tessera status $J1: 'webhook   delivered up to event $LAST1' (its last)" || fail "status: $("$BIN/tessera" status "$J1" | grep webhook)"
grep -q "tried again in" "$T/master.log" && ! grep -q "s3cret" "$T/master.log" && ! grep -q "$ANN" "$T/master.log" \
  && pass "the master logged the retries, naming the webhook without its query (no secret, no token in the log)" \
  || fail "master log: $(grep -m 3 webhook "$T/master.log")"

# 6. Refusals, by name.
code_of() { curl -s -o "$T/body.json" -w '%{http_code}' "$@"; }
[ "$(code_of -H "Authorization: Bearer $OP" -H "Last-Event-ID: 12x" "$TESSERA_MASTER/api/v1/events")" = 400 ] \
  && grep -q "Last-Event-ID '12x'" "$T/body.json" && pass "a bad Last-Event-ID is a 400 naming it" || fail "bad id: $(cat "$T/body.json")"
[ "$(code_of "$TESSERA_MASTER/api/v1/events")" = 401 ] && pass "events need a token" || fail "events without a token"
opcurl -sN --max-time 1 "$TESSERA_MASTER/api/v1/events?after=999999" >"$T/future.sse"
grep -A2 '^event: reset' "$T/future.sse" | grep -q "never given here" && pass "an id never given starts with an event: reset" \
  || fail "future id: $(head -c 300 "$T/future.sse")"
expect_fail 2 "field 'notify_url'" "a webhook that is not http(s) is refused naming the field" -- \
  "$BIN/tessera" submit render "$T/s.blend" --frames 1 --notify-url ftp://example.com/x
finish_events
