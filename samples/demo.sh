#!/usr/bin/env bash
# demo: the main job on the embedded default: a local farm (master + 2 slaves on loopback) renders a generated
# Cycles scene in 4x4 tiles and writes the frames to build/demo/out; plain Blender renders the same frames
# and the two are compared pixel for pixel.
set -euo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
BIN=$TOP/build/bin
D=$TOP/build/demo
ZPORT=${DEMO_ZMQ_PORT:-5555}
HPORT=${DEMO_HTTP_PORT:-8080}
export TESSERA_MASTER=http://127.0.0.1:$HPORT
rm -rf "$D"; mkdir -p "$D"
pids=()
cleanup() { for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

echo "demo: generating a scene with samples/make_scene.py"
blender -b --factory-startup -noaudio --python "$TOP/samples/make_scene.py" -- --out "$D/scene.blend" \
  --width 320 --height 180 --samples 32 --frames 1-2 >"$D/make_scene.log" 2>&1

echo "demo: starting a master and 2 slaves (logs in $D)"
"$BIN/tessera-master" --state "$D/master" --listen "tcp://127.0.0.1:$ZPORT" --http "127.0.0.1:$HPORT" >"$D/master.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do curl -sf "$TESSERA_MASTER/api/v1/health" >/dev/null && break; sleep 0.1; done
# the CLI acts as the farm's operator, with the token the master wrote at its first start
export TESSERA_TOKEN=$(cat "$D/master/operator.token")
for s in a b; do
  "$BIN/tessera-slave" --master "tcp://127.0.0.1:$ZPORT" --master-cert "$D/master/master.cert" --work "$D/slave-$s" \
    --name "$s" >"$D/slave-$s.log" 2>&1 &
  pids+=($!)
done

echo "demo: tessera submit render scene.blend --frames 1-2 --tiles 4x4 --wait"
"$BIN/tessera" submit render "$D/scene.blend" --frames 1-2 --tiles 4x4 --out "$D/out" --wait
"$BIN/tessera" nodes
"$BIN/tessera" jobs
echo "demo: what the job cost (the local ledger: the requester paid each node for its accepted pieces and checks)"
"$BIN/tessera" wallet

echo "demo: plain blender -b scene.blend -f N for comparison"
for f in 1 2; do blender -b "$D/scene.blend" -o "$D/plain/frame_####" -f $f >"$D/plain.log" 2>&1; done
for f in 0001 0002; do
  idiff -fail 0 -warn 0 "$D/out/frame_$f.png" "$D/plain/frame_$f.png" >/dev/null && echo "demo: frame $f identical to plain Blender"
done
echo "demo: frames are in $D/out"
