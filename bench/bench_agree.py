#!/usr/bin/env python3
"""bench_agree: whether the verifier's image rules (verifier/ts_agree.h) tolerate honest renders and catch cheats.

Seven small scenes from samples/make_scene.py (320x200 EXR float, frame 1; --width/--height change the size):
the default scene (glossy and glass balls, emissive torus) at 32 and 128 samples, then 128 samples with
--extras volume, hair, emitters (mesh light behind a glass slab, area light) and dof (depth of field and motion
blur), and the default scene at 256 samples with --adaptive-min-samples 4. Adaptive sampling is on in all (Blender's
default threshold 0.01) and acts from 128 samples (automatic minimum 64, first check after sample 79); at 32 samples
it never acts. A --runs 3 pass takes about 10 minutes of wall time on a 2-core machine (renders are small for that:
320x200, at most 256 samples, frame 1 only).
Per scene:
  1. honest disagreement: the scene rendered --runs times with plain `blender -b SCENE -f 1` (default threads) and
     once with `-t 1`; every pair of these renders is compared tile by tile (grids 4x4 and 8x8) by
     `tessera-compare --rule exact` and `--rule noise`. Each tile comparison is identical (exact agrees),
     tolerated (noise agrees, exact does not) or failed (noise disagrees: a false positive of the noise rule; must
     be 0). Also the largest share of a tile's pixels over 1e-5 (scaled) and the largest absolute difference;
  2. cheats that save work, each rendered once and compared with every default-thread honest render:
       1spp   - 1 sample;
       half   - half the samples;
       thr4   - adaptive threshold x4 the scene's effective one (max(0.001, 1/samples) when it is 0; adaptive
                sampling switched on with min samples 4 where the scene has it off);
       res50  - rendered at 50% resolution and scaled back up with `oiiotool --resize WxH` (EXR float, RGBA);
     work saved = 1 - CPU(cheat) / median CPU(honest), CPU = user+sys of the Blender process (os.wait4; plus
     oiiotool for res50), whole process: startup and scene load included. "render only" subtracts the CPU of
     loading the scene without rendering (measured once per scene), the share a persistent worker would save.
     A tile is caught by a rule when the rule says the cheat's tile disagrees with the honest one; tiles equal
     pixel for pixel to the honest render ("identical": the cheat changed nothing there, so saved nothing there)
     are counted separately.
Prints a table per scene and a summary: honest tile comparisons, failed under noise, tolerated, identical; per cheat
the median work saved over the scenes and the share of tiles (pooled over scenes, grids 4x4 and 8x8) caught by noise
and by exact. Usage: bench/bench_agree.py [--runs 3] [--keep] [--width 320 --height 200] [--scenes a,b]
"""
import argparse
import itertools
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COMPARE = os.path.join(TOP, "build", "bin", "tessera-compare")
GRIDS = ("4x4", "8x8")
RULES = ("exact", "noise")
NOISE_FLOOR_KEY = "1e-05"  # the over[] decade of TS_AGREE_NOISE_FLOOR as tessera-compare prints it

SCENES = [
    ("glass32", "default scene (glass ball, emissive torus), 32 spp", ["--samples", "32"]),
    ("glass128", "default scene, 128 spp", ["--samples", "128"]),
    ("volume", "fog cube around the glass ball, 128 spp", ["--samples", "128", "--extras", "volume"]),
    ("hair", "3000 hair strands, 128 spp", ["--samples", "128", "--extras", "hair"]),
    ("emitters", "mesh light, glass slab, area light, 128 spp", ["--samples", "128", "--extras", "emitters"]),
    ("dof", "depth of field + motion blur, 128 spp", ["--samples", "128", "--extras", "dof"]),
    ("adaptive256", "default scene, 256 spp, adaptive min samples 4", ["--samples", "256",
                                                                       "--adaptive-min-samples", "4"]),
]
CHEATS = ("1spp", "half", "thr4", "res50")
FACTS = ("import bpy; s = bpy.context.scene; c = s.cycles; "
         "print('TS_FACTS', int(c.use_adaptive_sampling), repr(c.adaptive_threshold), c.adaptive_min_samples, "
         "c.samples, flush=True)")


