#!/usr/bin/env python3
"""bench_tiles: CPU cost of the whole local farm rendering one frame in tiles vs one plain `blender -b` render.

Every run counts all CPU time (user + sys) of the master, the slaves, their Blender processes and the CLI,
and of the plain render, in the same session, and prints median ratios over several runs, two ways:
  job  - what the frame costs a running farm: CPU of every farm process from submission to the last byte
         of output (the daemons and their Blender processes were started before, as on a real farm);
  cold - the same plus starting and stopping the daemons (each slave starts one Blender: ~0.75 s).
Usage: bench/bench_tiles.py [--runs 3] [--tiles 4x4] [--slaves 2] [--width 640 --height 360 --samples 32]
"""
import argparse
import os
import shutil
import statistics
import subprocess
import tempfile
import time

import farm


def plain_render(scene, outdir):
    before = farm.children_cpu()
    t0 = time.monotonic()
    subprocess.run(["blender", "-b", scene, "-o", os.path.join(outdir, "plain_####"), "-f", "1"],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return farm.children_cpu() - before, time.monotonic() - t0


def farm_render(scene, work, tiles, slaves, port):
    """Returns (cold CPU, cold wall, job CPU, job wall) of one frame rendered by a fresh farm."""
    before, t0 = farm.children_cpu(), time.monotonic()
    f = farm.Farm(work, slaves, port)
    farm_before = f.cpu()
    cli_cpu, job_wall = f.tessera("submit", "render", scene, "--frames", "1", "--tiles", tiles, "--out",
                                  os.path.join(work, "out"), "--wait")
    job_cpu = f.cpu() - farm_before + cli_cpu
    f.stop()
    return farm.children_cpu() - before, time.monotonic() - t0, job_cpu, job_wall


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--tiles", default="4x4")
    ap.add_argument("--slaves", type=int, default=2)
    ap.add_argument("--width", type=int, default=640)
    ap.add_argument("--height", type=int, default=360)
    ap.add_argument("--samples", type=int, default=32)
    ap.add_argument("--port", type=int, default=27555)
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="tessera-bench.")
    scene = os.path.join(tmp, "bench.blend")
    subprocess.run(["blender", "-b", "--factory-startup", "-noaudio", "--python",
                    os.path.join(farm.TOP, "samples", "make_scene.py"), "--", "--out", scene, "--width", str(a.width),
                    "--height", str(a.height), "--samples", str(a.samples), "--frames", "1-1"],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ratios, walls, job_ratios, job_walls = [], [], [], []
    print("scene %dx%d, %d samples; farm: master + %d slaves, %s tiles" % (a.width, a.height, a.samples,
                                                                          a.slaves, a.tiles))
    for run in range(a.runs):
        work = os.path.join(tmp, "run%d" % run)
        os.makedirs(work)
        plain_cpu, plain_wall = plain_render(scene, work)
        farm_cpu, farm_wall, job_cpu, job_wall = farm_render(scene, work, a.tiles, a.slaves, a.port + 2 * run)
        same = subprocess.run(["idiff", "-fail", "0", "-warn", "0", os.path.join(work, "out", "frame_0001.png"),
                               os.path.join(work, "plain_0001.png")], stdout=subprocess.DEVNULL).returncode == 0
        ratios.append(farm_cpu / plain_cpu)
        walls.append(farm_wall / plain_wall)
        job_ratios.append(job_cpu / plain_cpu)
        job_walls.append(job_wall / plain_wall)
        print("run %d: plain blender %.2f s CPU (%.2f s wall); farm job %.2f s CPU (%.2f s wall), ratio %.3f; "
              "cold farm %.2f s CPU (%.2f s wall), ratio %.3f; identical: %s" % (
                  run + 1, plain_cpu, plain_wall, job_cpu, job_wall, job_cpu / plain_cpu, farm_cpu, farm_wall,
                  farm_cpu / plain_cpu, same))
        if not same:
            raise SystemExit("the farm's frame differs from plain Blender's")
    print("median CPU ratio, job on a running farm / plain blender: %.3f (min %.3f, max %.3f) over %d runs" % (
        statistics.median(job_ratios), min(job_ratios), max(job_ratios), len(job_ratios)))
    print("median CPU ratio, cold farm incl. daemon start / plain blender: %.3f (min %.3f, max %.3f)" % (
        statistics.median(ratios), min(ratios), max(ratios)))
    print("median wall ratio: job %.3f, cold %.3f" % (statistics.median(job_walls), statistics.median(walls)))
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
