#!/usr/bin/env bash
# test_worker_project: an "artist project" (samples/make_project.py) end to end on the Blender side:
# discovery (cli/tessera_deps.py) lists every external file, the worker refuses a scene with a missing texture
# (and renders it with allow_missing), and a copy laid out as a slave lays out a job (project root -> JOB/,
# other absolute paths -> JOB/_outside/<abs path>) renders identically once the original folder is gone, and a copy
# with its texture packed needs no file for it (not listed; renders identically without it).
# Usage: tests/test_worker_project.sh [WORKER.py [DEPS.py]]   (default: the installed copies in $TESSERA_BIN or
# build/bin, tessera-worker.py and tessera-deps.py; pass slave/blender_worker.py cli/tessera_deps.py for the sources).
# Exit 0 = all checks passed, 77 = no Blender here. About 35 s on 2 cores.
set -u
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=${TESSERA_BIN:-$TOP/build/bin}
WORKER=${1:-$BIN/tessera-worker.py}
DEPS=${2:-$BIN/tessera-deps.py}
[ -f "$WORKER" ] && [ -f "$DEPS" ] || { echo "FAIL: no $WORKER or $DEPS"; exit 1; }
command -v blender >/dev/null || { echo "SKIP: no blender on PATH"; exit 77; }

W=$(mktemp -d /tmp/tessera-remap.XXXXXX)
ART=$W/art        # the artist's machine: ART/proj is the project root, ART/shared lies outside it
JOB=$W/job        # the slave's job folder
FAILS=0
fail() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }
pass() { echo "ok: $*"; }
finish() {
  if [ "$FAILS" -eq 0 ]; then rm -rf "$W"; echo "PASSED: test_worker_project.sh"; exit 0; fi
  echo "FAILED: test_worker_project.sh ($FAILS); files kept in $W"; exit 1
}

# worker NAME < requests: runs one worker over fds 3/4 (tests/worker_driver.py), one reply line per request in
# $W/NAME.replies (the driver's final {"exit":...} summary line is dropped)
worker() {
  python3 "$TOP/tests/worker_driver.py" "$WORKER" "$W/$1.log" | sed '/^{"exit": -\?[0-9]*, "extra_output": /d' >"$W/$1.replies"
}
# reply NAME N EXPR: python expression on reply number N (1-based) as r
reply() { python3 -c "import json,sys; r=[json.loads(l) for l in open(sys.argv[1])][int(sys.argv[2])-1]; print($3)" "$W/$1.replies" "$2"; }
# same_image A B: identical pixels
same_image() {
  if command -v idiff >/dev/null; then idiff -fail 0 -warn 0 "$1" "$2" >"$W/idiff.log" 2>&1; return; fi
  blender -b --factory-startup -noaudio --python-expr "import bpy,sys
a,b=(bpy.data.images.load(p) for p in sys.argv[-2:])
sys.exit(0 if tuple(a.size)==tuple(b.size) and list(a.pixels)==list(b.pixels) else 1)" -- "$1" "$2" >/dev/null 2>&1
}
# render_reqs SCENE FRAME OUT [extra JSON members]: probe + one whole-frame tile + finish
render_reqs() {
  local s=$1 f=$2 o=$3 x=${4:-}
  printf '{"op":"probe","scene":"%s"%s}\n' "$s" "$x"
  printf '{"op":"tile","scene":"%s","frame":%d,"border":[0,0,64,48],"out":"%s.exr"%s}\n' "$s" "$f" "$o" "$x"
  printf '{"op":"finish","scene":"%s","frame":%d,"input":"%s.exr","out":"%s"%s}\n' "$s" "$f" "$o" "$o" "$x"
}

# ---------------------------------------------------------------- 1. the project
blender -b --factory-startup -Y --python "$TOP/samples/make_project.py" -- "$ART" >"$W/make.log" 2>&1 \
  || { fail "make_project.py failed"; tail -20 "$W/make.log"; finish; }
pass "make_project.py built the project"

# ---------------------------------------------------------------- 2. plain Blender renders it with every file found
(cd "$ART/proj" && blender -b shot.blend -o "$W/plain_####" -f 1 -f 2) >"$W/plain.log" 2>&1 || fail "plain render failed"
if grep -iE "cannot read|not found|unable to open|cannot find|missing|error" "$W/plain.log" | grep -v "^Error: Not freed memory" >"$W/plain.warn"; then
  fail "plain render warns: $(head -3 "$W/plain.warn")"
else pass "plain Blender renders frames 1 and 2 without a missing-file warning"; fi
same_image "$W/plain_0001.png" "$W/plain_0002.png" && fail "frames 1 and 2 are identical (sequence/cache not animated)"

# ---------------------------------------------------------------- 3. discovery
blender -b --factory-startup -noaudio -Y --python-exit-code 3 "$ART/proj/shot.blend" --python "$DEPS" -- "$W/deps.json" \
  >"$W/deps.log" 2>&1 || fail "tessera-deps exited $?"
