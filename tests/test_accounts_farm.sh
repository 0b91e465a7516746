#!/usr/bin/env bash
# test_accounts_farm: people on the API: every route but health, blobs and torrents wants a token (401 without one or
# with a wrong one); two requesters each see, wait on, download and cancel only their own jobs and pay for them
# themselves; a requester cannot lift a node, add an account or credit one; a revoked token stops at once; the
# token file works; a burst of wrong tokens from one address is slowed (429) while others are answered; the API over
# TLS with a self-signed certificate (CLI and slave trusting it, plain HTTP not answered); an IPv6 listen address.
source "$(dirname "$0")/lib.sh"

make_scene "$T/scene.blend" --width 64 --height 48 --samples 4 --frames 1-1 || { fail "make scene"; finish; }
start_master || finish
start_slave a
wait_nodes 1 || finish
OP=$TESSERA_TOKEN
H0=$(printf %064d 0)
code_of() { curl -s -o "$T/body.json" -w '%{http_code}' "$@"; }

# 1. Every route but health, blobs and torrents: 401 without a token and with a wrong one (each from its own address,
#    so the burst limit, 20 a second per address, does not answer them 429 first).
ROUTES=("GET /jobs" "POST /jobs" "GET /jobs/1" "GET /jobs/1/inputs" "POST /jobs/1/cancel" "GET /jobs/1/outputs/1"
        "GET /nodes" "POST /nodes/$H0/lift" "GET /wallet" "GET /wallet/default" "GET /stats" "POST /blobs/missing"
        "PUT /blobs/$H0" "GET /accounts" "POST /accounts" "POST /accounts/x/revoke" "POST /accounts/x/credit")
bad=0
for r in "${ROUTES[@]}"; do
  set -- $r
  a=$(code_of --interface 127.0.0.3 -X "$1" -d '{}' "$TESSERA_MASTER/api/v1$2")
  b=$(code_of --interface 127.0.0.4 -X "$1" -d '{}' -H "Authorization: Bearer tsk_$(printf %080d 7)" "$TESSERA_MASTER/api/v1$2")
  [ "$a" = 401 ] && [ "$b" = 401 ] || { bad=1; fail "$r: $a without a token, $b with a wrong one (want 401)"; }
done
[ $bad = 0 ] && pass "${#ROUTES[@]} routes answer 401 without a token and with a wrong one"
[ "$(code_of "$TESSERA_MASTER/api/v1/health")" = 200 ] && [ "$(code_of "$TESSERA_MASTER/api/v1/blobs/$H0")" = 404 ] \
  && [ "$(code_of "$TESSERA_MASTER/api/v1/torrents/$H0")" = 404 ] \
  && pass "health, blobs and torrents by hash need no token (slaves fetch them)" || fail "public routes: $(cat "$T/body.json")"
"$BIN/tessera" --token "tsk_$(printf %080d 7)" jobs >"$T/out.txt" 2>&1; rc=$?
[ $rc = 6 ] && grep -q "refused the token from --token" "$T/out.txt" && pass "CLI with a wrong token: exit 6, says so" \
  || fail "CLI wrong token: exit $rc: $(cat "$T/out.txt")"
grep -q "$OP" "$T/master.log" && fail "the operator's token is in the master's log"
[ "$(stat -c %a "$T/master/operator.token")" = 600 ] && pass "operator.token is mode 0600" || fail "operator.token mode"

# 2. Accounts: added by the operator, each token printed once.
for who in ann bob; do
  "$BIN/tessera" account add $who --json >"$T/$who.json" || fail "account add $who"
done
ANN=$(python3 -c "import json; print(json.load(open('$T/ann.json'))['token'])")
BOB=$(python3 -c "import json; print(json.load(open('$T/bob.json'))['token'])")
expect_fail 2 "exists already" "adding an existing account" -- "$BIN/tessera" account add ann
expect_fail 2 "reserved" "the account name 'default' is reserved" -- "$BIN/tessera" account add default
expect_fail 2 "reserved" "the account name 'farm' is reserved" -- "$BIN/tessera" account add farm
grep -q "$ANN" "$T/master.log" "$T/master/tessera.db" && fail "ann's token is in the master's log or database"

balance() { TESSERA_TOKEN=$OP "$BIN/tessera" wallet --json | python3 -c "import json,sys; print(sum(a['balance'] for a in json.load(sys.stdin)['accounts'] if a['account']=='$1' and a['kind']=='requester'))"; }

