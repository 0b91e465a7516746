#!/usr/bin/env bash
# test_batch_farm: a studio's queue. A job file of 6 jobs whose dependencies form a diamond (and a tail) runs in
# dependency order; a malformed file queues nothing and names the bad entry; a cancelled parent holds its child
# with the reason (or fails it, by the child's choice); pause stops new work and resume finishes the job; a
# priority change shows; tessera jobs filters by state and name; pools and --max-nodes hold; a requester's share and
# limit hold; chunks and output names; a shot list expands one entry into a job per shot.
source "$(dirname "$0")/lib.sh"

make_scene "$T/s.blend" --width 64 --height 48 --samples 4 --frames 1-2 || { fail "make scene"; finish; }
start_master --check-wait 2 || finish # the pool of one node: a check no other node may do is dropped soon
start_slave a
start_slave b
wait_nodes 2 || finish
jobs_json() { "$BIN/tessera" jobs --json; }

# 1. The diamond: top -> (left, right) -> bottom -> tail, and side after top.
cat >"$T/night.json" <<'J'
{"jobs": [
  {"name": "bottom", "type": "render", "scene": "s.blend", "frames": "1", "after": ["left", "right"]},
  {"name": "top", "type": "render", "scene": "s.blend", "frames": "1-2", "tiles": "2x1"},
  {"name": "left", "type": "render", "scene": "s.blend", "frames": "1", "after": ["top"]},
  {"name": "right", "type": "render", "scene": "s.blend", "frames": "2", "tiles": "2x2", "after": ["top"]},
  {"name": "tail", "type": "render", "scene": "s.blend", "frames": "2", "after": ["bottom"], "priority": 5},
  {"name": "side", "type": "render", "scene": "s.blend", "frames": "1", "after": ["top"], "format": "exr"}
]}
J
(cd / && "$BIN/tessera" submit --file "$T/night.json" --json) >"$T/night.out" 2>"$T/night.err" \
  && pass "a job file of 6 jobs submitted: $(tr -d ' \n' <"$T/night.out" | head -c 200)" || fail "submit --file: $(cat "$T/night.err")"
for _ in $(seq 600); do
  n=$(jobs_json | python3 -c 'import json,sys; print(sum(j["state"] in ("done","failed","cancelled","held") for j in json.load(sys.stdin)))')
  [ "$n" -ge 6 ] && break; sleep 0.5
done
jobs_json >"$T/jobs.json"
python3 - "$T/jobs.json" <<'PY' && pass "the diamond ran in dependency order, every job done" || fail "dependency order"
import json, sys
jobs = {j["name"]: j for j in json.load(open(sys.argv[1]))}
edges = [("top", "left"), ("top", "right"), ("left", "bottom"), ("right", "bottom"), ("bottom", "tail"), ("top", "side")]
assert all(jobs[n]["state"] == "done" for n in jobs), {n: jobs[n]["state"] for n in jobs}
for p, c in edges:
    assert jobs[c]["started"] >= jobs[p]["finished"], (p, c, jobs[p]["finished"], jobs[c]["started"])
    assert jobs[p]["id"] in jobs[c]["after"], (p, c, jobs[c]["after"])
print("   ", ", ".join("%s %d" % (n, jobs[n]["id"]) for n in ("top", "left", "right", "side", "bottom", "tail")))
PY
[ "$("$BIN/tessera" jobs --name tail --json | python3 -c 'import json,sys; j=json.load(sys.stdin); print(len(j), j[0]["priority"])')" = "1 5" ] \
  && pass "tessera jobs --name finds one job, with its file's priority" || fail "jobs --name"

