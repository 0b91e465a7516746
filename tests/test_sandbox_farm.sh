#!/usr/bin/env bash
# test_sandbox_farm: the café slave's box and GPUs. `--list-devices --json` shows lavapipe as a CPU Vulkan device,
# not lent; the master shows each node's GPUs and what its renderers run in. A hostile `--blender` (a wrapper
# script) that tries the master's port on the host loopback and reads the slave's identity key and the master's
# key fails at all three in the box, and the frame it renders is still identical to plain Blender; the same wrapper
# without the box (--no-sandbox, shown as unsafe) succeeds at them, so the probes are real. A scene with a scripted
# Freestyle style is refused by name. Bad input: --gpus naming no device, a machine where user namespaces are off.
source "$(dirname "$0")/lib.sh"

REAL=$(command -v blender) || { echo "FAILED: $(basename "$0") (no blender on PATH)"; exit 1; }
command -v bwrap >/dev/null || { echo "FAILED: $(basename "$0") (bubblewrap is needed: make deps)"; exit 1; }

# 1. The Vulkan inventory: lavapipe (mesa-vulkan-drivers) is a CPU device, listed with its UUID and memory, not lent.
"$BIN/tessera-slave" --list-devices --json >"$T/devices.json" 2>"$T/devices.err" || fail "--list-devices: $(cat "$T/devices.err")"
python3 - "$T/devices.json" <<'PY' && pass "--list-devices --json: $(tr -d '\n ' <"$T/devices.json" | head -c 200)" || fail "--list-devices --json: $(head -c 400 "$T/devices.json")"
import json, sys
d = json.load(open(sys.argv[1]))
d = d["devices"] if isinstance(d, dict) else d
cpu = [g for g in d if "llvmpipe" in g["name"]]
assert cpu, "no llvmpipe device"
g = cpu[0]
assert g["type"] == "cpu" and len(g["uuid"]) >= 32 and g["memory_mb"] > 0 and g["enabled"] is False, g
PY

start_master || finish
MASTER_KEY=$T/master/master.key
[ -s "$MASTER_KEY" ] || fail "no master key at $MASTER_KEY"

# 2. Bad input: a GPU that is not there, named; a machine where the box cannot start (no user namespaces: the
# slave runs inside a user namespace of its own, where bwrap may not make more).
expect_fail 2 "no device '7'" "--gpus naming a device this machine does not have" -- \
  "$BIN/tessera-slave" --master tcp://127.0.0.1:1 --master-cert "$T/master/master.cert" --work "$T/bad" --gpus 7
# (it runs there as an unmapped user: its work folder and the master's certificate where that user may reach them)
NS=$T/userns; mkdir -p "$NS"; cp "$T/master/master.cert" "$NS/"; chmod 755 "$T"; chmod 777 "$NS"
expect_fail 2 "user namespaces.*--no-sandbox" "a machine where user namespaces are off is a clear error" -- \
  unshare -U "$BIN/tessera-slave" --master tcp://127.0.0.1:1 --master-cert "$NS/master.cert" --work "$NS/work"
chmod 700 "$T"


# 3. A hostile renderer: the wrapper tries the network and the keys, says what it got on its stderr (the slave keeps
# Blender's output in WORK/blender.log), then runs the real Blender.
WRAP=$T/evil-blender
cat >"$WRAP" <<SH
#!/bin/sh
python3 - <<'PY' >&2
import socket
try:
    socket.create_connection(("127.0.0.1", $ZPORT), timeout=2).close(); print("probe net: CONNECTED")
except OSError as e:
    print("probe net: refused (%s)" % e)
for name, path in (("slave key", "\$TS_PROBE_WORK/identity.key"), ("master key", "$MASTER_KEY")):
    try:
        open(path).read(); print("probe %s: READ" % name)
    except OSError as e:
        print("probe %s: refused (%s)" % (name, e))
PY
exec "$REAL" "\$@"
SH
chmod +x "$WRAP"
# where each slave's work folder is, baked into a copy of the wrapper
for n in boxed open; do sed "s|\\\$TS_PROBE_WORK|$T/slave-$n|" "$WRAP" >"$WRAP-$n"; chmod +x "$WRAP-$n"; done
start_slave boxed --blender "$WRAP-boxed"
start_slave open --blender "$WRAP-open" --no-sandbox
wait_nodes 2 || finish
make_scene "$T/s.blend" --width 96 --height 54 --samples 8 --frames 1-1 || fail "make scene"
mkdir -p "$T/ref"; reference "$T/s.blend" 1 "$T/ref/s" || fail "reference render"
if "$BIN/tessera" submit render "$T/s.blend" --frames 1 --tiles 2x2 --out "$T/out" --wait --timeout 180 \
    >"$T/submit.log" 2>&1 && same_image "$T/out/frame_0001.png" "$T/ref/s_0001.png"; then
  pass "a frame rendered by the hostile wrapper in the box is identical to plain Blender"
else
  fail "render: $(tail -n 3 "$T/submit.log")"
