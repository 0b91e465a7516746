#!/usr/bin/env bash
# test_transcode: the farm's segment-parallel transcode against a plain ffmpeg encode of the same sources
# (B-frames, open GOP, variable frame rate, no audio): same frames with the same timestamps, no frame dropped,
# duplicated or reordered at the joins, audio in sync; two runs bit-identical; bad input refused clearly.
source "$(dirname "$0")/lib.sh"
FF="ffmpeg -hide_banner -loglevel error -y"
FFI="ffmpeg -hide_banner -y"
ENC=(-c:v libx264 -crf 23 -preset veryfast)

# frames FILE: the video frames' presentation times (seconds, 6 decimals), one per line, in presentation order.
# (blank lines are ffprobe's side-data rows, e.g. x264's SEI at each segment's first frame)
frames() { ffprobe -v error -select_streams v:0 -show_entries frame=pts_time -of csv=p=0 "$1" | cut -d, -f1 | grep -v '^$' | sort -n; }
# adur FILE: where the audio ends (last packet's pts + duration, seconds); empty when there is no audio.
adur() {
  ffprobe -v error -select_streams a:0 -show_entries packet=pts_time,duration_time -of csv=p=0 "$1" \
    | awk -F, '$1 != "" && $1 != "N/A" {e = $1 + $2; if (e > m) m = e} END {if (NR) printf "%.6f\n", m}'
}
# min_psnr A B: the lowest per-frame PSNR of A against B (frame by frame, in order).
min_psnr() {
  # pair frames by index: both streams get the same time base and pts = frame number
  $FF -i "$1" -i "$2" -lavfi "[0:v]settb=1/1000,setpts=N[a];[1:v]settb=1/1000,setpts=N[b];[a][b]psnr=stats_file=$T/psnr.log" \
    -f null - 2>/dev/null
  awk '{for(i=1;i<=NF;i++) if($i ~ /^psnr_avg:/){split($i,a,":"); v=a[2]; if(v=="inf") v=99; if(min=="" || v+0<min) min=v+0}} END{print min}' "$T/psnr.log"
}

# frames_psnr VIDEO PATTERN: average PSNR (RGB) of a video against the image sequence it was made from.
frames_psnr() {
  $FFI -i "$1" -framerate 24 -i "$2" -lavfi "[0:v]settb=1/1000,setpts=N,format=rgb24[a];[1:v]settb=1/1000,setpts=N,format=rgb24[b];[a][b]psnr" \
    -f null - 2>&1 | sed -n 's/.*average:\([0-9.]*\).*/\1/p' | tail -n 1
}

log "making sources"
$FF -f lavfi -i testsrc2=size=320x180:rate=25:duration=6 -f lavfi -i sine=frequency=440:duration=6 \
  -c:v libx264 -preset veryfast -g 25 -bf 3 -c:a aac -shortest "$T/bframes.mp4"
$FF -f lavfi -i testsrc2=size=320x180:rate=25:duration=6 -f lavfi -i sine=frequency=330:duration=6 \
  -c:v libx264 -preset veryfast -x264-params open-gop=1:keyint=24:bframes=3 -c:a aac -shortest "$T/opengop.mkv"
$FF -f lavfi -i testsrc2=size=320x180:rate=30:duration=6 -f lavfi -i sine=frequency=550:duration=6 \
  -vf "setpts='if(lt(N,60),N*2,if(lt(N,120),N*3+60,N*2+180))/(60*TB)'" -fps_mode vfr \
  -c:v libx264 -preset veryfast -g 30 -c:a aac -shortest "$T/vfr.mkv"
$FF -f lavfi -i testsrc2=size=320x180:rate=24:duration=5 -an -c:v libx264 -preset veryfast -g 24 "$T/noaudio.mp4"
for s in bframes.mp4 opengop.mkv vfr.mkv noaudio.mp4; do [ -s "$T/$s" ] || fail "source $s not made"; done

start_master || finish
start_slave a
SLAVES=("$SLAVE_PID")
start_slave b
SLAVES+=("$SLAVE_PID")
wait_nodes 2 || finish

