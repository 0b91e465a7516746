#!/usr/bin/env python3
"""bench_sandbox: what the renderers' box costs, against the same farm without it and plain Blender, in one run.

One 640x360 frame at 32 samples in 4x4 tiles on a farm of a master and one slave on this machine, with the slave's
renderer in its bubblewrap box (the default) and without it (--no-sandbox), in alternating order, against plain
`blender -b SCENE -f 1`. Spot checks are off (--check-floor 0) so that both farms do the same work. The figure is
the CPU time (user + sys) of every farm process (master, slave, the box, Blender, the CLI) from submission to the
output; medians over --runs, the box's ratio to no box first. Usage: bench/bench_sandbox.py [--runs 5]
"""
import argparse
import os
import statistics
import subprocess
import tempfile
import time

import farm

QUIET = ["--no-lsd", "--torrent-listen", "127.0.0.1:0"]
MODES = {"sandboxed": [], "no-sandbox": ["--no-sandbox"]}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--port", type=int, default=29755)
    ap.add_argument("--keep", action="store_true", help="keep the scratch folder")
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="tessera-bench-sandbox.")
    scene = os.path.join(tmp, "scene.blend")
    subprocess.run(["blender", "-b", "--factory-startup", "-noaudio", "--python",
                    os.path.join(farm.TOP, "samples", "make_scene.py"), "--", "--out", scene, "--width", "640",
                    "--height", "360", "--samples", "32", "--frames", "1-1"], check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    cpu = {m: [] for m in MODES}
    wall = {m: [] for m in MODES}
    plain = []
    port = a.port
    for run in range(a.runs):
        before = farm.children_cpu()
        subprocess.run(["blender", "-b", scene, "-o", os.path.join(tmp, "plain_####"), "-f", "1"], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        plain.append(farm.children_cpu() - before)
        order = list(MODES) if run % 2 == 0 else list(reversed(MODES))
        for mode in order:
            work = os.path.join(tmp, "%s-%d" % (mode, run))
            os.makedirs(work)
            f = farm.Farm(work, 1, port, QUIET + ["--check-floor", "0"], QUIET + MODES[mode])
            port += 2
            try:
                start = f.cpu()
                cli, secs = f.tessera("submit", "render", scene, "--frames", "1", "--tiles", "4x4", "--out",
                                      os.path.join(work, "out"), "--wait")
                cpu[mode].append(f.cpu() - start + cli)
                wall[mode].append(secs)
            finally:
                f.stop()
            print("run %d %-10s: farm %.2f s CPU, %.2f s wall (plain Blender %.2f s CPU)" % (
                run + 1, mode, cpu[mode][-1], wall[mode][-1], plain[-1]), flush=True)
    farm.cleanup(tmp, a.keep)
    med = {m: statistics.median(cpu[m]) for m in MODES}
    print("medians over %d runs (one slave on this machine, 16 tiles of a 640x360 frame, 32 samples):" % a.runs)
    print("  sandboxed / no-sandbox CPU %.3f (per run: %s); wall %.3f" % (
        med["sandboxed"] / med["no-sandbox"],
        " ".join("%.3f" % (s / n) for s, n in zip(cpu["sandboxed"], cpu["no-sandbox"])),
        statistics.median(wall["sandboxed"]) / statistics.median(wall["no-sandbox"])))
    for m in MODES:
        print("  %-10s farm %.2f s CPU, %.3f x plain Blender (%.2f s)" % (m, med[m], med[m] / statistics.median(plain),
                                                                         statistics.median(plain)))


if __name__ == "__main__":
    main()