# 3. ann renders; the job is hers and she pays for it.
export TESSERA_TOKEN=$ANN
JA=$("$BIN/tessera" submit render "$T/scene.blend" --frames 1 --tiles 2x1 --budget 3 --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
"$BIN/tessera" wait "$JA" --out "$T/ann-out" --timeout 300 >"$T/wait.log" 2>&1 || fail "ann's job: $(tail -n 3 "$T/wait.log")"
[ "$("$BIN/tessera" status "$JA" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["requester"])')" = ann ] \
  && pass "ann's job $JA is paid by ann (status --json shows its requester)" || fail "job $JA's requester"
ANN_AFTER=$(balance ann)

# 4. bob cannot see, list, wait on, download from or cancel ann's job.
export TESSERA_TOKEN=$BOB
expect_fail 3 "no job" "bob: status of ann's job is unknown" -- "$BIN/tessera" status "$JA"
expect_fail 3 "no job" "bob: wait on ann's job is unknown" -- "$BIN/tessera" wait "$JA" --timeout 5
expect_fail 3 "no job" "bob: cancel ann's job is unknown" -- "$BIN/tessera" cancel "$JA"
[ "$(code_of -H "Authorization: Bearer $BOB" "$TESSERA_MASTER/api/v1/jobs/$JA/outputs/1")" = 404 ] \
  && [ "$(code_of -H "Authorization: Bearer $BOB" "$TESSERA_MASTER/api/v1/jobs/$JA/inputs")" = 404 ] \
  && pass "bob: ann's frame and inputs are 404" || fail "bob downloads ann's frame: $(cat "$T/body.json")"
"$BIN/tessera" jobs --json | python3 -c "import json,sys; assert json.load(sys.stdin) == []" \
  && pass "bob's job list is empty" || fail "bob lists others' jobs"
TESSERA_TOKEN=$ANN "$BIN/tessera" jobs --json | python3 -c "import json,sys; assert [j['id'] for j in json.load(sys.stdin)] == [$JA]" \
  && pass "ann lists her job alone" || fail "ann's list"

# 5. bob asking to be billed to ann is refused; his own job is his to pay.
expect_fail 6 "not this token's account" "bob: --requester ann is refused (403)" -- \
  "$BIN/tessera" submit render "$T/scene.blend" --frames 1 --requester ann
JB=$("$BIN/tessera" submit render "$T/scene.blend" --frames 1 --budget 2 --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
"$BIN/tessera" wait "$JB" --timeout 300 >/dev/null 2>&1 || fail "bob's job"
[ "$("$BIN/tessera" status "$JB" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["requester"])')" = bob ] \
  && [ "$(balance ann)" = "$ANN_AFTER" ] && pass "bob's job $JB is billed to bob; ann's balance is untouched" \
  || fail "bob's job billing: requester/ann's balance $(balance ann) vs $ANN_AFTER"
"$BIN/tessera" wallet --json | python3 -c "
import json,sys; w=json.load(sys.stdin); assert [a['account'] for a in w['accounts']] == ['bob'] and 'minted' not in w, w" \
  && pass "bob's wallet shows his own account alone" || fail "bob's wallet view"
expect_fail 6 "only the farm's operator" "bob: another account's history is refused (403)" -- "$BIN/tessera" wallet ann

# 6. Operator-only routes.
NODE=$(TESSERA_TOKEN=$OP "$BIN/tessera" nodes --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')
[ "$(code_of -X POST -H "Authorization: Bearer $BOB" "$TESSERA_MASTER/api/v1/nodes/$NODE/lift")" = 403 ] \
  && pass "bob cannot lift a node (403)" || fail "bob lifts a node: $(cat "$T/body.json")"
expect_fail 6 "only the farm's operator" "bob cannot add an account" -- "$BIN/tessera" account add carol
expect_fail 6 "only the farm's operator" "bob cannot credit an account" -- "$BIN/tessera" account credit bob 100
export TESSERA_TOKEN=$OP
B0=$(balance ann)
"$BIN/tessera" account credit ann 5 >/dev/null && [ "$(balance ann)" = $((B0 + 5000000)) ] \
  && pass "the operator credits ann 5 tokens" || fail "credit: $B0 -> $(balance ann)"
"$BIN/tessera" wallet --json | python3 -c "import json,sys; w=json.load(sys.stdin); assert w['minted']==w['held'], w" \
  && pass "the ledger still balances (minted = held)" || fail "ledger after credit"

# 7. Revoked: bob's token stops at once; the token file works.
"$BIN/tessera" account revoke bob >/dev/null || fail "revoke bob"
expect_fail 6 "refused the token" "bob's token stops working once revoked" -- env TESSERA_TOKEN=$BOB "$BIN/tessera" jobs
mkdir -p "$T/config/tessera"; echo "$ANN" >"$T/config/tessera/token"
env -u TESSERA_TOKEN XDG_CONFIG_HOME="$T/config" "$BIN/tessera" status "$JA" >/dev/null \
  && pass "the CLI reads the token file in the config folder" || fail "token file"
expect_fail 6 "wants a token" "no token anywhere: exit 6, says where to put one" -- env -u TESSERA_TOKEN XDG_CONFIG_HOME="$T/none" "$BIN/tessera" jobs

# 8. A burst of wrong tokens from one address is slowed down (429 after 20); another address is answered at once.
codes=""
for i in $(seq 24); do codes+="$(code_of --interface 127.0.0.5 -H "Authorization: Bearer tsk_x$i" "$TESSERA_MASTER/api/v1/jobs") "; done
t0=$(date +%s.%N); c=$(code_of -H "Authorization: Bearer $OP" "$TESSERA_MASTER/api/v1/jobs"); t1=$(date +%s.%N)
case "$codes" in *429*) ok=1 ;; *) ok=0 ;; esac
[ $ok = 1 ] && [ "$c" = 200 ] && python3 -c "assert $t1 - $t0 < 0.5" \
  && pass "wrong tokens: 429 after the burst; the operator's address is answered at once" || fail "burst: $codes / $c"
t0=$(date +%s.%N); c=$(code_of --interface 127.0.0.5 -H "Authorization: Bearer $OP" "$TESSERA_MASTER/api/v1/jobs"); t1=$(date +%s.%N)
[ "$c" = 200 ] && python3 -c "assert $t1 - $t0 < 0.5" \
  && pass "a valid token from the slowed address is still served at once (a shared NAT is not locked out)" \
  || fail "valid token from the slowed address: $c"
grep -q "answered 429" "$T/master.log" && pass "the master logs the address it slows down" || fail "no log of the burst"
alive "wrong tokens"

# 9. TLS: a second master over HTTPS with a self-signed certificate; the slave and the CLI trust it by file.
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=127.0.0.1" -addext "subjectAltName=IP:127.0.0.1" \
  -keyout "$T/tls.key" -out "$T/tls.crt" >"$T/openssl.log" 2>&1 || { fail "openssl"; finish; }
SPORT=$((HPORT + 2)) SZ=$((HPORT + 3))
"$BIN/tessera-master" --state "$T/tls" --listen "tcp://127.0.0.1:$SZ" --http "127.0.0.1:$SPORT" --tls-cert "$T/tls.crt" \
  --tls-key "$T/tls.key" --no-lsd --torrent-listen 127.0.0.1:0 --heartbeat-ms 500 >"$T/tls-master.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do curl -sf --cacert "$T/tls.crt" "https://127.0.0.1:$SPORT/api/v1/health" >/dev/null && break; sleep 0.1; done
"$BIN/tessera-slave" --master "tcp://127.0.0.1:$SZ" --master-cert "$T/tls/master.cert" --work "$T/slave-tls" --name tls \
  --no-lsd --torrent-listen 127.0.0.1:0 --ca-file "$T/tls.crt" >"$T/slave-tls.log" 2>&1 &
PIDS+=($!)
export TESSERA_MASTER=https://127.0.0.1:$SPORT TESSERA_TOKEN=$(cat "$T/tls/operator.token") TESSERA_CA_FILE=$T/tls.crt
if "$BIN/tessera" submit render "$T/scene.blend" --frames 1 --tiles 2x1 --wait --out "$T/tls-out" --timeout 300 >"$T/tls.log" 2>&1 \
   && same_image "$T/tls-out/frame_0001.png" "$T/ann-out/frame_0001.png"; then
  pass "a job over HTTPS (CLI with TESSERA_CA_FILE, slave with --ca-file) renders the same frame"
else fail "HTTPS job: $(tail -n 3 "$T/tls.log")"; fi
expect_fail 4 "certificate" "the CLI refuses the self-signed certificate without --ca-file" -- env -u TESSERA_CA_FILE "$BIN/tessera" jobs
curl -s -m 5 "http://127.0.0.1:$SPORT/api/v1/health" >"$T/plain.txt" 2>&1
grep -q version "$T/plain.txt" && fail "the TLS port answers plain HTTP" || pass "the TLS port does not answer plain HTTP"

# 10. An IPv6 listen address.
V6=$((HPORT + 4))
"$BIN/tessera-master" --state "$T/v6" --listen "tcp://127.0.0.1:$((HPORT + 5))" --http "[::1]:$V6" --no-torrent >"$T/v6-master.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do curl -sf "http://[::1]:$V6/api/v1/health" >/dev/null && break; sleep 0.1; done
TESSERA_MASTER="http://[::1]:$V6" TESSERA_TOKEN=$(cat "$T/v6/operator.token") "$BIN/tessera" jobs --json >"$T/v6.json" 2>&1 \
  && pass "the API on [::1] answers the CLI" || fail "IPv6: $(cat "$T/v6.json")"
finish
