#!/usr/bin/env bash
# test_project_farm: an artist's project travels whole: a scene with a relative texture, a texture outside the project
# folder, a library that links a second library with its own texture, an image sequence, a UDIM set, a mesh cache
# and a baked particle cache renders
# on 2 slaves identical to plain `blender -b` in the project folder, with the project moved away as soon as submit
# returns; a changed texture is all a second submit uploads; a missing file, a library cycle, a manifest name that
# leaves the job's folder and a file that changes while it uploads are each handled and named.
source "$(dirname "$0")/lib.sh"

G=$T/gen # the artist's disk: proj/ (the project), shared/ (a texture outside it), cycle/ (a.blend <-> b.blend)
blender -b --factory-startup -noaudio -Y --python "$TOP/samples/make_project.py" -- "$G" >"$T/make_project.log" 2>&1 \
  || { cat "$T/make_project.log"; fail "make_project.py"; finish; }

mkdir -p "$T/ref"
(cd "$G/proj" && blender -b shot.blend -o "$T/ref/shot_####" -f 1 -f 2 >"$T/reference.log" 2>&1) || fail "reference renders"
(cd "$G/cycle" && blender -b a.blend -o "$T/ref/cycle_####" -f 1 >>"$T/reference.log" 2>&1) || fail "cycle reference"
grep -Ei "cannot read|not found|unable to open|missing" "$T/reference.log" && fail "the reference renders miss files"

start_master || finish
start_slave a
start_slave b
wait_nodes 2 || finish
blob_count() { find "$T/master/blobs" -maxdepth 2 -type f -regextype egrep -regex '.*/[0-9a-f]{64}' | wc -l; }
json_field() { python3 -c "import json,sys; print(json.load(open('$1'))['$2'])"; }

# 1. The project, submitted from another folder; moved away the moment submit returns.
if (cd / && "$BIN/tessera" submit render "$G/proj/shot.blend" --frames 1-2 --tiles 2x2 --json) >"$T/submit1.json" 2>"$T/submit1.log"; then
  mv "$G" "$T/away"
  JOB=$(json_field "$T/submit1.json" id)
  pass "submitted job $JOB: $(tail -n 1 "$T/submit1.log")"
  if "$BIN/tessera" wait "$JOB" --out "$T/out1" --timeout 600 >"$T/wait1.log" 2>&1; then
    for f in 0001 0002; do
      if same_image "$T/out1/frame_$f.png" "$T/ref/shot_$f.png"; then pass "project frame $f identical to plain blender -b"
      else fail "project frame $f differs: $(tail -n 3 "$T/idiff.log")"; fi
    done
  else
    fail "project job: $(tail -n 5 "$T/wait1.log")"
  fi
  opcurl -sf "$TESSERA_MASTER/api/v1/jobs/$JOB/inputs" >"$T/inputs1.json" && opcurl -sf "$TESSERA_MASTER/api/v1/jobs/$JOB" >"$T/job1.json" \
    && python3 -c "import json,sys; a=json.load(open('$T/inputs1.json'))['inputs']; j=json.load(open('$T/job1.json')); assert len(a)==j['inputs_count']==13, (len(a), j['inputs_count'])" \
    && pass "GET jobs/$JOB/inputs lists the 13 files the job view counts" || fail "jobs/$JOB/inputs"
  "$BIN/tessera" status "$JOB" >"$T/status1.txt"
  grep -q "project   [0-9]* files" "$T/status1.txt" && pass "status: $(grep project "$T/status1.txt")" || fail "status shows no project"
  python3 - "$T/submit1.json" <<'PY' && pass "manifest: every file under the root or _outside, relative layout kept" || fail "manifest names"
import json, sys
job = json.load(open(sys.argv[1]))
names = sorted(i["name"] for i in job["inputs"])
want = ["shot.blend", "tex/marble.png", "lib/props.blend", "lib/chars.blend", "lib/tex/skin.png", "cache/anim.pc2",
        "tex/udim/paint.1001.png", "tex/udim/paint.1002.png"]
missing = [w for w in want if w not in names]
assert not missing, (missing, names)
assert any(n.startswith("_outside/") and n.endswith("/shared/wood.png") for n in names), names
assert sum(1 for n in names if n.startswith("seq/")) >= 2, names
assert any(n.startswith("blendcache_shot/") and n.endswith(".bphys") for n in names), names
assert job["uploaded_bytes"] > 0 and job["reused_bytes"] == 0, job
PY
  mv "$T/away" "$G"
else
  fail "submit of the project: $(tail -n 5 "$T/submit1.log")"
fi

# 2. One texture changed: a second submit uploads that texture and nothing else.
python3 - "$G/proj/tex/marble.png" <<'PY' || fail "rewrite marble.png"
import struct, sys, zlib
w = h = 256
rows = b"".join(b"\0" + b"".join(bytes((x, (x ^ y) & 255, y)) for x in range(w)) for y in range(h))
def chunk(t, d): return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
open(sys.argv[1], "wb").write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
                              + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))
PY
if "$BIN/tessera" submit render "$G/proj/shot.blend" --frames 1 --tiles 1x1 --json >"$T/submit2.json" 2>"$T/submit2.log"; then
  size=$(stat -c %s "$G/proj/tex/marble.png")
  up=$(json_field "$T/submit2.json" uploaded_bytes)
  reused=$(json_field "$T/submit2.json" reused_bytes)
  if [ "$up" -eq "$size" ] && [ "$reused" -gt 0 ]; then pass "changed texture: uploaded $up bytes (the texture is $size), reused $reused"
  else fail "changed texture: uploaded $up bytes, reused $reused; the texture is $size bytes"; fi
  "$BIN/tessera" cancel "$(json_field "$T/submit2.json" id)" >/dev/null
