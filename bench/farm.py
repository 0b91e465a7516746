"""farm: a local tessera farm for benchmarks (master + slaves on loopback) and CPU accounting of process trees."""
import json
import os
import resource
import shutil
import signal
import subprocess
import time
import urllib.request

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.environ.get("TESSERA_BIN") or os.path.join(TOP, "build", "bin")  # as tests/lib.sh: another build's binaries
TICK = os.sysconf("SC_CLK_TCK")


def cleanup(work, keep):
    """Removes a benchmark's scratch folder, or says where it is kept."""
    if keep:
        print("kept", work)
    else:
        shutil.rmtree(work, ignore_errors=True)


def percentile(xs, p):
    """The p-th percentile of xs (nearest rank): p99 of 300 latencies is the 297th smallest."""
    xs = sorted(xs)
    return xs[min(len(xs) - 1, max(0, int(round(p / 100.0 * len(xs))) - 1))]


def children_cpu():
    """CPU seconds (user+sys) of this process's reaped children and their reaped descendants."""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def tree_cpu(roots):
    """CPU seconds (user+sys, own and reaped children) of the processes in roots and all their descendants."""
    stats = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open("/proc/%s/stat" % d) as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                stats[int(d)] = (int(fields[1]), sum(int(x) for x in fields[11:15]))
            except OSError:
                pass
    total, todo, seen = 0, list(roots), set()
    while todo:
        pid = todo.pop()
        if pid in seen or pid not in stats:
            continue
        seen.add(pid)
        total += stats[pid][1]
        todo.extend(p for p, (ppid, _) in stats.items() if ppid == pid)
    return total / TICK


class Farm:
    """Starts a master and n slaves in work/; stop() ends them with SIGTERM and checks they exit 0."""

    def __init__(self, work, slaves, port, master_args=(), slave_args=()):
        self.zmq, self.http = "tcp://127.0.0.1:%d" % port, "127.0.0.1:%d" % (port + 1)
        self.env = dict(os.environ, TESSERA_MASTER="http://" + self.http)
        log = open(os.path.join(work, "farm.log"), "ab")
        self.procs = [subprocess.Popen([os.path.join(BIN, "tessera-master"), "--state", os.path.join(work, "master"),
                                        "--listen", self.zmq, "--http", self.http] + list(master_args),
                                       stdout=log, stderr=log)]
        self._wait(lambda: urllib.request.urlopen("http://%s/api/v1/health" % self.http, timeout=1))
        # the operator's token, written by the master before it answers: the CLI and api() act as the operator
        with open(os.path.join(work, "master", "operator.token")) as f:
            self.token = f.read().strip()
        self.env["TESSERA_TOKEN"] = self.token
        for i in range(slaves):
            self.procs.append(subprocess.Popen(
                [os.path.join(BIN, "tessera-slave"), "--master", self.zmq, "--master-cert",
                 os.path.join(work, "master", "master.cert"), "--work", os.path.join(work, "slave%d" % i),
                 "--name", "bench%d" % i] + list(slave_args), stdout=log, stderr=log))
        self._wait(lambda: self._online() >= slaves or None)

    def api(self, path, timeout=30):
        """GET /api/v1/<path> with the operator's token; the parsed JSON."""
        req = urllib.request.Request("http://%s/api/v1/%s" % (self.http, path),
                                     headers={"Authorization": "Bearer " + self.token})
        return json.load(urllib.request.urlopen(req, timeout=timeout))

    def _online(self):
        nodes = self.api("nodes", timeout=1)["nodes"]
        return sum(1 for x in nodes if x["state"] in ("online", "busy"))

    @staticmethod
    def _wait(probe, tries=600):
        for _ in range(tries):
            try:
                if probe():
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise SystemExit("the farm did not come up")

    def stats(self):
        """The master's counters (GET /api/v1/stats)."""
        return self.api("stats", timeout=10)["stats"]

    def cpu(self):
        return tree_cpu([p.pid for p in self.procs])

    def tessera(self, *args):
        """Runs the CLI against this farm; returns (CPU seconds of the CLI, wall seconds)."""
        before, t0 = children_cpu(), time.monotonic()
        subprocess.run([os.path.join(BIN, "tessera")] + list(args), check=True, env=self.env,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return children_cpu() - before, time.monotonic() - t0

    def stop(self):
        for p in self.procs:
            p.send_signal(signal.SIGTERM)
        for p in self.procs:
            if p.wait(timeout=60) != 0:
                raise SystemExit("a farm process exited %d on SIGTERM" % p.returncode)
