#!/usr/bin/env bash
# test_farm_exact: frames rendered by the farm in tiles on 2 slaves are pixel-identical to plain `blender -b -f N`,
# for several grids, an odd resolution and a percentage scale; embedded auto-run scripts never run.
source "$(dirname "$0")/lib.sh"

make_scene "$T/odd.blend" --width 97 --height 61 --samples 96 --frames 1-3 || fail "make odd scene"
make_scene "$T/half.blend" --width 161 --height 91 --percent 50 --samples 8 --frames 1-1 || fail "make half scene"
make_scene "$T/auto.blend" --width 64 --height 36 --samples 4 --frames 1-1 --autorun-marker "$T/autorun-ran" \
  || fail "make auto-run scene"

mkdir -p "$T/ref"
reference "$T/odd.blend" 1 "$T/ref/odd" && reference "$T/odd.blend" 2 "$T/ref/odd" \
  && reference "$T/half.blend" 1 "$T/ref/half" || fail "reference renders"

start_master || finish
start_slave a
start_slave b
wait_nodes 2 || finish

for grid in 1x1 3x2 4x4 7x5; do
  if "$BIN/tessera" submit render "$T/odd.blend" --frames 1-2 --tiles "$grid" --out "$T/out-$grid" --wait \
      >"$T/submit-$grid.log" 2>&1; then
    for f in 1 2; do
      n=$(printf %04d $f)
      if same_image "$T/out-$grid/frame_$n.png" "$T/ref/odd_$n.png"; then pass "97x61 grid $grid frame $f identical"
      else fail "97x61 grid $grid frame $f differs: $(tail -n 3 "$T/idiff.log")"; fi
    done
  else
    fail "grid $grid: submit --wait failed: $(tail -n 3 "$T/submit-$grid.log")"
  fi
done

if "$BIN/tessera" submit render "$T/half.blend" --frames 1 --tiles 4x3 --out "$T/out-half" --wait >"$T/submit-half.log" 2>&1 \
    && same_image "$T/out-half/frame_0001.png" "$T/ref/half_0001.png"; then
  pass "161x91 at 50% (80x45) grid 4x3 identical"
else
  fail "percentage-scaled scene: $(tail -n 3 "$T/submit-half.log" "$T/idiff.log")"
fi

# --format exr: the farm's float EXR equals plain `blender -b -F OPEN_EXR -f 1`.
blender -b "$T/odd.blend" -o "$T/ref/odd_exr_####" -F OPEN_EXR -f 1 >"$T/reference.log" 2>&1 || fail "EXR reference"
if "$BIN/tessera" submit render "$T/odd.blend" --frames 1 --tiles 3x3 --format exr --out "$T/out-exr" --wait >"$T/submit-exr.log" 2>&1 \
    && same_image "$T/out-exr/frame_0001.exr" "$T/ref/odd_exr_0001.exr"; then
  pass "--format exr grid 3x3 identical to blender -F OPEN_EXR"
else
  fail "--format exr: $(tail -n 3 "$T/submit-exr.log" "$T/idiff.log")"
fi

# The job list is oldest first and every job is done.
"$BIN/tessera" jobs --json | python3 -c '
import json, sys
jobs = json.load(sys.stdin)
ids = [j["id"] for j in jobs]
assert ids == sorted(ids), ids
assert all(j["state"] == "done" for j in jobs), [(j["id"], j["state"]) for j in jobs]
' && pass "jobs --json oldest first, all done" || fail "jobs --json"

# A scene carrying an auto-run script renders, and its script never runs on the slave.
if "$BIN/tessera" submit render "$T/auto.blend" --frames 1 --tiles 2x2 --out "$T/out-auto" --wait >"$T/submit-auto.log" 2>&1 \
    && [ -f "$T/out-auto/frame_0001.png" ]; then
  if [ -e "$T/autorun-ran" ]; then fail "the embedded auto-run script ran"; else pass "embedded auto-run script did not run"; fi
else
  fail "auto-run scene did not render: $(tail -n 3 "$T/submit-auto.log")"
fi

finish
