#!/usr/bin/env python3
"""bench_escrow: what paying a job through the JobEscrow contract costs on a chain, gas per piece settled and
transactions per job, next to what a user would do instead, in the same run on the same chain (anvil on loopback):
  - tessera: a farm of 2 slaves renders one frame in 10x10 tiles (100 tiles + 1 finish = 101 paid pieces) with
    --escrow evm; the figures come from the master's outbox (every transaction it sent for the job: approve + fund,
    batched price locks, batched releases sorted by worker, the refund);
  - one settlement per piece: the same contract, one release transaction per accepted piece
    (bench/escrow_alternatives.js);
  - no escrow: one ERC-20 transfer per piece, paying each worker directly.
Gas on a chain is deterministic for the same calls, so the runs differ only by how the farm's batches fall.
Medians over the runs. Usage: bench/bench_escrow.py [--runs 3]
"""
import argparse
import json
import os
import shutil
import socket
import sqlite3
import statistics
import subprocess
import tempfile
import time
import urllib.request

import farm

ANVIL = os.path.join(farm.TOP, "escrow", "contracts", "node_modules", "@foundry-rs", "anvil-linux-amd64", "bin", "anvil")
KEY0 = "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
# anvil's accounts 1 and 2: the slaves' payout keys and addresses
WORKERS = ["0x70997970C51812dc3A010C7d01b50e0d17dc79C8", "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"]
WORKER_KEYS = ["59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
               "5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a"]
QUIET = ["--no-lsd", "--torrent-listen", "127.0.0.1:0"]
TILES = "10x10"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def start_anvil(work):
    port = free_port()
    rpc = "http://127.0.0.1:%d" % port
    proc = subprocess.Popen([ANVIL, "--host", "127.0.0.1", "--port", str(port), "--silent"],
                            stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "anvil.log"), "ab"))
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}).encode()
    for _ in range(100):
        try:
            urllib.request.urlopen(urllib.request.Request(rpc, body, {"Content-Type": "application/json"}), timeout=1)
            return proc, rpc
        except OSError:
            time.sleep(0.1)
    raise SystemExit("anvil did not come up")


def tessera(*args):
    return subprocess.run([os.path.join(farm.BIN, "tessera")] + list(args), check=True, capture_output=True,
                          text=True).stdout


