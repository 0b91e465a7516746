# tessera proof: tiles from slave/blender_worker.py, stitched + finished, are pixel-identical to plain Blender renders.
# shellcheck shell=bash
#
# Usage: bash tests/test_worker_exactness.sh            (exit 0 only if everything matches)
# Env:   TESSERA_TILE_MARGIN=M  pixels rendered around each tile and cropped when stitching;
#                               default "auto" = the probe's tile_margin (exact by construction,
#                               see docs/blender-notes.md); a number forces it for experiments
#        EXACT_KEEP=1           keep the work directory      EXACT_DIR=DIR  work in DIR (kept)
#        EXACT_SCENES="..."     subset of scene names below  EXACT_GRIDS="1x1 3x2 4x4 7x5"
#        EXACT_ADAPTIVE_ARGS="..." make_scene.py arguments of the "adaptive" scene
# Needs: blender (3.4), oiiotool, idiff, python3, jq. Runs one Blender at a time.
set -u -o pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORKER="$ROOT/slave/blender_worker.py"
MAKE_SCENE="$ROOT/samples/make_scene.py"
MARGIN_MODE=${TESSERA_TILE_MARGIN:-auto}
MARGIN=0
GRIDS=${EXACT_GRIDS:-"1x1 3x2 4x4 7x5"}
if [ -n "${EXACT_DIR:-}" ]; then
    WORK=$EXACT_DIR; OWN_WORK=0; mkdir -p "$WORK"
else
    WORK=$(mktemp -d /tmp/tessera-exact.XXXXXX); OWN_WORK=1
fi
FAILS=0
CHECKS=0

for t in blender oiiotool idiff python3 jq; do
    command -v "$t" >/dev/null || { echo "worker_exactness: missing tool: $t" >&2; exit 2; }
done

