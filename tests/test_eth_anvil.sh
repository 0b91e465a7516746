#!/usr/bin/env bash
# test_eth_anvil: the Ethereum client (escrow/ts_eth: transfers, deployment, reverts, chain id and connection
# errors) against a local anvil chain, through `ts_selftest eth_anvil`.
# anvil: $ANVIL, else the project's pinned install under escrow/contracts/node_modules (make deps).
source "$(dirname "$0")/lib.sh"
start_anvil || finish
log "anvil up at $RPC"

TS_TEST_RPC=$RPC "$BIN/ts_selftest" -v eth_anvil >"$T/selftest.log" 2>&1
rc=$?
cat "$T/selftest.log"
if [ $rc -eq 0 ] && grep -q '^PASS eth_anvil$' "$T/selftest.log" && ! grep -q '^SKIP eth_anvil' "$T/selftest.log"; then
  pass "ts_selftest eth_anvil"
else
  fail "ts_selftest eth_anvil (exit $rc)"
fi
finish
