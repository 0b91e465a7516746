# tests/lib.sh: helpers for the integration tests: a local farm (master + slaves) on loopback, checks, cleanup.
# Source it; it sets TOP, BIN, and a per-test directory T (removed on success, kept on failure).
set -u
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=${TESSERA_BIN:-$TOP/build/bin}
T=$(mktemp -d /tmp/tessera-test.XXXXXX)
PIDS=()
FAILS=0
# Ports from the test's own process id, so tests can run side by side.
ZPORT=$((20000 + ($$ % 6000) * 2)) # below the ephemeral range (32768+) that port-0 listeners and clients use
HPORT=$((ZPORT + 1))
export TESSERA_MASTER=http://127.0.0.1:$HPORT

log() { echo "[$(date +%H:%M:%S)] $*"; }
fail() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }
pass() { echo "ok: $*"; }

# make_scene OUT.blend [make_scene.py options...]
make_scene() {
  local out=$1; shift
  blender -b --factory-startup -noaudio --python "$TOP/samples/make_scene.py" -- --out "$out" "$@" \
    >"$T/make_scene.log" 2>&1 || { cat "$T/make_scene.log"; return 1; }
}

start_master() {
  "$BIN/tessera-master" --state "$T/master" --listen "tcp://127.0.0.1:$ZPORT" --http "127.0.0.1:$HPORT" \
    --node-timeout "${NODE_TIMEOUT:-4}" --heartbeat-ms 500 --no-lsd --torrent-listen 127.0.0.1:0 "$@" \
    >>"$T/master.log" 2>&1 &
  MASTER_PID=$!
  PIDS+=("$MASTER_PID")
  for _ in $(seq 100); do
    # the CLI and api() use the operator's token, which the master writes before it answers
    curl -sf "$TESSERA_MASTER/api/v1/health" >/dev/null 2>&1 && export TESSERA_TOKEN=$(cat "$T/master/operator.token") &&
      return 0
    sleep 0.1
  done
  fail "master did not come up"; cat "$T/master.log"; return 1
}

# opcurl ARGS...: curl with the operator's token (the API's routes need one; health, blobs and torrents do not).
opcurl() { curl -H "Authorization: Bearer $TESSERA_TOKEN" "$@"; }

# start_slave NAME [extra options]; sets SLAVE_PID
start_slave() {
  local name=$1; shift
  "$BIN/tessera-slave" --master "tcp://127.0.0.1:$ZPORT" --master-cert "$T/master/master.cert" \
    --work "$T/slave-$name" --name "$name" --no-lsd --torrent-listen 127.0.0.1:0 "$@" >>"$T/slave-$name.log" 2>&1 &
  SLAVE_PID=$!
  PIDS+=("$SLAVE_PID")
}

# wait_nodes N: until N nodes are connected (whatever their state: busy, blocked, unstaked...).
wait_nodes() {
  for _ in $(seq 300); do
    local n
    n=$("$BIN/tessera" nodes --json 2>/dev/null | python3 -c 'import json,sys; print(sum(1 for n in json.load(sys.stdin) if n["online"]))' 2>/dev/null)
    [ "${n:-0}" -ge "$1" ] && return 0
    sleep 0.2
  done
  fail "only ${n:-0} of $1 nodes came online"; return 1
}

# node_field NAME FIELD: one field of one node from `tessera nodes --json`
node_field() {
  "$BIN/tessera" nodes --json | python3 -c "import json,sys; print([n for n in json.load(sys.stdin) if n['name']=='$1'][0]['$2'])"
}