cleanup() {
    if [ -n "${WK_PID:-}" ]; then kill "$WK_PID" 2>/dev/null; fi
    if [ "${EXACT_KEEP:-0}" = 1 ] || [ "$FAILS" -ne 0 ] || [ "$OWN_WORK" = 0 ]; then
        echo "work directory kept: $WORK"
    else
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT

pass() { CHECKS=$((CHECKS + 1)); echo "  PASS  $*"; }
fail() { CHECKS=$((CHECKS + 1)); FAILS=$((FAILS + 1)); echo "  FAIL  $*"; }

# ---------------------------------------------------------------- the fd 3/4 driver
# tests/worker_driver.py relays JSON lines: stdin -> worker fd 3, worker fd 4 -> stdout. Each reply gets
# "_cpu" (user+sys CPU seconds the worker used for it, from /proc) and "_wall"; at EOF it prints
# {"exit":RC,"extra_output":...,"_cpu_total":...} with the worker's whole CPU time (getrusage of children).
DRIVER="$ROOT/tests/worker_driver.py"

start_worker() {  # $1: log name
    coproc WK { exec python3 "$DRIVER" "$WORKER" "$WORK/$1"; }
    WK_IN=${WK[1]}
    WK_OUT=${WK[0]}
}
# req JSON -> sets REP (one reply line)
req() {
    printf '%s\n' "$1" >&"$WK_IN"
    if ! IFS= read -r REP <&"$WK_OUT"; then REP='{"ok":false,"error":"driver gone"}'; fi
}
stop_worker() {  # sets WK_SUMMARY
    eval "exec $WK_IN>&-"
    IFS= read -r WK_SUMMARY <&"$WK_OUT" || WK_SUMMARY='{}'
    wait "$WK_PID" 2>/dev/null
    WK_PID=
}
j() { printf '%s' "$REP" | jq -r "$1"; }

make_scene() {  # name, args...
    local name=$1; shift
    if ! blender -b --factory-startup -noaudio --python "$MAKE_SCENE" -- --out "$WORK/$name.blend" "$@" \
            >"$WORK/$name.make.log" 2>&1; then
        fail "make_scene $name ($*)"; tail -5 "$WORK/$name.make.log"; return 1
    fi
}

reference() {  # name frame -> $WORK/NAME_ref_FFFF.EXT   (plain Blender, as a user would run it)
    local name=$1 frame=$2
    /usr/bin/time -f "%U %S %e" -o "$WORK/$name.reftime" \
        blender -b "$WORK/$name.blend" -o "//${name}_ref_####" -f "$frame" >"$WORK/$name.ref.log" 2>&1 \
        || { fail "reference render $name frame $frame"; return 1; }
}

# grid NAME FRAME NX NY W H EXT -> renders tiles, stitches, finishes, compares
run_grid() {
    local name=$1 frame=$2 nx=$3 ny=$4 W=$5 H=$6 ext=$7
    local tag="${name}_f${frame}_${nx}x${ny}" i k x0 x1 y0 y1 rx0 rx1 ry0 ry1
    local paste=() cpu=0 n=0 bad=0
    for ((k = 0; k < ny; k++)); do
        for ((i = 0; i < nx; i++)); do
            x0=$((i * W / nx)); x1=$(((i + 1) * W / nx))
            y0=$((k * H / ny)); y1=$(((k + 1) * H / ny))
            rx0=$((x0 - MARGIN)); ((rx0 < 0)) && rx0=0
            ry0=$((y0 - MARGIN)); ((ry0 < 0)) && ry0=0
            rx1=$((x1 + MARGIN)); ((rx1 > W)) && rx1=$W
            ry1=$((y1 + MARGIN)); ((ry1 > H)) && ry1=$H
            local out="$WORK/${tag}_t${i}_${k}.exr"
            req "{\"op\":\"tile\",\"scene\":\"$WORK/$name.blend\",\"frame\":$frame,\"border\":[$rx0,$ry0,$rx1,$ry1],\"out\":\"$out\",\"device\":\"CPU\",\"threads\":0,\"no_denoise\":false}"
            if [ "$(j .ok)" != true ] || [ "$(j .width)" != $((rx1 - rx0)) ] || [ "$(j .height)" != $((ry1 - ry0)) ]; then
                fail "$tag tile [$rx0,$ry0,$rx1,$ry1]: $REP"; bad=1; continue
            fi
            cpu=$(awk -v a="$cpu" -v b="$(j ._cpu)" 'BEGIN{print a+b}')
            n=$((n + 1))
            # Border y counts from the bottom, image rows from the top.
            paste+=("$out" --cut "$((x1 - x0))x$((y1 - y0))+$((x0 - rx0))+$((ry1 - y1))"
                    --swap --paste "+${x0}+$((H - y1))")
        done
    done
    [ $bad = 0 ] || return 1
    local stitched="$WORK/${tag}_stitched.exr"
    # --paste: the image below the top is pasted onto the top one, hence --swap.
    oiiotool --create "${W}x${H}" 4 "${paste[@]}" -d float --compression zip -o "$stitched" \
        || { fail "$tag stitch"; return 1; }
    local final="$WORK/${tag}_final.$ext"
    req "{\"op\":\"finish\",\"scene\":\"$WORK/$name.blend\",\"frame\":$frame,\"input\":\"$stitched\",\"format\":null,\"out\":\"$final\"}"
    [ "$(j .ok)" = true ] || { fail "$tag finish: $REP"; return 1; }
    local fcpu; fcpu=$(j ._cpu)
    local ref; ref=$(printf '%s/%s_ref_%04d.%s' "$WORK" "$name" "$frame" "$ext")
    local cmp; cmp=$(idiff -fail 0 -warn 0 "$final" "$ref" 2>&1)
    local rc=$?
    if [ "${EXPECT_DIFF:-0}" = 1 ]; then  # negative control: shows why the margin exists
        if [ $rc -ne 0 ]; then
            pass "$tag without margin differs as expected: $(printf '%s\n' "$cmp" | grep -m1 'over 0' | sed 's/^ *//')"
        else
            echo "  NOTE  $tag: identical even without margin (adaptive sampling had no effect at the edges)"
        fi
        return 0
    fi
    if [ $rc -eq 0 ]; then
        pass "$tag: $n tiles (margin $MARGIN, tile CPU ${cpu}s, finish CPU ${fcpu}s) == reference $(basename "$ref")"
    else
        fail "$tag: final differs from reference $(basename "$ref") (margin $MARGIN)"
        printf '%s\n' "$cmp" | sed 's/^/        /' | tail -6
        return 1
    fi
}

# ---------------------------------------------------------------- exactness
# name | make_scene args | frames to test | grids
SCENES=${EXACT_SCENES:-"s160 s157 p50 exr adaptive"}
declare -A ARGS=(
    [s160]="--width 160 --height 90 --samples 16"
    [s157]="--width 157 --height 89 --samples 12"
    [p50]="--width 320 --height 180 --percent 50 --samples 8 --transparent"
    [exr]="--width 157 --height 89 --samples 8 --format OPEN_EXR"
    # Default adaptive sampling does nothing below its automatic minimum of 64 samples
    # (threshold 0.01), so this scene takes enough samples for it to act.
    [adaptive]="${EXACT_ADAPTIVE_ARGS:---width 160 --height 90 --samples 256}"
)
declare -A FRAMES=([s160]="1 2" [s157]="1" [p50]="1" [exr]="1" [adaptive]="1")

echo "worker_exactness: work dir $WORK, tile margin $MARGIN_MODE, grids: $GRIDS"
for name in $SCENES; do
    [ -n "${ARGS[$name]:-}" ] || { fail "unknown scene $name"; continue; }
    echo "== scene $name: ${ARGS[$name]}"
    # shellcheck disable=SC2086
    make_scene "$name" ${ARGS[$name]} || continue
    for frame in ${FRAMES[$name]}; do
        reference "$name" "$frame" || continue
        echo "   reference frame $frame: CPU user+sys $(awk '{print $1+$2}' "$WORK/$name.reftime")s (wall $(awk '{print $3}' "$WORK/$name.reftime")s, incl. startup)"
    done
    start_worker "$name.worker.log"
    req "{\"op\":\"probe\",\"scene\":\"$WORK/$name.blend\"}"
    if [ "$(j .ok)" != true ]; then fail "probe $name: $REP"; stop_worker; continue; fi
    W=$(j .width); H=$(j .height); EXT=$(j .ext)
    if [ "$MARGIN_MODE" = auto ]; then MARGIN=$(j .tile_margin); else MARGIN=$MARGIN_MODE; fi
    echo "   probe: ${W}x${H} $(j .file_format) samples=$(j .samples) adaptive=$(j .adaptive) denoise=$(j .denoise) tile_margin=$(j .tile_margin) (first request, incl. startup: CPU $(j ._cpu)s); using margin $MARGIN"
    for frame in ${FRAMES[$name]}; do
        for g in $GRIDS; do
            run_grid "$name" "$frame" "${g%x*}" "${g#*x}" "$W" "$H" "$EXT"
        done
    done
    if [ "$MARGIN_MODE" = auto ] && [ "$MARGIN" -gt 0 ]; then
        M_SAVE=$MARGIN; MARGIN=0; EXPECT_DIFF=1
        run_grid "$name" "${FRAMES[$name]%% *}" 4 4 "$W" "$H" "$EXT"
        MARGIN=$M_SAVE; EXPECT_DIFF=0
    fi
    stop_worker
    if [ "$(printf '%s' "$WK_SUMMARY" | jq -r .exit)" = 0 ] && [ -z "$(printf '%s' "$WK_SUMMARY" | jq -r .extra_output)" ]; then
        pass "$name worker exited 0, nothing unrequested on fd 4 (worker CPU total $(printf '%s' "$WK_SUMMARY" | jq -r ._cpu_total)s)"
    else
        fail "$name worker end: $WK_SUMMARY"
    fi
done

# ---------------------------------------------------------------- embedded scripts never run
echo "== embedded auto-run script"
MARK="$WORK/autorun.marker"
if make_scene autorun --width 64 --height 36 --samples 4 --frames 1-1 --autorun-marker "$MARK"; then
    # Positive control: with auto-exec allowed, Blender does run it (so the check below means something).
    blender -b -y "$WORK/autorun.blend" --python-expr "pass" >"$WORK/autorun.control.log" 2>&1
    if [ -e "$MARK" ]; then pass "control: blender -y runs the embedded script (marker written)"
    else fail "control: the embedded script did not run even with -y; test scene is wrong"; fi
    rm -f "$MARK"
    start_worker autorun.worker.log
    req "{\"op\":\"probe\",\"scene\":\"$WORK/autorun.blend\"}"; ok1=$(j .ok)
    req "{\"op\":\"tile\",\"scene\":\"$WORK/autorun.blend\",\"frame\":1,\"border\":[0,0,64,36],\"out\":\"$WORK/autorun_t.exr\",\"device\":\"CPU\",\"threads\":0,\"no_denoise\":false}"; ok2=$(j .ok)
    req "{\"op\":\"finish\",\"scene\":\"$WORK/autorun.blend\",\"frame\":1,\"input\":\"$WORK/autorun_t.exr\",\"format\":null,\"out\":\"$WORK/autorun_final.png\"}"; ok3=$(j .ok)
    stop_worker
    if [ "$ok1$ok2$ok3" = truetruetrue ] && [ ! -e "$MARK" ]; then
        pass "probe + tile + finish through the worker: marker never created"
    else
        fail "autorun: probe/tile/finish ok=$ok1/$ok2/$ok3, marker exists: $([ -e "$MARK" ] && echo yes || echo no)"
    fi
fi

# ---------------------------------------------------------------- bad input, denoise, keeps serving
echo "== bad input and denoising"
make_scene small --width 64 --height 36 --samples 4 --frames 1-2 && \
make_scene dn --width 64 --height 36 --samples 4 --denoise && {
    cp "$DRIVER" "$WORK/not_a_blend.blend"
    head -c "$(($(stat -c %s "$WORK/small.blend") / 2))" "$WORK/small.blend" >"$WORK/truncated.blend"
    start_worker bad.worker.log
    for f in not_a_blend.blend truncated.blend missing.blend; do
        req "{\"op\":\"probe\",\"scene\":\"$WORK/$f\"}"
        if [ "$(j .ok)" = false ] && [ "$(j .input_error)" = true ] && [[ "$(j .error)" == "cannot read scene: "* ]]; then
            pass "probe $f -> input_error: $(j .error)"
        else fail "probe $f: $REP"; fi
    done
    req '{"op":"tile","scene":"'"$WORK"'/small.blend","frame":1,"border":[0,0,65,36],"out":"'"$WORK"'/x.exr"}'
    [ "$(j .ok)" = false ] && [ "$(j .input_error)" != true ] && pass "border outside the frame refused: $(j .error)" || fail "bad border: $REP"
    req 'this is not json'
    [ "$(j .ok)" = false ] && pass "non-JSON request answered ok:false" || fail "non-JSON: $REP"
    req "{\"op\":\"probe\",\"scene\":\"$WORK/small.blend\"}"
    [ "$(j .ok)" = true ] && [ "$(j .width)" = 64 ] && [ "$(j .frame_end)" = 2 ] \
        && pass "worker keeps serving after errors (probe small.blend ok)" || fail "after errors: $REP"
    req "{\"op\":\"probe\",\"scene\":\"$WORK/dn.blend\"}"
    [ "$(j .denoise)" = true ] && pass "probe reports denoise=true" || fail "denoise probe: $REP"
    req "{\"op\":\"tile\",\"scene\":\"$WORK/dn.blend\",\"frame\":1,\"border\":[0,0,32,18],\"out\":\"$WORK/dn.exr\",\"device\":\"CPU\",\"threads\":0,\"no_denoise\":false}"
    [ "$(j .ok)" = false ] && [ "$(j .input_error)" = true ] && pass "denoising scene refused: $(j .error | cut -c1-80)..." || fail "denoise tile: $REP"
    req "{\"op\":\"tile\",\"scene\":\"$WORK/dn.blend\",\"frame\":1,\"border\":[0,0,32,18],\"out\":\"$WORK/dn.exr\",\"device\":\"CPU\",\"threads\":1,\"no_denoise\":true}"
    [ "$(j .ok)" = true ] && [ "$(j .width)x$(j .height)" = 32x18 ] && pass "no_denoise tile renders (32x18)" || fail "no_denoise tile: $REP"
    req "{\"op\":\"probe\",\"scene\":\"$WORK/dn.blend\"}"
    [ "$(j .denoise)" = true ] && pass "scene unchanged after no_denoise tile" || fail "denoise flag leaked: $REP"
    req '{"op":"quit"}'
    stop_worker
    [ "$(printf '%s' "$WK_SUMMARY" | jq -r .exit)" = 0 ] && pass "quit -> exit 0" || fail "quit: $WK_SUMMARY"
}

echo
if [ "$FAILS" -eq 0 ]; then
    echo "worker_exactness: all $CHECKS checks passed"
    exit 0
fi
echo "worker_exactness: $FAILS of $CHECKS checks FAILED"
exit 1