python3 - "$W/deps.json" "$ART" <<'PY' && pass "deps lists every file (exists, holder, relative)" || fail "deps listing wrong"
import json, os, sys
d, art = json.load(open(sys.argv[1])), sys.argv[2]
files = {f["path"]: f for f in d["files"]}
want = {  # path under ART: (kind, holder under ART, relative)
    "proj/tex/marble.png": ("image", "proj/shot.blend", True),
    "shared/wood.png": ("image", "proj/shot.blend", False),
    "proj/lib/props.blend": ("library", "proj/shot.blend", True),
    "proj/lib/chars.blend": ("library", "proj/lib/props.blend", True),
    "proj/lib/tex/skin.png": ("image", "proj/lib/chars.blend", True),
    "proj/seq/frame_0001.png": ("image", "proj/shot.blend", True),
    "proj/seq/frame_0002.png": ("image", "proj/shot.blend", True),
    "proj/tex/udim/paint.1001.png": ("image", "proj/shot.blend", True),
    "proj/tex/udim/paint.1002.png": ("image", "proj/shot.blend", True),
    "proj/cache/anim.pc2": ("meshcache", "proj/shot.blend", True),
}
bad = []
if d["main"] != art + "/proj/shot.blend" or not d["blender"]:
    bad.append("main/blender: %r %r" % (d["main"], d["blender"]))
for rel, (kind, holder, relative) in want.items():
    f = files.get(art + "/" + rel)
    if f is None:
        bad.append("not listed: " + rel)
    elif (f["kind"], f["holder"], f["relative"], f["exists"]) != (kind, art + "/" + holder, relative, True):
        bad.append("%s: %r" % (rel, f))
    elif f["relative"] and os.path.dirname(art + "/" + rel) != os.path.dirname(
            os.path.normpath(os.path.join(os.path.dirname(f["holder"]), f["ref"][2:]))):
        bad.append("%s: ref %r does not resolve against its holder" % (rel, f["ref"]))
pcs = [p for p, f in files.items() if f["kind"] == "pointcache"]
if len(pcs) != 2 or not all(p.startswith(art + "/proj/blendcache_shot/") and p.endswith(".bphys") for p in pcs):
    bad.append("point cache files: %r" % pcs)
extra = set(files) - {art + "/" + r for r in want} - set(pcs)
if extra:
    bad.append("unexpected: %r" % sorted(extra))
if len(files) != len(d["files"]):
    bad.append("a path is listed twice")
for b in bad:
    print("  " + b)
sys.exit(1 if bad else 0)
PY

# ---------------------------------------------------------------- 4. the worker at the original place
{ render_reqs "$ART/proj/shot.blend" 1 "$W/orig1.png"; render_reqs "$ART/proj/shot.blend" 2 "$W/orig2.png"; } | worker orig
for n in 1 2 3 4 5 6; do [ "$(reply orig $n 'r["ok"]')" = True ] || fail "original place, request $n: $(sed -n ${n}p "$W/orig.replies")"; done
same_image "$W/orig1.png" "$W/plain_0001.png" && same_image "$W/orig2.png" "$W/plain_0002.png" \
  && pass "the worker renders the project like plain Blender (frames 1, 2)" || fail "worker render differs from plain Blender"

# ---------------------------------------------------------------- 5. a missing texture is refused, named
mv "$ART/proj/tex/marble.png" "$W/marble.png.away"
{ printf '{"op":"probe","scene":"%s"}\n' "$ART/proj/shot.blend"
  printf '{"op":"probe","scene":"%s","allow_missing":true}\n' "$ART/proj/shot.blend"
  printf '{"op":"probe","scene":"%s"}\n' "$ART/proj/shot.blend"; } | worker missing
