#!/usr/bin/env python3
"""bench_honest: honest nodes are never punished on scenes where Cycles' adaptive sampling acts.

Every result is spot-checked (--check-floor 1, --check-trust above any run: BOINC's fixed 2x replication, the
setting under which honest noise would hurt most), on farms of 2 and then 3 honest slaves, over scenes with glass,
emission, mesh lights, volume, hair, depth of field and motion blur, at 32 to 256 samples. It prints, per scene and
farm, the spot checks done, failed checks, unresolved disputes, blocked nodes and stakes slashed (all must be 0),
then how many checks compared identical results and how many passed only under the render-noise rule. The
alternative a user would pick (no verification at all) punishes nobody either, so the figure is the count of
checks with no false positive, not a ratio. Each frame is also compared with a plain `blender -b` render: pixels
that differ (and largest difference) next to those between two plain renders.

Usage: bench/bench_honest.py [--runs 1] [--grid 8x8] [--keep]   (about 8 minutes per run on 2 cores)
"""
import argparse
import json
import os
import subprocess
import tempfile
import time

import farm

SIZE = ["--width", "160", "--height", "100", "--frames", "1-2", "--format", "OPEN_EXR"]
SCENES = [  # name, make_scene options (the default scene has a glass ball and an emissive torus)
    ("glass-emission-32", ["--samples", "32", "--adaptive-min-samples", "4"]),
    ("glass-emission-128", ["--samples", "128"]),
    ("emitters-96", ["--samples", "96", "--adaptive-min-samples", "4", "--extras", "emitters"]),
    ("volume-64", ["--samples", "64", "--adaptive-min-samples", "4", "--extras", "volume"]),
    ("hair-48", ["--samples", "48", "--adaptive-min-samples", "8", "--extras", "hair"]),
    ("dof-motion-256", ["--samples", "256", "--adaptive-threshold", "0.05", "--extras", "dof"]),
]
QUIET = ["--no-lsd", "--torrent-listen", "127.0.0.1:0"]
MASTER = ["--check-floor", "1", "--check-trust", "1000000", "--check-wait", "60", "--node-timeout", "30"] + QUIET


def blender(*args):
    subprocess.run(["blender", "-b"] + list(args), check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def compare(a, b, rule):
    """tessera-compare's one JSON line for two whole frames."""
    out = subprocess.run([os.path.join(farm.BIN, "tessera-compare"), a, b, "--rule", rule], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    if out.returncode not in (0, 1):
        raise SystemExit("tessera-compare %s %s: %s" % (a, b, out.stderr.strip()))
    return json.loads(out.stdout.splitlines()[0])


def api(f, path):
    import urllib.request
    return f.api(path)


def run_farm(work, slaves, port, scenes, grid):
    rows = []
    os.makedirs(os.path.join(work, "farm%d" % slaves), exist_ok=True)
    f = farm.Farm(os.path.join(work, "farm%d" % slaves), slaves, port, MASTER, QUIET)
    try:
        for name, path in scenes:
            out = os.path.join(work, "out-%s-%d" % (name, slaves))
            t0 = time.monotonic()
            f.tessera("submit", "render", path, "--frames", "1-2", "--tiles", grid, "--out", out, "--wait",
                      "--timeout", "3600")
            jobs = api(f, "jobs")["jobs"]
            job = api(f, "jobs/%d" % max(j["id"] for j in jobs))
            v = job["verification"]
            rows.append(dict(scene=name, slaves=slaves, checks=v["check_tasks"], failed=v["checks_failed"],
                             unresolved=v["disputes_unresolved"], passed=v["tasks_passed"],
                             unchecked=v["tasks_unchecked"], wall=time.monotonic() - t0, out=out))
        nodes = api(f, "nodes")["nodes"]
        blocked = sum(1 for n in nodes if n["state"] in ("blocked", "quarantined") or n["blocked_jobs"])
        failed_nodes = sum(n["checks_failed"] for n in nodes)
        stakes = sorted(set(n.get("stake") for n in nodes))
    finally:
        f.stop()
    return rows, blocked, failed_nodes, stakes


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--grid", default="8x8")
    ap.add_argument("--keep", action="store_true")
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="bench_honest.")
    scenes = []
    for name, opts in SCENES:
        path = os.path.join(work, name + ".blend")
        blender("--factory-startup", "-noaudio", "--python", os.path.join(farm.TOP, "samples", "make_scene.py"),
                "--", "--out", path, *SIZE, *opts)
        for r in ("a", "b"):
            blender(path, "-o", os.path.join(work, "ref-%s-%s-####" % (name, r)), "-f", "1")
        scenes.append((name, path))
    total = dict(checks=0, failed=0, unresolved=0, blocked=0, slashed=0)
    port = 27000 + os.getpid() % 2000 * 2
    print("%-20s %6s %7s %7s %10s %10s %16s %16s" % ("scene", "slaves", "checks", "failed", "unresolved",
                                                     "unchecked", "farm vs plain", "plain vs plain"))
    for run in range(a.runs):
        for slaves in (2, 3):
            rows, blocked, failed_nodes, stakes = run_farm(os.path.join(work, "run%d" % run), slaves,
                                                           port + 4 * slaves, scenes, a.grid)
            for r in rows:
                ref = os.path.join(work, "ref-%s-a-0001.exr" % r["scene"])
                fp = compare(os.path.join(r["out"], "frame_0001.exr"), ref, "exact")
                pp = compare(os.path.join(work, "ref-%s-b-0001.exr" % r["scene"]), ref, "exact")
                print("%-20s %6d %7d %7d %10d %10d %16s %16s" % (
                    r["scene"], slaves, r["checks"], r["failed"], r["unresolved"], r["unchecked"],
                    "%d px, %.2g" % (fp["differ"], fp["max_abs"]), "%d px, %.2g" % (pp["differ"], pp["max_abs"])))
                total["checks"] += r["checks"]
                total["failed"] += r["failed"]
                total["unresolved"] += r["unresolved"]
            total["blocked"] += blocked
            total["slashed"] += len(stakes) > 1
            print("  %d slaves: %d nodes blocked, %d failed checks on nodes, stakes %s" % (slaves, blocked,
                                                                                          failed_nodes, stakes))
    print("honest spot checks: %d over %d scenes on 2 and 3 slaves; failed %d, unresolved disputes %d, "
          "blocked nodes %d, farms with a slashed stake %d" % (total["checks"], len(SCENES), total["failed"],
                                                                total["unresolved"], total["blocked"],
                                                                total["slashed"]))
    farm.cleanup(work, a.keep)


if __name__ == "__main__":
    main()
