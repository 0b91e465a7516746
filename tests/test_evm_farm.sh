#!/usr/bin/env bash
# test_evm_farm: payments through the JobEscrow contract on a local chain (anvil on loopback). A render on 3 slaves,
# one cheating: the requester's token balance falls by exactly what the workers received, each honest worker gets
# exactly the prices of its accepted pieces and checks, the cheater's stake is slashed to the treasury, the rest
# is refunded, and the same job on the local ledger gives the same figures. A master SIGKILLed while payments are
# in flight (the chain not mining) pays every piece exactly once. A wrong chain id, a chain that is down and a
# budget the chain refuses give clear errors.
source "$(dirname "$0")/lib.sh"

# anvil's well-known test accounts: 0 is the master (requester, operator, verifier), 1-3 the nodes' payout keys
KEYS=(ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80 59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d
      5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a 7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6)
ADDR=(0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266 0x70997970C51812dc3A010C7d01b50e0d17dc79C8
      0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC 0x90F79bf6EB2c4f870365E785982E1f101E93b906)
TREASURY=0xa0ee7a142d267c1f36714e5a8f75612f20a79720
for i in 0 1 2 3; do printf '%s\n' "${KEYS[$i]}" >"$T/key$i.eth"; chmod 600 "$T/key$i.eth"; done
cp "$T/key0.eth" "$T/master.eth"

make_scene "$T/s.blend" --width 96 --height 64 --samples 16 --frames 1-2 || fail "make scene"
start_anvil || finish
DB="$T/master/tessera.db"
sql() { sqlite3 -batch -noheader "$DB" "$1"; }
wallet() { "$BIN/tessera" wallet --json; }
account_field() { # ACCOUNT FIELD
  wallet | python3 -c "import json,sys; print([a for a in json.load(sys.stdin)['accounts'] if a['account']=='$1'][0]['$2'])"
}
node_id() { "$BIN/tessera" nodes --json | python3 -c "import json,sys; print([n['id'] for n in json.load(sys.stdin) if n['name']=='$1'][0])"; }
# token balance of an address, from the token contract itself
balance_of() { # TOKEN ADDRESS
  rpc eth_call "[{\"to\":\"$1\",\"data\":\"0x70a08231000000000000000000000000${2#0x}\"},\"latest\"]" |
    python3 -c "import json,sys; print(int(json.load(sys.stdin)['result'], 16))"
}
wait_outbox_drained() {
  for _ in $(seq 600); do
    [ "$(sql "SELECT count(*) FROM outbox WHERE state='pending'")" = 0 ] && return 0
    sleep 0.1
  done
  return 1
}

# --- deploy, stake for three nodes ---
"$BIN/tessera" escrow deploy --rpc "$RPC" --key-file "$T/master.eth" --treasury "$TREASURY" --cooldown 60 \
  >"$T/deploy.json" 2>"$T/deploy.log" || { fail "deploy: $(cat "$T/deploy.log")"; finish; }
TOKEN=$(python3 -c "import json; print(json.load(open('$T/deploy.json'))['token'])")
ESCROW=$(python3 -c "import json; print(json.load(open('$T/deploy.json'))['escrow'])")
pass "tessera escrow deploy: token $TOKEN, escrow $ESCROW"
for i in 1 2 3; do
  "$BIN/tessera" escrow stake --rpc "$RPC" --key-file "$T/master.eth" --escrow-address "$ESCROW" --amount 10 \
    --for "${ADDR[$i]}" >"$T/stake$i.json" 2>&1 || fail "stake for ${ADDR[$i]}: $(cat "$T/stake$i.json")"
done
PAY_EVERY=3
EVM=(--escrow evm --rpc "$RPC" --escrow-address "$ESCROW" --key-file "$T/master.eth" --chain-id 31337 --check-pool 50
     --check-wait 20 --pay-every $PAY_EVERY --slash-share 1)

# --- bad configuration and a chain that is down ---
"$BIN/tessera-master" --state "$T/wrongchain" --http 127.0.0.1:0 --listen "tcp://127.0.0.1:$((ZPORT + 2))" --escrow evm \
  --rpc "$RPC" --escrow-address "$ESCROW" --key-file "$T/master.eth" --chain-id 5 >"$T/wrongchain.log" 2>&1
