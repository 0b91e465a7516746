#!/usr/bin/env bash
# test_farm_bad_input: bad input gets a clear error naming it, and the daemons keep running and keep their data.
source "$(dirname "$0")/lib.sh"

make_scene "$T/ok.blend" --width 48 --height 27 --samples 4 --frames 1-5 || fail "make scene"
make_scene "$T/denoise.blend" --width 48 --height 27 --samples 4 --frames 1-1 --denoise || fail "make denoise scene"
echo "this is not a blend file" >"$T/notblend.blend"
head -c 4000 "$T/ok.blend" >"$T/truncated.blend"

start_master || finish
start_slave a
wait_nodes 1 || finish

expect_fail 2 "not a .blend" "a file that is not a .blend" -- "$BIN/tessera" submit render "$T/notblend.blend" --frames 1 --tiles 2x2
alive "not a blend"
# A truncated .blend: the CLI's discovery (the artist's Blender) refuses it before any upload; sent past the CLI, the
# farm's probe fails the job naming it.
expect_fail 2 "truncated.blend" "a truncated .blend, at submit" -- "$BIN/tessera" submit render "$T/truncated.blend" --frames 1 --tiles 2x2
TH=$(b2sum -l 256 "$T/truncated.blend" | cut -c1-64)
opcurl -sf -X PUT --data-binary @"$T/truncated.blend" "$TESSERA_MASTER/api/v1/blobs/$TH" >/dev/null || fail "upload truncated.blend"
TJ=$(opcurl -sf -X POST "$TESSERA_MASTER/api/v1/jobs" -d '{"type":"render","scene":"'"$TH"'","scene_name":"truncated.blend","frames":"1","tiles":"2x2"}' \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
expect_fail 1 "truncated.blend" "a truncated .blend, on the farm" -- "$BIN/tessera" wait "${TJ:-0}" --timeout 300
alive "truncated"
expect_fail 1 "outside the scene's frame range" "frames outside the scene" -- "$BIN/tessera" submit render "$T/ok.blend" --frames 7-9 --tiles 2x2 --wait --timeout 300
expect_fail 2 "tiles" "a 0x0 grid" -- "$BIN/tessera" submit render "$T/ok.blend" --frames 1 --tiles 0x0
expect_fail 2 "tiles" "a 1000x1000 grid" -- "$BIN/tessera" submit render "$T/ok.blend" --frames 1 --tiles 1000x1000
expect_fail 1 "rows" "a grid with more rows than the frame has pixels" -- "$BIN/tessera" submit render "$T/ok.blend" --frames 1 --tiles 2x40 --wait --timeout 300
expect_fail 3 "no job" "an unknown job id" -- "$BIN/tessera" status 999999
expect_fail 1 "denois" "a scene with denoising on" -- "$BIN/tessera" submit render "$T/denoise.blend" --frames 1 --tiles 2x1 --wait --timeout 300

# The API itself, without the CLI's own checks.
api() { opcurl -s -o "$T/body.json" -w '%{http_code}' -X "$1" "$TESSERA_MASTER$2" ${3:+--data-binary "$3"}; }
for body in '{bad json' '[]' '{"type":"render"}' '{"type":"render","scene":"'"$(printf %064d 0)"'","frames":"1","tiles":"0x0"}' \
            '{"type":"render","scene":"'"$(printf %064d 0)"'","frames":"1","tiles":"1000x1000"}'; do
  code=$(api POST /api/v1/jobs "$body")
  if [ "$code" = 400 ] && python3 -c 'import json,sys; e=json.load(open(sys.argv[1]))["error"]; assert e; print("   ", e)' "$T/body.json"; then
    pass "malformed API body refused with 400: $body"
  else fail "API body $body: HTTP $code $(cat "$T/body.json")"; fi
done
code=$(api GET /api/v1/jobs/12345678)
[ "$code" = 404 ] && pass "unknown job is a 404" || fail "unknown job: HTTP $code"
code=$(api PUT "/api/v1/blobs/$(printf %064d 0)" "not matching")
[ "$code" = 400 ] && grep -q BLAKE2b "$T/body.json" && pass "a blob whose hash does not match is refused" || fail "blob hash: HTTP $code"
alive "API bodies"
# POST /quote: each bad field is refused with a 400 naming it; a good one is priced as the plan counts pieces.
Q='"frames":2,"tiles_x":3,"tiles_y":2,"width":64,"height":48,"samples":8'
for pair in 'frames|{"tiles_x":1,"tiles_y":1,"width":64,"height":48,"samples":8}' 'tiles_x|{"frames":1,"tiles_x":0,"tiles_y":1,"width":64,"height":48,"samples":8}' \
            'tiles_y|{"frames":1,"tiles_x":1,"tiles_y":"2","width":64,"height":48,"samples":8}' 'width|{"frames":1,"tiles_x":1,"tiles_y":1,"width":1e9,"height":48,"samples":8}' \
            'height|{"frames":1,"tiles_x":1,"tiles_y":1,"width":64,"height":null,"samples":8}' 'samples|{"frames":1,"tiles_x":1,"tiles_y":1,"width":64,"height":48,"samples":-1}' \
            "budget|{$Q,\"budget\":\"lots\"}" 'JSON object|{bad json' 'tiles|{"frames":1,"tiles_x":64,"tiles_y":1,"width":8,"height":8,"samples":1}'; do
  field=${pair%%|*} body=${pair#*|}
  code=$(api POST /api/v1/quote "$body")
  [ "$code" = 400 ] && grep -q "$field" "$T/body.json" && pass "quote refused with 400 naming $field" \
    || fail "quote $body: HTTP $code $(cat "$T/body.json")"
done
code=$(api POST /api/v1/quote "{$Q,\"budget\":\"3.5\"}")
python3 - "$T/body.json" "$code" <<'PY' && pass "a quote prices 2 frames of 3x2 tiles as 14 pieces at the minimum task price" || fail "quote: HTTP $code $(cat "$T/body.json")"
import json, sys
from decimal import Decimal
q = json.load(open(sys.argv[1]))
assert sys.argv[2] == "200", sys.argv[2]
pieces = 2 * (3 * 2 + 1)                       # every tile of every frame, and each frame's finish
assert q["pieces"] == pieces, q
assert Decimal(q["price"]) == pieces * Decimal(q["min_task_price"]) > 0, q
assert Decimal(q["locks"]) == Decimal("3.5") and q["enough"] is True, q
assert q["units"] >= 2 * (64 * 48 * 8 + 64 * 48), q  # tiles' pixels x samples (with any margin) and the finishes
assert q["eta"] == "unknown", q              # no tile has been rendered on this farm yet
PY
alive "quote"

# A slave holding the wrong master certificate is refused by CURVE and never becomes a node.
"$BIN/tessera-master" --state "$T/impostor" --listen "tcp://127.0.0.1:$((HPORT + 2))" --http "127.0.0.1:$((HPORT + 3))" >"$T/impostor.log" 2>&1 &
IMP=$!
for _ in $(seq 100); do [ -s "$T/impostor/master.cert" ] && break; sleep 0.1; done # its certificate, then it may go
kill -TERM $IMP; wait $IMP
timeout 120 "$BIN/tessera-slave" --master "tcp://127.0.0.1:$ZPORT" --master-cert "$T/impostor/master.cert" \
  --work "$T/slave-wrongcert" --name wrongcert --handshake-timeout 5 >"$T/slave-wrongcert.log" 2>&1
rc=$?
if [ $rc -eq 1 ] && grep -q "refused the CURVE handshake" "$T/slave-wrongcert.log"; then pass "wrong master certificate refused (slave exit 1)"
else fail "wrong certificate: slave exit $rc: $(tail -n 3 "$T/slave-wrongcert.log")"; fi
"$BIN/tessera" nodes --json | python3 -c 'import json,sys; assert all(n["name"] != "wrongcert" for n in json.load(sys.stdin))' \
  && pass "the refused slave is not a node" || fail "the refused slave became a node"
alive "wrong certificate"

# One address holding 300 half-open connections (a request header never finished) keeps its share (--http-per-ip,
# 64) and locks nobody else out: the CLI's address is still answered, at once.
python3 - "$HPORT" >"$T/slow.log" 2>&1 <<'PY' &
import socket, sys, time
socks = []
for _ in range(300):
    s = socket.socket()
    s.bind(("127.0.0.2", 0))
    s.settimeout(2)
    try:
        s.connect(("127.0.0.1", int(sys.argv[1])))
        s.send(b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        socks.append(s)
    except OSError:
        pass
time.sleep(4)
alive = 0
for s in socks:
    s.settimeout(0.01)
    try:
        alive += s.recv(1) != b""
    except socket.timeout:
        alive += 1
    except OSError:
        pass
print("kept", alive)
PY
SLOW=$!
sleep 2
if curl -sf --max-time 1 "$TESSERA_MASTER/api/v1/health" >/dev/null && "$BIN/tessera" jobs >/dev/null; then
  pass "the API answers others while one address holds 300 half-open connections"
else
  fail "the API did not answer during the half-open flood"
fi
wait "$SLOW"
kept=$(sed -n 's/^kept //p' "$T/slow.log")
[ -n "$kept" ] && [ "$kept" -le 64 ] && pass "the flooding address kept $kept connections (its share is 64)" \
  || fail "the flooding address kept ${kept:-?} connections: $(cat "$T/slow.log")"

# After all that the farm still works, and with --no-denoise the denoising scene renders.
"$BIN/tessera" submit render "$T/ok.blend" --frames 2 --tiles 2x2 --out "$T/out-ok" --wait --timeout 300 >"$T/ok.log" 2>&1 \
  && [ -s "$T/out-ok/frame_0002.png" ] && pass "a good job still completes" || fail "good job after bad input: $(tail -n 3 "$T/ok.log")"
# With tiles done, a quote's ETA is the farm's own pace: a range, the high end at or above the median's.
code=$(api POST /api/v1/quote "{$Q}")
python3 -c 'import json,sys; e=json.load(open(sys.argv[1]))["eta"]; assert e["seconds"] > 0 and e["high"] >= e["seconds"] and e["tiles_timed"] > 0 and e["slots"] == 1, e' "$T/body.json" \
  && pass "a quote after done tiles has an ETA range" || fail "quote ETA: HTTP $code $(cat "$T/body.json")"
"$BIN/tessera" submit render "$T/denoise.blend" --frames 1 --tiles 2x1 --no-denoise --out "$T/out-dn" --wait --timeout 300 >"$T/dn.log" 2>&1 \
  && [ -s "$T/out-dn/frame_0001.png" ] && pass "--no-denoise renders the denoising scene" || fail "--no-denoise: $(tail -n 3 "$T/dn.log")"
n=$("$BIN/tessera" jobs --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
[ "$n" -eq 6 ] && pass "the master kept every job ($n of 6)" || fail "jobs lost: $n"

finish
