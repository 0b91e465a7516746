#!/usr/bin/env python3
"""bench_fairshare: node time split between two requesters of equal weight, fair share against plain priority order.

On a local farm of 3 slaves, at the same moment (a job file, queued paused and resumed at once): requester "alice"
submits one render of 64 tiles (16 frames x 2x2), requester "bob" eight renders of 8 tiles (2 frames x 2x2) each,
all of the same scene at the same priority. Each task's node time is read from the master's database (the render time its
slave reported, up to its result, else from assignment to result: probes, tiles, finishes). While both requesters still have work queued (from the first
assignment until one of them has nothing left to assign), the benchmark sums each one's node time and prints the
split. The same run is made with the master's --schedule priority (the queue by priority, then age: what a farm
without fair share does) and --schedule fair (the default). Spot checks are off (--check-floor 0) so the split is
the scheduler's alone. Goal: fair share within 10% (|alice - bob| / max).
Usage: bench/bench_fairshare.py [--runs 3] [--keep]
"""
import argparse
import json
import os
import sqlite3
import statistics
import subprocess
import tempfile
import time

import farm


def make_scene(path):
    subprocess.run(["blender", "-b", "--factory-startup", "-noaudio", "--python",
                    os.path.join(farm.TOP, "samples", "make_scene.py"), "--", "--out", path, "--width", "320",
                    "--height", "240", "--samples", "48", "--frames", "1-16"],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def job_file(folder):
    jobs = [{"name": "alice-shot", "type": "render", "scene": "scene.blend", "frames": "1-16", "tiles": "2x2",
             "requester": "alice"}]
    jobs += [{"name": "bob-%d" % i, "type": "render", "scene": "scene.blend", "frames": "1-2", "tiles": "2x2",
              "requester": "bob"} for i in range(8)]
    path = os.path.join(folder, "night.json")
    with open(path, "w") as f:
        json.dump({"jobs": jobs}, f)
    return path


def split(db):
    """(alice's, bob's) node seconds while both had work queued, and that window's length."""
    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
    # a task's node time: the render time its slave reported (busy) up to its result; a task waiting in a slave's
    # queue behind another (2 slots) is not using the node yet
    rows = con.execute("SELECT j.requester, t.assigned_at, t.finished, t.busy FROM tasks t JOIN jobs j "
                       "ON j.id=t.job_id WHERE t.state='done' AND t.assigned_at > 0 AND t.finished > 0").fetchall()
    con.close()
    start = min(r[1] for r in rows)
    end = min(max(r[1] for r in rows if r[0] == who) for who in ("alice", "bob"))  # one's last task assigned
    used = {"alice": 0.0, "bob": 0.0}
    for who, a, f, busy in rows:
        a = max(a, f - busy) if busy > 0 else a
        used[who] += max(0.0, min(f, end) - max(a, start))
    return used["alice"], used["bob"], end - start


def run(work, schedule, port):
    f = farm.Farm(work, 3, port, master_args=["--schedule", schedule, "--check-floor", "0", "--no-lsd",
                                              "--torrent-listen", "127.0.0.1:0"])
    try:
        f.tessera("submit", "--file", job_file(work))
        deadline = time.monotonic() + 900
        while time.monotonic() < deadline:
            jobs = f.api("jobs")["jobs"]
            if all(j["state"] in ("done", "failed", "cancelled") for j in jobs):
                break
            time.sleep(0.5)
        bad = [j["name"] for j in jobs if j["state"] != "done"]
        if bad:
            raise SystemExit("%s: jobs not done: %s" % (schedule, bad))
    finally:
        f.stop()
    return split(os.path.join(work, "master", "tessera.db"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    top = tempfile.mkdtemp(prefix="bench_fairshare.")
    make_scene(os.path.join(top, "scene.blend"))
    gaps = {"priority": [], "fair": []}
    print("%-9s %3s %10s %10s %8s %8s" % ("schedule", "run", "alice s", "bob s", "window s", "gap"))
    port = 27100
    for i in range(args.runs):
        for schedule in ("priority", "fair"):
            work = os.path.join(top, "%s%d" % (schedule, i))
            os.makedirs(work)
            os.link(os.path.join(top, "scene.blend"), os.path.join(work, "scene.blend"))
            alice, bob, window = run(work, schedule, port)
            port += 10
            gap = abs(alice - bob) / max(alice, bob, 1e-9)
            gaps[schedule].append(gap)
            print("%-9s %3d %10.1f %10.1f %8.1f %7.0f%%" % (schedule, i + 1, alice, bob, window, gap * 100),
                  flush=True)
    p, fs = statistics.median(gaps["priority"]), statistics.median(gaps["fair"])
    print("median gap between the two requesters' node time while both had work: priority order %.0f%%, "
          "fair share %.0f%% (goal: under 10%%)" % (p * 100, fs * 100))
    farm.cleanup(top, args.keep)


if __name__ == "__main__":
    main()
