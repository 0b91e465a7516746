# tessera test helper: runs one Blender worker (slave/blender_worker.py) over fds 3/4 and relays its JSON lines.
"""Drive a tessera Blender worker the way the slave does, for the shell tests.

Usage: python3 tests/worker_driver.py WORKER.py LOG  <requests  >replies

Starts `blender -b ... --python WORKER.py -- --cmd-fd 3 --reply-fd 4` (its stdout and stderr appended to
LOG), writes each non-empty stdin line to the worker's fd 3 and prints its one reply line from fd 4, plus
"_cpu" (user+sys CPU seconds the worker used for it, from /proc) and "_wall" (seconds). A worker that
closes fd 4 gets {"ok":false,"error":"worker died","worker_died":true} for each request left.
At stdin EOF it closes fd 3 and prints one last line,
  {"exit":RC,"extra_output":"...","_cpu_total":S,"_wall_total":S}
RC: the worker's exit status; extra_output: whatever it wrote on fd 4 after the last reply (must be
nothing: exactly one reply per request); _cpu_total: its whole CPU time (getrusage of children).
Exit status: the worker's.
Used by tests/test_worker_exactness.sh (as a coprocess) and tests/test_worker_project.sh (in a pipe).
"""
import fcntl, json, os, resource, subprocess, sys, time

worker, log = sys.argv[1], sys.argv[2]


def high(fd):  # move a pipe end out of the way of 3 and 4
    h = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
    os.close(fd)
    return h


r3, w3 = os.pipe()
r4, w4 = os.pipe()
r3, w3, r4, w4 = high(r3), high(w3), high(r4), high(w4)
os.dup2(r3, 3)  # the worker's fd 3 reads requests
os.dup2(w4, 4)  # the worker's fd 4 writes replies
t0 = time.monotonic()
p = subprocess.Popen(["blender", "-b", "-Y", "--factory-startup", "-noaudio", "--python-exit-code", "1",
                      "--python", worker, "--", "--cmd-fd", "3", "--reply-fd", "4"],
                     pass_fds=(3, 4), stdin=subprocess.DEVNULL,
                     stdout=open(log, "ab"), stderr=subprocess.STDOUT)
for fd in (3, 4, r3, w4):
    os.close(fd)
cmd, rep = os.fdopen(w3, "wb"), os.fdopen(r4, "rb")
tick = os.sysconf("SC_CLK_TCK")


def cpu():
    try:
        with open("/proc/%d/stat" % p.pid) as f:
            v = f.read().rsplit(")", 1)[1].split()
        return (int(v[11]) + int(v[12])) / tick
    except OSError:
        return 0.0


for line in sys.stdin:
    if not line.strip():
        continue
    c0, w0 = cpu(), time.monotonic()
    try:
        cmd.write(line.strip().encode() + b"\n")
        cmd.flush()
    except BrokenPipeError:
        pass
    r = rep.readline()
    if not r:
        print(json.dumps({"ok": False, "error": "worker died", "worker_died": True}), flush=True)
        continue
    d = json.loads(r)
    d["_cpu"] = round(cpu() - c0, 3)
    d["_wall"] = round(time.monotonic() - w0, 3)
    print(json.dumps(d), flush=True)
try:
    cmd.close()
except BrokenPipeError:
    pass
extra = rep.read()  # must be nothing: exactly one reply per request
rc = p.wait()
u = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"exit": rc, "extra_output": extra.decode("utf-8", "replace"),
                  "_cpu_total": round(u.ru_utime + u.ru_stime, 3),
                  "_wall_total": round(time.monotonic() - t0, 3)}), flush=True)
sys.exit(rc)
