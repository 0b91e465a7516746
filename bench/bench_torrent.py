#!/usr/bin/env python3
"""bench_torrent: bytes the master uploads to get one scene to every slave, BitTorrent swarm vs plain HTTP.

For each farm size, a fresh farm renders one frame of a padded scene (64 MB by default: a scene with its textures)
in enough tiles that every slave works on it, twice: once with the swarm (the default: torrent + web seed), once
with --no-torrent on master and slaves (each slave downloads the scene over HTTP, as a plain farm does). The master's
own counter (`tessera stats`: seed_upload_bytes, torrent and HTTP together) divided by the scene's size is the
figure; medians over several runs. Local service discovery is off (a shared machine's loopback).
Usage: bench/bench_torrent.py [--slaves 2,4,6,8] [--runs 3] [--pad-mb 64]
"""
import argparse
import hashlib
import os
import shutil
import statistics
import subprocess
import tempfile

import farm


def make_scene(path, pad_mb):
    subprocess.run(["blender", "-b", "--factory-startup", "-noaudio", "--python",
                    os.path.join(farm.TOP, "samples", "make_scene.py"), "--", "--out", path, "--width", "64",
                    "--height", "36", "--samples", "4", "--frames", "1-1", "--pad-mb", str(pad_mb)],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def one_job(scene, digest, work, slaves, port, torrent):
    """Returns (uploaded bytes, slaves that hold the scene afterwards, job wall seconds)."""
    off = [] if torrent else ["--no-torrent"]
    f = farm.Farm(work, slaves, port, ["--no-lsd", "--torrent-listen", "127.0.0.1:0"] + off,
                  ["--no-lsd", "--torrent-listen", "127.0.0.1:0"] + off)
    try:
        _, wall = f.tessera("submit", "render", scene, "--frames", "1", "--tiles", "%dx4" % slaves, "--out",
                            os.path.join(work, "out"), "--wait")
        up = f.stats()["seed_upload_bytes"]
    finally:
        f.stop()
    held = sum(os.path.exists(os.path.join(work, "slave%d" % i, "cache", digest[:2], digest)) for i in range(slaves))
    return up, held, wall


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--slaves", default="2,4,6,8")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--pad-mb", type=int, default=64)
    a = ap.parse_args()
    top = tempfile.mkdtemp(prefix="bench_torrent.")
    scene = os.path.join(top, "scene.blend")
    make_scene(scene, a.pad_mb)
    size = os.path.getsize(scene)
    digest = hashlib.blake2b(open(scene, "rb").read(), digest_size=32).hexdigest()
    print("scene: %d bytes; %d run(s) per figure; figures are the master's upload / the scene's size" % (size, a.runs))
    print("%7s %15s %15s %12s %12s" % ("slaves", "torrent", "http", "http/torrent", "got scene"))
    port = 21000 + os.getpid() % 5000 * 2  # below the ephemeral ports (32768+)
    for n in [int(x) for x in a.slaves.split(",")]:
        fig = {True: [], False: []}
        got = []
        for r in range(a.runs):
            for torrent in (True, False):
                work = os.path.join(top, "run-%d-%d-%d" % (n, r, torrent))
                os.mkdir(work)
                up, held, _ = one_job(scene, digest, work, n, port, torrent)
                port += 2
                fig[torrent].append(up / size)
                got.append(held)
                shutil.rmtree(work)
        t, h = statistics.median(fig[True]), statistics.median(fig[False])
        print("%7d %14.2fx %14.2fx %11.2fx %9d-%d  (torrent runs: %s)" % (
            n, t, h, h / t, min(got), max(got), " ".join("%.2f" % x for x in fig[True])), flush=True)
    shutil.rmtree(top)


if __name__ == "__main__":
    main()
