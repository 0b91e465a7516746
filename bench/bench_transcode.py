#!/usr/bin/env python3
"""bench_transcode: the farm's segment-parallel transcode vs a plain `ffmpeg -i IN -c:v libx264 -crf N -preset P -c:a copy`.

Same source, same run: frames and duration of both outputs, audio duration, PSNR of each against the source, size
and CPU time (user+sys of every farm process: master, slaves, CLI; and of plain ffmpeg), medians over runs.
Usage: bench/bench_transcode.py [--runs 3] [--seconds 20] [--size 1280x720] [--crf 23] [--preset medium]
                                [--segment 5] [--slaves 2]
"""
import argparse
import os
import re
import shutil
import statistics
import subprocess
import tempfile
import time

import farm


def run_quiet(args):
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def probe(path, stream, entry):
    out = subprocess.run(["ffprobe", "-v", "error", "-select_streams", stream, "-count_frames", "-show_entries",
                          "stream=" + entry, "-of", "csv=p=0", path], check=True, capture_output=True, text=True)
    return out.stdout.strip()


def psnr(path, source):
    out = subprocess.run(["ffmpeg", "-hide_banner", "-i", path, "-i", source, "-lavfi", "[0:v][1:v]psnr", "-f", "null",
                          "-"], capture_output=True, text=True).stderr
    m = re.search(r"average:([0-9.]+|inf)", out)
    return float(m.group(1)) if m else float("nan")


def measure(path, source):
    return {"frames": int(probe(path, "v:0", "nb_read_frames")),
            "duration": float(probe(path, "v:0", "duration") or "nan"),
            "audio": float(probe(path, "a:0", "duration") or "nan"),
            "psnr": psnr(path, source), "size": os.path.getsize(path)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--seconds", type=int, default=20)
    ap.add_argument("--size", default="1280x720")
    ap.add_argument("--crf", type=int, default=23)
    ap.add_argument("--preset", default="medium")
    ap.add_argument("--segment", type=float, default=5.0)
    ap.add_argument("--slaves", type=int, default=2)
    ap.add_argument("--port", type=int, default=28555)
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="tessera-bench-tc.")
    src = os.path.join(tmp, "source.mp4")
    # A source with B-frames and keyframes every 2 s, as a camera or an editor would deliver it.
    run_quiet(["ffmpeg", "-y", "-f", "lavfi", "-i", "testsrc2=size=%s:rate=25:duration=%d" % (a.size, a.seconds),
               "-f", "lavfi", "-i", "sine=frequency=440:duration=%d" % a.seconds, "-c:v", "libx264", "-preset",
               "veryfast", "-crf", "18", "-g", "50", "-c:a", "aac", "-shortest", src])
    print("source %s %d s 25 fps; x264 crf %d preset %s; farm: %d slaves, %.1f s segments" % (
        a.size, a.seconds, a.crf, a.preset, a.slaves, a.segment))
    rows = []
    for run in range(a.runs):
        work = os.path.join(tmp, "run%d" % run)
        os.makedirs(work)
        plain_out = os.path.join(work, "plain.mp4")
        before, t0 = farm.children_cpu(), time.monotonic()
        run_quiet(["ffmpeg", "-y", "-i", src, "-c:v", "libx264", "-crf", str(a.crf), "-preset", a.preset, "-c:a",
                   "copy", plain_out])
        plain_cpu, plain_wall = farm.children_cpu() - before, time.monotonic() - t0
        f = farm.Farm(work, a.slaves, a.port + 2 * run)
        farm_out = os.path.join(work, "farm.mp4")
        farm_before = f.cpu()
        cli_cpu, farm_wall = f.tessera("submit", "transcode", src, "--vcodec", "libx264", "--crf", str(a.crf),
                                       "--preset", a.preset, "--segment", str(a.segment), "--out", farm_out, "--wait")
        farm_cpu = f.cpu() - farm_before + cli_cpu
        f.stop()
        p, q = measure(plain_out, src), measure(farm_out, src)
        row = {"cpu": farm_cpu / plain_cpu, "wall": farm_wall / plain_wall, "size": q["size"] / p["size"],
               "dpsnr": q["psnr"] - p["psnr"], "dframes": q["frames"] - p["frames"],
               "ddur": q["duration"] - p["duration"], "daudio": q["audio"] - p["audio"]}
        rows.append(row)
        print("run %d: plain ffmpeg %.1f s CPU %.1f s wall, %d frames, %.3f s, %.3f dB, %d bytes | farm %.1f s CPU "
              "%.1f s wall, %d frames, %.3f s, %.3f dB, %d bytes | CPU %.3fx, size %.4fx, PSNR %+.3f dB, "
              "frames %+d, duration %+.3f s, audio %+.3f s" % (
                  run + 1, plain_cpu, plain_wall, p["frames"], p["duration"], p["psnr"], p["size"], farm_cpu,
                  farm_wall, q["frames"], q["duration"], q["psnr"], q["size"], row["cpu"], row["size"],
                  row["dpsnr"], row["dframes"], row["ddur"], row["daudio"]))
    med = {k: statistics.median(r[k] for r in rows) for k in rows[0]}
    print("median over %d runs: CPU ratio farm/plain %.3f, wall ratio %.3f, size ratio %.4f, PSNR difference %+.3f dB, "
          "frame count difference %+d, duration difference %+.3f s, audio difference %+.3f s" % (
              len(rows), med["cpu"], med["wall"], med["size"], med["dpsnr"], med["dframes"], med["ddur"],
              med["daudio"]))
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
