"""The router under load, against two anchors, in one run on this machine.

    .venv/bin/python bench/webhooks.py [--callers 20] [--seconds 6] [--rounds 4] [--profile DIR]

Starts three apps under gunicorn with the Procfile's web settings, and Redis:
- the router (`ivr.web.app:create_app()`);
- the static anchor (`bench/static_app.py`): a bare Flask app answering fixed TwiML, the floor
  of what a webhook costs under this gunicorn;
- the naive anchor (`bench/naive_app.py`): the same call flow as anyone would first write it
  (Flask, Twilio's RequestValidator, the call's state as one JSON value in Redis, VoiceResponse,
  one RQ job at the end).

The same simulated callers (`ivr.sim.simulator`, over persistent HTTP connections) call each in
turn, `--rounds` times, for `--seconds` a phase: signed webhooks that follow the TwiML as
Twilio would, through the greeting, the language, the menu, routing, the operator's whisper and
accept, the dial outcome and the status callback. For each app it reports throughput and the
server's CPU per webhook (user and system time of gunicorn's processes, read from /proc), whose
inverse is the capacity of one core whatever the client costs. No record worker runs while a
phase is measured; the router's worker stores the records afterwards, and the run checks that
every call was recorded. Then `--callers` concurrent calls paced like calls give the router's
latency percentiles. Prints the figures and writes them to a JSON file.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ivr.cli.processes import procfile_commands  # noqa: E402
from ivr.library.files import FolderSource  # noqa: E402
from ivr.library.pipeline import Options, build  # noqa: E402
from ivr.sim.embedded_redis import EmbeddedRedis  # noqa: E402
from ivr.sim.simulator import HttpResponse, SimulatedCall, answer, press  # noqa: E402

TOKEN = secrets.token_hex(16)
KEYS = [["1", "1"], ["2", "1"], ["2", "2", "1", "2"], ["9"], [], ["0"], ["2", "1"]]
APPS = {"router": "ivr.web.app:create_app()", "static": "bench.static_app:create_app()",
        "naive": "bench.naive_app:create_app()"}
TICK = os.sysconf("SC_CLK_TCK")


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    calls: int = 0
    cpu: float = 0.0  # the server's CPU seconds
    system: float = 0.0  # of which in the kernel (sockets, scheduling)
    elapsed: float = 0.0


class KeepAlive:
    """The simulator's HTTP client, lean: one persistent connection per simulated caller,
    as a TLS proxy in front of the router keeps them."""

    def __init__(self, port: int, tally: Tally, pause: float = 0.0) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
        self.tally, self.pause = tally, pause

    def post(self, path: str, *, data: dict[str, str], headers: dict[str, str]) -> HttpResponse:
        if self.pause:  # a prompt playing, a phone ringing: calls move at random, not in step
            time.sleep(random.uniform(0, 2 * self.pause))
        body = urlencode(data)
        headers = {**headers, "Content-Type": "application/x-www-form-urlencoded"}
        began = time.perf_counter()
        for attempt in (1, 2):
            try:
                self.connection.request("POST", path, body, headers)
                reply = self.connection.getresponse()
                response = HttpResponse(reply.status, reply.read())
                break
            except (http.client.HTTPException, OSError) as exc:
                self.connection.close()  # the server closed an idle connection: reconnect
                if attempt == 2:
                    self.tally.errors.append(type(exc).__name__)
                    raise
        self.tally.latencies.append(time.perf_counter() - began)
        if response.status_code != 200:
            self.tally.errors.append(str(response.status_code))
        return response

    def get(self, path: str, *, headers: dict[str, str]) -> HttpResponse:
        raise NotImplementedError("the benchmark's numbers are set to POST")


def roster_yaml(consultants: int) -> str:
    """Consultants on duty around the clock who speak both languages: with more of them than
    callers, no call waits in line, so the router's calls are the naive app's calls."""
    who = ", ".join(f"op{n}" for n in range(consultants))
    return "\n".join([
        "timezone: Asia/Almaty", "operators:",
        *(f'  op{n}: {{phone: "+7701{n:07d}", languages: [kk, ru]}}'
          for n in range(consultants)),
        "weekly:", f'  - {{who: [{who}], days: daily, from: "00:00", to: "12:00"}}',
        f'  - {{who: [{who}], days: daily, from: "12:00", to: "00:00"}}']) + "\n"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start(command: str, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(command, shell=True, env=env, cwd=ROOT,  # noqa: S602
                            start_new_session=True, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def wait_up(url: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1):  # noqa: S310
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"{url} did not come up")


def stop(process: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=15)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(process.pid, signal.SIGKILL)


def tree(root: int) -> list[int]:
    """`root` and every process below it."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int(
                    (entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except OSError:
                continue
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(child for child, parent in parents.items() if parent == pid)
    return found


def cpu_seconds(root: int) -> tuple[float, float]:
    """User and system CPU of a process tree (gunicorn's master and workers)."""
    user = system = 0
    for pid in tree(root):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        user, system = user + int(fields[11]), system + int(fields[12])  # utime, stime
    return user / TICK, system / TICK


def rss_mb(root: int) -> dict[str, dict[str, float]]:
    """Resident and unique (not shared) memory of each process under `root`."""
    sizes = {}
    for pid in tree(root):
        try:
            status = Path(f"/proc/{pid}/status").read_text().splitlines()
            rollup = Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()
        except OSError:
            continue
        name = next(line.split()[1] for line in status if line.startswith("Name:"))
        if name in ("sh", "bash"):
            continue
        kb = {line.split(":")[0]: int(line.split()[1]) for line in rollup[1:]}
        sizes[f"{name}[{pid}]"] = {
            "rss": round(kb.get("Rss", 0) / 1024, 1),
            "unique": round((kb.get("Private_Clean", 0) + kb.get("Private_Dirty", 0)) / 1024, 1),
            "pss": round(kb.get("Pss", 0) / 1024, 1)}
    return sizes


def run_for(seconds: float, callers: int, one: Callable[[int], None]) -> float:
    stop_at = time.monotonic() + seconds
    began = time.perf_counter()

    def loop(n: int) -> None:
        while time.monotonic() < stop_at:
            one(n)

    threads = [threading.Thread(target=loop, args=(n,)) for n in range(callers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - began


def figures(tally: Tally) -> dict[str, Any]:
    ordered = sorted(tally.latencies) or [0.0]

    def pct(p: float) -> float:
        return round(1000 * ordered[min(len(ordered) - 1, int(p * len(ordered)))], 2)

    webhooks = len(tally.latencies)
    result = {"webhooks": webhooks, "calls": tally.calls, "seconds": round(tally.elapsed, 1),
              "webhooks_per_second": round(webhooks / tally.elapsed, 1),
              "calls_per_second": round(tally.calls / tally.elapsed, 2),
              "errors": len(tally.errors), "p50_ms": pct(0.50), "p95_ms": pct(0.95),
              "p99_ms": pct(0.99), "mean_ms": round(1000 * statistics.fmean(ordered), 2)}
    if tally.cpu:
        result["server_cpu_us_per_webhook"] = round(1e6 * tally.cpu / webhooks)
        result["of_which_system_us"] = round(1e6 * tally.system / webhooks)
        result["capacity_webhooks_per_core_second"] = round(webhooks / tally.cpu)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--callers", type=int, default=20,
                        help="simulated callers calling back to back in each phase")
    parser.add_argument("--seconds", type=float, default=6.0, help="length of each phase")
    parser.add_argument("--rounds", type=int, default=4,
                        help="times each app is measured, in turn (router, static, naive)")
    parser.add_argument("--paced", type=int, default=50,
                        help="concurrent paced calls for the router's latency")
    parser.add_argument("--pause", type=float, default=0.5,
                        help="seconds before each webhook of a paced call (latency phase); "
                        "real calls wait seconds for prompts and ringing")
    parser.add_argument("--apps", default=",".join(APPS),
                        help="which apps to measure (the ratios need all three)")
    parser.add_argument("--profile", metavar="FOLDER",
                        help="sample the router's web workers with py-spy (on PATH) during "
                        "its phases, and write collapsed stacks and a summary to FOLDER")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "webhooks.json"))
    args = parser.parse_args()
    measured = [name for name in APPS if name in args.apps.split(",")]
    web = procfile_commands(ROOT / "Procfile")["web"]
    worker = procfile_commands(ROOT / "Procfile")["worker"]
    catalogue = build(FolderSource(ROOT / "flows", ROOT / "audio"), Options()).catalogue
    bin_dir = str(Path(sys.executable).parent)
    with tempfile.TemporaryDirectory() as folder, EmbeddedRedis() as redis_server:
        shutil.copytree(ROOT / "flows", f"{folder}/flows")
        Path(f"{folder}/flows/roster.yaml").write_text(
            roster_yaml(2 * max(args.callers, args.paced)))
        env = {**os.environ, "PATH": bin_dir + os.pathsep + os.environ.get("PATH", ""),
               "PYTHONPATH": str(ROOT),
               "TWILIO_AUTH_TOKEN": TOKEN, "IVR_HMAC_SECRET": secrets.token_hex(32),
               "REDIS_URL": os.environ.get("REDIS_URL") or redis_server.url,
               "DATABASE_URL": f"sqlite:///{folder}/bench.sqlite3",
               "IVR_SPOOL_DIR": f"{folder}/spool", "IVR_REDIS_PREFIX": "bench:",
               "IVR_CACHE_DIR": f"{folder}/cache", "IVR_FLOWS_DIR": f"{folder}/flows",
               "IVR_QUEUE": "bench-records", "IVR_CALLER_ID": "+77172000150"}
        ports = {name: free_port() for name in APPS}
        servers = {name: start(web.replace('"ivr.web.app:create_app()"', f'"{app}"'),
                               {**env, "PORT": str(ports[name]),
                                "IVR_METRICS_PORT": str(free_port())})
                   for name, app in APPS.items()}
        tallies = {name: Tally() for name in APPS}
        results: dict[str, Any] = {"machine": {"cores": os.cpu_count()},
                                   "settings": vars(args), "gunicorn": web}
        try:
            for name in APPS:
                wait_up(f"http://127.0.0.1:{ports[name]}/healthz")

            def caller(name: str, tally: Tally, pause: float = 0.0) -> Callable[[int], None]:
                base = f"http://127.0.0.1:{ports[name]}"
                local = threading.local()

                def one_call(n: int) -> None:
                    if getattr(local, "client", None) is None:
                        local.client = KeepAlive(ports[name], tally, pause)
                    sim = SimulatedCall(local.client, TOKEN, catalogue, base,
                                        call_sid="CA" + secrets.token_hex(16), to="150")
                    try:
                        sim.run(press(random.choice(KEYS)), answer([]))
                        tally.calls += 1
                    except (AssertionError, OSError, http.client.HTTPException):
                        tally.errors.append("call")
                return one_call

            # 1. throughput and server CPU per webhook, each app in turn, no worker running
            for _round in range(args.rounds):
                for name in measured:
                    tally = tallies[name]
                    pid = servers[name].pid
                    samplers = profile(pid, args) if name == "router" and args.profile else []
                    user, system = cpu_seconds(pid)
                    tally.elapsed += run_for(args.seconds, args.callers, caller(name, tally))
                    user_after, system_after = cpu_seconds(pid)
                    tally.cpu += user_after - user + system_after - system
                    tally.system += system_after - system
                    for sampler in samplers:
                        sampler.wait()
            for name in measured:
                results[name] = figures(tallies[name])
            results["memory_mb"] = {name: rss_mb(servers[name].pid) for name in APPS}
            if len(measured) == len(APPS):
                router, static, naive = (results[name] for name in APPS)
                results["ratios"] = {
                    "capacity_to_static": round(router["capacity_webhooks_per_core_second"]
                                                / static["capacity_webhooks_per_core_second"], 3),
                    "capacity_to_naive": round(router["capacity_webhooks_per_core_second"]
                                               / naive["capacity_webhooks_per_core_second"], 3),
                    "throughput_to_static": round(router["webhooks_per_second"]
                                                  / static["webhooks_per_second"], 3),
                    "throughput_to_naive": round(router["webhooks_per_second"]
                                                 / naive["webhooks_per_second"], 3)}
            # 2. the records, stored apart from the measured phases: one for every call
            rq_worker = start(worker, env)
            results["records"] = drain(env["REDIS_URL"], tallies["router"].calls)
            # 3. the router's latency under paced, concurrent calls (the worker running)
            paced = Tally()
            paced.elapsed = run_for(args.seconds, args.paced, caller("router", paced, args.pause))
            results["router_paced"] = figures(paced)
            stop(rq_worker)
        finally:
            for process in servers.values():
                stop(process)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=2) + "\n")
    report(results, args)


