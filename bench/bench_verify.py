#!/usr/bin/env python3
"""bench_verify: what the verifier costs once reputations have settled, and how fast it catches a cheater, under
three policies: checks priced by the stake at risk (the default), BOINC's adaptive replication (a farm with
nothing at stake, --slash-share 0: the policy before prices) and fixed 2x replication (--check-floor 1).

Each run starts two farms of 3 slaves (2 honest, 1 that is honest until it is restarted as a cheater):
  1. warm-up: a render in enough tiles that every node has a run of valid results (its check rate settles at
     max(0.05, 1/run));
  2. overhead: a 2-frame render in 10x10 tiles and a transcode in 1 s segments; the figure is the seconds the
     nodes spent on checks divided by the seconds spent on the work itself (`tessera status --json`:
     verification.check_seconds / work_seconds), and every failed check among honest nodes is a false positive;
  3. detection, new node: a slave that has never worked for the farm joins faking 100% of its tiles (1 sample),
     then another new one faking 10% of them;
  4. detection, settled: the third slave restarts (same identity, so same reputation) faking 100% of its tiles (1 sample),
     then, after another warm-up, 100% at half the scene's samples, then 10% of them at 1 sample (the scene has
     Blender's default adaptive sampling on, so results are compared by the render-noise rule, verifier/ts_agree.h); the figure is how many tasks it completed before the verdict
     of its first failed check (counted from its own log up to the master's verdict line: tasks it finished while
     its check and tie-break were still running are included).
Under the priced policy a catch slashes half the cheater's stake (100 to start: it stays above the minimum through
the phases); under the others no stake is slashed. Medians over the runs.
Usage: bench/bench_verify.py [--runs 3] [--policies priced,adaptive,2x] [--agree]
With --agree it also runs bench_agree.py's measurement (--runs 2: whether the image rules tolerate honest renders
and which cheats they catch, about 8 minutes on 2 cores) and prints its summary after these figures; --runs 0
--agree prints only that.
"""
import argparse
import datetime
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import tempfile
import time
import urllib.request

import bench_agree
import farm

SCENE_SAMPLES = 8  # adaptive sampling is on (Blender's default): results are compared by the render-noise rule
SCENE_ARGS = ["--width", "160", "--height", "90", "--samples", str(SCENE_SAMPLES), "--frames", "1-2"]
QUIET = ["--no-lsd", "--torrent-listen", "127.0.0.1:0"]


def make_scene(path):
    subprocess.run(["blender", "-b", "--factory-startup", "-noaudio", "--python",
                    os.path.join(farm.TOP, "samples", "make_scene.py"), "--", "--out", path] + SCENE_ARGS,
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def make_video(path):
    subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                    "testsrc2=size=320x180:rate=25:duration=20", "-c:v", "libx264", "-preset", "veryfast", "-g", "25",
                    path], check=True)


def seconds_of_day(stamp):
    h, m, s = stamp.split(":")
    return int(h) * 3600 + int(m) * 60 + float(s)


