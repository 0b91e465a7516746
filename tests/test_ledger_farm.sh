#!/usr/bin/env bash
# test_ledger_farm: payments on the local ledger (the default). A render on 3 slaves, one cheating: the requester
# pays exactly what the workers received, each honest worker exactly the prices of its accepted pieces and checks,
# the cheater's stake is slashed, the rest is refunded, and nothing is created but by minting. A master SIGKILLed
# mid-job pays every piece exactly once. Bad budgets and accounts are refused clearly; a node without the minimum
# stake gets no work.
source "$(dirname "$0")/lib.sh"

make_scene "$T/s.blend" --width 96 --height 64 --samples 16 --frames 1-2 || fail "make scene"
DB="$T/master/tessera.db"
sql() { sqlite3 -batch -noheader "$DB" "$1"; }
wallet() { "$BIN/tessera" wallet --json; }
# account_field ACCOUNT FIELD: from tessera wallet --json
account_field() {
  wallet | python3 -c "import json,sys; print([a for a in json.load(sys.stdin)['accounts'] if a['account']=='$1'][0]['$2'])"
}
node_id() { "$BIN/tessera" nodes --json | python3 -c "import json,sys; print([n['id'] for n in json.load(sys.stdin) if n['name']=='$1'][0])"; }
# the ledger's own invariant: every account's balance + stake + locked adds up to what was minted
check_conservation() { # LABEL
  wallet | python3 -c '
import json, sys
w = json.load(sys.stdin)
held = sum(a["balance"] + a["stake"] + a["locked"] for a in w["accounts"])
assert held == w["minted"] == w["held"], (held, w["minted"], w["held"])
assert all(a["balance"] >= 0 and a["stake"] >= 0 and a["locked"] >= 0 for a in w["accounts"]), w
' && pass "$1: accounts hold exactly what was minted" || fail "$1: money created or lost: $(wallet)"
}

start_master --check-wait 20 --requester-mint 100 --node-stake 10 --farm-mint 50 --slash-share 1 || finish
start_slave honest1
start_slave honest2
start_slave cheat --cheat-share 1 --cheat-samples 1
wait_nodes 3 || finish
check_conservation "new farm"
[ "$(account_field farm balance)" = 50000000 ] && pass "the farm's account starts with --farm-mint" \
  || fail "farm balance $(account_field farm balance)"
for n in honest1 honest2 cheat; do
  [ "$(account_field "$(node_id $n)" stake)" = 10000000 ] || fail "node $n does not start with its stake"
done

# --- a paid render with a cheater ---
JOB=$("$BIN/tessera" submit render "$T/s.blend" --frames 1-2 --tiles 4x4 --budget 3.5 --requester studio)
"$BIN/tessera" wait "$JOB" --timeout 600 >"$T/wait.log" 2>&1 || fail "job $JOB: $(tail -n 3 "$T/wait.log")"
check_conservation "after a job with a cheater"
python3 - "$DB" "$JOB" "$(wallet)" "$(node_id honest1)" "$(node_id honest2)" "$(node_id cheat)" <<'EOF' \
  && pass "requester paid exactly the workers' pay; honest workers got exactly their pieces' and checks' prices; cheater slashed; rest refunded" \
  || fail "the figures of job $JOB do not add up"
import json, sqlite3, sys
db, job, w, honest, cheat = sqlite3.connect(sys.argv[1]), int(sys.argv[2]), json.loads(sys.argv[3]), sys.argv[4:6], sys.argv[6]
acct = {a["account"]: a for a in w["accounts"]}
q = lambda sql, *a: db.execute(sql, a).fetchall()
budget = q("SELECT budget FROM jobs WHERE id=?", job)[0][0]
assert budget == 3_500_000, budget
released = q("SELECT coalesce(sum(e.amount),0) FROM ledger_entries e JOIN ledger_xacts x ON x.id=e.xact "
             "WHERE x.kind='release' AND x.job=? AND e.amount>0", job)[0][0]
refunded = q("SELECT coalesce(sum(e.amount),0) FROM ledger_entries e JOIN ledger_xacts x ON x.id=e.xact "
             "WHERE x.kind='refund' AND x.job=? AND e.bucket='balance'", job)[0][0]
