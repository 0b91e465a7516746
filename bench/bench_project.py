#!/usr/bin/env python3
"""bench_project: an artist's project on the farm: what the master uploads to get it to every slave, and how long
finding and hashing a 10,000-file project takes.

1. Distribution. samples/make_project.py's project (relative and absolute textures, two levels of libraries, an image
   sequence, a UDIM set, a mesh cache, a particle cache), its two textures padded to --pad-mb each (bytes after a PNG's
   end, which readers ignore), rendered in 4x4 tiles on a fresh farm of N slaves: once through the swarm (the
   default: every file a torrent) and once with --no-torrent on master and slaves (every slave downloads every file
   over HTTP, as a plain farm does). The figure is the master's own upload counter (`tessera stats`:
   seed_upload_bytes, torrent and HTTP together) divided by the project's size. Medians over --runs.
2. Discovery. A scene whose image sequence has --files frames: `tessera submit render --dry-run` (the artist's
   Blender lists the files, every file is hashed; nothing sent) against plain `b2sum` over the same files, the floor
   any tool that hashes them pays. Medians over --runs, with the ratio.
Usage: bench/bench_project.py [--slaves 4] [--runs 3] [--pad-mb 16] [--files 10000]
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import time

import farm

SEQ_SCENE = r"""
import bpy, sys
out = sys.argv[sys.argv.index("--") + 1]
bpy.ops.wm.read_factory_settings(use_empty=True)
scene = bpy.context.scene
scene.render.engine = "CYCLES"
scene.cycles.samples = 1
bpy.ops.mesh.primitive_plane_add()
mat = bpy.data.materials.new("Seq")
mat.use_nodes = True
img = bpy.data.images.load(out.rsplit("/", 1)[0] + "/seq/f_00001.png", check_existing=False)
img.source = "SEQUENCE"
node = mat.node_tree.nodes.new("ShaderNodeTexImage")
node.image = img
node.image_user.frame_duration = %d
node.image_user.use_auto_refresh = True
bpy.context.object.data.materials.append(mat)
img.filepath = "//seq/f_00001.png"
bpy.ops.wm.save_as_mainfile(filepath=out, relative_remap=True)
"""


def png(path, seed):
    """A 4x4 RGB PNG of its own colour (so every frame is a different file)."""
    import struct
    import zlib
    rows = b"".join(b"\0" + bytes((seed & 255, (seed >> 8) & 255, 7)) * 4 for _ in range(4))

    def chunk(tag, data):
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xffffffff)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 4, 4, 8, 2, 0, 0, 0)) +
                chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def blender(*args):
    subprocess.run(["blender", "-b", "--factory-startup", "-noaudio", "-Y"] + list(args), check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def project_files(scene):
    """The files `submit --dry-run` finds, and their total size."""
    out = subprocess.run([os.path.join(farm.BIN, "tessera"), "submit", "render", scene, "--frames", "1", "--dry-run"],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def distribution(a, top):
    gen = os.path.join(top, "gen")
    blender("--python", os.path.join(farm.TOP, "samples", "make_project.py"), "--", gen)
    for tex in ("proj/tex/marble.png", "shared/wood.png"):
        with open(os.path.join(gen, tex), "ab") as f:
            f.write(os.urandom(a.pad_mb << 20))
    scene = os.path.join(gen, "proj", "shot.blend")
    req = project_files(scene)
    size = sum(os.path.getsize(os.path.join(req["project_root"], i["name"])) if not i["name"].startswith("_outside/")
               else os.path.getsize(i["name"][len("_outside"):]) for i in req["inputs"])
    print("1. project: %d files, %d bytes; master upload / project size, %d run(s)" % (len(req["inputs"]), size, a.runs))
    print("%7s %12s %12s %14s" % ("slaves", "torrent", "http", "http/torrent"))
    port = 23000 + os.getpid() % 4000 * 2
    for n in [int(x) for x in a.slaves.split(",")]:
        fig = {True: [], False: []}
        for r in range(a.runs):
            for torrent in (True, False):
                work = os.path.join(top, "run-%d-%d-%d" % (n, r, torrent))
                os.mkdir(work)
                off = [] if torrent else ["--no-torrent"]
                f = farm.Farm(work, n, port, ["--no-lsd", "--torrent-listen", "127.0.0.1:0"] + off,
                              ["--no-lsd", "--torrent-listen", "127.0.0.1:0"] + off)
                try:
                    f.tessera("submit", "render", scene, "--frames", "1", "--tiles", "4x4", "--out",
                              os.path.join(work, "out"), "--wait")
                    fig[torrent].append(f.stats()["seed_upload_bytes"] / size)
                finally:
                    f.stop()
                port += 2
                shutil.rmtree(work)
        t, h = statistics.median(fig[True]), statistics.median(fig[False])
        print("%7d %11.2fx %11.2fx %13.2fx  (torrent runs: %s)" % (n, t, h, h / t,
                                                                  " ".join("%.2f" % x for x in fig[True])), flush=True)


def discovery(a, top):
    d = os.path.join(top, "big")
    os.makedirs(os.path.join(d, "seq"))
    for i in range(1, a.files + 1):
        png(os.path.join(d, "seq", "f_%05d.png" % i), i)
    scene = os.path.join(d, "scene.blend")
    blender("--python-expr", SEQ_SCENE % a.files, "--", scene)
    files = sorted(os.path.join(d, "seq", x) for x in os.listdir(os.path.join(d, "seq"))) + [scene]
    ours, plain, found = [], [], 0
    for _ in range(a.runs):
        subprocess.run(["sync"])
        t0 = time.monotonic()
        found = len(project_files(scene)["inputs"])
        ours.append(time.monotonic() - t0)
        t0 = time.monotonic()
        subprocess.run(["b2sum", "-l", "256"] + files, check=True, stdout=subprocess.DEVNULL)
        plain.append(time.monotonic() - t0)
    o, p = statistics.median(ours), statistics.median(plain)
    print("2. discovery: %d files found of %d; submit --dry-run %.2f s, plain b2sum %.2f s: %.1fx  (runs: %s)" % (
        found, len(files), o, p, o / p, " ".join("%.2f" % x for x in ours)), flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--slaves", default="4")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--pad-mb", type=int, default=16)
    ap.add_argument("--files", type=int, default=10000)
    ap.add_argument("--keep", action="store_true")
    a = ap.parse_args()
    top = tempfile.mkdtemp(prefix="bench_project.")
    try:
        discovery(a, top)
        distribution(a, top)
    finally:
        farm.cleanup(top, a.keep)


if __name__ == "__main__":
    main()