def one_run(work, scene, port):
    anvil, rpc = start_anvil(work)
    key = os.path.join(work, "master.eth")
    with open(key, "w") as f:
        f.write(KEY0 + "\n")
    os.chmod(key, 0o600)
    deployed = json.loads(tessera("escrow", "deploy", "--rpc", rpc, "--key-file", key))
    for w in WORKERS:
        tessera("escrow", "stake", "--rpc", rpc, "--key-file", key, "--escrow-address", deployed["escrow"],
                "--amount", "10", "--for", w)
    master_args = QUIET + ["--escrow", "evm", "--rpc", rpc, "--escrow-address", deployed["escrow"], "--key-file", key,
                           "--check-floor", "0"]
    f = None
    try:
        f = farm.Farm(work, 0, port, master_args, QUIET)
        for i, w in enumerate(WORKER_KEYS):   # each slave with its payout key
            wkey = os.path.join(work, "worker%d.eth" % i)
            with open(wkey, "w") as kf:
                kf.write(w + "\n")
            os.chmod(wkey, 0o600)
            log = open(os.path.join(work, "farm.log"), "ab")
            f.procs.append(subprocess.Popen(
                [os.path.join(farm.BIN, "tessera-slave"), "--master", f.zmq, "--master-cert",
                 os.path.join(work, "master", "master.cert"), "--work", os.path.join(work, "slave%d" % i), "--name",
                 "bench%d" % i, "--payout-key", wkey] + QUIET, stdout=log, stderr=log))
        f._wait(lambda: f._online() >= len(WORKERS) or None)
        out = subprocess.run([os.path.join(farm.BIN, "tessera"), "submit", "render", scene, "--frames", "1", "--tiles",
                              TILES, "--budget", "10", "--wait", "--json"], check=True, env=f.env, capture_output=True,
                             text=True).stdout
        job = json.loads(out)["id"]
        db = sqlite3.connect(os.path.join(work, "master", "tessera.db"))
        for _ in range(600):
            if db.execute("SELECT count(*) FROM outbox WHERE state='pending'").fetchone()[0] == 0:
                break
            time.sleep(0.1)
        rows = db.execute("SELECT kind, tx, gas FROM outbox WHERE job=? AND state='done'", (job,)).fetchall()
        failed = db.execute("SELECT count(*) FROM outbox WHERE state!='done'").fetchone()[0]
        if failed:
            raise SystemExit("%d outbox rows did not go through" % failed)
        txs = {tx: gas for _, tx, gas in rows if tx}
        pieces = sum(1 for k, _, _ in rows if k == "release")
        price = db.execute("SELECT max(price) FROM tasks WHERE job_id=? AND kind=2", (job,)).fetchone()[0]
        # a fund row's gas covers its approve too: two transactions under one hash
        transactions = len(txs) + sum(1 for k, tx, _ in rows if k == "fund" and tx)
        ours = {"gas": sum(txs.values()), "transactions": transactions, "pieces": pieces,
                "release_transactions": len({tx for k, tx, _ in rows if k == "release"})}
    finally:
        if f:
            f.stop()
    alt = json.loads(subprocess.run(["node", os.path.join(farm.TOP, "bench", "escrow_alternatives.js"), rpc,
                                     deployed["token"], deployed["escrow"], str(ours["pieces"]), str(price)] + WORKERS,
                                    check=True, capture_output=True, text=True).stdout)
    anvil.terminate()
    anvil.wait()
    return ours, alt


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    if not os.access(ANVIL, os.X_OK):
        raise SystemExit("anvil is missing: run make deps")
    top = tempfile.mkdtemp(prefix="bench-escrow.")
    scene = os.path.join(top, "s.blend")
    subprocess.run(["blender", "-b", "--factory-startup", "-noaudio", "--python",
                    os.path.join(farm.TOP, "samples", "make_scene.py"), "--", "--out", scene, "--width", "160",
                    "--height", "90", "--samples", "1", "--frames", "1"],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    results = []
    for r in range(args.runs):
        work = os.path.join(top, "run%d" % r)
        os.makedirs(work)
        ours, alt = one_run(work, scene, 23000 + 2 * r)
        n = ours["pieces"]
        results.append((ours["gas"] / n, ours["transactions"], ours["release_transactions"],
                        alt["per_task_escrow"]["gas"] / n, alt["per_task_escrow"]["transactions"],
                        alt["transfers"]["gas"] / n, alt["transfers"]["transactions"]))
        print("run %d: %d pieces; tessera %.0f gas/piece in %d transactions (%d releases); one settlement per piece "
              "%.0f gas/piece in %d; ERC-20 transfer per piece %.0f gas/piece in %d" % ((r + 1, n) + results[-1]),
              flush=True)
    med = [statistics.median(x[i] for x in results) for i in range(7)]
    print("\nmedian of %d runs, a job of %d paid pieces:" % (args.runs, n))
    print("  %-34s %10s %14s" % ("", "gas/piece", "transactions"))
    print("  %-34s %10.0f %14d" % ("tessera (batched, with escrow)", med[0], med[1]))
    print("  %-34s %10.0f %14d" % ("one settlement per piece (escrow)", med[3], med[4]))
    print("  %-34s %10.0f %14d" % ("ERC-20 transfer per piece (none)", med[5], med[6]))
    print("ratios: tessera/per-piece settlement gas %.2fx, transactions %.3fx; tessera/plain transfers gas %.2fx, "
          "transactions %.3fx" % (med[0] / med[3], med[1] / med[4], med[0] / med[5], med[1] / med[6]))
    shutil.rmtree(top, ignore_errors=True)


if __name__ == "__main__":
    main()
