#!/usr/bin/env python3
"""bench_auth: the master's HTTP API while one client sends thousands of requests with wrong tokens.

A master alone (no slaves). A client with a valid token polls GET /api/v1/jobs from 127.0.0.1; its latencies are
taken idle (a poll every 5 ms), then while another address (127.0.0.2, --procs processes on keep-alive connections) sends --wrong
requests with made-up tokens as fast as it can. The master answers the first ones 401 and then, the address
having used its failures (20 at once, then one a second), 429 without looking at the token, each after holding
its connection for a second (so the attacker gets at most its 64 connections' worth a second). Printed: the polling
client's median and p99 idle and under the flood, their ratio (the goal: p99 within 2x), how the flood's requests
were answered and how fast it sent them.
Usage: bench/bench_auth.py [--wrong 10000] [--procs 2] [--conns 64] [--requests 300] [--runs 3]
"""
import argparse
import http.client
import multiprocessing
import os
import secrets
import statistics
import tempfile
import time

import farm

PAUSE_S = 0.005  # between the valid client's polls (a client that polls, not a second flood)


def poll(host, port, token, n=None, until=None):
    """Latencies of GET /api/v1/jobs with the valid token: n of them, or until until() says stop."""
    out = []
    while (n is not None and len(out) < n) or (until is not None and not until()):
        t0 = time.monotonic()
        c = http.client.HTTPConnection(host, port, timeout=10)
        c.request("GET", "/api/v1/jobs", headers={"Authorization": "Bearer " + token})
        r = c.getresponse()
        r.read()
        c.close()
        if r.status != 200:
            raise SystemExit("the valid client got HTTP %d" % r.status)
        out.append(time.monotonic() - t0)
        time.sleep(PAUSE_S)
    return out


def attack(port, n, threads, counts):
    """n requests with made-up tokens from 127.0.0.2, on threads keep-alive connections (each reopened when
    closed)."""
    import threading
    lock = threading.Lock()
    left = [n]

    def one():
        got = {}
        while True:
            with lock:
                if left[0] <= 0:
                    break
                left[0] -= 1
            attack_one(port, got)
        with lock:
            for k, v in got.items():
                counts[str(k)] = counts.get(str(k), 0) + v
    ts = [threading.Thread(target=one) for _ in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()


_conn = __import__("threading").local()


def attack_one(port, got):
    """One request with a made-up token on this thread's connection."""
    c = getattr(_conn, "c", None)
    if c is None:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=10, source_address=("127.0.0.2", 0))
    try:
        c.request("GET", "/api/v1/jobs", headers={"Authorization": "Bearer tsk_" + secrets.token_hex(40)})
        r = c.getresponse()
        r.read()
        got[r.status] = got.get(r.status, 0) + 1
        if r.getheader("Connection", "").lower() == "close":
            c.close()
            c = None
    except (OSError, http.client.HTTPException):
        got["error"] = got.get("error", 0) + 1
        c = None
        time.sleep(0.05)
    _conn.c = c



def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--wrong", type=int, default=10000)
    ap.add_argument("--procs", type=int, default=2)
    ap.add_argument("--conns", type=int, default=64, help="the attacker's connections in all (64: its share)")
    ap.add_argument("--requests", type=int, default=300)
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    print("%d requests with wrong tokens from one address (%d processes, %d connections); the valid client polls; "
          "%d run(s)" % (a.wrong, a.procs, a.conns, a.runs))
    print("%4s %10s %10s %12s %12s %8s %8s %8s %10s" % ("run", "idle p50", "idle p99", "flood p50", "flood p99",
                                                      "p99 x", "401", "429", "flood/s"))
    port = 27000 + os.getpid() % 2000 * 2
    ratios = []
    for r in range(a.runs):
        work = tempfile.mkdtemp(prefix="bench_auth.")
        f = farm.Farm(work, 0, port, ["--no-torrent"])
        try:
            host, hport = "127.0.0.1", port + 1
            idle = poll(host, hport, f.token, n=a.requests)
            with multiprocessing.Manager() as m:
                counts = m.dict()
                procs = [multiprocessing.Process(target=attack, args=(hport, a.wrong // a.procs, a.conns // a.procs, counts))
                         for _ in range(a.procs)]
                t0 = time.monotonic()
                for p in procs:
                    p.start()
                loaded = poll(host, hport, f.token, until=lambda: not any(p.is_alive() for p in procs))
                for p in procs:
                    p.join()
                took = time.monotonic() - t0
                got = dict(counts)
        finally:
            f.stop()
            farm.cleanup(work, False)
        port += 2
        ratio = farm.percentile(loaded, 99) / farm.percentile(idle, 99)
        ratios.append(ratio)
        sent = sum(got.values())
        print("%4d %8.1fms %8.1fms %10.1fms %10.1fms %7.2fx %8d %8d %10.0f%s" % (
            r + 1, 1e3 * statistics.median(idle), 1e3 * farm.percentile(idle, 99), 1e3 * statistics.median(loaded),
            1e3 * farm.percentile(loaded, 99),
            ratio, got.get("401", 0), got.get("429", 0), sent / took,
            "" if got.get("error", 0) == 0 else " (%d errors)" % got["error"]), flush=True)
        print("     (%d polls under the flood)" % len(loaded), flush=True)
    print("median p99 ratio, flood / idle: %.2fx" % statistics.median(ratios))


if __name__ == "__main__":
    main()
