#!/usr/bin/env bash
# test_eth_anvil: the Ethereum client (escrow/ts_eth: transfers, deployment, reverts, chain id and connection
# errors) against a local anvil chain, through `ts_selftest eth_anvil`.
# anvil: $ANVIL, else the project's pinned install under escrow/contracts/node_modules (make deps).
ANVIL=${ANVIL:-$(cd "$(dirname "$0")/.." && pwd)/escrow/contracts/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil}
if [ ! -x "$ANVIL" ]; then
  echo "FAIL: anvil not found at $ANVIL: run make deps"
  exit 1
fi
source "$(dirname "$0")/lib.sh"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
RPC=http://127.0.0.1:$PORT
"$ANVIL" --host 127.0.0.1 --port "$PORT" --silent >"$T/anvil.log" 2>&1 &
ANVIL_PID=$!
trap 'kill -KILL "$ANVIL_PID" 2>/dev/null; wait "$ANVIL_PID" 2>/dev/null' EXIT

up=0
for _ in $(seq 100); do
  curl -sf -H 'Content-Type: application/json' --data '{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}' \
    "$RPC" >/dev/null 2>&1 && { up=1; break; }
  kill -0 "$ANVIL_PID" 2>/dev/null || break
  sleep 0.1
done
[ $up -eq 1 ] && log "anvil up at $RPC" || { fail "anvil did not come up at $RPC"; finish; }

TS_TEST_RPC=$RPC "$BIN/ts_selftest" -v eth_anvil >"$T/selftest.log" 2>&1
rc=$?
cat "$T/selftest.log"
if [ $rc -eq 0 ] && grep -q '^PASS eth_anvil$' "$T/selftest.log" && ! grep -q 'skipped' "$T/selftest.log"; then
  pass "ts_selftest eth_anvil"
else
  fail "ts_selftest eth_anvil (exit $rc)"
fi
finish