def profile(root: int, args: argparse.Namespace) -> list[subprocess.Popen[bytes]]:
    """py-spy on each of the router's web workers for one phase (collapsed stacks)."""
    folder = Path(args.profile)
    folder.mkdir(parents=True, exist_ok=True)
    workers = [pid for pid in tree(root)[1:]
               if "gunicorn" in Path(f"/proc/{pid}/cmdline").read_text(errors="replace")
               and Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1]
               != str(os.getpid())]
    masters = {int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
               for pid in workers}
    return [subprocess.Popen(["py-spy", "record", "--format", "raw", "--rate", "500", "--gil",
                              "--duration", str(int(args.seconds)), "--nonblocking",
                              "-o", str(folder / f"worker-{pid}-{time.time_ns()}.txt"),
                              "-p", str(pid)], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
            for pid in workers if pid not in masters]


def drain(redis_url: str, calls: int) -> dict[str, Any]:
    """Wait for the worker to store the measured calls' records."""
    import redis as redis_py

    client = redis_py.Redis.from_url(redis_url)
    began = time.monotonic()
    while time.monotonic() - began < 300:
        waiting = client.llen("rq:queue:bench-records")
        running = client.zcard("rq:wip:bench-records")
        if not waiting and not running:
            break
        time.sleep(0.5)
    failed = client.zcard("rq:failed:bench-records")
    return {"calls": calls, "left_in_queue": client.llen("rq:queue:bench-records"),
            "failed": failed, "seconds_to_store": round(time.monotonic() - began, 1)}


def report(results: dict[str, Any], args: argparse.Namespace) -> None:
    print(f"{'':24}{'webhooks/s':>11}{'calls/s':>9}{'CPU µs/wh':>10}{'(system)':>9}"
          f"{'per core':>9}{'p50 ms':>8}{'p99 ms':>8}{'errors':>7}")
    rows = (("router", results.get("router")), ("static anchor", results.get("static")),
            ("naive anchor", results.get("naive")),
            (f"router, {args.paced} paced calls", results["router_paced"]))
    for name, row in rows:
        if row is None:
            continue
        print(f"{name:24}{row['webhooks_per_second']:>11}{row['calls_per_second']:>9}"
              f"{row.get('server_cpu_us_per_webhook', '-'):>10}"
              f"{row.get('of_which_system_us', '-'):>9}"
              f"{row.get('capacity_webhooks_per_core_second', '-'):>9}"
              f"{row['p50_ms']:>8}{row['p99_ms']:>8}{row['errors']:>7}")
    for name, processes in results["memory_mb"].items():
        print(f"{name} memory (MB, rss/pss/unique): " + ", ".join(
            f"{proc} {m['rss']}/{m['pss']}/{m['unique']}" for proc, m in processes.items()))
    print(f"records: {results['records']}")
    ratios = results.get("ratios")
    if ratios is not None:
        print(f"router capacity: {ratios['capacity_to_static']}x the static anchor (target 0.6),"
              f" {ratios['capacity_to_naive']}x the naive anchor (target 1.3)")
        print(f"router throughput: {ratios['throughput_to_static']}x static, "
              f"{ratios['throughput_to_naive']}x naive")
    if args.profile:
        summarise(Path(args.profile))
    print(f"figures written to {args.out}")


def summarise(folder: Path, top: int = 25) -> None:
    """The router workers' busy samples by function: inclusive and self shares."""
    inclusive: dict[str, int] = {}
    own: dict[str, int] = {}
    total = 0
    for path in folder.glob("worker-*.txt"):
        for line in path.read_text().splitlines():
            stack, _, count_text = line.rpartition(" ")
            frames = [f.split(" (")[0] + " " + f.split("/")[-1].rstrip(")")
                      for f in stack.split(";")[1:]]
            if not frames or "select " in frames[-1] or "wait " in frames[-1]:
                continue  # idle threads
            count = int(count_text)
            total += count
            for frame in set(frames):
                inclusive[frame] = inclusive.get(frame, 0) + count
            own[frames[-1]] = own.get(frames[-1], 0) + count
    lines = [f"busy samples: {total}", "inclusive:"]
    lines += [f"  {100 * n / total:5.1f}%  {f}" for f, n in
              sorted(inclusive.items(), key=lambda kv: -kv[1])[:top]]
    lines += ["self:"] + [f"  {100 * n / total:5.1f}%  {f}" for f, n in
                          sorted(own.items(), key=lambda kv: -kv[1])[:top]]
    (folder / "summary.txt").write_text("\n".join(lines) + "\n")
    print(f"profile summary in {folder / 'summary.txt'}")

if __name__ == "__main__":
    main()
