#!/usr/bin/python3
# gui_driver: drives tessera-gui as a person would, through the accessibility tree only (AT-SPI: widgets found by
# role and accessible name, text set through EditableText, buttons pressed through their action, a tile clicked with
# a synthesized mouse click). One command per run; tests/test_gui_farm.sh strings them together. Prints what it saw;
# exits 1 with the reason when a step does not happen in time. Screenshots: ffmpeg's x11grab of the display.
import argparse
import re
import subprocess
import sys
import time

import gi

gi.require_version("Atspi", "2.0")
from gi.repository import Atspi  # noqa: E402

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
    yield a
    for i in range(a.get_child_count()):
        c = a.get_child_at_index(i)
        if c is not None:
            yield from walk(c)


def find(role, name=None, desc=None, prefix=False, root=None):
    """The first widget of that role whose accessible name (or description) is name (starts with it: prefix)."""
    root = root or app()
    if root is None:
        return None
    for a in walk(root):
        if a.get_role_name() != role:
            continue
        if name is not None and not (a.get_name().startswith(name) if prefix else a.get_name() == name):
            continue
        if desc is not None and a.get_description() != desc:
            continue
        return a
    return None


def wait_for(what, fn, timeout):
    end = time.time() + timeout
    while time.time() < end:
        got = fn()
        if got:
            return got
        time.sleep(0.1)
    die("timed out after %.0f s waiting for %s" % (timeout, what))


def label(desc):
    """The text of the label the app describes as desc (its status labels)."""
    a = find("label", desc=desc)
    return a.get_name() if a is not None else None


def press(role, name, prefix=True):
    b = wait_for("button '%s'" % name, lambda: find(role, name, prefix=prefix), 20)
    if not Atspi.Action.do_action(b, 0):
        die("button '%s' did not take its action" % name)


def set_text(name, text, root):
    e = find("text", name, root=root)
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
    set_text("Frames", a.frames, dialog)
    set_text("Tile grid", a.tiles, dialog)
    if a.name:
        set_text("Job name", a.name, dialog)
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


def cmd_shot(a):
    shot(a.path, a.display)


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
    s.add_argument("--shot")
    for name in ("wait-partial", "wait-finished"):
        sub.add_parser(name).add_argument("--shot")
    c = sub.add_parser("click-tile")
    c.add_argument("--dx", type=int, default=0)
    c.add_argument("--dy", type=int, default=0)
    sub.add_parser("download")
    w = sub.add_parser("wait-connection")
    w.add_argument("state", choices=["connected", "disconnected"])
    w.add_argument("--shot")
    j = sub.add_parser("jobs")
    j.add_argument("--expect", nargs="*", default=[])
    sh = sub.add_parser("shot")
    sh.add_argument("path")
    a = p.parse_args()
    {"wait-window": cmd_wait_window, "sign-in": cmd_sign_in, "submit": cmd_submit, "wait-partial": cmd_wait_partial,
     "wait-finished": cmd_wait_finished, "click-tile": cmd_click_tile, "download": cmd_download,
     "wait-connection": cmd_wait_connection, "jobs": cmd_jobs, "shot": cmd_shot}[a.cmd](a)


if __name__ == "__main__":
    main()
