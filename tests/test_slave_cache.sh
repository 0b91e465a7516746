#!/usr/bin/env bash
# test_slave_cache: the slave's input cache is verified (a corrupted cached scene is detected and fetched again) and
# bounded (--cache-mb: least recently used inputs are removed, never the one in use).
source "$(dirname "$0")/lib.sh"

make_scene "$T/a.blend" --width 48 --height 27 --samples 4 --frames 1-1 || fail "make scene a"
make_scene "$T/b.blend" --width 48 --height 27 --samples 4 --frames 1-1 --autorun-marker "$T/never" || fail "make scene b"
mkdir -p "$T/ref"; reference "$T/a.blend" 1 "$T/ref/a" || fail "reference"
start_master || finish
start_slave s --cache-mb 1; SLAVE=$SLAVE_PID
wait_nodes 1 || finish

"$BIN/tessera" submit render "$T/a.blend" --frames 1 --tiles 2x1 --out "$T/out1" --wait >"$T/j1.log" 2>&1 || fail "first job"
hash=$(python3 -c 'import hashlib,sys; print(hashlib.blake2b(open(sys.argv[1],"rb").read(), digest_size=32).hexdigest())' "$T/a.blend")
cached="$T/slave-s/cache/${hash:0:2}/$hash"
[ -f "$cached" ] || cached=""
[ -n "$cached" ] && pass "the scene is cached ($(basename "$cached" | head -c 12)...)" || fail "nothing cached"

# Corrupt the cached copy, restart the slave: the next job detects it, fetches again, and is still exact.
kill -TERM "$SLAVE"; wait "$SLAVE" 2>/dev/null
printf 'garbage' | dd of="$cached" bs=1 seek=100 conv=notrunc 2>/dev/null
start_slave s --cache-mb 1
wait_nodes 1 || finish
if "$BIN/tessera" submit render "$T/a.blend" --frames 1 --tiles 2x1 --out "$T/out2" --wait >"$T/j2.log" 2>&1 \
    && same_image "$T/out2/frame_0001.png" "$T/ref/a_0001.png"; then
  grep -q "was corrupt: fetching it again" "$T/slave-s.log" && pass "a corrupted cached scene is detected, fetched again, and the frame is exact" \
    || fail "the corruption was not reported"
else
  fail "job after corrupting the cache: $(tail -n 2 "$T/j2.log")"
fi

# A second scene with a 1 MB bound: the least recently used input (scene a and its stitched frames) goes.
"$BIN/tessera" submit render "$T/b.blend" --frames 1 --tiles 2x1 --out "$T/out3" --wait >"$T/j3.log" 2>&1 || fail "third job"
sum=$(du -sb "$T/slave-s/cache" | cut -f1)
if grep -q "least recently used inputs removed" "$T/slave-s.log" && [ ! -e "$cached" ]; then
  pass "the cache stays bounded: the older scene was evicted ($sum bytes in the cache now)"
else
  fail "no eviction under --cache-mb 1 ($sum bytes in the cache)"
fi
# The master counts what it uploaded to slaves: at least both scenes (and scene a twice: it was fetched again).
up=$("$BIN/tessera" stats --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["seed_upload_bytes"])')
need=$(( $(stat -c %s "$T/a.blend") * 2 + $(stat -c %s "$T/b.blend") ))
[ "${up:-0}" -ge "$need" ] && pass "tessera stats: seed_upload_bytes $up (scenes alone: $need)" \
  || fail "seed_upload_bytes ${up:-?} below the $need bytes of scenes sent"
finish