for src in bframes.mp4 opengop.mkv vfr.mkv noaudio.mp4; do
  ext=${src##*.}
  $FF -i "$T/$src" "${ENC[@]}" -c:a copy "$T/plain-$src"
  if ! "$BIN/tessera" submit transcode "$T/$src" --vcodec libx264 --crf 23 --preset veryfast --segment 1.5 \
      --out "$T/farm-$src" --wait --timeout 300 >"$T/submit-$src.log" 2>&1; then
    fail "$src: transcode failed: $(tail -n 3 "$T/submit-$src.log")"; continue
  fi
  frames "$T/plain-$src" >"$T/plain-$src.pts"; frames "$T/farm-$src" >"$T/farm-$src.pts"
  # Same frames at the same times: equal counts, and every timestamp equal up to one constant offset smaller than
  # a frame (plain ffmpeg moves a Matroska output's start; the farm keeps the source's), 1 ms container rounding.
  if paste -d' ' "$T/plain-$src.pts" "$T/farm-$src.pts" | awk -v np="$(wc -l <"$T/plain-$src.pts")" \
      -v nf="$(wc -l <"$T/farm-$src.pts")" '
        NR == 1 { off = $2 - $1; first = $1 }
        NR == 2 { frame = $1 - first }
        { d = $2 - $1 - off; if (d < 0) d = -d; if (d > 0.0015) bad++ }
        END { o = off < 0 ? -off : off; exit !(np == nf && np > 0 && !bad && o < frame) }'; then
    pass "$src: $(wc -l <"$T/farm-$src.pts") frames at the same times as plain ffmpeg's (start $(head -n 1 "$T/farm-$src.pts") s vs $(head -n 1 "$T/plain-$src.pts") s)"
  else
    fail "$src: frames differ from plain ffmpeg's: $(wc -l <"$T/farm-$src.pts") vs $(wc -l <"$T/plain-$src.pts"); $(diff "$T/plain-$src.pts" "$T/farm-$src.pts" | head -n 6 | tr '\n' ' ')"
  fi
  p=$(min_psnr "$T/farm-$src" "$T/$src")
  awk -v p="$p" 'BEGIN{exit !(p > 30)}' && pass "$src: every frame matches its source frame (lowest PSNR $p dB)" \
    || fail "$src: a frame does not match its source frame (lowest PSNR $p dB): dropped, duplicated or reordered"
  if [ "$src" != noaudio.mp4 ]; then
    a=$(adur "$T/plain-$src"); b=$(adur "$T/farm-$src")
    awk -v a="$a" -v b="$b" 'BEGIN{d=a-b; if(d<0)d=-d; exit !(a+0>0 && b+0>0 && d<=0.020)}' \
      && pass "$src: audio duration $b s (plain $a s)" || fail "$src: audio duration $b s, plain ffmpeg $a s"
  else
    [ -z "$(ffprobe -v error -select_streams a -show_entries stream=index -of csv=p=0 "$T/farm-$src")" ] \
      && pass "$src: no audio stream, as the source" || fail "$src: an audio stream appeared"
  fi
done

# Other pinned encoders: libx265 into mp4 and libvpx-vp9 into mkv keep every frame too.
for enc in "libx265 mp4 ultrafast" "libvpx-vp9 mkv fast"; do
  set -- $enc
  if "$BIN/tessera" submit transcode "$T/noaudio.mp4" --vcodec "$1" --preset "$3" --segment 1.5 --container "$2" \
      --out "$T/other-$1.$2" --wait --timeout 300 >"$T/other-$1.log" 2>&1; then
    n=$(frames "$T/other-$1.$2" | wc -l); c=$(ffprobe -v error -select_streams v:0 -show_entries stream=codec_name -of csv=p=0 "$T/other-$1.$2")
    [ "$n" = "$(frames "$T/noaudio.mp4" | wc -l)" ] && pass "$1 into $2: $n frames ($c)" || fail "$1: $n frames"
  else
    fail "$1 transcode: $(tail -n 2 "$T/other-$1.log")"
  fi
done

# The same job twice gives the same bytes (pinned encoder settings, deterministic join).
"$BIN/tessera" submit transcode "$T/bframes.mp4" --crf 23 --preset veryfast --segment 1.5 --out "$T/again.mp4" --wait \
  >"$T/again.log" 2>&1 && cmp -s "$T/again.mp4" "$T/farm-bframes.mp4" && pass "two runs are bit-identical" \
  || fail "two runs differ: $(tail -n 2 "$T/again.log")"

# Slaves that only transcoded hold no Blender: it starts when a render needs it.
held=0
for p in "${SLAVES[@]}"; do
  for c in $(pgrep -P "$p"); do grep -q blender "/proc/$c/cmdline" 2>/dev/null && held=$((held + 1)); done
done
[ $held -eq 0 ] && pass "no Blender running on slaves that only transcoded" || fail "$held Blender process(es) held by transcode-only slaves"

# A render that ends in an encode, as one job: the frames, and a video of them equal to plain ffmpeg's encode of
# the same frames (same frame count and rate; quality within 0.1 dB).
if make_scene "$T/anim.blend" --width 96 --height 54 --samples 4 --frames 1-24 \
    && "$BIN/tessera" submit render "$T/anim.blend" --frames 1-24 --tiles 2x2 --encode libx264 --crf 20 --preset veryfast \
       --out "$T/renc" --wait --timeout 600 >"$T/renc.log" 2>&1; then
  $FF -framerate 24 -i "$T/renc/frame_%04d.png" -c:v libx264 -crf 20 -preset veryfast "$T/renc-plain.mp4"
  nf=$(frames "$T/renc/video.mp4" | wc -l); np=$(frames "$T/renc-plain.mp4" | wc -l)
  qf=$(frames_psnr "$T/renc/video.mp4" "$T/renc/frame_%04d.png"); qp=$(frames_psnr "$T/renc-plain.mp4" "$T/renc/frame_%04d.png")
  rate=$(ffprobe -v error -select_streams v:0 -show_entries stream=r_frame_rate -of csv=p=0 "$T/renc/video.mp4")
  [ "$nf" = 24 ] && [ "$np" = 24 ] && [ "$rate" = 24/1 ] && awk -v a="$qf" -v b="$qp" 'BEGIN{d=a-b; exit !(a>0 && d>=-0.1)}' \
    && pass "render + encode: 24 frames at $rate, PSNR against the frames $qf dB (plain ffmpeg's encode $qp dB)" \
    || fail "render + encode: $nf frames at $rate (plain $np), PSNR against the frames $qf dB vs plain $qp dB"
else
  fail "render + encode job: $(tail -n 3 "$T/renc.log")"
fi

# Bad input: a clear error naming it, and the master keeps running.
$FF -f lavfi -i sine=frequency=440:duration=2 -c:a aac "$T/audio-only.m4a"
head -c 3000 "$T/bframes.mp4" >"$T/truncated.mp4"
: >"$T/empty.mp4"
echo "not a video" >"$T/text.mp4"
expect_fail 2 "no video stream" "a file with no video stream" -- "$BIN/tessera" submit transcode "$T/audio-only.m4a"
expect_fail 2 "truncated.mp4" "a truncated file" -- "$BIN/tessera" submit transcode "$T/truncated.mp4"
expect_fail 2 "empty" "a zero-length file" -- "$BIN/tessera" submit transcode "$T/empty.mp4"
expect_fail 2 "text.mp4" "a non-media file" -- "$BIN/tessera" submit transcode "$T/text.mp4"
expect_fail 2 "unknown video codec" "an unknown codec" -- "$BIN/tessera" submit transcode "$T/bframes.mp4" --vcodec libfoo
expect_fail 2 "segment" "a segment length of 0" -- "$BIN/tessera" submit transcode "$T/bframes.mp4" --segment 0
# A crf outside the encoder's own range is refused by the CLI before any upload: the master named here is not
# there, so an upload would have ended in exit 4 (master unreachable).
"$BIN/tessera" submit transcode "$T/bframes.mp4" --vcodec libx264 --crf 55 --master "http://127.0.0.1:1" >"$T/out.txt" 2>&1
rc=$?
if [ "$rc" -eq 2 ] && grep -q -- "--crf" "$T/out.txt" && grep -q "0\.\.51" "$T/out.txt"; then
  pass "libx264 --crf 55 refused before any upload (exit 2: $(head -c 160 "$T/out.txt" | tr '\n' ' '))"
else fail "libx264 --crf 55: exit $rc, wanted 2 naming --crf and 0..51 before any upload; said: $(head -c 300 "$T/out.txt")"; fi
curl -sf "$TESSERA_MASTER/api/v1/health" >/dev/null && pass "the master is still running" || fail "the master died"

finish