req = acct["studio"]
print(f"budget {budget} released {released} refunded {refunded} requester balance {req['balance']}")
assert req["locked"] == 0, req
assert released > 0 and released + refunded == budget, (released, refunded, budget)
assert req["balance"] == 100_000_000 - released, req            # fell by exactly the sum paid
# prices come from the plan: every piece's share of the budget, never more than the budget together
prices = q("SELECT sum(price) FROM tasks WHERE job_id=? AND check_of=0 AND kind!=1", job)[0][0]
assert prices <= budget, (prices, budget)
for node in honest:
    work = q("SELECT coalesce(sum(price),0) FROM tasks WHERE job_id=? AND check_of=0 AND state='done' AND node=?", job, node)[0][0]
    checks = q("SELECT coalesce(sum(o.price),0) FROM tasks c JOIN tasks o ON o.id=c.check_of WHERE c.job_id=? AND "
               "c.state='done' AND c.verify='check' AND c.node=? AND o.node!=c.node", job, node)[0][0]
    # (a check whose result became the piece's, its first result thrown out, is paid as the piece)
    got = acct[node]["balance"]
    print(f"node {node[:8]}: work {work} checks {checks} balance {got}")
    assert work > 0 and got == work + checks, (node, work, checks, got)
    assert acct[node]["stake"] == 10_000_000, acct[node]
slashed = q("SELECT count(*) FROM ledger_xacts WHERE kind='slash' AND job=?", job)[0][0]
assert slashed >= 1 and acct[cheat]["stake"] == 0, (slashed, acct[cheat])
# each piece of the job's budget was released at most once
dup = q("SELECT task FROM ledger_xacts WHERE kind='release' GROUP BY job, task HAVING count(*)>1")
assert not dup, dup
EOF
# the job's own view carries what the ledger holds for it and gave back (GET jobs/{id} and the GET jobs list alike)
curl -sf -H "Authorization: Bearer $TESSERA_TOKEN" "$TESSERA_MASTER/api/v1/jobs/$JOB" >"$T/job.json" \
  && curl -sf -H "Authorization: Bearer $TESSERA_TOKEN" "$TESSERA_MASTER/api/v1/jobs" >"$T/jobs.json" || fail "GET job $JOB"
python3 - "$DB" "$JOB" "$T/job.json" "$T/jobs.json" <<'EOF' && pass "job $JOB's view: locked and refunded are the ledger's" \
  || fail "job $JOB's locked/refunded differ from the ledger's"
import json, sqlite3, sys
db, job = sqlite3.connect(sys.argv[1]), int(sys.argv[2])
one = json.load(open(sys.argv[3]))
listed = [j for j in json.load(open(sys.argv[4])).get("jobs", []) if j["id"] == job]
q = lambda sql, *a: db.execute(sql, a).fetchall()[0][0]
held = q("SELECT coalesce(sum(b.amount),0) FROM ledger_balances b JOIN ledger_jobs l ON l.job=b.job AND "
         "l.requester=b.account WHERE b.job=? AND b.bucket IN ('escrow','locked')", job)
refunded = q("SELECT coalesce(sum(e.amount),0) FROM ledger_entries e JOIN ledger_xacts x ON x.id=e.xact "
             "WHERE x.kind='refund' AND x.job=? AND e.bucket='balance'", job)
released = q("SELECT coalesce(sum(e.amount),0) FROM ledger_entries e JOIN ledger_xacts x ON x.id=e.xact "
             "WHERE x.kind='release' AND x.job=? AND e.amount>0", job)
print(f"view: locked {one.get('locked')} refunded {one.get('refunded')} paid {one['paid']}; ledger: held {held} "
      f"refunded {refunded} released {released}")
assert one["locked"] == held and one["refunded"] == refunded, (one.get("locked"), one.get("refunded"), held, refunded)
assert one["state"] == "done" and one["locked"] == 0, one          # an ended job holds nothing
assert one["budget"] == released + one["locked"] + one["refunded"], one
assert 0 < one["paid"] <= released, (one["paid"], released)      # released also pays the spot checks
assert listed and listed[0]["locked"] == one["locked"] and listed[0]["refunded"] == one["refunded"], listed
EOF
cheat_stake=$(account_field "$(node_id cheat)" stake)
[ "$cheat_stake" = 0 ] && pass "the cheater's stake is slashed to 0" || fail "cheater stake $cheat_stake"
node_state() { "$BIN/tessera" nodes --json | python3 -c "import json,sys; print([n['state'] for n in json.load(sys.stdin) if n['name']=='$1'][0])"; }
[ "$(node_state cheat)" = unstaked ] && pass "tessera nodes shows the slashed cheater as unstaked" || fail "cheater state $(node_state cheat)"

