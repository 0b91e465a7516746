#!/usr/bin/env bash
# test_gui_farm: tessera-gui as an artist uses it, on a farm of two slaves. The app runs in a real window under Xvfb
# (X11, Cairo renderer) with its accessibility tree on a private session bus, and is driven only through that tree
# (tests/gui_driver.py): the first run's sign-in as requester ann (kept in ~/.config/tessera/gui.json, mode 0600);
# a scene submitted through the form (the CLI underneath), the job made as the form said; the mosaic part filled
# while tiles render, then the finished frame; a click on a tile names its node and verdict; the app's download is
# byte for byte what `tessera wait --out` downloads; the jobs list holds ann's jobs and not the operator's; the Farm
# page lists the nodes GET nodes names; the Wallet page's balance is GET wallet's; a paused job is resumed, paused and
# cancelled through its buttons, the master's state following each; the name filter narrows the jobs list. The
# master killed: the app says disconnected; restarted: it reconnects by itself. The mosaic's routes keep requesters
# apart. Screenshots of each step are kept in $GUI_SHOTS when set (docs/ has a few of them).
source "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3 # Debian's, which has python3-gi (the PATH may lead to another)
for c in Xvfb dbus-daemon ffmpeg; do command -v $c >/dev/null || { echo "$c is needed: make deps"; exit 1; }; done
$PY -c 'import gi; gi.require_version("Atspi", "2.0")' 2>/dev/null || { echo "python3-gi and gir1.2-atspi-2.0 are needed: make deps"; exit 1; }
[ -x "$BIN/tessera-gui" ] || { echo "$BIN/tessera-gui is not built"; exit 1; }
SHOTS=${GUI_SHOTS:-$T/shots}
mkdir -p "$SHOTS" "$T/home"
# The desktop's own processes (display, session bus, the app): not daemons of the farm, ended at the end by their ids.
HELPERS=()
trap 'for p in "${PIDS[@]}" "${HELPERS[@]}"; do kill -KILL "$p" 2>/dev/null; done' EXIT
end_desktop() {
  [ -n "${GUI_PID:-}" ] && kill -TERM "$GUI_PID" 2>/dev/null && wait "$GUI_PID" 2>/dev/null
  # the session bus started the accessibility bus's launcher (and it its own bus and registry): its children go first
  if [ -n "${DBUS_PID:-}" ]; then
    for p in $(pgrep -P "$DBUS_PID"); do for q in $(pgrep -P "$p"); do kill -TERM "$q" 2>/dev/null; done; kill -TERM "$p" 2>/dev/null; done
    kill -TERM "$DBUS_PID" 2>/dev/null
  fi
  for p in "${HELPERS[@]}"; do kill -TERM "$p" 2>/dev/null; done
}
done_all() { end_desktop; finish; }