# 2. Malformed files queue nothing and name the bad entry.
before=$(jobs_json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
printf '{"jobs": [{"name": "a", "type": "render", "scene": "s.blend", "frames": "1"}, {"name": "b", "type": "render", "scene": "s.blend", "frames": "1", "after": ["nope"]}]}' >"$T/bad1.json"
expect_fail 2 "job 'b': field 'after': no job named 'nope'" "an unknown reference is refused before anything is sent" -- "$BIN/tessera" submit --file "$T/bad1.json"
printf '{"jobs": [{"name": "x", "type": "render", "scene": "s.blend", "frames": "1", "after": ["y"]}, {"name": "y", "type": "render", "scene": "s.blend", "frames": "1", "after": ["x"]}]}' >"$T/bad2.json"
expect_fail 2 "cycle" "a cycle is refused" -- "$BIN/tessera" submit --file "$T/bad2.json"
printf '{"jobs": [{"name": "ok1", "type": "render", "scene": "s.blend", "frames": "1"}, {"name": "broken", "type": "render", "scene": "s.blend", "frames": "1", "tiles": "0x0", "after": ["ok1"]}]}' >"$T/bad3.json"
expect_fail 2 "job 'broken'.*tiles" "a job the submit refuses names its entry and field" -- "$BIN/tessera" submit --file "$T/bad3.json"
jobs_json | python3 -c "
import json,sys; js=json.load(sys.stdin); new=js[$before:]
assert all(j['state'] == 'cancelled' and j['started'] is None for j in new), [(j['name'], j['state']) for j in new]" \
  && pass "nothing of the refused files ran (the job made before the refusal is cancelled, never started)" || fail "a refused file left work queued"

# 3. A cancelled parent holds its child, saying why; a child that chose to fails with it.
P=$("$BIN/tessera" submit render "$T/s.blend" --frames 1 --paused --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
C1=$("$BIN/tessera" submit render "$T/s.blend" --frames 1 --after "$P" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
C2=$("$BIN/tessera" submit render "$T/s.blend" --frames 1 --after "$P" --on-parent-failure fail --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
[ "$("$BIN/tessera" status "$C1" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["state"])')" = waiting ] \
  && pass "a child waits while its parent is paused" || fail "child state before"
"$BIN/tessera" cancel "$P" >/dev/null
"$BIN/tessera" status "$C1" --json | python3 -c "
import json,sys; j=json.load(sys.stdin); assert j['state']=='held' and j['error']=='parent job $P was cancelled', j" \
  && pass "the child is held: parent job $P was cancelled" || fail "held child: $("$BIN/tessera" status "$C1")"
"$BIN/tessera" status "$C2" --json | python3 -c "
import json,sys; j=json.load(sys.stdin); assert j['state']=='failed' and 'parent job $P' in j['error'], j" \
  && pass "the child that chose --on-parent-failure fail failed with it" || fail "fail child: $("$BIN/tessera" status "$C2")"
expect_fail 2 "after.*no job" "--after an unknown job is refused" -- "$BIN/tessera" submit render "$T/s.blend" --frames 1 --after 99999

# 4. Pause: running tasks finish, nothing new starts; resume finishes the job; a priority change.
J=$("$BIN/tessera" submit render "$T/s.blend" --frames 1-2 --tiles 8x8 --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
for _ in $(seq 300); do [ "$("$BIN/tessera" status "$J" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["tasks_done"])')" -ge 2 ] && break; sleep 0.1; done
"$BIN/tessera" pause "$J" >/dev/null || fail "pause"
running() { "$BIN/tessera" status "$J" --json | python3 -c 'import json,sys; j=json.load(sys.stdin); print(j["tasks_running"], j["state"])'; }
for _ in $(seq 300); do [ "$(running)" = "0 paused" ] && break; sleep 0.2; done # what was running finishes
started=0
for _ in $(seq 15); do r=$(running); [ "$r" = "0 paused" ] || started=1; sleep 0.2; done
[ $started = 0 ] && pass "paused: the running tasks finished and none started in 3 s" || fail "pause: a task ran while paused ($r)"
"$BIN/tessera" priority "$J" 7 >/dev/null && [ "$("$BIN/tessera" status "$J" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["priority"])')" = 7 ] \
  && pass "priority changed to 7" || fail "priority"
"$BIN/tessera" resume "$J" >/dev/null && "$BIN/tessera" wait "$J" --timeout 300 >/dev/null 2>&1 \
  && pass "resumed, the job finishes" || fail "resume: $("$BIN/tessera" status "$J")"
"$BIN/tessera" jobs --state held,failed --json | python3 -c "
import json,sys; assert sorted(j['id'] for j in json.load(sys.stdin)) == sorted([$C1, $C2])" \
  && pass "tessera jobs --state held,failed lists the two children" || fail "jobs --state"

# 5. Pools and limits: a job with --pool runs only on the tagged node; --max-nodes 1 never has two nodes at once.
start_slave c --tag studio,gpu24
wait_nodes 3 || finish
[ "$(node_field c tags)" = "studio,gpu24" ] && pass "the node's tags show in tessera nodes" || fail "tags: $(node_field c tags)"
da=$(node_field a tasks_done); db=$(node_field b tasks_done)
JP=$("$BIN/tessera" submit render "$T/s.blend" --frames 1 --tiles 2x2 --pool studio --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
"$BIN/tessera" wait "$JP" --timeout 300 >/dev/null 2>&1 || fail "pool job"
[ "$(node_field a tasks_done)" = "$da" ] && [ "$(node_field b tasks_done)" = "$db" ] \
  && pass "the --pool studio job ran on the tagged node alone" || fail "pool: untagged nodes did work ($da->$(node_field a tasks_done), $db->$(node_field b tasks_done))"
JM=$("$BIN/tessera" submit render "$T/s.blend" --frames 1-2 --tiles 4x2 --max-nodes 1 --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
"$BIN/tessera" wait "$JM" --timeout 300 >/dev/null 2>&1 || fail "max-nodes job"
python3 - "$T/master/tessera.db" "$JM" <<'PY' && pass "--max-nodes 1: no two nodes worked on the job at once" || fail "max-nodes overlap"
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
rows = db.execute("SELECT node, assigned_at, finished FROM tasks WHERE job_id=? AND state='done' AND finished>0",
                  (int(sys.argv[2]),)).fetchall()
nodes = {r[0] for r in rows}
for a in rows:
    for b in rows:
        if a[0] != b[0]:
            assert a[2] <= b[1] + 0.05 or b[2] <= a[1] + 0.05, (a, b)
print("   ", len(rows), "tasks on", len(nodes), "node(s), one at a time")
PY
expect_fail 2 "pool" "a malformed --pool is refused" -- "$BIN/tessera" submit render "$T/s.blend" --frames 1 --pool "Bad Tag"

# 6. Shares: the operator sets a requester's weight and limit; a requester at its limit never runs more at once.
"$BIN/tessera" share bob 2 --max-running 1 >/dev/null || fail "share bob"
"$BIN/tessera" share --json | python3 -c "
import json,sys; s={r['requester']: r for r in json.load(sys.stdin)['shares']}
assert s['bob']['weight'] == 2 and s['bob']['max_running'] == 1, s['bob']
assert s['default']['weight'] == 1 and s['default']['node_seconds'] > 0, s['default']" \
  && pass "tessera share lists bob's weight 2 and limit 1, and the node time default's jobs used" || fail "share list: $("$BIN/tessera" share)"
JB=$("$BIN/tessera" submit render "$T/s.blend" --frames 1-2 --tiles 2x2 --requester bob --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
"$BIN/tessera" wait "$JB" --timeout 300 >/dev/null 2>&1 || fail "bob's job"
python3 - "$T/master/tessera.db" "$JB" <<'PY' && pass "bob's limit of 1: its tasks ran one at a time on 3 nodes" || fail "bob ran more than 1 at once"
import sqlite3, sys
rows = sqlite3.connect(sys.argv[1]).execute(
    "SELECT id, assigned_at, finished FROM tasks WHERE job_id=? AND state='done' AND finished>0", (int(sys.argv[2]),)).fetchall()
assert len(rows) >= 5, rows  # the probe, 8 tiles, 2 finishes (checks are the farm's)
for a in rows:
    for b in rows:
        if a[0] < b[0]:
            assert a[2] <= b[1] + 0.05 or b[2] <= a[1] + 0.05, (a, b)
PY
expect_fail 2 "weight" "a share of 0 is refused" -- "$BIN/tessera" share bob 0
expect_fail 2 "WEIGHT, --max-running" "a share with nothing to set is refused" -- "$BIN/tessera" share bob
TESSERA_TOKEN=$("$BIN/tessera" account add carol --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])') \
  expect_fail 6 "" "a requester may not set shares" -- "$BIN/tessera" share carol 100

# 7. Chunks and output names: frames in chunks of 2 go to one node two at a time; files named by the pattern.
JC=$("$BIN/tessera" submit render "$T/s.blend" --frames 1-2 --chunk 2 --out-pattern 'sh010_##_v1' --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
"$BIN/tessera" wait "$JC" --out "$T/chunked" --timeout 300 >/dev/null 2>&1 || fail "chunked job"
[ -f "$T/chunked/sh010_01_v1.png" ] && [ -f "$T/chunked/sh010_02_v1.png" ] \
  && pass "--out-pattern sh010_##_v1: the frames are sh010_01_v1.png and sh010_02_v1.png" || fail "out-pattern: $(ls "$T/chunked")"
python3 - "$T/master/tessera.db" "$JC" <<'PY' && pass "--chunk 2: both frames' renders went to one node in one assignment" || fail "chunk"
import sqlite3, sys
rows = sqlite3.connect(sys.argv[1]).execute(
    "SELECT node, assigned_at FROM tasks WHERE job_id=? AND kind=2 AND check_of=0 AND state='done'", (int(sys.argv[2]),)).fetchall()
assert len(rows) == 2 and rows[0] == rows[1], rows  # kind 2: a tile (lib/tessera.proto)
PY
expect_fail 2 "chunks only without tiles" "--chunk with tiles is refused" -- "$BIN/tessera" submit render "$T/s.blend" --frames 1-2 --chunk 2 --tiles 2x1
expect_fail 2 "out-pattern.*without '/'" "an --out-pattern with a folder is refused" -- "$BIN/tessera" submit render "$T/s.blend" --frames 1 --out-pattern 'a/b_##'

# 8. A shot list: an entry with "each" is one job per shot, {shot} replaced in its name, fields and "after".
cat >"$T/shots.json" <<'J'
{"vars": {"shot": ["sh010", "sh020"]}, "jobs": [
  {"name": "{shot}", "type": "render", "scene": "s.blend", "frames": "1", "out_pattern": "{shot}_##", "each": "shot"},
  {"name": "{shot}-again", "type": "render", "scene": "s.blend", "frames": "2", "after": ["{shot}"], "each": "shot"}
]}
J
"$BIN/tessera" submit --file "$T/shots.json" --json >"$T/shots.out" 2>"$T/shots.err" || fail "shot list: $(cat "$T/shots.err")"
"$BIN/tessera" jobs --json | python3 -c "
import json,sys; j={x['name']: x for x in json.load(sys.stdin)}
assert j['sh010']['out_pattern'] == 'sh010_##' and j['sh020']['out_pattern'] == 'sh020_##', j.get('sh010')
assert j['sh010-again']['after'] == [j['sh010']['id']] and j['sh020-again']['after'] == [j['sh020']['id']]" \
  && pass "a shot list of 2 made 4 jobs, each with its shot's name, pattern and parent" || fail "shot list: $(cat "$T/shots.out")"
printf '{"vars": {"shot": ["a"]}, "jobs": [{"name": "{shot}", "type": "render", "scene": "s.blend", "frames": "1", "each": "take"}]}' >"$T/bad4.json"
expect_fail 2 "job 1: field 'each': no such list" "an entry over an unknown list is refused" -- "$BIN/tessera" submit --file "$T/bad4.json"
finish