class Bench:
    def __init__(self, work, port, master_args):
        self.work = work
        self.farm = farm.Farm(work, 2, port, QUIET + ["--quarantine-after", "1000"] + master_args, QUIET)
        self.cheater = None
        self.identity = "cheat"
        self.start_cheater([])

    def api(self, path):
        return self.farm.api(path)

    def node(self, name):
        return [n for n in self.api("nodes")["nodes"] if n["name"] == name][0]

    def start_cheater(self, args, identity="cheat"):
        if self.cheater:
            self.cheater.send_signal(signal.SIGTERM)
            self.cheater.wait(timeout=60)
            self.farm.procs.remove(self.cheater)
        self.cheat_log = os.path.join(self.work, "cheat-%d.log" % time.monotonic_ns())
        self.cheater = subprocess.Popen(
            [os.path.join(farm.BIN, "tessera-slave"), "--master", self.farm.zmq, "--master-cert",
             os.path.join(self.work, "master", "master.cert"), "--work", os.path.join(self.work, identity), "--name",
             identity] + QUIET + args, stdout=open(self.cheat_log, "wb"), stderr=subprocess.STDOUT)
        self.identity = identity
        self.farm.procs.append(self.cheater)
        for _ in range(600):
            try:
                if self.node(identity)["online"]:
                    return
            except (OSError, IndexError):
                pass
            time.sleep(0.1)
        raise SystemExit("the cheater did not come online")

    def submit(self, *args, wait=True):
        cli = os.path.join(farm.BIN, "tessera")
        out = subprocess.run([cli, "submit"] + list(args) + ["--json"], env=self.farm.env, check=True,
                             capture_output=True, text=True).stdout
        jid = json.loads(out)["id"]
        if wait:
            subprocess.run([cli, "wait", str(jid)], env=self.farm.env, check=True, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
        return jid

    def job(self, jid):
        return self.api("jobs/%d" % jid)

    def render(self, scene, frames, tiles, wait=True):
        return self.submit("render", scene, "--frames", frames, "--tiles", tiles, wait=wait)

    def tasks_until_caught(self, scene, share, tiles, samples=1, identity="cheat"):
        """Restarts the cheater (or starts a new node: another identity) faking `share` of its tiles with `samples`
        samples; tasks it completes before its first failed check."""
        self.start_cheater(["--cheat-share", str(share), "--cheat-samples", str(samples)], identity)
        failed0 = self.node(identity)["checks_failed"]
        jid = self.render(scene, "1-2", tiles, wait=False)
        caught = False
        while True:
            state = self.job(jid)["state"]
            if self.node(identity)["checks_failed"] > failed0:
                caught = True
                break
            if state in ("done", "failed", "cancelled"):
                break
            time.sleep(0.2)
        subprocess.run([os.path.join(farm.BIN, "tessera"), "cancel", str(jid)], env=self.farm.env,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        verdict = None
        if caught:
            prefix = self.node(identity)["id"][:12]
            with open(os.path.join(self.work, "farm.log"), errors="replace") as f:
                for line in f:
                    if "node %s failed a check" % prefix in line:
                        verdict = seconds_of_day(line.split()[0])
        done = 0
        with open(self.cheat_log, errors="replace") as f:
            for line in f:
                if re.search(r"info: task \d+ done", line) and (verdict is None or
                                                                 seconds_of_day(line.split()[0]) <= verdict):
                    done += 1
        return done, caught

    def stop(self):
        self.farm.stop()


def one_run(top, scene, video, port, master_args):
    work = tempfile.mkdtemp(dir=top)
    b = Bench(work, port, master_args)
    try:
        b.render(scene, "1", "12x12")                          # warm-up: ~48 results per node
        rj = b.render(scene, "1-2", "10x10")
        tj = b.submit("transcode", video, "--vcodec", "libx264", "--crf", "23", "--preset", "veryfast", "--segment", "1")
        jobs = [b.job(rj), b.job(tj)]
        work_s = sum(j["verification"]["work_seconds"] for j in jobs)
        check_s = sum(j["verification"]["check_seconds"] for j in jobs)
        rates = {n["name"]: round(n["check_rate"], 3) for n in b.api("nodes")["nodes"]}
        while b.node("cheat")["reputation"] < 20:
            b.render(scene, "1", "12x12")
        new100 = b.tasks_until_caught(scene, 1.0, "30x30", identity="new100")
        new10 = b.tasks_until_caught(scene, 0.1, "40x40", identity="new10")
        b.start_cheater([])
        caught100 = b.tasks_until_caught(scene, 1.0, "30x30")
        b.start_cheater([])
        while b.node("cheat")["reputation"] < 20:
            b.render(scene, "1", "12x12")
        caught_half = b.tasks_until_caught(scene, 1.0, "30x30", samples=SCENE_SAMPLES // 2)
        b.start_cheater([])
        while b.node("cheat")["reputation"] < 20:               # the cheater earns its reputation back (rate 0.05)
            b.render(scene, "1", "12x12")
        caught10 = b.tasks_until_caught(scene, 0.1, "40x40")
        honest = [n for n in b.api("nodes")["nodes"] if n["name"] not in ("cheat", "new100", "new10")]
        fp = sum(n["checks_failed"] for n in honest)            # every phase: honest nodes are never punished
        honest_tasks = sum(n["tasks_done"] for n in honest)
        return {"overhead": check_s / work_s if work_s else 0, "tasks": honest_tasks, "false_positives": fp,
                "rates": rates, "render": jobs[0]["verification"], "transcode": jobs[1]["verification"],
                "caught100": caught100, "caught_half": caught_half, "caught10": caught10, "new100": new100,
                "new10": new10}
    finally:
        b.stop()
        shutil.rmtree(work, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--port", type=int, default=27300)
    ap.add_argument("--policies", default="priced,adaptive,2x", help="comma-separated: " + ", ".join(POLICIES))
    ap.add_argument("--agree", action="store_true", help="also run bench_agree.py (--runs 2) and print its summary")
    a = ap.parse_args()
    if a.runs > 0:
        farms(a)
    if a.agree:
        agree()


def agree():
    print()
    print("image rules (bench_agree.py --runs 2):", flush=True)
    results, _, wall = bench_agree.measure(runs=2, log=lambda line: None)
    for line in bench_agree.summary(results):
        print(line)
    print("(bench_agree: %.0f s)" % wall)


POLICIES = {"priced": ("priced by stake (default)", []),
            "adaptive": ("adaptive, no stake", ["--slash-share", "0"]),
            "2x": ("fixed 2x replication", ["--slash-share", "0", "--check-floor", "1"])}
PHASES = (("new100", "new node, 100%"), ("new10", "new node, 10%"), ("caught100", "settled, 100%"),
          ("caught_half", "settled, half samples"), ("caught10", "settled, 10%"))


def caught_text(c):
    return str(c[0]) if c[1] else ">%d" % c[0]


def farms(a):
    top = tempfile.mkdtemp(prefix="bench_verify.")
    scene, video = os.path.join(top, "scene.blend"), os.path.join(top, "src.mp4")
    make_scene(scene)
    make_video(video)
    names = a.policies.split(",")
    results = {n: [] for n in names}
    try:
        for run in range(a.runs):
            for name in names:
                r = one_run(top, scene, video, a.port, POLICIES[name][1])
                results[name].append(r)
                print("run %d %-8s overhead %5.1f%% (honest nodes: %d tasks; render %.1f%%, transcode %.1f%%), false "
                      "positives %d, rates %s; tasks until caught: %s" % (
                          run + 1, name, 100 * r["overhead"], r["tasks"],
                          100 * r["render"]["check_seconds"] / max(r["render"]["work_seconds"], 1e-9),
                          100 * r["transcode"]["check_seconds"] / max(r["transcode"]["work_seconds"], 1e-9),
                          r["false_positives"], r["rates"],
                          ", ".join("%s %s" % (label, caught_text(r[k])) for k, label in PHASES)), flush=True)
    finally:
        shutil.rmtree(top, ignore_errors=True)
    print()
    print("honest tasks: %d, failed checks among them: %d" % (
        sum(r["tasks"] for rs in results.values() for r in rs), sum(r["false_positives"] for rs in results.values() for r in rs)))
    print("%-26s %9s %9s " % ("policy", "overhead", "false pos") + " ".join("%16s" % label for _, label in PHASES))
    for name in names:
        rs = results[name]
        med = lambda k: "%g" % statistics.median(r[k][0] for r in rs) + ("" if all(r[k][1] for r in rs) else "+")
        print("%-26s %8.1f%% %9d " % (POLICIES[name][0], 100 * statistics.median(r["overhead"] for r in rs),
                                     sum(r["false_positives"] for r in rs)) + " ".join("%16s" % med(k) for k, _ in PHASES))
    print("(tasks a cheater completed before the verdict of its first failed check, medians; + : not caught in some run)")


if __name__ == "__main__":
    main()