# expect_fail CODE NEEDLE LABEL -- command...: exit code CODE and NEEDLE (any case) in its stderr/stdout.
expect_fail() {
  local code=$1 needle=$2 label=$3; shift 4
  "$@" >"$T/out.txt" 2>&1; local rc=$?
  if [ "$rc" -eq "$code" ] && grep -qi -- "$needle" "$T/out.txt"; then pass "$label (exit $rc: $(head -c 200 "$T/out.txt" | tr '\n' ' '))"
  else fail "$label: exit $rc, wanted $code with '$needle'; said: $(head -c 300 "$T/out.txt")"; fi
}
# synthetic_line JOB N: the output line of a synthetic job of N pieces, recomputed here from lib/ts_synthetic.h's
# definition (BLAKE2b-256 of each piece's bytes, in order), so a test checks the master's join and every node's bytes.
synthetic_line() {
  python3 - "$1" "$2" <<'PY'
import hashlib, sys
job, n = int(sys.argv[1]), int(sys.argv[2])
whole = hashlib.blake2b(digest_size=32)
for i in range(n):
    whole.update(hashlib.blake2b(b"tessera-synthetic\0" + job.to_bytes(8, "big") + i.to_bytes(8, "big"), digest_size=32).digest())
print("synthetic job %d: %d pieces, BLAKE2b-256 of their outputs in order %s" % (job, n, whole.hexdigest()))
PY
}
# alive WHAT: the master still answers (after WHAT).
alive() { curl -sf "$TESSERA_MASTER/api/v1/health" >/dev/null || fail "the master died ($1)"; }

# reference SCENE FRAME PREFIX: plain `blender -b SCENE -f FRAME`, output PREFIX_####.<ext>
reference() {
  blender -b "$1" -o "${3}_####" -f "$2" >"$T/reference.log" 2>&1
}

same_image() {
  idiff -fail 0 -warn 0 "$1" "$2" >"$T/idiff.log" 2>&1
}

stop_all() {
  local rc=0
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
  for p in "${PIDS[@]}"; do
    wait "$p" 2>/dev/null; local r=$?
    # 0: clean exit on SIGTERM; 137: a process the test itself SIGKILLed
    [ $r -eq 0 ] || [ $r -eq 137 ] || { echo "process $p exited $r on SIGTERM"; rc=1; }
  done
  PIDS=()
  return $rc
}

finish() {
  stop_all || FAILS=$((FAILS + 1))
  # Every Blender and encoder a slave started (or the sandbox holding it) must be gone with it (reaped, or killed
  # with a SIGKILLed slave).
  sleep 0.5
  for pid in $(cat "$T"/slave-*.log 2>/dev/null | sed -n 's/.*\(blender\|encoder\) started (pid \([0-9]*\)[,)].*/\2/p'); do
    if kill -0 "$pid" 2>/dev/null && grep -qa "blender\|encoder" "/proc/$pid/cmdline" 2>/dev/null; then
      fail "$(tr '\0' ' ' <"/proc/$pid/cmdline" | head -c 80) (pid $pid) outlived its slave"
    fi
  done
  if [ "$FAILS" -eq 0 ]; then
    rm -rf "$T"
    echo "PASSED: $(basename "$0")"
    exit 0
  fi
  echo "logs kept in $T"
  for f in "$T"/*.log; do echo "== $f"; tail -n 30 "$f"; done
  echo "FAILED: $(basename "$0") ($FAILS)"
  exit 1
}
# start_anvil: a local chain on loopback from the project's pinned anvil (make deps); sets RPC and ANVIL_PID.
ANVIL=${ANVIL:-$TOP/escrow/contracts/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil}
ANVIL_PID=
start_anvil() {
  [ -x "$ANVIL" ] || { fail "anvil not found at $ANVIL: run make deps"; return 1; }
  local port
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
  RPC=http://127.0.0.1:$port
  "$ANVIL" --host 127.0.0.1 --port "$port" --silent "$@" >>"$T/anvil.log" 2>&1 &
  ANVIL_PID=$!
  for _ in $(seq 100); do
    rpc eth_chainId >/dev/null 2>&1 && return 0
    kill -0 "$ANVIL_PID" 2>/dev/null || break
    sleep 0.1
  done
  fail "anvil did not come up at $RPC"; return 1
}
# rpc METHOD [PARAMS_JSON]: the chain's answer (JSON)
rpc() {
  curl -sf -H 'Content-Type: application/json' \
    --data "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"$1\",\"params\":${2:-[]}}" "$RPC"
}
trap 'for p in "${PIDS[@]}" $ANVIL_PID; do kill -KILL "$p" 2>/dev/null; done' EXIT
