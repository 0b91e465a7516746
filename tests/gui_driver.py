#!/usr/bin/python3
# gui_driver: drives tessera-gui as a person would, through the accessibility tree only (AT-SPI: widgets found by
# role and accessible name, text set through EditableText, buttons pressed through their action, a tile clicked with
# a synthesized mouse click). One command per run; tests/test_gui_farm.sh strings them together. Prints what it saw;
# exits 1 with the reason when a step does not happen in time. Screenshots: ffmpeg's x11grab of the display.
import argparse
import re
import subprocess
import json
import sys
import time

import gi

gi.require_version("Atspi", "2.0")
from gi.repository import Atspi, GLib  # noqa: E402

APP = "tessera-gui"
SHOT_SIZE = "1024x640"  # the main window's default size, at the display's top left (no window manager)


def die(msg):
    print("gui_driver: " + msg, file=sys.stderr)
    sys.exit(1)


def app():
    desktop = Atspi.get_desktop(0)
    for i in range(desktop.get_child_count()):
        a = desktop.get_child_at_index(i)
        if a is not None and a.get_name() == APP:
            a.clear_cache()  # names and descriptions change as the app runs: never read them from a stale cache
            return a
    return None


def walk(a):
    """Every widget under a; one that goes while the tree is read (a form closing, a list's rows replaced) is
    passed over with what it held."""
    yield a
    try:
        children = [a.get_child_at_index(i) for i in range(a.get_child_count())]
    except GLib.Error:
        return
    for c in children:
        if c is not None:
            yield from walk(c)


def find(role, name=None, desc=None, prefix=False, root=None):
    """The first widget of that role whose accessible name (or description) is name (starts with it: prefix)."""
    root = root or app()
    if root is None:
        return None
    for a in walk(root):
        try:
            if a.get_role_name() != role:
                continue
            if name is not None and not (a.get_name().startswith(name) if prefix else a.get_name() == name):
                continue
            if desc is not None and a.get_description() != desc:
                continue
        except GLib.Error:  # gone while read
            continue
        return a
    return None


def wait_for(what, fn, timeout):
    end = time.time() + timeout
    while time.time() < end:
        try:
            got = fn()
        except GLib.Error as e:  # a widget went while the tree was read (a list's rows replaced): read it again
            print("gui_driver: read again: %s" % e.message, file=sys.stderr)
            got = None
        if got:
            return got
        time.sleep(0.1)
    die("timed out after %.0f s waiting for %s (quote: %r)" % (timeout, what, label("Quote")))


def label(desc):
    """The text of the label the app describes as desc (its status labels)."""
    a = find("label", desc=desc)
    return a.get_name() if a is not None else None


def press(role, name, prefix=True):
    b = wait_for("button '%s'" % name, lambda: find(role, name, prefix=prefix), 20)
    if not Atspi.Action.do_action(b, 0):
        die("button '%s' did not take its action" % name)


def set_text(name, text, root, role="text"):
    e = find(role, name, root=root)
    if e is None:
        die("no text field named '%s'" % name)
    # GTK 4.8's entries take text through EditableText but show none through Text (it reads back ""): what was
    # typed is checked on the job the master made from it
    if not Atspi.EditableText.set_text_contents(e, text):
        die("field '%s' refused %r" % (name, text))


def shot(path, display):
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-f", "x11grab", "-video_size", SHOT_SIZE, "-i", display,
                    "-frames:v", "1", path], check=True)
    print("screenshot " + path)


def mosaic_state():
    m = find("image", "Tile mosaic")
    return m.get_description() if m is not None else ""


def cmd_wait_window(a):
    w = wait_for("the main window", lambda: find("frame", "tessera", prefix=True), a.timeout)
    print("window " + w.get_name())


def cmd_sign_in(a):
    dialog = wait_for("the sign-in dialog", lambda: find("frame", "Sign in", prefix=True), a.timeout)
    set_text("Master URL", a.master, dialog)
    set_text("Token", a.token, dialog)
    if a.shot:
        shot(a.shot, a.display)
    press("push button", "Sign in", prefix=False)
    w = wait_for("the main window after signing in", lambda: find("frame", "tessera —", prefix=True), a.timeout)
    print("signed in: " + w.get_name())