rc=$?
[ $rc -ne 0 ] && grep -q "chain id 31337 at .*expected 5" "$T/wrongchain.log" \
  && pass "a wrong chain id stops the master: $(tail -n 1 "$T/wrongchain.log")" || fail "wrong chain id: exit $rc: $(cat "$T/wrongchain.log")"

# --- a paid render with a cheater, on chain ---
start_master "${EVM[@]}" || finish
start_slave honest1 --payout-key "$T/key1.eth"
start_slave honest2 --payout-key "$T/key2.eth"
start_slave cheat --payout-key "$T/key3.eth" --cheat-share 1 --cheat-samples 1
wait_nodes 3 || finish
wait_outbox_drained || fail "the farm's pool was not funded"
before=$(balance_of "$TOKEN" "${ADDR[0]}")
JOB=$("$BIN/tessera" submit render "$T/s.blend" --frames 1-2 --tiles 4x4 --budget 3.5)
"$BIN/tessera" wait "$JOB" --timeout 600 >"$T/wait.log" 2>&1 || fail "job $JOB: $(tail -n 3 "$T/wait.log")"
wait_outbox_drained || fail "the outbox did not drain: $(sql "SELECT kind, error FROM outbox WHERE state!='done'")"
after=$(balance_of "$TOKEN" "${ADDR[0]}")
python3 - "$DB" "$JOB" "$before" "$after" "$(wallet)" "$(node_id honest1)" "$(node_id honest2)" "$(node_id cheat)" \
  "$(balance_of "$TOKEN" "${ADDR[1]}")" "$(balance_of "$TOKEN" "${ADDR[2]}")" "$(balance_of "$TOKEN" "$TREASURY")" \
  >"$T/figures.txt" 2>&1 <<'EOF' && pass "on chain: requester paid exactly the workers' pay, honest workers exactly their pieces' and checks' prices, cheater slashed to the treasury, rest refunded" || fail "the chain's figures do not add up: $(cat "$T/figures.txt")"
import json, sqlite3, sys
db, job, before, after, w = sqlite3.connect(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), json.loads(sys.argv[5])
honest, cheat, bal, treasury = sys.argv[6:8], sys.argv[8], [int(x) for x in sys.argv[9:11]], int(sys.argv[11])
acct = {a["account"]: a for a in w["accounts"]}
q = lambda sql, *a: db.execute(sql, a).fetchall()
assert not q("SELECT id FROM outbox WHERE state!='done'"), q("SELECT kind, error FROM outbox WHERE state!='done'")
released = q("SELECT sum(amount) FROM outbox WHERE kind='release' AND job=?", job)[0][0]
prices = q("SELECT sum(price) FROM tasks WHERE job_id=? AND check_of=0 AND kind!=1", job)[0][0]
open(sys.argv[1] + ".figures", "w").write(json.dumps({"budget": 3_500_000, "prices": prices,
    "piece_prices": q("SELECT kind, frame, tile, price FROM tasks WHERE job_id=? AND check_of=0 AND kind!=1 ORDER BY kind, frame, tile", job)}))
print(f"requester {before} -> {after}: paid {before - after}; released {released}; piece prices {prices}")
assert before - after == released == prices, (before, after, released, prices)
for node, got in zip(honest, bal):
    work = q("SELECT coalesce(sum(price),0) FROM tasks WHERE job_id=? AND check_of=0 AND state='done' AND node=?", job, node)[0][0]
    checks = q("SELECT coalesce(sum(o.price),0) FROM tasks c JOIN tasks o ON o.id=c.check_of WHERE c.job_id=? AND "
               "c.state='done' AND c.verify='check' AND c.node=? AND o.node!=c.node", job, node)[0][0]
    # (a check whose result became the piece's, its first result thrown out, is paid as the piece)
    print(f"node {node[:8]}: work {work} checks {checks} tokens {got}")
    assert work > 0 and got == work + checks, (node, work, checks, got)
    assert acct[node]["stake"] == 10_000_000 and acct[node]["balance"] == got, acct[node]
assert acct[cheat]["stake"] == 0 and treasury == 10_000_000, (acct[cheat], treasury)
assert acct["master"]["locked"] == 0, acct["master"]           # the job's rest went back
txs = q("SELECT count(DISTINCT tx) FROM outbox WHERE job=? AND tx!=''", job)[0][0]
pieces = q("SELECT count(*) FROM outbox WHERE job=? AND kind='release'", job)[0][0]
release_txs = q("SELECT count(DISTINCT tx) FROM outbox WHERE job=? AND kind='release'", job)[0][0]
print(f"{pieces} pieces paid in {release_txs} release transactions ({txs} transactions for the job in all)")
assert release_txs < pieces / 2, (release_txs, pieces)   # batched (bench/bench_escrow.py measures 100-piece jobs)
EOF
cat "$T/figures.txt"