# --- bad input ---
expect_refused() { # LABEL EXPECTED_TEXT ARGS...
  local label=$1 text=$2; shift 2
  "$BIN/tessera" submit render "$T/s.blend" --frames 1-2 --tiles 4x4 "$@" >"$T/bad.log" 2>&1
  local rc=$?
  if [ $rc -eq 2 ] && grep -q "$text" "$T/bad.log"; then pass "$label refused: $(head -n 1 "$T/bad.log")"
  else fail "$label: exit $rc: $(cat "$T/bad.log")"; fi
}
expect_refused "a budget of 0" "above 0" --budget 0
expect_refused "a budget below the job's minimum" "below the job's minimum" --budget 0.0001
expect_refused "a budget above the requester's balance" "below the budget" --budget 500 --requester studio
expect_refused "a malformed budget" "budget" --budget 1.2.3
"$BIN/tessera" wallet nosuchaccount >"$T/unknown.log" 2>&1
rc=$?
[ $rc -eq 3 ] && grep -q "nosuchaccount" "$T/unknown.log" && pass "an unknown account: exit 3" \
  || fail "unknown account: exit $rc: $(cat "$T/unknown.log")"
"$BIN/tessera" wallet studio --json | python3 -c '
import json, sys
h = json.load(sys.stdin)["history"]
kinds = {x["kind"] for x in h}
assert kinds == {"mint", "fund", "lock", "release", "refund"}, kinds
assert sum(x["amount"] for x in h if x["bucket"] == "balance") == '"$(account_field studio balance)"', h
' && pass "a requester's history (mint, fund, lock, release, refund) adds up to its balance" \
  || fail "studio's history: $("$BIN/tessera" wallet studio)"
check_conservation "after refused jobs"

# --- SIGKILL between acceptance and payment: each piece is paid once ---
JOB2=$("$BIN/tessera" submit render "$T/s.blend" --frames 1-2 --tiles 4x4 --budget 2 --requester studio)
for _ in $(seq 600); do
  [ "$(sql "SELECT count(*) FROM ledger_xacts WHERE kind='release' AND job=$JOB2")" -ge 4 ] && break
  sleep 0.1
done
kill -KILL "$MASTER_PID"; wait "$MASTER_PID" 2>/dev/null
log "killed the master with $(sql "SELECT count(*) FROM ledger_xacts WHERE kind='release' AND job=$JOB2") pieces of job $JOB2 paid"
start_master --check-wait 20 --requester-mint 100 --node-stake 10 --farm-mint 50 || finish
"$BIN/tessera" wait "$JOB2" --timeout 600 >"$T/wait2.log" 2>&1 || fail "job $JOB2 after the restart: $(tail -n 3 "$T/wait2.log")"
[ -z "$(sql "SELECT task FROM ledger_xacts WHERE job=$JOB2 AND kind IN ('lock','release') GROUP BY kind, task HAVING count(*)>1")" ] \
  && pass "after a SIGKILL and restart every piece was locked and paid once" || fail "a piece was paid twice"
unpaid=$(sql "SELECT count(*) FROM tasks t WHERE t.job_id=$JOB2 AND t.check_of=0 AND t.kind!=1 AND t.state='done' AND NOT EXISTS
  (SELECT 1 FROM ledger_xacts x WHERE x.job=t.job_id AND x.task=t.id AND x.kind IN ('release','pay'))")
[ "$unpaid" = 0 ] && pass "every accepted piece of job $JOB2 is paid" || fail "$unpaid accepted pieces unpaid"
check_conservation "after the restart"

# --- a node without the minimum stake gets no work ---
stop_all
rm -rf "$T/master" "$T"/slave-*
start_master --node-stake 0.5 --min-stake 1 || finish
start_slave poor
wait_nodes 1 || finish
JOB3=$("$BIN/tessera" submit render "$T/s.blend" --frames 1 --tiles 1x1)
sleep 4
state=$("$BIN/tessera" status "$JOB3" --json | python3 -c "import json,sys; j=json.load(sys.stdin); print(j['state'], j['tasks_done'])")
[ "$state" = "queued 0" ] && pass "a node with stake 0.5 below --min-stake 1 gets no work" || fail "job state: $state"
[ "$(node_state poor)" = unstaked ] && pass "tessera nodes shows it as unstaked" || fail "poor node state $(node_state poor)"
finish
