#!/usr/bin/env bash
# test_contactsheet_farm: the contact sheet job type on a real farm: a render's frames and stills of other formats
# (JPEG, float OpenEXR, 16-bit TIFF with alpha) become one sheet, identical to the sheet made on this machine alone
# (tessera-sheet), in the manifest's order, every thumbnail verified; bad inputs are refused naming the file.
source "$(dirname "$0")/lib.sh"

# info FILE: "WxH channels format" of an image
info() { oiiotool --info "$1" | head -n 1 | sed -n 's/.* : *\([0-9]*\) x *\([0-9]*\), \([0-9]\) channel, \([a-z0-9]*\).*/\1x\2 \3 \4/p'; }

make_scene "$T/shot.blend" --width 64 --height 36 --samples 4 --frames 1-3 || fail "make scene"
mkdir -p "$T/stills"
oiiotool --pattern fill:topleft=1,0,0:topright=0,0,1:bottomleft=0,1,0:bottomright=1,1,0 200x100 3 -d uint8 \
  -o "$T/stills/wide.jpg" || fail "make jpeg"
oiiotool --pattern fill:top=0.05,0.2,2.0:bottom=0.5,0.5,0.5 30x90 3 -d float -o "$T/stills/tall.exr" || fail "make exr"
oiiotool --pattern checker:width=8:height=8:color1=1,1,1,1:color2=0,0,0,0 50x50 4 -d uint16 \
  -o "$T/stills/alpha.tif" || fail "make tiff"
echo "shot notes, not an image" >"$T/stills/notes.txt"
head -c 300 "$T/stills/alpha.tif" >"$T/stills/cut.tif"

# every result re-done by the other node (--check-floor 1): the thumbnails' checks are part of what is tested; with
# the default priced rate a staked node's pieces after its first are re-done only now and then
start_master --check-floor 1 || finish
start_slave a
start_slave b
wait_nodes 2 || finish

log "rendering the frames the sheet is made of"
if ! "$BIN/tessera" submit render "$T/shot.blend" --frames 1-3 --tiles 2x1 --format png --out "$T/frames" --wait \
    --timeout 300 >"$T/render.log" 2>&1; then
  fail "the render failed: $(tail -n 3 "$T/render.log")"; finish
fi
IMAGES=("$T/frames/frame_0001.png" "$T/frames/frame_0002.png" "$T/frames/frame_0003.png" "$T/stills/wide.jpg"
        "$T/stills/tall.exr" "$T/stills/alpha.tif")

log "the contact sheet on the farm, and on this machine alone"
if "$BIN/tessera" submit contactsheet "${IMAGES[@]}" --columns 4 --cell 96x54 --out "$T/sheet.png" --wait \
    --timeout 300 >"$T/sheet.log" 2>&1; then
  pass "the farm made a contact sheet of ${#IMAGES[@]} images"
else
  fail "the contact sheet failed: $(tail -n 3 "$T/sheet.log")"; finish
fi
"$BIN/tessera-sheet" "${IMAGES[@]}" --columns 4 --cell 96x54 --out "$T/local.png" || fail "tessera-sheet failed"
got=$(info "$T/sheet.png")
[ "$got" = "384x108 3 uint8" ] && pass "the sheet is 4x2 cells of 96x54, RGB, 8 bits ($got)" \
  || fail "the sheet is '$got', wanted '384x108 3 uint8'"
same_image "$T/sheet.png" "$T/local.png" && pass "the farm's sheet is identical to the local one" \
  || fail "the farm's sheet differs from the local one: $(tail -n 3 "$T/idiff.log")"
# Independent of tessera's code: each cell holds its own image (the render's frames are not all alike, and the
# JPEG's top-left red corner lands in cell 4's top left), the empty cells are the grey background.
oiiotool "$T/sheet.png" --cut 96x54+288+0 -o "$T/cell4.png" && oiiotool "$T/sheet.png" --cut 96x54+288+54 -o "$T/cell8.png"
python3 - "$T" <<'PY' || fail "cell contents"
import subprocess, sys
t = sys.argv[1]
def px(path, x, y):
    out = subprocess.run(["oiiotool", path, "--cut", "1x1+%d+%d" % (x, y), "--printstats"], capture_output=True, text=True).stdout
    line = [l for l in out.splitlines() if "Stats Avg" in l][0]
    return [float(v) for v in line.split(":")[1].split()[:3]]