# --- SIGKILL while payments are in flight: the chain stops mining, the master dies, the chain resumes ---
JOB2=$("$BIN/tessera" submit render "$T/s.blend" --frames 1-2 --tiles 4x4 --budget 2)
for _ in $(seq 600); do   # its budget is on chain: the farm starts on it
  [ "$(sql "SELECT funded FROM jobs WHERE id=$JOB2")" = 1 ] && break
  sleep 0.1
done
rpc evm_setAutomine '[false]' >/dev/null
# accepted pieces whose payment batch is due: the payer has sent it and waits for a block that does not come
for _ in $(seq 600); do
  [ "$(sql "SELECT count(*) FROM outbox WHERE kind='release' AND job=$JOB2 AND state='pending' AND
            created < strftime('%s','now') - $PAY_EVERY - 2")" -ge 1 ] && break
  sleep 0.1
done
in_flight=$(sql "SELECT count(*) FROM outbox WHERE kind='release' AND job=$JOB2 AND state='pending'")
kill -KILL "$MASTER_PID"; wait "$MASTER_PID" 2>/dev/null
log "killed the master with $in_flight payments of job $JOB2 accepted but not on chain"
[ "$in_flight" -ge 1 ] || fail "no payment was in flight when the master died: the test proves nothing"
rpc evm_setAutomine '[true]' >/dev/null; rpc evm_mine >/dev/null
start_master "${EVM[@]}" || finish
"$BIN/tessera" wait "$JOB2" --timeout 600 >"$T/wait2.log" 2>&1 || fail "job $JOB2 after the restart: $(tail -n 3 "$T/wait2.log")"
wait_outbox_drained || fail "the outbox did not drain after the restart"
# every TaskReleased event on chain, counted per task id (topic0 from ethers' keccak of the event's signature)
TOPIC=$(cd "$TOP/escrow/contracts" && node -e "console.log(require('ethers').id('TaskReleased(bytes32,bytes32,address,uint256)'))")
rpc eth_getLogs "[{\"address\":\"$ESCROW\",\"fromBlock\":\"0x0\",\"toBlock\":\"latest\",\"topics\":[\"$TOPIC\"]}]" >"$T/logs.json"
python3 - "$DB" "$JOB2" "$T/logs.json" <<'EOF' && pass "after a SIGKILL with payments in flight every piece was paid exactly once on chain" || fail "a piece was paid twice or not at all"
import json, sqlite3, sys
db, job, logs = sqlite3.connect(sys.argv[1]), int(sys.argv[2]), json.load(open(sys.argv[3]))["result"]
per_task = {}
for e in logs:   # TaskReleased(bytes32 indexed jobId, bytes32 indexed taskId, address indexed worker, uint256 price)
    per_task[e["topics"][2]] = per_task.get(e["topics"][2], 0) + 1
dups = {k: v for k, v in per_task.items() if v > 1}
assert logs and not dups, dups
accepted = db.execute("SELECT count(*) FROM tasks WHERE job_id=? AND check_of=0 AND kind!=1 AND state='done'", (job,)).fetchone()[0]
rows = db.execute("SELECT count(*) FROM outbox WHERE kind='release' AND job=? AND state='done'", (job,)).fetchone()[0]
print(f"{accepted} accepted pieces, {rows} releases done, {len(per_task)} task ids released on chain, no duplicates")
assert rows == accepted, (rows, accepted)
EOF

# --- a budget the chain refuses: more tokens than the requester holds ---
JOB3=$("$BIN/tessera" submit render "$T/s.blend" --frames 1 --tiles 1x1 --budget 2000000000)
"$BIN/tessera" wait "$JOB3" --timeout 120 >"$T/wait3.log" 2>&1
rc=$?
err=$("$BIN/tessera" status "$JOB3" --json | python3 -c "import json,sys; print(json.load(sys.stdin)['error'])")
[ $rc -eq 1 ] && echo "$err" | grep -q "the chain refused the job's budget" \
  && pass "a budget the chain refuses fails the job: $err" || fail "refused budget: exit $rc, error: $err"
