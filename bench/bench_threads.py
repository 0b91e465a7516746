#!/usr/bin/env python3
"""bench_threads: what "one single-threaded Blender per core" would cost next to today's one multi-threaded Blender.

One frame (640x400, 64 samples, adaptive sampling acting) rendered by plain `blender -b -t N` (N = the cores), by
`blender -b -t 1`, and by N concurrent `blender -b -t 1` processes that each render 1/N of the frame (horizontal
bands through the render border). Prints per run the CPU seconds (user+sys, from wait4) and the peak resident
memory of each setup, whether -t 1 and -t N give identical pixels (tessera-compare, exact), and the medians and
ratios of the N-processes setup against the one multi-threaded process.

Usage: bench/bench_threads.py [--runs 3] [--keep]   (about 2 minutes per run on 2 cores)
"""
import argparse
import json
import os
import statistics
import subprocess
import tempfile

import farm

SCENE = ["--width", "640", "--height", "400", "--samples", "64", "--adaptive-min-samples", "4", "--frames", "1",
         "--format", "OPEN_EXR"]


def run_all(cmds):
    """Starts every command at once; returns (CPU seconds summed, peak RSS in MB summed over the processes)."""
    procs = [subprocess.Popen(c, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for c in cmds]
    cpu = rss = 0.0
    for p in procs:
        _, status, ru = os.wait4(p.pid, 0)
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit("%s failed" % " ".join(p.args))
        cpu += ru.ru_utime + ru.ru_stime
        rss += ru.ru_maxrss / 1024.0
    return cpu, rss


def band(n, i):
    return ("import bpy; r = bpy.context.scene.render; r.use_border = True; r.use_crop_to_border = False; "
            "r.border_min_x, r.border_max_x, r.border_min_y, r.border_max_y = 0.0, 1.0, %r, %r" % (i / n, (i + 1) / n))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--keep", action="store_true")
    a = ap.parse_args()
    n = os.cpu_count() or 2
    work = tempfile.mkdtemp(prefix="bench_threads.")
    scene = os.path.join(work, "s.blend")
    subprocess.run(["blender", "-b", "--factory-startup", "-noaudio", "--python",
                    os.path.join(farm.TOP, "samples", "make_scene.py"), "--", "--out", scene] + SCENE, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    out = lambda name: os.path.join(work, name + "_#")
    rows = []
    print("%4s %18s %18s %22s %10s" % ("run", "-t %d CPU s / MB" % n, "-t 1 CPU s / MB", "%d x -t 1 CPU s / MB" % n,
                                       "-t 1 = -t %d" % n))
    for run in range(a.runs):
        multi = run_all([["blender", "-b", scene, "-t", str(n), "-o", out("multi"), "-f", "1"]])
        single = run_all([["blender", "-b", scene, "-t", "1", "-o", out("single"), "-f", "1"]])
        bands = run_all([["blender", "-b", scene, "-t", "1", "--python-expr", band(n, i), "-o", out("band%d" % i),
                          "-f", "1"] for i in range(n)])
        cmp = subprocess.run([os.path.join(farm.BIN, "tessera-compare"), os.path.join(work, "multi_1.exr"),
                              os.path.join(work, "single_1.exr"), "--rule", "exact"], stdout=subprocess.PIPE, text=True)
        same = json.loads(cmp.stdout.splitlines()[0])["differ"] == 0
        rows.append((multi, single, bands, same))
        print("%4d %10.2f / %5.0f %10.2f / %5.0f %14.2f / %5.0f %10s" % (run + 1, *multi, *single, *bands,
                                                                         "yes" if same else "NO"))
    med = lambda k, j: statistics.median(r[k][j] for r in rows)
    print("median CPU: -t %d %.2f s, %d x -t 1 %.2f s: ratio %.3f; peak memory %.0f MB vs %.0f MB: ratio %.2f; "
          "-t 1 identical to -t %d in %d of %d runs" % (n, med(0, 0), n, med(2, 0), med(2, 0) / med(0, 0), med(0, 1),
                                                      med(2, 1), med(2, 1) / med(0, 1), n,
                                                      sum(r[3] for r in rows), len(rows)))
    farm.cleanup(work, a.keep)


if __name__ == "__main__":
    main()