r, g, b = px(t + "/cell4.png", 2, 6)   # the JPEG fills the cell's width; 200x100 fits as 96x48, 3 rows of bars
assert r > 0.8 and g < 0.3 and b < 0.3, ("cell 4 top-left is not red", r, g, b)
bg = px(t + "/cell8.png", 48, 27)
assert all(abs(v - 0.12) < 2 / 255 for v in bg), ("the empty cell is not the background", bg)
print("ok: cell 4 starts red (the JPEG), cell 8 is background")
PY
JOB=$(sed -n 's/^job \([0-9]*\): submitted.*/\1/p' "$T/sheet.log" | head -n 1)
opcurl -sf "$TESSERA_MASTER/api/v1/jobs/$JOB" >"$T/job.json" || fail "GET job $JOB"
python3 - "$T/job.json" <<'PY' && pass "the job lists its manifest in order, its thumbnails were verified" || fail "the job's view: $(head -c 600 "$T/job.json")"
import json, sys
j = json.load(open(sys.argv[1]))
names = [i["name"] for i in j["inputs"]]
assert names == ["frame_0001.png", "frame_0002.png", "frame_0003.png", "wide.jpg", "tall.exr", "alpha.tif"], names
assert j["type"] == "contactsheet" and j["state"] == "done" and j["single_output"] is True, j
assert j["outputs"][0]["name"] == "sheet.png" and j["tasks_done"] == 6, j
v = j["verification"]
# every result is re-done by the other node (--check-floor 1), and they agree
assert j["checks_done"] >= 1 and v["checks_failed"] == 0 and v["tasks_passed"] >= 1, v
PY

log "bad inputs"
expect_fail 2 "notes.txt: not a PNG, JPEG, OpenEXR or TIFF image" "a text file among the images" -- \
  "$BIN/tessera" submit contactsheet "${IMAGES[0]}" "$T/stills/notes.txt"
alive "a text file"
# its header reads (accepted at submit), its pixels do not: the slave blames the input, the job fails at once naming it
expect_fail 1 "failed: cut.tif: thumbnail" "a truncated TIFF" -- "$BIN/tessera" submit contactsheet "$T/stills/cut.tif" \
  --wait --timeout 120
[ "$(node_field a tasks_failed)" = 0 ] && [ "$(node_field b tasks_failed)" = 0 ] \
  && pass "no node was blamed for the damaged image (no task failure counted)" || fail "a node was blamed for a damaged input"
expect_fail 2 "field 'columns': 65 is out of range 1..64" "65 columns (the master's bound)" -- \
  "$BIN/tessera" submit contactsheet "${IMAGES[0]}" --columns 65
expect_fail 2 "field 'cell'" "a cell of 8x8" -- "$BIN/tessera" submit contactsheet "${IMAGES[0]}" --cell 8x8
expect_fail 2 "two images with one file name" "two images named alike" -- \
  "$BIN/tessera" submit contactsheet "${IMAGES[0]}" "$T/frames/../frames/frame_0001.png"
expect_fail 2 "unknown job type 'slideshow' (types: render, transcode, contactsheet, synthetic)" "an unknown type (CLI)" -- \
  "$BIN/tessera" submit slideshow "${IMAGES[0]}"
code=$(opcurl -s -o "$T/api.json" -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
  -d '{"type":"slideshow"}' "$TESSERA_MASTER/api/v1/jobs")
[ "$code" = 400 ] && grep -q "unknown job type 'slideshow' (known: render, transcode, contactsheet, synthetic)" "$T/api.json" \
  && pass "an unknown type (API): 400 listing the known ones" || fail "unknown type via the API: $code $(cat "$T/api.json")"
code=$(opcurl -s -o "$T/api.json" -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
  -d '{"type":"contactsheet","inputs":[{"name":"never.png","hash":"'"$(printf 'a%.0s' $(seq 64))"'"}]}' "$TESSERA_MASTER/api/v1/jobs")
[ "$code" = 400 ] && grep -q "never.png: input a* has not been uploaded" "$T/api.json" \
  && pass "an input never uploaded: 400 naming it" || fail "a missing input: $code $(cat "$T/api.json")"
alive "bad inputs"
finish
