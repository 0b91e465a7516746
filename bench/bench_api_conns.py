#!/usr/bin/env python3
"""bench_api_conns: the master's HTTP API while one client holds thousands of half-open connections.

A master alone (no slaves) with --http-idle 5. A client polls GET /api/v1/jobs and its latencies are taken idle, then
while another address (127.0.0.2) opens --conns connections that each send a request header and never finish it (a
slowloris). Printed: the polling client's median and p99 latency idle and under the flood, their ratio, how many of
the flood's connections the master kept (its per-address share, --http-per-ip) and how long until it had closed
all of them (its idle timeout). Before the limits (select(), no timeout, no per-address share) 1,100 such
connections made the API answer nobody until they went away.
Usage: bench/bench_api_conns.py [--conns 2000] [--requests 300] [--runs 3]
"""
import argparse
import http.client
import os
import select
import socket
import statistics
import tempfile
import time

import farm

IDLE_S = 5


def latencies(host, port, n, token):
    out = []
    for _ in range(n):
        t0 = time.monotonic()
        c = http.client.HTTPConnection(host, port, timeout=10)
        c.request("GET", "/api/v1/jobs", headers={"Authorization": "Bearer " + token})
        c.getresponse().read()
        c.close()
        out.append(time.monotonic() - t0)
    return out



def flood(port, n):
    """n half-open connections from 127.0.0.2: a header started, never ended."""
    socks = []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.2", 0))
        s.setblocking(False)
        try:
            s.connect(("127.0.0.1", port))
        except BlockingIOError:
            pass
        socks.append(s)
    time.sleep(0.5)
    for s in socks:
        try:
            s.send(b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        except OSError:
            pass
    return socks


def open_count(socks):
    """How many are still open (not closed or reset by the master)."""
    n = 0
    for s in socks:
        p = select.poll()
        p.register(s, select.POLLIN)
        if not p.poll(0):
            n += 1
            continue
        try:
            if s.recv(1, socket.MSG_PEEK):
                n += 1
        except OSError:
            pass
    return n


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--conns", type=int, default=2000)
    ap.add_argument("--requests", type=int, default=300)
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    print("%d half-open connections from one address; %d polls each phase; %d run(s)" % (a.conns, a.requests, a.runs))
    print("%4s %10s %10s %12s %12s %8s %8s %10s" % ("run", "idle p50", "idle p99", "flood p50", "flood p99",
                                                  "p99 x", "kept", "closed in"))
    port = 25000 + os.getpid() % 3000 * 2
    ratios = []
    for r in range(a.runs):
        work = tempfile.mkdtemp(prefix="bench_api_conns.")
        f = farm.Farm(work, 0, port, ["--no-torrent", "--http-idle", str(IDLE_S)])
        try:
            host, hport = "127.0.0.1", port + 1
            idle = latencies(host, hport, a.requests, f.token)
            socks = flood(hport, a.conns)
            time.sleep(0.5)
            kept = open_count(socks)
            loaded = latencies(host, hport, a.requests, f.token)
            t0 = time.monotonic()
            while open_count(socks) > 0 and time.monotonic() - t0 < 3 * IDLE_S + 10:
                time.sleep(0.2)
            closed = time.monotonic() - t0
            left = open_count(socks)
            for s in socks:
                s.close()
        finally:
            f.stop()
            farm.cleanup(work, False)
        port += 2
        ratio = farm.percentile(loaded, 99) / farm.percentile(idle, 99)
        ratios.append(ratio)
        print("%4d %8.1fms %8.1fms %10.1fms %10.1fms %7.2fx %8d %8.1fs%s" % (
            r + 1, 1e3 * statistics.median(idle), 1e3 * farm.percentile(idle, 99), 1e3 * statistics.median(loaded),
            1e3 * farm.percentile(loaded, 99), ratio, kept, closed, "" if left == 0 else " (%d still open)" % left), flush=True)
    print("median p99 ratio, flood / idle: %.2fx" % statistics.median(ratios))


if __name__ == "__main__":
    main()