mv "$W/marble.png.away" "$ART/proj/tex/marble.png"
[ "$(reply missing 1 'r["ok"] is False and r.get("input_error") is True and "//tex/marble.png" in r["error"] and "marble.png" in r["error"].split("(")[1]')" = True ] \
  && pass "a missing texture is refused: $(reply missing 1 'r["error"]')" || fail "missing texture: $(sed -n 1p "$W/missing.replies")"
[ "$(reply missing 2 'r["ok"]')" = True ] && pass "allow_missing renders anyway" || fail "allow_missing: $(sed -n 2p "$W/missing.replies")"
[ "$(reply missing 3 'r["ok"]')" = False ] && pass "the allowed load is not reused for a strict request" || fail "strict after allowed: $(sed -n 3p "$W/missing.replies")"

# ---------------------------------------------------------------- 6. the job folder, the original gone
mkdir -p "$JOB/_outside$ART/shared"
cp -a "$ART/proj/." "$JOB/"
cp -a "$ART/shared/wood.png" "$JOB/_outside$ART/shared/wood.png"
mv "$ART" "$ART.gone"
sum() { find "$JOB" -type f -exec md5sum {} + | sort; }
sum >"$W/job.before"
P=$(printf ',"project_root":"%s","project_dir":"%s"' "$ART/proj" "$JOB")
{ render_reqs "$JOB/shot.blend" 1 "$W/job1.png" "$P"; render_reqs "$JOB/shot.blend" 2 "$W/job2.png" "$P"
  printf '{"op":"probe","scene":"%s"}\n' "$JOB/shot.blend"; } | worker job
for n in 1 2 3 4 5 6; do [ "$(reply job $n 'r["ok"]')" = True ] || fail "job folder, request $n: $(sed -n ${n}p "$W/job.replies")"; done
same_image "$W/job1.png" "$W/orig1.png" && same_image "$W/job2.png" "$W/orig2.png" \
  && pass "the remapped job renders identically (frames 1, 2)" || fail "the job's render differs from the original's"
[ "$(reply job 7 'r["ok"] is False and "wood.png" in r["error"]')" = True ] \
  && pass "without the project fields the job's absolute path is missing: $(reply job 7 'r["error"]')" \
  || fail "no project fields: $(sed -n 7p "$W/job.replies")"
sum >"$W/job.after"
cmp -s "$W/job.before" "$W/job.after" && pass "nothing in the job folder was written" || fail "the job folder changed"
grep -iE "cannot read|not found|unable to open|cannot find" "$W/job.log" | grep -v "wood.png" >"$W/job.warn" \
  && fail "worker warns in the job: $(head -3 "$W/job.warn")"
mv "$ART.gone" "$ART"

# ---------------------------------------------------------------- 7. a library cycle loads and is listed
for f in a b; do
  timeout 120 blender -b --factory-startup -noaudio -Y --python-exit-code 3 "$ART/cycle/$f.blend" --python "$DEPS" -- "$W/cyc_$f.json" \
    >"$W/cyc_$f.log" 2>&1 || fail "deps on cycle/$f.blend exited $?"
done
python3 -c "import json,sys; a,b=(json.load(open(p)) for p in sys.argv[1:3]); art=sys.argv[3]
assert [f['path'] for f in a['files']]==[art+'/cycle/b.blend'] and [f['path'] for f in b['files']]==[art+'/cycle/a.blend'], (a,b)" \
  "$W/cyc_a.json" "$W/cyc_b.json" "$ART" && pass "library cycle: deps lists the other file only" || fail "cycle deps wrong"
render_reqs "$ART/cycle/a.blend" 1 "$W/cyc.png" | timeout 120 cat | worker cycle
[ "$(reply cycle 3 'r["ok"]')" = True ] && pass "the worker renders a library cycle" || fail "cycle: $(cat "$W/cycle.replies")"

# ---------------------------------------------------------------- 8. a packed texture needs no file
# A copy of shot.blend beside it with marble.png packed (File > External Data > Pack); its disk point cache
# follows its file name (blendcache_packed/), so the baked cache is copied there.
blender -b --factory-startup -Y "$ART/proj/shot.blend" --python-exit-code 1 --python-expr "import bpy, sys
im = bpy.data.images['marble.png']
im.pack()
if im.packed_file is None: sys.exit('marble.png not packed')
bpy.ops.wm.save_as_mainfile(filepath=sys.argv[-1], copy=True, relative_remap=True)" -- "$ART/proj/packed.blend" \
  >"$W/pack.log" 2>&1 && [ -f "$ART/proj/packed.blend" ] || fail "packing marble.png failed: $(tail -3 "$W/pack.log")"
cp -a "$ART/proj/blendcache_shot" "$ART/proj/blendcache_packed"
blender -b --factory-startup -noaudio -Y --python-exit-code 3 "$ART/proj/packed.blend" --python "$DEPS" -- "$W/packed.json" \
  >"$W/packed_deps.log" 2>&1 || fail "deps on packed.blend exited $?"
python3 - "$W/deps.json" "$W/packed.json" "$ART" <<'PY' && pass "deps lists the packed scene's files but tex/marble.png" \
  || fail "packed deps listing wrong"
import json, sys
plain, packed, art = json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), sys.argv[3]
got = {f["path"] for f in packed["files"]}
want = {f["path"].replace("/blendcache_shot/", "/blendcache_packed/") for f in plain["files"]}
want.discard(art + "/proj/tex/marble.png")
for p in sorted(got ^ want):
    print("  %s: %s" % ("unexpected" if p in got else "not listed", p))
sys.exit(0 if got == want and packed["main"] == art + "/proj/packed.blend" else 1)
PY
mv "$ART/proj/tex/marble.png" "$W/marble.png.away"
render_reqs "$ART/proj/packed.blend" 1 "$W/packed1.png" | worker packed
mv "$W/marble.png.away" "$ART/proj/tex/marble.png"
for n in 1 2 3; do [ "$(reply packed $n 'r["ok"]')" = True ] || fail "packed, request $n: $(sed -n ${n}p "$W/packed.replies")"; done
same_image "$W/packed1.png" "$W/orig1.png" \
  && pass "the packed scene renders without tex/marble.png, identical to the unpacked one" \
  || fail "the packed scene's render differs from the unpacked one"
finish
