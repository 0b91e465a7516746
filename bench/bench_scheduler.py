#!/usr/bin/env python3
"""bench_scheduler: one master against thousands of simulated slaves (tessera-slavesim), through the whole path.

For each count of slaves (--slaves 1000,5000,10000), on a fresh master on this machine (master and simulator share
its cores):
  register  - seconds until every simulated slave has said Hello and been welcomed;
  idle      - the master's CPU share and resident memory with them all connected and heartbeating (--heartbeat-ms),
              per 1,000 slaves, and its memory per connected slave;
  job       - a synthetic job (tessera submit synthetic, --tasks-per-slave pieces a slave; spot checks as the
              defaults price them) submitted and waited for: task round trips per second (pieces and checks, each an
              Assign and a signed Result through the verifier and the ledger), the assignment latency p50/p99 that
              the simulator measured (from a slave's free slot told to the master to the Assign's arrival), and the
              master's CPU per round trip;
  restart   - (--restart) another synthetic job; at a third done the master is SIGKILLed and started again on its
              state: seconds until every slave is back, seconds until the job is done, and from the store, that every
              piece was done and paid exactly once.
Usage: bench/bench_scheduler.py [--slaves 1000,5000,10000] [--tasks-per-slave 3] [--heartbeat-ms 5000] [--restart]
"""
import argparse
import json
import os
import signal
import sqlite3
import subprocess
import tempfile
import time
import urllib.request

import farm

QUIET = ["--no-lsd", "--torrent-listen", "127.0.0.1:0"]


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def proc_cpu(pid):
    return farm.tree_cpu([pid])