curl -sf "$TESSERA_MASTER/api/v1/health" >/dev/null && pass "the master keeps running" || fail "the master died"

# --- the chain goes down: new jobs wait, the farm keeps running ---
kill -KILL "$ANVIL_PID"; wait "$ANVIL_PID" 2>/dev/null
JOB4=$("$BIN/tessera" submit render "$T/s.blend" --frames 1 --tiles 1x1 --budget 1)
sleep 3
state=$("$BIN/tessera" status "$JOB4" --json | python3 -c "import json,sys; j=json.load(sys.stdin); print(j['state'], j['tasks_done'])")
[ "$state" = "queued 0" ] && pass "with the chain down a new job waits for its budget" || fail "job with the chain down: $state"
grep -q "unreachable" "$T/master.log" && pass "the master says the chain is unreachable" || fail "no word of the chain in the log"
"$BIN/tessera" wallet >"$T/wallet-down.log" 2>&1
rc=$?
[ $rc -eq 4 ] && grep -q "unreachable" "$T/wallet-down.log" && pass "tessera wallet with the chain down: exit 4, $(head -n 1 "$T/wallet-down.log")" \
  || fail "wallet with the chain down: exit $rc: $(cat "$T/wallet-down.log")"
curl -sf "$TESSERA_MASTER/api/v1/health" >/dev/null && pass "the master keeps running with the chain down" || fail "the master died"

# --- the same job on the local ledger gives the same figures ---
FIG=$(cat "$DB.figures")
stop_all
rm -rf "$T/master" "$T"/slave-*
start_master --check-wait 20 --slash-share 1 || finish
start_slave honest1
start_slave honest2
start_slave cheat --cheat-share 1 --cheat-samples 1
wait_nodes 3 || finish
JOB=$("$BIN/tessera" submit render "$T/s.blend" --frames 1-2 --tiles 4x4 --budget 3.5)
"$BIN/tessera" wait "$JOB" --timeout 600 >"$T/wait5.log" 2>&1 || fail "local job $JOB: $(tail -n 3 "$T/wait5.log")"
python3 - "$DB" "$JOB" "$FIG" "$(wallet)" "$(node_id cheat)" 2>&1 <<'EOF' && pass "the same job on the local ledger: the same prices, the same total paid and refunded, the cheater slashed the same" || fail "the local ledger's figures differ from the chain's"
import json, sqlite3, sys
db, job, chain, w, cheat = sqlite3.connect(sys.argv[1]), int(sys.argv[2]), json.loads(sys.argv[3]), json.loads(sys.argv[4]), sys.argv[5]
q = lambda sql, *a: db.execute(sql, a).fetchall()
# The same pieces at the same prices. Which pieces a run has depends on when the cheater is caught: a frame stitched
# before its cheated tile was found is stitched again, a finish more (paid: its node did the work honestly); so each
# (kind, frame, tile) must cost the same in both, and each ledger must pay exactly its own pieces.
pieces = [list(r) for r in q("SELECT kind, frame, tile, price FROM tasks WHERE job_id=? AND check_of=0 AND kind!=1 ORDER BY kind, frame, tile", job)]
price_of = lambda rows: {tuple(r[:3]): r[3] for r in rows}
local, onchain = price_of(pieces), price_of(chain["piece_prices"])
assert local == onchain, (pieces, chain["piece_prices"])
prices = sum(r[3] for r in pieces)
released = q("SELECT sum(e.amount) FROM ledger_entries e JOIN ledger_xacts x ON x.id=e.xact WHERE x.kind='release' AND x.job=? AND e.amount>0", job)[0][0]
refunded = q("SELECT sum(e.amount) FROM ledger_entries e JOIN ledger_xacts x ON x.id=e.xact WHERE x.kind='refund' AND x.job=? AND e.bucket='balance'", job)[0][0]
acct = {a["account"]: a for a in w["accounts"]}
print(f"local: {len(pieces)} pieces, paid {released} refunded {refunded}; chain: {len(chain['piece_prices'])} pieces, paid {chain['prices']} refunded {chain['budget'] - chain['prices']}")
assert released == prices and refunded == chain["budget"] - prices, (released, prices, refunded)
assert acct[cheat]["stake"] == 0, acct[cheat]
EOF
finish