else
  fail "second submit: $(tail -n 5 "$T/submit2.log")"
fi

# 3. A missing texture: named, exit 2, nothing uploaded.
mv "$G/proj/tex/marble.png" "$T/marble.png"
echo "changed again" >>"$G/proj/lib/tex/skin.png" # a new file the master lacks: it must not be uploaded either
before=$(blob_count)
expect_fail 2 "tex/marble.png" "a missing texture is named, exit 2" -- "$BIN/tessera" submit render "$G/proj/shot.blend" --frames 1
after=$(blob_count)
[ "$before" -eq "$after" ] && pass "nothing uploaded for the refused project ($before blobs)" || fail "blobs $before -> $after"
# --allow-missing: the job records the file and status shows it
if "$BIN/tessera" submit render "$G/proj/shot.blend" --frames 1 --allow-missing --json >"$T/submit3.json" 2>"$T/submit3.log"; then
  J3=$(json_field "$T/submit3.json" id)
  "$BIN/tessera" status "$J3" >"$T/status3.txt"
  grep -q "missing .*marble.png" "$T/status3.txt" && pass "--allow-missing: status names $(grep missing "$T/status3.txt")" \
    || fail "--allow-missing: status does not name the file: $(cat "$T/status3.txt")"
  "$BIN/tessera" cancel "$J3" >/dev/null
else
  fail "--allow-missing submit: $(tail -n 5 "$T/submit3.log")"
fi
mv "$T/marble.png" "$G/proj/tex/marble.png"

# 4. A library cycle (a.blend links b.blend links a.blend) renders as plain Blender renders it.
if "$BIN/tessera" submit render "$G/cycle/a.blend" --frames 1 --tiles 2x1 --out "$T/out-cycle" --wait >"$T/submit4.log" 2>&1 \
    && same_image "$T/out-cycle/frame_0001.png" "$T/ref/cycle_0001.png"; then
  pass "library cycle: rendered, identical to plain blender -b"
else
  fail "library cycle: $(tail -n 5 "$T/submit4.log" "$T/idiff.log")"
fi

# 5. The scene alone (--scene-only, as a submit host without Blender sends it; and through the API): the slave's
# Blender cannot find its files, and the job fails naming them instead of rendering magenta. Then a manifest name
# that leaves the job's folder is refused by the master.
expect_fail 1 "missing files:.*//tex/marble.png" "--scene-only: the farm fails the scene without its files, naming them" -- \
  "$BIN/tessera" submit render "$G/proj/shot.blend" --frames 1 --scene-only --wait --timeout 300
H=$(b2sum -l 256 "$G/proj/shot.blend" | cut -c1-64)
opcurl -s -X PUT --data-binary @"$G/proj/shot.blend" "$TESSERA_MASTER/api/v1/blobs/$H" >/dev/null
J5=$(opcurl -sf -X POST "$TESSERA_MASTER/api/v1/jobs" -d '{"type":"render","scene":"'$H'","scene_name":"shot.blend","frames":"1"}' \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
expect_fail 1 "missing files:.*//tex/marble.png" "the scene without its project fails, naming the missing files" -- \
  "$BIN/tessera" wait "${J5:-0}" --timeout 300
code=$(opcurl -s -o "$T/escape.json" -w '%{http_code}' -X POST "$TESSERA_MASTER/api/v1/jobs" -d '{"type":"render","scene":"'$H'",
  "scene_name":"shot.blend","frames":"1","project_root":"/p","inputs":[{"name":"shot.blend","hash":"'$H'"},
  {"name":"../../etc/passwd","hash":"'$H'"}]}')
if [ "$code" = 400 ] && grep -q "../../etc/passwd" "$T/escape.json"; then pass "a name leaving the job's folder: 400, $(cat "$T/escape.json")"
else fail "a name leaving the job's folder: HTTP $code $(cat "$T/escape.json")"; fi

# 6. A file that changes while it uploads is caught by its hash (uploads slowed to 1 MB/s; the
# 6 MB file changes once its upload has begun, past the bytes sent).
head -c 6000000 /dev/urandom >>"$G/proj/tex/marble.png" # still a PNG to Blender's discovery (trailing bytes after IEND)
"$BIN/tessera" submit render "$G/proj/shot.blend" --frames 1 --upload-limit 1M >"$T/submit6.log" 2>&1 &
SUB=$!
for _ in $(seq 200); do # until the upload has begun: the master writes it to a temporary file
  [ -n "$(find "$T/master/blobs" -name 'blob.*' -size +100k 2>/dev/null)" ] && break
  sleep 0.1
done
printf 'CHANGED' | dd of="$G/proj/tex/marble.png" bs=1 seek=5000000 conv=notrunc status=none
wait "$SUB"; rc=$?
if [ "$rc" -eq 2 ] && grep -q "marble.png changed while it was uploaded" "$T/submit6.log"; then
  pass "a file changed while it uploaded: exit 2, $(grep changed "$T/submit6.log" | head -n 1)"
else
  fail "a file changed while it uploaded: exit $rc, $(tail -n 3 "$T/submit6.log")"
fi

alive "the project cases"
finish