fi
B=$T/slave-boxed/blender.log O=$T/slave-open/blender.log
for probe in net "slave key" "master key"; do
  if grep -q "probe $probe: refused" "$B" && ! grep -q "probe $probe: \(CONNECTED\|READ\)" "$B"; then
    pass "in the box, $probe fails: $(grep -m1 "probe $probe" "$B")"
  else
    fail "in the box, $probe: $(grep "probe $probe" "$B" | sort | uniq -c | tr '\n' ' ')"
  fi
  grep -q "probe $probe: \(CONNECTED\|READ\)" "$O" && pass "without the box the same $probe probe succeeds" \
    || fail "the $probe probe fails even unsandboxed, so it proves nothing: $(grep -m1 "probe $probe" "$O")"
done

# 4. The master shows each node's GPUs (lavapipe, not lent) and its box; the node without one is shown unsafe.
"$BIN/tessera" nodes --json >"$T/nodes.json"
python3 - "$T/nodes.json" <<'PY' && pass "tessera nodes --json: gpus with enabled, sandbox bwrap / none" || fail "nodes: $(head -c 600 "$T/nodes.json")"
import json, sys
nodes = {n["name"]: n for n in json.load(open(sys.argv[1]))}
b, o = nodes["boxed"], nodes["open"]
assert b["sandbox"] == "bwrap" and o["sandbox"] == "none", (b["sandbox"], o["sandbox"])
g = [g for g in b["gpus"] if "llvmpipe" in g["name"]]
assert g and g[0]["type"] == "cpu" and g[0]["enabled"] is False and g[0]["uuid"] and g[0]["memory_mb"] > 0, b["gpus"]
PY
"$BIN/tessera" nodes | grep -E "^[0-9a-f]+ +open " | grep -q UNSAFE && pass "tessera nodes marks the unsandboxed node UNSAFE" \
  || fail "nodes text: $("$BIN/tessera" nodes)"
grep -q "without a sandbox" "$T/master.log" && grep -q "no-sandbox" "$T/slave-open.log" \
  && pass "the master's and the slave's logs say the node runs without a sandbox" || fail "no warning in the logs"

# 5. Encoders run in the box too: a transcode's segments are encoded by `tessera-slave encoder` under bwrap.
ffmpeg -hide_banner -loglevel error -y -f lavfi -i testsrc2=size=160x90:rate=25:duration=2 -c:v libx264 \
  -preset veryfast -g 25 "$T/src.mp4" || fail "make source"
# The open node is paused by its owner until the boxed node has started its encoder, so the segments cannot all
# go to the open one; it is resumed then, to take the spot checks of the boxed node's segments.
"$BIN/tessera-slave" ctl pause --work "$T/slave-open" >/dev/null || fail "ctl pause the open node"
"$BIN/tessera" submit transcode "$T/src.mp4" --vcodec libx264 --crf 23 --preset veryfast --segment 1 \
  --out "$T/out.mp4" --wait --timeout 120 >"$T/transcode.log" 2>&1 &
TRANSCODE=$!
for _ in $(seq 600); do grep -q "encoder started" "$T/slave-boxed.log" && break; sleep 0.1; done
"$BIN/tessera-slave" ctl resume --work "$T/slave-open" >/dev/null || fail "ctl resume the open node"
wait $TRANSCODE && [ -s "$T/out.mp4" ] || fail "transcode: $(tail -n 3 "$T/transcode.log")"
grep -q "encoder started (pid [0-9]*, sandboxed)" "$T/slave-boxed.log" \
  && pass "the boxed node's segments were encoded in the box: $(grep -m1 "encoder started" "$T/slave-boxed.log" | cut -c14-)" \
  || fail "no sandboxed encoder on the boxed node: $(grep "encoder" "$T/slave-boxed.log" | head -n 3)"

# 6. A scene with a scripted Freestyle style (Python that -Y does not stop) is refused, naming the reason.
blender -b "$T/s.blend" --python-expr 'import bpy
s = bpy.context.scene
s.render.use_freestyle = True
for vl in s.view_layers:
    vl.use_freestyle = True
    vl.freestyle_settings.mode = "SCRIPT"
bpy.ops.wm.save_as_mainfile(filepath=bpy.data.filepath.replace("s.blend", "fs.blend"))' >"$T/fs-make.log" 2>&1 \
  || fail "make the Freestyle scene: $(tail -n 3 "$T/fs-make.log")"
"$BIN/tessera" submit render "$T/fs.blend" --frames 1 --tiles 1x1 --out "$T/out-fs" --wait --timeout 120 \
  >"$T/fs.log" 2>&1 && fail "the Freestyle-script scene rendered" || true
grep -qi "freestyle.*python" "$T/fs.log" && pass "a Freestyle-script scene is refused: $(grep -i -m1 freestyle "$T/fs.log" | head -c 200)" \
  || fail "Freestyle scene: $(tail -n 3 "$T/fs.log")"

finish