make_scene "$T/s.blend" --width 128 --height 96 --samples 48 --frames 1-1 || { fail "make scene"; finish; }
# what plain Blender reads of the scene, for the form's facts (here, not after the submit: the render is short, and the
# mosaic must still be part filled when step 4 looks)
blender -b "$T/s.blend" --factory-startup -noaudio --python-expr 'import bpy, json; s = bpy.context.scene; r = s.render
print("FACTS " + json.dumps([s.frame_start, s.frame_end, r.resolution_x * r.resolution_percentage // 100,
      r.resolution_y * r.resolution_percentage // 100, s.cycles.samples, r.image_settings.file_format]))' 2>/dev/null \
  | sed -n 's/^FACTS //p' >"$T/blender-facts.json"
start_master || finish
start_slave a
start_slave b
wait_nodes 2 || finish
"$BIN/tessera" account add ann --json >"$T/ann.json" && "$BIN/tessera" account add bob --json >"$T/bob.json" || fail "accounts"
ANN=$(python3 -c "import json; print(json.load(open('$T/ann.json'))['token'])")
BOB=$(python3 -c "import json; print(json.load(open('$T/bob.json'))['token'])")
OP=$TESSERA_TOKEN
# the operator's own job, which ann's app must not list (paused: it takes no node time)
"$BIN/tessera" submit render "$T/s.blend" --frames 1 --tiles 1x1 --name operators-job --paused --json >/dev/null || fail "operator's job"

# 1. A desktop of the test's own: a display, a session bus whose services (the accessibility bus) see it, a home.
DISP=:$((100 + $$ % 800))
Xvfb "$DISP" -screen 0 1280x800x24 -nolisten tcp >"$T/xvfb.log" 2>&1 &
HELPERS+=($!)
for _ in $(seq 200); do [ -e "/tmp/.X11-unix/X${DISP#:}" ] && break; sleep 0.1; done # slow on a loaded machine
DESK=(env HOME="$T/home" XDG_CONFIG_HOME= XDG_CACHE_HOME="$T/home/.cache" XDG_RUNTIME_DIR="$T/home/run" DISPLAY="$DISP")
mkdir -p "$T/home/run" && chmod 700 "$T/home/run"
"${DESK[@]}" dbus-daemon --session --fork --print-address=1 --print-pid=1 >"$T/dbus.txt" || { fail "dbus-daemon"; done_all; }
BUS=$(sed -n 1p "$T/dbus.txt")
DBUS_PID=$(sed -n 2p "$T/dbus.txt")
HELPERS+=("$DBUS_PID")
DESK+=(DBUS_SESSION_BUS_ADDRESS="$BUS")
D=("${DESK[@]}" "$PY" "$TOP/tests/gui_driver.py" --display "$DISP")

# 2. First run: nothing in the environment, so the app asks; ann signs in and the settings are kept, 0600.
"${DESK[@]}" GDK_BACKEND=x11 GSK_RENDERER=cairo GTK_A11Y=atspi NO_AT_BRIDGE=0 TESSERA_MASTER= TESSERA_TOKEN= \
  TESSERA_CA_FILE= "$BIN/tessera-gui" >"$T/gui.log" 2>&1 &
GUI_PID=$!
HELPERS+=("$GUI_PID")
"${D[@]}" sign-in --master "$TESSERA_MASTER" --token "$ANN" --shot "$SHOTS/gui-signin.png" >"$T/step.txt" 2>&1 \
  && pass "signed in through the first-run dialog: $(cat "$T/step.txt" | tail -n 1)" || { fail "sign in: $(cat "$T/step.txt")"; done_all; }
CONF=$T/home/.config/tessera/gui.json
[ "$(stat -c %a "$CONF" 2>/dev/null)" = 600 ] && grep -q "$ANN" "$CONF" && pass "gui.json keeps the token, mode 0600" \
  || fail "gui.json: $(stat -c %a "$CONF" 2>&1)"

# 3. Submit through the form; the job is what the form said.
"${D[@]}" submit --scene "$T/s.blend" --frames 1 --tiles 4x4 --name from-the-app --budget 5 --priority 3 \
  --facts-out "$T/form.json" --shot "$SHOTS/gui-submit.png" \
  >"$T/step.txt" 2>&1 && pass "submitted through the form ($(tail -n 1 "$T/step.txt"))" || { fail "submit: $(cat "$T/step.txt")"; done_all; }
# 4. The mosaic part filled while tiles render (in flight outlined): looked at at once, as the render is short.
"${D[@]}" wait-partial --shot "$SHOTS/gui-mosaic.png" >"$T/step.txt" 2>&1 && pass "mosaic part filled: $(tail -n 1 "$T/step.txt")" \
  || fail "mosaic part filled: $(cat "$T/step.txt")"

# The form's facts are what plain Blender reported of the scene (above); its quote's price is what POST /quote answers.
python3 - "$T/form.json" "$T/blender-facts.json" <<'PY' && pass "the form shows the scene's frames, size, samples and format as Blender reads them" || fail "form facts: $(cat "$T/form.json")"
import json, sys
form, (f0, f1, w, h, samples, fmt) = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
want = "Frames %d–%d · %d × %d px · %d samples (CYCLES) · output %s" % (f0, f1, w, h, samples, fmt)
assert form["facts"].startswith(want), (form["facts"], want)
assert form["list_found"] and form["files"] == [], form   # the test scene names no external file
PY
read -r W H SAMPLES < <(python3 -c 'import json,sys; f=json.load(open(sys.argv[1])); print(f[2], f[3], f[4])' "$T/blender-facts.json")
curl -sf -H "Authorization: Bearer $ANN" -X POST "$TESSERA_MASTER/api/v1/quote" \
  -d "{\"frames\":1,\"tiles_x\":4,\"tiles_y\":4,\"width\":$W,\"height\":$H,\"samples\":$SAMPLES,\"budget\":\"5\"}" >"$T/quote.json" || fail "POST /quote"
python3 - "$T/form.json" "$T/quote.json" <<'PY' && pass "the form's quote is POST /quote's price for the same fields" || fail "quote: $(cat "$T/form.json") vs $(cat "$T/quote.json")"
import json, sys
form, q = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
assert form["quote"].startswith("Price: at least %s tokens (%d pieces); your budget locks %s." % (q["price"], q["pieces"], q["locks"])), (form, q)
PY
TESSERA_TOKEN=$ANN "$BIN/tessera" jobs --json >"$T/ann-jobs.json" || fail "ann's jobs"
JOB=$(python3 -c "import json; print(max(j['id'] for j in json.load(open('$T/ann-jobs.json'))))")
python3 - "$T/ann-jobs.json" "$JOB" <<'PY' && pass "job $JOB is ann's: 4x4 tiles, frame 1, named from-the-app, budget 5, priority 3" || fail "job $JOB is not what the form said"
import json, sys
j = [j for j in json.load(open(sys.argv[1])) if j["id"] == int(sys.argv[2])][0]
sys.exit(0 if (j["tiles_x"], j["tiles_y"], j["frame_start"], j["frame_end"], j["name"], j["requester"], j["budget"],
               j["priority"]) == (4, 4, 1, 1, "from-the-app", "ann", 5 * 10**6, 3) else 1)  # budget in 6-decimal units
PY

# The finished frame.
"${D[@]}" --timeout 90 wait-finished --shot "$SHOTS/gui-frame.png" >"$T/step.txt" 2>&1 \
  && pass "the mosaic shows the finished frame: $(tail -n 1 "$T/step.txt")" || { fail "finished frame: $(cat "$T/step.txt")"; done_all; }
"${D[@]}" click-tile --dx 20 --dy 10 >"$T/step.txt" 2>&1 && grep -Eq "rendered by node (a|b) in [0-9.]+ s · " "$T/step.txt" \
  && pass "a clicked tile names its node, time and verdict: $(tail -n 1 "$T/step.txt")" || fail "tile details: $(cat "$T/step.txt")"
"${D[@]}" shot "$SHOTS/gui-tile.png" >/dev/null 2>&1
# The filmstrip holds the job's finished frames (as GET frames lists them); a click opens one full size, at the size
# the master's job view gives the frame.
DONE_FRAMES=$(curl -sf -H "Authorization: Bearer $ANN" "$TESSERA_MASTER/api/v1/jobs/$JOB/frames" | python3 -c \
  "import json, sys; print(','.join(str(f['frame']) for f in json.load(sys.stdin)['frames'] if f['state'] == 'done'))")
read -r FW FH < <(curl -sf -H "Authorization: Bearer $ANN" "$TESSERA_MASTER/api/v1/jobs/$JOB" | python3 -c \
  "import json, sys; j = json.load(sys.stdin); print(j['width'], j['height'])")
[ -n "$DONE_FRAMES" ] && "${D[@]}" --timeout 20 filmstrip --expect ${DONE_FRAMES//,/ } --shot "$SHOTS/gui-filmstrip.png" \
  >"$T/step.txt" 2>&1 && pass "the filmstrip holds the finished frame(s) $DONE_FRAMES: $(tail -n 1 "$T/step.txt")" \
  || fail "filmstrip (frames done: '$DONE_FRAMES'): $(cat "$T/step.txt")"
FIRST=${DONE_FRAMES%%,*}
"${D[@]}" --timeout 20 open-frame --frame "${FIRST:-1}" --close --shot "$SHOTS/gui-frame-full.png" >"$T/step.txt" 2>&1 \
  && grep -q "Frame ${FIRST:-1}: $FW × $FH pixels" "$T/step.txt" \
  && pass "a click on frame $FIRST opens it full size, ${FW}x$FH: $(grep opened "$T/step.txt")" \
  || fail "full-size frame $FIRST (${FW}x$FH): $(cat "$T/step.txt")"

# 5. The app's download is what the CLI downloads.
"${D[@]}" download >"$T/step.txt" 2>&1 && pass "downloaded: $(tail -n 1 "$T/step.txt")" || fail "download: $(cat "$T/step.txt")"
TESSERA_TOKEN=$ANN "$BIN/tessera" wait "$JOB" --out "$T/cli-out" >"$T/wait.log" 2>&1 || fail "tessera wait --out: $(cat "$T/wait.log")"
APP_DIR=$T/home/Downloads/tessera/job-$JOB
n=0
for f in "$T"/cli-out/*; do
  n=$((n + 1))
  cmp -s "$f" "$APP_DIR/$(basename "$f")" || fail "$(basename "$f"): the app's download differs from the CLI's"
done
[ "$n" -ge 1 ] && [ "$(ls "$APP_DIR" | wc -l)" -eq "$n" ] && pass "the app saved the same $n file(s) as tessera wait --out" \
  || fail "the app saved $(ls "$APP_DIR" 2>&1 | tr '\n' ' '), the CLI $(ls "$T/cli-out" | tr '\n' ' ')"

# 6. The jobs list: ann's job, done; not the operator's.
"${D[@]}" jobs >"$T/step.txt" 2>&1
grep -q "#$JOB from-the-app | done" "$T/step.txt" && ! grep -q operators-job "$T/step.txt" \
  && pass "the jobs list shows ann's job done and not the operator's" || fail "jobs list: $(cat "$T/step.txt")"
# its Cost is what the master says it paid, in tokens as GET wallet counts their decimals
PAID=$(curl -sf -H "Authorization: Bearer $ANN" "$TESSERA_MASTER/api/v1/jobs/$JOB" | python3 -c \
  "import json, sys; print(json.load(sys.stdin)['paid'])")
DECIMALS=$(curl -sf -H "Authorization: Bearer $ANN" "$TESSERA_MASTER/api/v1/wallet" | python3 -c \
  "import json, sys; print(json.load(sys.stdin)['decimals'])")
[ -n "$PAID" ] && "${D[@]}" --timeout 20 job-cost --id "$JOB" --units "$PAID" --decimals "$DECIMALS" >"$T/step.txt" 2>&1 \
  && pass "the jobs list's Cost of job $JOB is its paid, $PAID units: $(tail -n 1 "$T/step.txt")" \
  || fail "cost of job $JOB (paid '$PAID'): $(cat "$T/step.txt")"
"${D[@]}" shot "$SHOTS/gui-jobs.png" >/dev/null 2>&1

# 7. The Farm page lists the farm's nodes by name, as GET nodes has them.
NODES=$(curl -sf -H "Authorization: Bearer $ANN" "$TESSERA_MASTER/api/v1/nodes" | python3 -c \
  "import json, sys; print(' '.join(n['name'] for n in json.load(sys.stdin)['nodes']))")
"${D[@]}" page Farm >"$T/step.txt" 2>&1 || fail "farm page: $(cat "$T/step.txt")"
[ -n "$NODES" ] && "${D[@]}" --timeout 20 farm --expect $NODES --shot "$SHOTS/gui-farm.png" >"$T/step.txt" 2>&1 \
  && pass "the Farm page lists the nodes $NODES: $(tail -n 1 "$T/step.txt")" || fail "farm page ($NODES): $(cat "$T/step.txt")"

# 8. The Wallet page: ann's balance as GET wallet gives it (the job's refund may still be on its way: the page follows).
"${D[@]}" page Wallet >"$T/step.txt" 2>&1 || fail "wallet page: $(cat "$T/step.txt")"
curl -sf -H "Authorization: Bearer $ANN" "$TESSERA_MASTER/api/v1/wallet" >"$T/wallet.json" || fail "GET wallet"
read -r UNITS DECIMALS < <(python3 -c "import json; w = json.load(open('$T/wallet.json')); \
  print([a for a in w['accounts'] if a['account'] == 'ann'][0]['balance'], w['decimals'])")
"${D[@]}" --timeout 20 wallet --units "$UNITS" --decimals "$DECIMALS" --shot "$SHOTS/gui-wallet.png" >"$T/step.txt" 2>&1 \
  && pass "the Wallet page shows ann's balance, $UNITS units: $(tail -n 1 "$T/step.txt")" || fail "wallet: $(cat "$T/step.txt")"

# 9. Job controls: a job of ann's, submitted paused into a pool no node serves (so it stays unrendered), is resumed,
#    paused and cancelled through its buttons; each time the master's state for it is what the button asked.
TESSERA_TOKEN=$ANN "$BIN/tessera" submit render "$T/s.blend" --frames 1 --tiles 1x1 --name to-control --paused \
  --pool nowhere --json >"$T/ctl.json" || fail "the job to control"
CJOB=$(python3 -c "import json; print(json.load(open('$T/ctl.json'))['id'])")
state_of() { TESSERA_TOKEN=$ANN "$BIN/tessera" jobs --json | python3 -c \
  "import json, sys; print([j['state'] for j in json.load(sys.stdin) if j['id'] == $1][0])"; }
"${D[@]}" page Jobs >/dev/null 2>&1 || fail "jobs page"
"${D[@]}" --timeout 20 click-job --id "$CJOB" >"$T/step.txt" 2>&1 || fail "select job $CJOB: $(cat "$T/step.txt")"
"${D[@]}" controls >"$T/step.txt" 2>&1
[ "$(state_of "$CJOB")" = paused ] && grep -q "Resume_job=on" "$T/step.txt" && grep -q "Pause_job=off" "$T/step.txt" \
  && grep -q "Cancel_job=on" "$T/step.txt" && pass "a paused job may be resumed or cancelled, not paused: $(cat "$T/step.txt")" \
  || fail "controls of the paused job $CJOB ($(state_of "$CJOB")): $(cat "$T/step.txt")"
"${D[@]}" shot "$SHOTS/gui-controls.png" >/dev/null 2>&1
"${D[@]}" control "Resume job" >"$T/step.txt" 2>&1 && s=$(state_of "$CJOB") && [ "$s" != paused ] && [ "$s" != cancelled ] \
  && pass "resumed through the button: the master has job $CJOB $s ($(tail -n 1 "$T/step.txt"))" \
  || fail "resume: $(state_of "$CJOB"): $(cat "$T/step.txt")"
"${D[@]}" control "Pause job" >"$T/step.txt" 2>&1 && [ "$(state_of "$CJOB")" = paused ] \
  && pass "paused through the button ($(tail -n 1 "$T/step.txt"))" || fail "pause: $(state_of "$CJOB"): $(cat "$T/step.txt")"
"${D[@]}" control "Cancel job" --shot "$SHOTS/gui-cancelled.png" >"$T/step.txt" 2>&1 && [ "$(state_of "$CJOB")" = cancelled ] \
  && pass "cancelled through the button ($(tail -n 1 "$T/step.txt"))" || fail "cancel: $(state_of "$CJOB"): $(cat "$T/step.txt")"
"${D[@]}" controls >"$T/step.txt" 2>&1
! grep -q "=on" "$T/step.txt" && pass "a cancelled job's buttons are all off" || fail "after cancel: $(cat "$T/step.txt")"
"${D[@]}" filter --name to-contr >"$T/step.txt" 2>&1
grep -q "#$CJOB to-control" "$T/step.txt" && ! grep -q "from-the-app" "$T/step.txt" \
  && pass "the name filter keeps only job $CJOB: $(tail -n 1 "$T/step.txt")" || fail "name filter: $(cat "$T/step.txt")"
"${D[@]}" filter --name "" >"$T/step.txt" 2>&1
grep -q "#$JOB from-the-app" "$T/step.txt" && pass "an empty filter lists every job again" || fail "no filter: $(cat "$T/step.txt")"

# 10. The mosaic's routes: a tile is an 8-bit PNG the master made; another requester sees no such job; a token is needed.
api() { curl -s -o "$T/api.out" -w '%{http_code} %{content_type}' -H "Authorization: Bearer $1" "$TESSERA_MASTER/api/v1/jobs/$JOB/$2"; }
[ "$(api "$ANN" frames/1/tiles/0.png)" = "200 image/png" ] && [ "$(head -c 8 "$T/api.out" | od -An -c | tr -d ' ')" = "211PNG\r\n032\n" ] \
  && pass "a tile is served as a PNG" || fail "tile PNG: $(api "$ANN" frames/1/tiles/0.png)"
[ "$(api "$ANN" frames/1/preview.png)" = "200 image/png" ] || fail "the frame's preview"
[ "$(api "$BOB" frames/1 | cut -d' ' -f1)" = 404 ] && [ "$(api "$BOB" frames/1/tiles/0.png | cut -d' ' -f1)" = 404 ] \
  && pass "another requester gets 404 for ann's frames and tiles" || fail "bob sees ann's frame: $(api "$BOB" frames/1)"
[ "$(api "$OP" frames | cut -d' ' -f1)" = 200 ] || fail "the operator sees every job's frames"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$TESSERA_MASTER/api/v1/jobs/$JOB/frames/1")" = 401 ] || fail "frames without a token"

# 11. The master goes away: the app says so; back: it reconnects by itself.
kill -TERM "$MASTER_PID"; wait "$MASTER_PID" 2>/dev/null
"${D[@]}" --timeout 20 wait-connection disconnected --shot "$SHOTS/gui-disconnected.png" >"$T/step.txt" 2>&1 \
  && pass "master gone: $(tail -n 1 "$T/step.txt")" || fail "disconnected: $(cat "$T/step.txt")"
start_master || done_all
"${D[@]}" --timeout 20 wait-connection connected >"$T/step.txt" 2>&1 && pass "master back: $(tail -n 1 "$T/step.txt")" \
  || fail "reconnect: $(cat "$T/step.txt")"
grep -q CRITICAL "$T/gui.log" && fail "the app logged criticals: $(grep -m3 CRITICAL "$T/gui.log")"
ls "$SHOTS"
done_all