def cmd_submit(a):
    press("push button", "Submit a scene")
    dialog = wait_for("the submit form", lambda: find("frame", "Submit a scene", prefix=True), 20)
    set_text("Scene file", a.scene, dialog)
    # the form reads the scene with the artist's Blender (tessera inspect) and quotes it before anything is sent
    facts = wait_for("the scene's facts", lambda: (label("Scene facts") or "").startswith("Frames") and
                     label("Scene facts"), a.timeout)
    first = wait_for("a first quote", lambda: (label("Quote") or "").startswith("Price") and label("Quote"), a.timeout)
    set_text("Frames", a.frames, dialog)
    set_text("Tile grid", a.tiles, dialog)
    if a.budget:
        set_text("Budget", a.budget, dialog)
    if a.priority:
        set_text("Priority", a.priority, dialog, role="spin button")
    if a.name:
        set_text("Job name", a.name, dialog)
    quote = wait_for("the quote for the fields as set", lambda: (label("Quote") or "") not in ("", first) and
                     (label("Quote") or "").startswith("Price") and label("Quote"), a.timeout)
    files = find("list", "Scene files", root=dialog)
    rows = [files.get_child_at_index(i) for i in range(files.get_child_count())] if files is not None else []
    names = [r.get_name() or (r.get_child_at_index(0).get_name() if r.get_child_count() else "") for r in rows]
    print("facts: " + facts)
    print("quote: " + quote)
    if a.facts_out:
        with open(a.facts_out, "w") as f:
            json.dump({"facts": facts, "quote": quote, "files": names, "list_found": files is not None}, f)
    if a.shot:
        shot(a.shot, a.display)
    press("push button", "Submit", prefix=False)
    start = time.time()
    while find("frame", "Submit a scene", prefix=True) is not None:  # the form closes once the job is taken
        status = label("Submit status") or ""
        if status.startswith("Not submitted"):
            die("the submit failed: " + status)
        if time.time() - start > a.timeout:
            die("the submit did not end in %.0f s: %s" % (a.timeout, status))
        time.sleep(0.2)
    print("submitted in %.1f s" % (time.time() - start))


def cmd_wait_partial(a):
    """Until the mosaic is part filled: some tiles rendered, some not."""
    def partial():
        m = re.search(r"(\d+) of (\d+) tiles rendered, (\d+) rendering", mosaic_state())
        return m and 0 < int(m.group(1)) < int(m.group(2)) and m
    m = wait_for("a part-filled mosaic", partial, a.timeout)
    if a.shot:
        shot(a.shot, a.display)
    print("partial " + mosaic_state())


def cmd_wait_finished(a):
    wait_for("the finished frame", lambda: "finished" in mosaic_state(), a.timeout)
    time.sleep(1.5)  # the master's preview of the whole frame comes right after
    if a.shot:
        shot(a.shot, a.display)
    print("finished " + mosaic_state())