def run_cpu(args, log):
    """Runs args (stdout and stderr to log); returns its CPU seconds (user+sys, with reaped descendants) and wall."""
    t0 = time.monotonic()
    with open(log, "ab") as f:
        p = subprocess.Popen(args, stdout=f, stderr=subprocess.STDOUT)
        _, status, ru = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        raise SystemExit("%s exited %d (log %s)" % (" ".join(args), p.returncode, log))
    return ru.ru_utime + ru.ru_stime, time.monotonic() - t0


def make_scene(path, width, height, args):
    subprocess.run(["blender", "-b", "--factory-startup", "-noaudio", "--python",
                    os.path.join(TOP, "samples", "make_scene.py"), "--", "--out", path, "--width", str(width),
                    "--height", str(height), "--frames", "1", "--format", "OPEN_EXR"] + args,
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def scene_facts(scene, log):
    """(adaptive on, threshold, min samples, samples) of the scene, and the CPU of starting Blender and loading it."""
    open(log, "w").close()
    cpu, _ = run_cpu(["blender", "-b", scene, "--python-expr", FACTS], log)
    with open(log, errors="replace") as f:
        line = [l for l in f if l.startswith("TS_FACTS ")][0].split()
    return {"adaptive": line[1] == "1", "threshold": float(line[2]), "min_samples": int(line[3]),
            "samples": int(line[4]), "load_cpu": cpu}


def render(scene, out, log, threads=None, expr=None):
    """Renders frame 1 of scene to out (an .exr path); returns (CPU, wall)."""
    stem = out[:-len("_0001.exr")]
    args = ["blender", "-b", scene]
    if threads:
        args += ["-t", str(threads)]
    if expr:
        args += ["--python-expr", expr]
    cpu, wall = run_cpu(args + ["-o", stem + "_####", "-f", "1"], log)
    if not os.path.exists(out):
        raise SystemExit("%s: no output %s (log %s)" % (scene, out, log))
    return cpu, wall


def cheat_expr(name, facts):
    if name == "1spp":
        return "import bpy; bpy.context.scene.cycles.samples = 1"
    if name == "half":
        return "import bpy; bpy.context.scene.cycles.samples = %d" % max(1, facts["samples"] // 2)
    if name == "thr4":
        thr = facts["threshold"] or max(0.001, 1.0 / facts["samples"])
        expr = "import bpy; c = bpy.context.scene.cycles; c.adaptive_threshold = %r" % min(1.0, 4 * thr)
        if not facts["adaptive"]:
            expr += "; c.use_adaptive_sampling = True; c.adaptive_min_samples = 4"
        return expr
    if name == "res50":
        return "import bpy; bpy.context.scene.render.resolution_percentage = 50"
    raise ValueError(name)


def compare(a, b, rule, grid):
    """tessera-compare's tiles (list of dicts) for a against b."""
    p = subprocess.run([COMPARE, a, b, "--rule", rule, "--grid", grid], capture_output=True, text=True)
    if p.returncode not in (0, 1):
        raise SystemExit("tessera-compare %s %s --rule %s --grid %s: exit %d: %s" % (a, b, rule, grid, p.returncode,
                                                                                   p.stderr.strip()))
    tiles = [json.loads(l) for l in p.stdout.splitlines() if l.strip()]
    if (p.returncode == 0) != all(t["agree"] for t in tiles):
        raise SystemExit("tessera-compare: exit %d does not match its tiles" % p.returncode)
    return tiles


def compare_both(a, b, grid):
    """Per tile: (exact tile, noise tile), checked to describe the same pixels."""
    ex, no = compare(a, b, "exact", grid), compare(a, b, "noise", grid)
    if len(ex) != len(no) or any(x["tile"] != y["tile"] or x["differ"] != y["differ"] for x, y in zip(ex, no)):
        raise SystemExit("tessera-compare: exact and noise comparisons of %s %s disagree on the pixels" % (a, b))
    for x in ex:
        if x["agree"] != (x["differ"] == 0):
            raise SystemExit("tessera-compare: exact agrees with %d differing pixels" % x["differ"])
    return list(zip(ex, no))


def measure_scene(name, desc, args, runs, width, height, work):
    d = os.path.join(work, name)
    os.makedirs(d)
    scene = os.path.join(d, name + ".blend")
    make_scene(scene, width, height, args)
    facts = scene_facts(scene, os.path.join(d, "facts.log"))
    r = {"name": name, "desc": desc, "facts": facts, "honest_cpu": [], "honest_wall": [], "failures": [],
         "honest": {g: {"tiles": 0, "identical": 0, "tolerated": 0, "failed": 0} for g in GRIDS},
         "max_share": 0.0, "max_share_at": "", "max_abs": 0.0, "max_abs_at": "", "cheats": {}}
    outs = []
    for i in range(runs):
        out = os.path.join(d, "honest%d_0001.exr" % (i + 1))
        cpu, wall = render(scene, out, os.path.join(d, "honest%d.log" % (i + 1)))
        r["honest_cpu"].append(cpu)
        r["honest_wall"].append(wall)
        outs.append(("run%d" % (i + 1), out))
    out = os.path.join(d, "t1_0001.exr")
    r["t1_cpu"], r["t1_wall"] = render(scene, out, os.path.join(d, "t1.log"), threads=1)
    outs.append(("t1", out))
    for (na, a), (nb, b) in itertools.combinations(outs, 2):
        for g in GRIDS:
            h = r["honest"][g]
            for ex, no in compare_both(a, b, g):
                h["tiles"] += 1
                where = "%s vs %s, grid %s, tile %d %s" % (na, nb, g, no["tile"], no["rect"])
                if ex["agree"]:
                    h["identical"] += 1
                elif no["agree"]:
                    h["tolerated"] += 1
                else:
                    h["failed"] += 1
                    r["failures"].append("%s: %s: %d of %d pixels over 1e-5, %d over 0.016, max_abs %.3g: %s" % (
                        name, where, no["over"][NOISE_FLOOR_KEY], no["pixels"], no["over_threshold"], no["max_abs"],
                        no["detail"]))
                share = no["over"][NOISE_FLOOR_KEY] / no["pixels"]
                if share > r["max_share"]:
                    r["max_share"], r["max_share_at"] = share, where
                if no["max_abs"] > r["max_abs"]:
                    r["max_abs"], r["max_abs_at"] = no["max_abs"], where
    honest_cpu = statistics.median(r["honest_cpu"])
    for c in CHEATS:
        out = os.path.join(d, "cheat_%s_0001.exr" % c)
        clog = os.path.join(d, "cheat_%s.log" % c)
        if c == "res50":
            small = os.path.join(d, "cheat_res50small_0001.exr")
            cpu, _ = render(scene, small, clog, expr=cheat_expr(c, facts))
            up, _ = run_cpu(["oiiotool", small, "--resize", "%dx%d" % (width, height), "-d", "float", "-o", out],
                            clog)
            cpu += up
        else:
            cpu, _ = render(scene, out, clog, expr=cheat_expr(c, facts))
        load = facts["load_cpu"]
        cr = {"cpu": cpu, "ratio": cpu / honest_cpu,
              "ratio_render": max(cpu - load, 0.0) / max(honest_cpu - load, 1e-9)}
        for g in GRIDS:
            t = {"tiles": 0, "identical": 0, "noise": 0, "exact": 0, "passed_max_abs": 0.0}
            for _, honest in outs[:runs]:
                for ex, no in compare_both(out, honest, g):
                    t["tiles"] += 1
                    t["identical"] += ex["differ"] == 0
                    t["noise"] += not no["agree"]
                    t["exact"] += not ex["agree"]
                    if no["agree"] and ex["differ"]:
                        t["passed_max_abs"] = max(t["passed_max_abs"], no["max_abs"])
            cr[g] = t
        r["cheats"][c] = cr
    return r


def pct(n, d):
    return "%5.1f%%" % (100.0 * n / d) if d else "    -"


def scene_table(r):
    f = r["facts"]
    lines = ["scene %s: %s; adaptive %s (threshold %g, min samples %d); honest CPU %s s (median %.2f), -t 1 %.2f s, "
             "start+load %.2f s" % (r["name"], r["desc"], "on" if f["adaptive"] else "off", f["threshold"],
                                    f["min_samples"], "/".join("%.2f" % c for c in r["honest_cpu"]),
                                    statistics.median(r["honest_cpu"]), r["t1_cpu"], f["load_cpu"])]
    for g in GRIDS:
        h = r["honest"][g]
        lines.append("  honest %s: %d tile comparisons, %d identical, %d tolerated (noise only), %d failed noise" % (
            g, h["tiles"], h["identical"], h["tolerated"], h["failed"]))
    lines.append("  honest largest share of a tile over 1e-5: %.2f%%%s; largest max_abs %.3g%s" % (
        100 * r["max_share"], " (%s)" % r["max_share_at"] if r["max_share"] else "", r["max_abs"],
        " (%s)" % r["max_abs_at"] if r["max_abs"] else ""))
    head = "  %-6s %7s %6s %7s %7s" % ("cheat", "CPU s", "ratio", "saved", "render")
    for g in GRIDS:
        head += " | %-5s %6s %6s %6s" % (g, "ident", "noise", "exact")
    lines.append(head)
    for c in CHEATS:
        cr = r["cheats"][c]
        row = "  %-6s %7.2f %6.3f %6.1f%% %6.1f%%" % (c, cr["cpu"], cr["ratio"], 100 * (1 - cr["ratio"]),
                                                      100 * (1 - cr["ratio_render"]))
        for g in GRIDS:
            t = cr[g]
            row += " | %5d %6s %6s %6s" % (t["tiles"], pct(t["identical"], t["tiles"]), pct(t["noise"], t["tiles"]),
                                           pct(t["exact"], t["tiles"]))
        lines.append(row)
    return lines


def summary(results):
    """The summary lines of a list of measure_scene results."""
    lines = []
    tot = {k: sum(r["honest"][g][k] for r in results for g in GRIDS) for k in ("tiles", "identical", "tolerated",
                                                                                "failed")}
    best = max(results, key=lambda r: r["max_share"])
    big = max(results, key=lambda r: r["max_abs"])
    lines.append("honest: %d tile comparisons (%d scenes, grids %s), failed under noise: %d (must be 0), "
                 "tolerated (passed noise, not exact): %d, identical: %d" % (
                     tot["tiles"], len(results), " + ".join(GRIDS), tot["failed"], tot["tolerated"],
                     tot["identical"]))
    lines.append("honest: largest share of a tile's pixels over 1e-5: %.2f%% (%s%s); largest max_abs: %.3g (%s%s)" % (
        100 * best["max_share"], best["name"], ", " + best["max_share_at"] if best["max_share"] else "",
        big["max_abs"], big["name"], ", " + big["max_abs_at"] if big["max_abs"] else ""))
    for r in results:
        for f in r["failures"]:
            lines.append("honest FAILED noise: " + f)
    head = "%-6s %13s %13s" % ("cheat", "median saved", "render only")
    for g in GRIDS:
        head += " | %-5s %6s %6s %6s" % (g, "ident", "noise", "exact")
    head += " | %-14s %8s %9s" % ("noise/changed", "saves in", "passed by")
    lines.append(head)
    for c in CHEATS:
        row = "%-6s %12.1f%% %12.1f%%" % (c, 100 * (1 - statistics.median(r["cheats"][c]["ratio"] for r in results)),
                                          100 * (1 - statistics.median(r["cheats"][c]["ratio_render"]
                                                                       for r in results)))
        for g in GRIDS:
            t = {k: sum(r["cheats"][c][g][k] for r in results) for k in ("tiles", "identical", "noise", "exact")}
            row += " | %5d %6s %6s %6s" % (t["tiles"], pct(t["identical"], t["tiles"]), pct(t["noise"], t["tiles"]),
                                           pct(t["exact"], t["tiles"]))
        # detection among the tiles where the cheat changed something (the ones it can have saved work on)
        t = {k: sum(r["cheats"][c][g][k] for r in results for g in GRIDS) for k in ("tiles", "identical", "noise")}
        row += " | %14s" % pct(t["noise"], t["tiles"] - t["identical"]).strip()
        saving = [r for r in results if r["cheats"][c]["ratio_render"] < 0.95]
        row += " %8s" % ("%d/%d" % (len(saving), len(results)))
        row += " %9.3g" % max(r["cheats"][c][g]["passed_max_abs"] for r in results for g in GRIDS)
        lines.append(row)
    lines.append("(saved: 1 - CPU ratio to the median honest render, median over scenes; render only: without "
                 "Blender's start and scene load; ident/noise/exact: share of tiles identical to the honest render / "
                 "caught by the noise rule / by the exact rule, pooled over scenes and honest runs; noise/changed: "
                 "the noise rule's share of the tiles the cheat changed; saves in: scenes where the cheat saved more "
                 "than 5% of the render-only CPU; passed by: the largest max_abs of a changed tile the noise rule "
                 "let pass)")
    return lines


def measure(runs=3, width=320, height=200, scenes=None, keep=False, log=print):
    """Runs the whole measurement; returns (results, work dir or None, wall seconds)."""
    t0 = time.monotonic()
    work = tempfile.mkdtemp(prefix="bench_agree.")
    results = []
    try:
        for name, desc, args in SCENES:
            if scenes and name not in scenes:
                continue
            t = time.monotonic()
            r = measure_scene(name, desc, args, runs, width, height, work)
            results.append(r)
            for line in scene_table(r):
                log(line)
            log("  (%.0f s)" % (time.monotonic() - t))
    finally:
        if keep:
            log("kept %s" % work)
        else:
            shutil.rmtree(work, ignore_errors=True)
    return results, (work if keep else None), time.monotonic() - t0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=3, help="honest renders per scene with default threads (>= 1)")
    ap.add_argument("--width", type=int, default=320)
    ap.add_argument("--height", type=int, default=200)
    ap.add_argument("--scenes", default="", help="comma-separated subset of: " + ",".join(s[0] for s in SCENES))
    ap.add_argument("--keep", action="store_true", help="keep the scenes, renders and logs (prints the directory)")
    a = ap.parse_args()
    if a.runs < 1:
        ap.error("--runs must be >= 1")
    scenes = [s for s in a.scenes.split(",") if s]
    unknown = set(scenes) - {s[0] for s in SCENES}
    if unknown:
        ap.error("--scenes: unknown %s" % ", ".join(sorted(unknown)))
    print("bench_agree: %dx%d, %d honest runs + 1 at -t 1 per scene, grids %s, rules %s" % (
        a.width, a.height, a.runs, " ".join(GRIDS), " ".join(RULES)), flush=True)
    results, _, wall = measure(a.runs, a.width, a.height, scenes, a.keep, log=lambda s: print(s, flush=True))
    print()
    for line in summary(results):
        print(line)
    print("total wall time %.0f s" % wall)


if __name__ == "__main__":
    main()
