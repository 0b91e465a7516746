#!/usr/bin/env bash
# test_noise_farm: scenes where Cycles' adaptive sampling acts (glass, emission, mesh lights, volume), every result
# spot-checked (--check-floor 1), on 2 and then 3 slaves: no check fails, no node is blocked, and each frame differs
# from plain `blender -b` by no more than plain Blender differs from itself (pixel count and largest difference,
# measured here on two plain renders; where Blender repeats itself the farm's frame must be identical).
source "$(dirname "$0")/lib.sh"
CMP="$BIN/tessera-compare"

# differ_max A B: "PIXELS MAX" where the two EXRs differ at all (one tile: the whole frame)
differ_max() {
  "$CMP" "$1" "$2" --rule exact | python3 -c 'import json,sys; d=json.loads(sys.stdin.readline()); print(d["differ"], d["max_abs"])'
}

scenes=(
  "glass --samples 128 --adaptive-min-samples 4 --extras emitters"
  "fog --samples 64 --adaptive-min-samples 4 --extras volume"
)
for s in "${scenes[@]}"; do
  name=${s%% *}
  make_scene "$T/$name.blend" --width 128 --height 80 --frames 1 --format OPEN_EXR ${s#* } || fail "make $name"
  for r in a b; do
    blender -b "$T/$name.blend" -o "$T/ref/${name}_${r}_####" -f 1 >"$T/reference.log" 2>&1 || fail "plain render $name $r"
  done
done

start_master --check-floor 1 --check-trust 1000 --check-wait 30 || finish
start_slave one
start_slave two
wait_nodes 2 || finish

# render NAME GRID SLAVES: the farm renders the scene; the checks and the frame are judged
render() {
  local name=$1 grid=$2 slaves=$3
  if ! "$BIN/tessera" submit render "$T/$name.blend" --frames 1 --tiles "$grid" --out "$T/out-$name" --wait \
      --timeout 900 >"$T/submit-$name.log" 2>&1; then
    fail "$name on $slaves slaves: $(tail -n 3 "$T/submit-$name.log")"; return
  fi
  local job
  job=$(sed -n 's/.*job \([0-9]*\).*/\1/p' "$T/submit-$name.log" | head -n 1)
  "$BIN/tessera" status "$job" --json >"$T/status-$name.json"
  python3 - "$T/status-$name.json" "$grid" <<'PY' && pass "$name, $grid on $slaves slaves: every result checked, none failed" \
    || fail "$name on $slaves slaves: checks $(cat "$T/status-$name.json")"
import json, sys
j = json.load(open(sys.argv[1])); v = j["verification"]
cols, rows = map(int, sys.argv[2].split("x"))
# every tile and the finish re-done by another node and agreeing
assert v["checks_failed"] == 0 and v["disputes_unresolved"] == 0, v
assert v["tasks_passed"] == cols * rows + 1 and v["tasks_unchecked"] == 0, v
PY
  local self farm
  self=$(differ_max "$T/ref/${name}_a_0001.exr" "$T/ref/${name}_b_0001.exr")
  farm=$(differ_max "$T/out-$name/frame_0001.exr" "$T/ref/${name}_a_0001.exr")
  if python3 -c "import sys; s=sys.argv[1].split(); f=sys.argv[2].split(); sys.exit(0 if int(f[0]) <= int(s[0]) and float(f[1]) <= float(s[1]) else 1)" "$self" "$farm"; then
    pass "$name: farm vs plain Blender differ in $farm (pixels, largest), plain vs plain in $self"
  else
    fail "$name: farm vs plain Blender differ in $farm (pixels, largest), more than plain vs plain $self"
  fi
}

render glass 4x4 2
start_slave three
wait_nodes 3 || finish
render fog 3x3 3
for n in one two three; do
  [ "$(node_field $n checks_failed)" = 0 ] && [ "$(node_field $n state)" != blocked ] \
    && [ "$(node_field $n state)" != quarantined ] && pass "$n: no failed check, not blocked" \
    || fail "$n punished: $("$BIN/tessera" nodes)"
done
finish
