#!/usr/bin/env bash
# test_contracts: the escrow contracts (escrow/contracts/*.sol) compile with the pinned solc-js and pass their unit tests on a local anvil chain.
set -euo pipefail
cd "$(dirname "$0")/../escrow/contracts"

if ! command -v node >/dev/null 2>&1; then
  echo "FAILED: $(basename "$0"): node is not installed: run make deps"
  exit 1
fi
if [ ! -d node_modules ] || [ ! -x node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil ] || [ ! -d node_modules/solc ]; then
  echo "FAILED: $(basename "$0"): escrow/contracts/node_modules is missing or incomplete: run make deps"
  exit 1
fi

# a test that waits longer than a minute fails rather than holding the run (Node.js 20 has the option, Debian's 18 not)
TIMEOUT=()
node --help | grep -q -- --test-timeout && TIMEOUT=(--test-timeout=60000)
if node --test "${TIMEOUT[@]}" --test-reporter=spec test/; then
  echo "PASSED: $(basename "$0")"
else
  echo "FAILED: $(basename "$0")"
  exit 1
fi