class Master:
    def __init__(self, work, port, heartbeat_ms):
        self.work, self.port, self.heartbeat_ms = work, port, heartbeat_ms
        self.zmq, self.http = "tcp://127.0.0.1:%d" % port, "127.0.0.1:%d" % (port + 1)
        self.state = os.path.join(work, "master")
        self.start()

    def start(self):
        log = open(os.path.join(self.work, "master.log"), "ab")
        timeout = max(30, 3 * self.heartbeat_ms // 1000)
        self.proc = subprocess.Popen([os.path.join(farm.BIN, "tessera-master"), "--state", self.state, "--listen",
                                      self.zmq, "--http", self.http, "--heartbeat-ms", str(self.heartbeat_ms),
                                      "--node-timeout", str(timeout), "--log-level", "warn"] + QUIET,
                                     stdout=log, stderr=log)
        for _ in range(600):
            try:
                urllib.request.urlopen("http://%s/api/v1/health" % self.http, timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        with open(os.path.join(self.state, "operator.token")) as f:
            self.token = f.read().strip()
        self.env = dict(os.environ, TESSERA_MASTER="http://" + self.http, TESSERA_TOKEN=self.token)

    def api(self, path):
        req = urllib.request.Request("http://%s/api/v1/%s" % (self.http, path),
                                     headers={"Authorization": "Bearer " + self.token})
        return json.load(urllib.request.urlopen(req, timeout=60))

    def online(self):
        return sum(1 for n in self.api("nodes")["nodes"] if n["online"])

    def submit(self, tasks, wait):
        out = subprocess.run([os.path.join(farm.BIN, "tessera"), "submit", "synthetic", "--tasks", str(tasks)],
                             env=self.env, check=True, capture_output=True, text=True)
        job = int(out.stdout.strip())
        if wait:
            subprocess.run([os.path.join(farm.BIN, "tessera"), "wait", str(job)], env=self.env, check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return job

    def job(self, job):
        return self.api("jobs/%d" % job)

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=120)


def stats(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


def wait_for(probe, timeout, what):
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if probe():
            return time.monotonic() - t0
        time.sleep(0.2)
    raise SystemExit("timed out waiting for " + what)


def run(n, a, port, tmp):
    work = os.path.join(tmp, "n%d" % n)
    os.makedirs(work)
    m = Master(work, port, a.heartbeat_ms)
    rss0, stats_path = rss_kib(m.proc.pid), os.path.join(work, "sim-stats.json")
    sim_log = open(os.path.join(work, "sim.log"), "ab")
    sim = subprocess.Popen([os.path.join(farm.BIN, "tessera-slavesim"), "--master", m.zmq, "--master-cert",
                            os.path.join(m.state, "master.cert"), "--slaves", str(n), "--work",
                            os.path.join(work, "sim"), "--work-ms", "0", "--stats", stats_path],
                           stdout=sim_log, stderr=sim_log)
    row = {"slaves": n}
    try:
        # the simulator's own count (its stats file, each second), so the wait does not load the master with a list
        # of every node five times a second; then the master's list once, to be sure it agrees
        row["register_s"] = wait_for(lambda: stats(stats_path).get("online_now", 0) >= n, 600,
                                     "%d slaves to register" % n)
        wait_for(lambda: m.online() >= n, 60, "the master to list %d slaves online" % n)
        time.sleep(2 * a.heartbeat_ms / 1000)  # every slave has heartbeated since
        cpu0, t0 = proc_cpu(m.proc.pid), time.monotonic()
        time.sleep(a.idle_s)
        idle_cpu = (proc_cpu(m.proc.pid) - cpu0) / (time.monotonic() - t0)
        rss = rss_kib(m.proc.pid)
        row["idle_cpu_per_1000"] = idle_cpu / n * 1000
        row["kib_per_slave"] = (rss - rss0) / n
        row["master_rss_mib"] = rss / 1024
        tasks = n * a.tasks_per_slave
        cpu0, t0 = proc_cpu(m.proc.pid), time.monotonic()
        job = m.submit(tasks, True)
        wall = time.monotonic() - t0
        master_cpu = proc_cpu(m.proc.pid) - cpu0
        j = m.job(job)
        trips = j["tasks_done"] + j.get("checks_total", 0)
        row.update(tasks=tasks, checks=j.get("checks_total", 0), job_s=wall, trips_per_s=trips / wall,
                   master_cpu_ms_per_trip=1000 * master_cpu / trips)
        s = stats(stats_path)
        lat = s.get("assign_latency_after_result_ms", {})  # a free slot told by a result, to the next Assign
        row["latency_p50_ms"], row["latency_p99_ms"] = lat.get("p50"), lat.get("p99")
        if a.restart:
            job2 = m.submit(tasks, False)
            wait_for(lambda: m.job(job2)["tasks_done"] >= tasks // 3, 600, "a third of the second job")
            m.kill()
            t0 = time.monotonic()
            m.start()
            wait_for(lambda: m.online() >= n, 600, "every slave back")
            row["back_s"] = time.monotonic() - t0  # from the kill, the restart included
            wait_for(lambda: m.job(job2)["state"] in ("done", "failed"), 1200, "the second job")
            row["restart_job_s"] = time.monotonic() - t0
            j2 = m.job(job2)
            db = sqlite3.connect("file:%s?mode=ro" % os.path.join(m.state, "tessera.db"), uri=True)
            done = db.execute("SELECT count(*), count(DISTINCT tile) FROM tasks WHERE job_id=? AND check_of=0 AND "
                              "state='done'", (job2,)).fetchone()
            # a piece's locked price is released to its node once; a check is paid once (the ledger's xacts)
            money = dict((k, (c, d)) for k, c, d in db.execute(
                "SELECT kind, count(*), count(DISTINCT task) FROM ledger_xacts WHERE job=? GROUP BY kind", (job2,)))
            paid = db.execute("SELECT count(*) FROM tasks WHERE job_id=? AND check_of=0 AND paid>0", (job2,)).fetchone()
            rel, pay = money.get("release", (0, 0)), money.get("pay", (0, 0))
            row["restart_ok"] = (j2["state"] == "done" and done[0] == done[1] == tasks and rel[0] == rel[1] == tasks
                                 and paid[0] == tasks and pay[0] == pay[1])
            row["restart_detail"] = ("job %s; pieces done %d (distinct %d) of %d, released to their nodes %d (distinct "
                                     "%d), checks paid %d (distinct %d)" % (j2["state"], done[0], done[1], tasks,
                                                                             rel[0], rel[1], pay[0], pay[1]))
    finally:
        sim.send_signal(signal.SIGTERM)
        try:
            sim.wait(timeout=60)
        except subprocess.TimeoutExpired:
            sim.kill()
        m.stop()
    return row


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--slaves", default="1000,5000,10000")
    ap.add_argument("--tasks-per-slave", type=int, default=3)
    ap.add_argument("--heartbeat-ms", type=int, default=5000)
    ap.add_argument("--idle-s", type=float, default=10)
    ap.add_argument("--restart", action="store_true")
    ap.add_argument("--port", type=int, default=29955)
    ap.add_argument("--keep", action="store_true")
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="tessera-bench-scheduler.")
    rows = []
    for i, n in enumerate(int(x) for x in a.slaves.split(",")):
        rows.append(run(n, a, a.port + 2 * i, tmp))
        print(json.dumps(rows[-1]), flush=True)
    farm.cleanup(tmp, a.keep)
    print("one master and tessera-slavesim on this machine, heartbeats every %d ms:" % a.heartbeat_ms)
    for r in rows:
        line = ("%6d slaves: registered in %.1f s; idle master %.1f%% CPU per 1,000 slaves, %.1f KiB per slave; "
                "%d pieces + %d checks at %.0f round trips/s, assignment latency p50 %s ms p99 %s ms, master %.2f ms "
                "CPU per round trip" % (r["slaves"], r["register_s"], 100 * r["idle_cpu_per_1000"], r["kib_per_slave"],
                                        r["tasks"], r["checks"], r["trips_per_s"], r["latency_p50_ms"],
                                        r["latency_p99_ms"], r["master_cpu_ms_per_trip"]))
        if "back_s" in r:
            line += "; after SIGKILL and restart every slave back in %.1f s, the job done %.1f s after the kill, %s (%s)" % (
                r["back_s"], r["restart_job_s"], "each piece done and paid once" if r["restart_ok"] else "NOT OK",
                r["restart_detail"])
        print(line)


if __name__ == "__main__":
    main()
