#!/usr/bin/env bash
# test_torrent_farm: render inputs travel through a BitTorrent swarm: with 4 slaves the master uploads about one copy
# of the scene (torrent and web seed together), every slave gets it through the swarm and the frame is exact; a
# slave that reaches no peer at all gets the scene from the web seed; a corrupted cached scene is fetched again
# through the swarm, and a restarted slave seeds what its cache holds.
source "$(dirname "$0")/lib.sh"

make_scene "$T/s.blend" --width 64 --height 36 --samples 4 --frames 1-1 --pad-mb 24 || fail "make scene"
size=$(stat -c %s "$T/s.blend")
mkdir -p "$T/ref"; reference "$T/s.blend" 1 "$T/ref/s" || fail "reference"
stat_of() { "$BIN/tessera" stats --json | python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }

# 1. Four slaves, one 24 MB scene, 16 tiles: each slave fetches it, mostly from the others.
start_master || finish
for i in 1 2 3 4; do start_slave "s$i"; done
wait_nodes 4 || finish
"$BIN/tessera" submit render "$T/s.blend" --frames 1 --tiles 4x4 --out "$T/out1" --wait >"$T/j1.log" 2>&1 \
  || fail "job with 4 slaves: $(tail -n 2 "$T/j1.log")"
same_image "$T/out1/frame_0001.png" "$T/ref/s_0001.png" && pass "4 slaves: the frame is exact" \
  || fail "4 slaves: the frame differs from plain blender"
fetched=$(grep -l "fetched by torrent" "$T"/slave-s*.log | wc -l)
worked=$(grep -l "task [0-9]* done" "$T"/slave-s*.log | wc -l)
[ "$fetched" -eq "$worked" ] && [ "$fetched" -ge 2 ] && pass "$fetched slaves fetched the scene by torrent" \
  || fail "$fetched of $worked working slaves fetched the scene by torrent"
up=$(stat_of seed_upload_bytes); tor=$(stat_of torrent_upload_bytes)
python3 -c "import sys; sys.exit(0 if $up <= 1.5 * $size and $tor > 0 else 1)" \
  && pass "master uploaded $up bytes ($(python3 -c "print(round($up / $size, 2))")x the $size-byte scene) to $fetched slaves" \
  || fail "master uploaded $up bytes (torrent $tor) for a $size-byte scene to $fetched slaves"
stop_all || fail "stopping farm 1"

# 2. The master seeds on 127.0.0.3 only: the port it announces is closed on 127.0.0.1, where the slave looks for
#    it, and there is no other slave. The scene comes from the web seed (HTTP Range requests).
rm -rf "$T/master" "$T"/slave-*
start_master --torrent-listen 127.0.0.3:0 || finish
start_slave lone --web-seed-after 1
wait_nodes 1 || finish
"$BIN/tessera" submit render "$T/s.blend" --frames 1 --tiles 2x1 --out "$T/out2" --wait >"$T/j2.log" 2>&1 \
  || fail "web seed job: $(tail -n 2 "$T/j2.log")"
tor=$(stat_of torrent_upload_bytes); http=$(stat_of http_upload_bytes)
if same_image "$T/out2/frame_0001.png" "$T/ref/s_0001.png" && grep -q "using the web seed" "$T/slave-lone.log" \
    && grep -q "fetched by torrent" "$T/slave-lone.log" && [ "$tor" -eq 0 ] && [ "$http" -ge "$size" ]; then
  pass "a slave that reaches no peer gets the scene from the web seed ($http bytes over HTTP, 0 by peers)"
else
  fail "web seed only: torrent $tor bytes, http $http bytes; $(grep -h "web seed\|torrent" "$T/slave-lone.log" | tail -n 3)"
fi

# 3. Corrupt the cached scene and restart the slave: it seeds the kept torrent again at start, detects the damage
#    at the next job, and fetches the scene again through the swarm; the frame is still exact.
hash=$(python3 -c 'import hashlib,sys; print(hashlib.blake2b(open(sys.argv[1],"rb").read(), digest_size=32).hexdigest())' "$T/s.blend")
cached="$T/slave-lone/cache/${hash:0:2}/$hash"
kill -TERM "$SLAVE_PID"; wait "$SLAVE_PID" 2>/dev/null
printf 'garbage' | dd of="$cached" bs=1 seek=4096 conv=notrunc 2>/dev/null
start_slave lone --web-seed-after 1
wait_nodes 1 || finish
"$BIN/tessera" submit render "$T/s.blend" --frames 1 --tiles 2x1 --out "$T/out3" --wait >"$T/j3.log" 2>&1 \
  || fail "job after corrupting the cache: $(tail -n 2 "$T/j3.log")"
if same_image "$T/out3/frame_0001.png" "$T/ref/s_0001.png" && grep -q "seeding 1 cached input" "$T/slave-lone.log" \
    && grep -q "was corrupt: fetching it again" "$T/slave-lone.log" \
    && [ "$(grep -c "fetched by torrent" "$T/slave-lone.log")" -eq 2 ]; then
  pass "a restarted slave seeds its cache; a corrupted cached scene is fetched again by torrent"
else
  fail "corrupted cache: $(grep -h "seeding\|corrupt\|torrent" "$T/slave-lone.log" | tail -n 4)"
fi
finish