def cmd_click_tile(a):
    m = wait_for("the mosaic", lambda: find("image", "Tile mosaic"), 10)
    # GTK 4 knows no screen positions, only its window's: with no window manager the window sits at the display's
    # origin, so window coordinates are the display's. A point inside the frame: the mosaic centres the frame.
    r = Atspi.Component.get_extents(m, Atspi.CoordType.WINDOW)
    Atspi.generate_mouse_event(r.x + r.width // 2 + a.dx, r.y + r.height // 2 + a.dy, "b1c")
    info = wait_for("the tile's details", lambda: (label("Tile details") or "").startswith("Tile ") and
                    label("Tile details"), 10)
    print("tile " + info)


def filmstrip_frames():
    """The filmstrip's thumbnails, by accessible name ("Frame 3"), in its order (None: no strip)."""
    strip = find("list", "Finished frames")
    if strip is None:
        return None
    return [w.get_name() for w in walk(strip) if w.get_role_name() == "push button"]


def cmd_filmstrip(a):
    """Waits until the filmstrip holds a thumbnail for every expected frame; prints them and the strip's caption."""
    want = ["Frame %d" % f for f in a.expect]
    got = wait_for("the filmstrip to hold %s (now %s)" % (want, filmstrip_frames()),
                   lambda: (lambda f: f if f is not None and all(w in f for w in want) else None)(filmstrip_frames()),
                   a.timeout)
    time.sleep(1.0)  # the thumbnails' pictures follow their buttons
    if a.shot:
        shot(a.shot, a.display)
    print("filmstrip %s; %s" % (" | ".join(got), label("Filmstrip status")))


def cmd_open_frame(a):
    """Clicks a thumbnail of the filmstrip; waits for its full-size window and the picture's size in it."""
    press("push button", "Frame %d" % a.frame, prefix=False)
    title = "Frame %d of job #" % a.frame
    w = wait_for("the window '%s…'" % title, lambda: find("frame", title, prefix=True), 10)
    size = wait_for("the full-size frame", lambda: (lambda t: t if t and not t.startswith("Loading") else None)(
        label("Frame status")), a.timeout)
    if not size.startswith("Frame %d: " % a.frame):
        die("the full-size frame did not come: " + size)
    pic = find("image", "Frame %d of job #" % a.frame, prefix=True, root=w)
    if pic is None:
        die("the window has no picture named 'Frame %d of job #…, full size'" % a.frame)
    time.sleep(0.5)
    if a.shot:
        shot(a.shot, a.display)
    print("opened %s: %s" % (w.get_name(), size))
    if a.close:
        press("push button", "Close the frame", prefix=False)
        wait_for("the frame's window to close", lambda: find("frame", title, prefix=True) is None, 10)
        print("closed")


def cmd_download(a):
    press("push button", "Download frames")
    saved = wait_for("the download", lambda: (label("Download status") or "").startswith("Saved") and
                     label("Download status"), a.timeout)
    print("download " + saved)


def cmd_wait_connection(a):
    want = {"connected": "● connected", "disconnected": "○ disconnected"}[a.state]
    got = wait_for("the connection to be " + a.state,
                   lambda: (label("Connection status") or "").startswith(want) and label("Connection status"),
                   a.timeout)
    if a.shot:
        shot(a.shot, a.display)
    print("connection " + got)


def cmd_jobs(a):
    """The jobs list's rows as the accessibility tree has them: each cell's text, row by row."""
    table = wait_for("the jobs list", lambda: find("tree table", "Jobs"), 10)
    rows = []
    for cell in walk(table):
        if cell.get_role_name() == "label":
            rows.append(cell.get_name())
    print("jobs " + " | ".join(rows))
    if a.expect and not all(e in rows for e in a.expect):
        die("the jobs list lacks %s: %s" % (a.expect, rows))


def row_cell(job, column):
    """The text in job #job's row of the jobs list under the column titled column (None: no such row or column).
    Every column's cell holds one label, so the row's labels line up with the header's."""
    labels = table_cells("Jobs") or []
    starts = [i for i, t in enumerate(labels) if re.match(r"#\d+ ", t)]
    if not starts or column not in labels[:starts[0]]:
        return None
    at = labels[:starts[0]].index(column)
    for k, i in enumerate(starts):
        if labels[i].startswith("#%d " % job):
            row = labels[i:starts[k + 1] if k + 1 < len(starts) else len(labels)]
            return row[at] if at < len(row) else None
    return None


def cmd_job_cost(a):
    """Job #id's Cost cell; waits until it reads units / 10^decimals tokens (as GET jobs/{id}'s paid)."""
    from decimal import Decimal, InvalidOperation
    want = Decimal(a.units) / (Decimal(10) ** a.decimals)

    def shown():
        text = row_cell(a.id, "Cost")
        try:
            return text is not None and Decimal(text) == want and text
        except InvalidOperation:
            return None
    text = wait_for("job #%d's cost to read %s (now %r)" % (a.id, want, row_cell(a.id, "Cost")), shown, a.timeout)
    print("cost #%d %s; ETA %s" % (a.id, text, row_cell(a.id, "ETA")))


def cmd_shot(a):
    shot(a.path, a.display)


def selected(acc):
    return acc is not None and acc.get_state_set().contains(Atspi.StateType.SELECTED)


def enabled(acc):
    return acc.get_state_set().contains(Atspi.StateType.SENSITIVE)


def table_cells(name):
    """The text of every label in the table of that accessible name, row by row (None: no such table)."""
    table = find("tree table", name)
    if table is None:
        return None
    return [c.get_name() for c in walk(table) if c.get_role_name() == "label"]


def cmd_page(a):
    """Opens a page through the header bar's page switcher (its tab named as the page) and waits for the tab to be
    the selected one. (GTK 4.8 tells AT-SPI no SHOWING state: a stack's hidden pages look like the shown one.)"""
    tab = wait_for("the page switcher's tab '%s'" % a.name, lambda: find("page tab", a.name), 10)
    if not Atspi.Action.do_action(tab, 0):
        die("the page switcher's tab '%s' did not take its action" % a.name)
    wait_for("the %s page to be selected" % a.name, lambda: selected(find("page tab", a.name)), 10)
    time.sleep(0.5)  # drawn
    print("page " + a.name)


def cmd_farm(a):
    """The Farm page's rows; waits until every expected node name is a cell of its own."""
    rows = wait_for("the farm's nodes %s" % a.expect,
                    lambda: (lambda r: r if r and all(n in r for n in a.expect) else None)(table_cells("Farm nodes")),
                    a.timeout)
    time.sleep(0.5)
    if a.shot:
        shot(a.shot, a.display)
    print("farm " + " | ".join(rows))


def cmd_wallet(a):
    """The Wallet page's balance; waits until it is units / 10^decimals tokens ("Balance: 12.5 tokens")."""
    from decimal import Decimal
    want = Decimal(a.units) / (Decimal(10) ** a.decimals)

    def shown():
        m = re.match(r"Balance: (-?[0-9.]+) tokens$", label("Balance") or "")
        return m and Decimal(m.group(1)) == want and m.group(0)
    text = wait_for("the balance to read %s tokens (now %r)" % (want, label("Balance")), shown, a.timeout)
    history = wait_for("the wallet's history", lambda: [w.get_name() for w in walk(find("list", "Wallet history"))
                                                        if w.get_role_name() == "label"], 10)
    time.sleep(0.5)
    if a.shot:
        shot(a.shot, a.display)
    print("wallet %s; %s; %d history rows, newest: %s" % (text, label("Held for jobs"), len(history), history[0]))


def cmd_click_job(a):
    """Selects the job #id in the jobs list with a click on its row."""
    cell = wait_for("job #%d in the jobs list" % a.id,
                    lambda: next((c for c in walk(find("tree table", "Jobs")) if c.get_role_name() == "label" and
                                  c.get_name().startswith("#%d " % a.id)), None), a.timeout)
    r = Atspi.Component.get_extents(cell, Atspi.CoordType.WINDOW)
    Atspi.generate_mouse_event(r.x + r.width // 2, r.y + r.height // 2, "b1c")
    wait_for("the controls to follow job #%d" % a.id, lambda: any(enabled(find("push button", n)) for n in CONTROLS), 10)
    print("selected #%d" % a.id)


def cmd_filter(a):
    """Types into the jobs list's name filter; prints the list's rows once it has settled."""
    set_text("Filter jobs by name", a.name, app(), role="entry")  # a search entry is an "entry" to AT-SPI
    time.sleep(1.0)  # the search entry waits a moment before it filters
    print("jobs " + " | ".join(table_cells("Jobs") or []))


CONTROLS = ["Cancel job", "Pause job", "Resume job", "Requeue failed frames"]


def cmd_controls(a):
    """Which of the selected job's buttons may be pressed: 'Cancel job=on Pause job=off ...'."""
    time.sleep(0.3)
    print(" ".join("%s=%s" % (n.replace(" ", "_"), "on" if enabled(find("push button", n)) else "off")
                   for n in CONTROLS))


def cmd_control(a):
    """Presses one of the selected job's buttons; waits for the master's answer in the status label."""
    b = wait_for("'%s' to be pressable" % a.button, lambda: (lambda w: w if w and enabled(w) else None)(
        find("push button", a.button)), 10)
    before = label("Job control status")
    if not Atspi.Action.do_action(b, 0):
        die("'%s' did not take its action" % a.button)
    said = wait_for("the master's answer to '%s'" % a.button,
                    lambda: (lambda t: t if t and t != before and not t.endswith("…") else None)(
                        label("Job control status")), a.timeout)
    if said.startswith("Could not"):
        die(said)
    if a.shot:
        time.sleep(0.5)
        shot(a.shot, a.display)
    print("control " + said)


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--display", default=":0")
    p.add_argument("--timeout", type=float, default=60)
    sub = p.add_subparsers(dest="cmd", required=True)
    sub.add_parser("wait-window")
    si = sub.add_parser("sign-in")
    si.add_argument("--master", required=True)
    si.add_argument("--token", required=True)
    si.add_argument("--shot")
    s = sub.add_parser("submit")
    s.add_argument("--scene", required=True)
    s.add_argument("--frames", default="1")
    s.add_argument("--tiles", default="2x2")
    s.add_argument("--name", default="")
    s.add_argument("--budget", default="")
    s.add_argument("--priority", default="")
    s.add_argument("--facts-out")
    s.add_argument("--shot")
    for name in ("wait-partial", "wait-finished"):
        sub.add_parser(name).add_argument("--shot")
    c = sub.add_parser("click-tile")
    c.add_argument("--dx", type=int, default=0)
    c.add_argument("--dy", type=int, default=0)
    sub.add_parser("download")
    fs = sub.add_parser("filmstrip")
    fs.add_argument("--expect", type=int, nargs="+", required=True, help="frame numbers the strip must hold")
    fs.add_argument("--shot")
    of = sub.add_parser("open-frame")
    of.add_argument("--frame", type=int, required=True)
    of.add_argument("--close", action="store_true")
    of.add_argument("--shot")
    w = sub.add_parser("wait-connection")
    w.add_argument("state", choices=["connected", "disconnected"])
    w.add_argument("--shot")
    j = sub.add_parser("jobs")
    j.add_argument("--expect", nargs="*", default=[])
    jc = sub.add_parser("job-cost")
    jc.add_argument("--id", type=int, required=True)
    jc.add_argument("--units", type=int, required=True, help="the job's paid as GET /api/v1/jobs/{id} gives it")
    jc.add_argument("--decimals", type=int, required=True)
    sh = sub.add_parser("shot")
    sh.add_argument("path")
    pg = sub.add_parser("page")
    pg.add_argument("name", choices=["Jobs", "Wallet", "Farm"])
    f = sub.add_parser("farm")
    f.add_argument("--expect", nargs="*", default=[])
    f.add_argument("--shot")
    wl = sub.add_parser("wallet")
    wl.add_argument("--units", type=int, required=True, help="the balance GET /api/v1/wallet gives")
    wl.add_argument("--decimals", type=int, required=True)
    wl.add_argument("--shot")
    cj = sub.add_parser("click-job")
    cj.add_argument("--id", type=int, required=True)
    sub.add_parser("controls")
    fl = sub.add_parser("filter")
    fl.add_argument("--name", required=True)
    ct = sub.add_parser("control")
    ct.add_argument("button", choices=CONTROLS)
    ct.add_argument("--shot")
    a = p.parse_args()
    {"wait-window": cmd_wait_window, "sign-in": cmd_sign_in, "submit": cmd_submit, "wait-partial": cmd_wait_partial,
     "wait-finished": cmd_wait_finished, "click-tile": cmd_click_tile, "download": cmd_download,
     "filmstrip": cmd_filmstrip, "open-frame": cmd_open_frame,
     "wait-connection": cmd_wait_connection, "jobs": cmd_jobs, "job-cost": cmd_job_cost, "shot": cmd_shot, "page": cmd_page,
     "farm": cmd_farm, "wallet": cmd_wallet, "click-job": cmd_click_job, "controls": cmd_controls, "filter": cmd_filter,
     "control": cmd_control}[a.cmd](a)


if __name__ == "__main__":
    main()
