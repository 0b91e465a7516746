#!/usr/bin/env python3
"""bench_trust: what verification costs a fresh farm and a settled one, against the plain tool, in the same run.

Two jobs, as a new user meets them (issue "the cost of trust"):
  transcode - a 12 s 640x360 clip with B-frames to libx264 crf 26 preset medium in 2 s segments, against plain
              `ffmpeg -i IN -c:v libx264 -crf 26 -preset medium -c:a copy`;
  frame     - one 640x360 frame at 32 samples in 4x4 tiles, against plain `blender -b SCENE -f 1` (adaptive
              sampling on, Blender's default: spot checks re-render whole tiles);
  exact     - the same with adaptive sampling off: spot checks re-render a quarter of a tile (--check-area).
Each is measured on three farms of a master and 2 slaves, all on this machine:
  today    - a fresh farm with nothing at stake (--slash-share 0): BOINC's adaptive replication, every result of a
             new node re-done until it has 10 valid ones (the policy before checks were priced);
  fresh    - a fresh farm with the defaults (stake at risk): checks priced by what cheating would earn;
  settled  - the same farm after warm-up jobs of another input, until every node has a record (a valid result);
  unchecked - a fresh farm without spot checks (--check-floor 0): what the farm itself costs, for reference.
The figure is the CPU time (user + sys) of every farm process (master, slaves, their Blender and encoders, the
CLI) from submission to the output, over the plain tool's; the master's own share is printed beside it, with the
check tasks the job needed. Medians over --runs. Usage: bench/bench_trust.py [--runs 3] [--only transcode|frame|exact]
"""
import argparse
import json
import os
import statistics
import subprocess
import tempfile
import time
import urllib.request

import farm

QUIET = ["--no-lsd", "--torrent-listen", "127.0.0.1:0"]
POLICIES = {"today": ["--slash-share", "0"], "fresh": [], "settled": [], "unchecked": ["--check-floor", "0"]}


def run_quiet(args):
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def make_clip(path, seconds, size):
    # B-frames and a keyframe every 2 s, as a camera or an editor delivers it
    run_quiet(["ffmpeg", "-y", "-f", "lavfi", "-i", "testsrc2=size=%s:rate=25:duration=%d" % (size, seconds), "-f",
               "lavfi", "-i", "sine=frequency=440:duration=%d" % seconds, "-c:v", "libx264", "-preset", "veryfast",
               "-crf", "18", "-g", "50", "-c:a", "aac", "-shortest", path])


def make_scene(path, samples, adaptive):
    run_quiet(["blender", "-b", "--factory-startup", "-noaudio", "--python",
               os.path.join(farm.TOP, "samples", "make_scene.py"), "--", "--out", path, "--width", "640", "--height",
               "360", "--samples", str(samples), "--frames", "1-1"] + ([] if adaptive else ["--no-adaptive"]))


class Job:
    """One kind of job: its inputs, the plain tool's run and the farm's submission."""

    def __init__(self, kind, tmp):
        self.kind = kind
        if kind == "transcode":
            self.input, self.warm = os.path.join(tmp, "clip.mp4"), os.path.join(tmp, "warm.mp4")
            make_clip(self.input, 12, "640x360")
            make_clip(self.warm, 8, "320x180")
        else:
            self.input, self.warm = os.path.join(tmp, "scene.blend"), os.path.join(tmp, "warm.blend")
            make_scene(self.input, 32, kind == "frame")
            make_scene(self.warm, 8, kind == "frame")

    def plain(self, work):
        before = farm.children_cpu()
        if self.kind == "transcode":
            run_quiet(["ffmpeg", "-y", "-i", self.input, "-c:v", "libx264", "-crf", "26", "-preset", "medium",
                       "-c:a", "copy", os.path.join(work, "plain.mp4")])
        else:
            run_quiet(["blender", "-b", self.input, "-o", os.path.join(work, "plain_####"), "-f", "1"])
        return farm.children_cpu() - before

    def submit(self, f, path, out):
        if self.kind == "transcode":
            return f.tessera("submit", "transcode", path, "--vcodec", "libx264", "--crf", "26", "--preset", "medium",
                             "--segment", "2", "--out", out, "--wait")
        return f.tessera("submit", "render", path, "--frames", "1", "--tiles", "4x4", "--out", out, "--wait")


def nodes(f):
    return f.api("nodes", timeout=10)["nodes"]


def last_job(f):
    jobs = f.api("jobs", timeout=10)["jobs"]
    return max(jobs, key=lambda j: j["id"])


def farm_job(job, work, policy, port):
    """(farm CPU, master CPU, checks, tasks) of one job on a new farm under `policy`."""
    f = farm.Farm(work, 2, port, QUIET + POLICIES[policy], QUIET)
    try:
        for attempt in range(5 if policy == "settled" else 0):  # until every node has a record
            job.submit(f, job.warm, os.path.join(work, "warm-out%d" % attempt))
            if min(n["reputation"] for n in nodes(f)) >= 1:
                break
        before, master_before = f.cpu(), farm.tree_cpu([f.procs[0].pid])
        cli_cpu, _ = job.submit(f, job.input, os.path.join(work, "out"))
        # the last result's verdict and the join happen before --wait returns
        cpu = f.cpu() - before + cli_cpu
        master = farm.tree_cpu([f.procs[0].pid]) - master_before
        j = last_job(f)
    finally:
        f.stop()
    return cpu, master, j["checks_total"], j["tasks_total"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--only", choices=["transcode", "frame", "exact"])
    ap.add_argument("--port", type=int, default=29555)
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="tessera-bench-trust.")
    kinds = [a.only] if a.only else ["transcode", "frame", "exact"]
    summary = []
    port = a.port
    for kind in kinds:
        job = Job(kind, tmp)
        rows = {p: [] for p in POLICIES}
        for run in range(a.runs):
            for policy in POLICIES:
                work = os.path.join(tmp, "%s-%s-%d" % (kind, policy, run))
                os.makedirs(work)
                plain = job.plain(work)
                cpu, master, checks, tasks = farm_job(job, work, policy, port)
                port += 2
                rows[policy].append((cpu / plain, master / cpu, checks, tasks))
                print("%s run %d %-7s: plain %.2f s CPU, farm %.2f s CPU (master %.2f s), ratio %.3f, checks %d of "
                      "%d pieces" % (kind, run + 1, policy, plain, cpu, master, cpu / plain, checks, tasks), flush=True)
        for policy in POLICIES:
            r = rows[policy]
            summary.append("%-9s %-7s farm/plain CPU %.3f (min %.3f, max %.3f), master %.1f%% of the farm's CPU, "
                           "checks %g of %g pieces" % (
                               kind, policy, statistics.median(x[0] for x in r), min(x[0] for x in r),
                               max(x[0] for x in r), 100 * statistics.median(x[1] for x in r),
                               statistics.median(x[2] for x in r), statistics.median(x[3] for x in r)))
    print("medians over %d runs (2 slaves on this machine):" % a.runs)
    for line in summary:
        print("  " + line)
    farm.cleanup(tmp, False)


if __name__ == "__main__":
    main()
