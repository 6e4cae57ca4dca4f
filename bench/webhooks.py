"""The router under load, against a bare Flask app, in one run on this machine.

    .venv/bin/python bench/webhooks.py [--callers 50] [--seconds 15] [--out FILE]

Starts the real stack as the Procfile does (gunicorn with the Procfile's settings, an RQ
worker, Redis), then:
1. throughput: `--callers` simulated callers place complete calls back to back for
   `--seconds`: signed webhooks that follow the returned TwiML through the greeting, the
   language, the menu, routing, the operator's whisper and accept, the dial outcome and the
   status callback (ivr.simulator over HTTP);
2. the same simulated callers call a static-TwiML Flask app served by gunicorn with the same
   settings (the baseline; three webhooks a call);
3. latency: `--callers` concurrent calls paced like calls (a pause between webhooks), whose
   webhook latencies give p50/p95/p99.
Prints the figures and their ratio to the baseline, and writes them to a JSON file.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
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
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ivr.cli.processes import procfile_commands  # noqa: E402
from ivr.library.files import FolderSource  # noqa: E402
from ivr.library.pipeline import Options, build  # noqa: E402
from ivr.sim.embedded_redis import EmbeddedRedis  # noqa: E402
from ivr.sim.simulator import HttpClient, SimulatedCall, answer, press  # noqa: E402

TOKEN = secrets.token_hex(16)
BY_PATH: dict[str, list[float]] = {}
KEYS = [["1", "1"], ["2", "1"], ["2", "2", "1", "2"], ["9"], [], ["0"], ["2", "1"]]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Timed(HttpClient):
    """HttpClient that records each request's latency (seconds) and failures."""

    def __init__(self, base_url: str, sink: list[float], errors: list[str],
                 pause: float = 0.0) -> None:
        super().__init__(base_url)
        object.__setattr__(self, "sink", sink)
        object.__setattr__(self, "errors", errors)
        object.__setattr__(self, "pause", pause)

    def post(self, path: str, *, data: dict[str, str], headers: dict[str, str]) -> Any:
        if self.pause:  # type: ignore[attr-defined]
            # a prompt playing, a phone ringing: calls arrive and move at random, not in step
            time.sleep(random.uniform(0, 2 * self.pause))  # type: ignore[attr-defined]
        began = time.perf_counter()
        try:
            response = super().post(path, data=data, headers=headers)
        except OSError as exc:
            self.errors.append(type(exc).__name__)  # type: ignore[attr-defined]
            raise
        elapsed = time.perf_counter() - began
        self.sink.append(elapsed)  # type: ignore[attr-defined]
        BY_PATH.setdefault(path.split("?")[0], []).append(elapsed)
        if response.status_code != 200:
            self.errors.append(str(response.status_code))  # type: ignore[attr-defined]
        return response


def start(command: str, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(command, shell=True, env=env, cwd=ROOT,  # noqa: S602
                            start_new_session=True, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def wait_up(url: str) -> None:
    deadline = time.monotonic() + 30
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


def figures(latencies: list[float], elapsed: float, calls: int, errors: list[str]
            ) -> dict[str, Any]:
    ordered = sorted(latencies) or [0.0]

    def pct(p: float) -> float:
        return round(1000 * ordered[min(len(ordered) - 1, int(p * len(ordered)))], 2)

    return {"webhooks": len(latencies), "webhooks_per_second": round(len(latencies) / elapsed, 1),
            "calls_per_second": round(calls / elapsed, 2), "errors": len(errors),
            "p50_ms": pct(0.50), "p95_ms": pct(0.95), "p99_ms": pct(0.99),
            "mean_ms": round(1000 * statistics.fmean(ordered), 2)}


def rss_mb(root: int) -> dict[str, float]:
    """Resident memory of each process under `root` (the shell, gunicorn's master, workers)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int(
                    (entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except OSError:
                continue
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(child for child, parent in parents.items() if parent == pid)
    sizes = {}
    for pid in tree:
        try:
            status = Path(f"/proc/{pid}/status").read_text().splitlines()
        except OSError:
            continue
        name = next(line.split()[1] for line in status if line.startswith("Name:"))
        rss = next((int(line.split()[1]) for line in status if line.startswith("VmRSS:")), 0)
        sizes[f"{name}[{pid}]"] = round(rss / 1024, 1)
    return sizes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--callers", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--pause", type=float, default=0.5,
                        help="seconds before each webhook of a paced call (latency phase); "
                        "real calls wait seconds for prompts and ringing")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "webhooks.json"))
    args = parser.parse_args()
    web = procfile_commands(ROOT / "Procfile")["web"]
    worker = procfile_commands(ROOT / "Procfile")["worker"]
    catalogue = build(FolderSource(ROOT / "flows", ROOT / "audio"), Options()).catalogue
    bin_dir = str(Path(sys.executable).parent)
    with tempfile.TemporaryDirectory() as folder, EmbeddedRedis() as redis_server:
        router_port, static_port = free_port(), free_port()
        env = {**os.environ, "PATH": bin_dir + os.pathsep + os.environ.get("PATH", ""),
               "TWILIO_AUTH_TOKEN": TOKEN, "IVR_HMAC_SECRET": secrets.token_hex(32),
               "REDIS_URL": os.environ.get("REDIS_URL") or redis_server.url,
               "DATABASE_URL": f"sqlite:///{folder}/bench.sqlite3",
               "IVR_SPOOL_DIR": f"{folder}/spool", "IVR_REDIS_PREFIX": "bench:",
               "IVR_CACHE_DIR": f"{folder}/cache",
               "IVR_QUEUE": "bench-records", "IVR_CALLER_ID": "+77172000150",
               "IVR_METRICS_PORT": str(free_port())}
        router = start(web, {**env, "PORT": str(router_port)})
        rq_worker = start(worker, env)
        static = start(web.replace('"ivr.web.app:create_app()"', '"bench.static_app:create_app()"'),
                       {**env, "PORT": str(static_port), "IVR_METRICS_PORT": str(free_port())})
        base = f"http://127.0.0.1:{router_port}"
        try:
            wait_up(base + "/healthz")
            wait_up(f"http://127.0.0.1:{static_port}/healthz")
            results = {"machine": {"cores": os.cpu_count()}, "settings": vars(args),
                       "gunicorn": web}
            # 1. throughput of complete calls
            latencies: list[float] = []
            errors: list[str] = []
            calls = [0]

            def one_call(n: int) -> None:
                client = Timed(base, latencies, errors)
                sim = SimulatedCall(client, TOKEN, catalogue, base,
                                    call_sid="CA" + secrets.token_hex(16), to="150")
                try:
                    sim.run(press(random.choice(KEYS)), answer([]))
                    calls[0] += 1
                except (AssertionError, OSError):
                    errors.append("call")

            elapsed = run_for(args.seconds, args.callers, one_call)
            results["router"] = figures(latencies, elapsed, calls[0], errors)
            # 2. the baseline: the same client, static TwiML, the same gunicorn settings
            static_base = f"http://127.0.0.1:{static_port}"
            latencies_b: list[float] = []
            errors_b: list[str] = []
            def one_static(n: int) -> None:
                # the very same simulated caller: sign, post, parse and follow the TwiML
                client = Timed(static_base, latencies_b, errors_b)
                sim = SimulatedCall(client, TOKEN, catalogue, static_base,
                                    call_sid="CA" + secrets.token_hex(16), to="150")
                sim.run(press(["1"]), answer([]))

            elapsed_b = run_for(args.seconds, args.callers, one_static)
            results["static_baseline"] = figures(latencies_b, elapsed_b,
                                                 len(latencies_b) // 3, errors_b)
            results["ratio_to_baseline"] = round(
                results["router"]["webhooks_per_second"]
                / results["static_baseline"]["webhooks_per_second"], 3)
            # 3. latency of paced calls
            paced: list[float] = []
            errors_p: list[str] = []
            paced_calls = [0]

            def paced_call(n: int) -> None:
                client = Timed(base, paced, errors_p, pause=args.pause)
                sim = SimulatedCall(client, TOKEN, catalogue, base,
                                    call_sid="CA" + secrets.token_hex(16), to="150")
                sim.run(press(random.choice(KEYS)), answer([]))
                paced_calls[0] += 1

            BY_PATH.clear()
            elapsed_p = run_for(args.seconds, args.callers, paced_call)
            results["paced_by_endpoint_p99_ms"] = {
                path: round(1000 * sorted(v)[min(len(v) - 1, int(0.99 * len(v)))], 1)
                for path, v in sorted(BY_PATH.items())}
            results["paced_calls"] = figures(paced, elapsed_p, paced_calls[0], errors_p)
            results["web_worker_rss_mb"] = rss_mb(router.pid)
        finally:
            for process in (router, rq_worker, static):
                stop(process)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=2) + "\n")
    r, b, p = results["router"], results["static_baseline"], results["paced_calls"]
    print(f"{'':22}{'webhooks/s':>11}{'calls/s':>9}{'p50 ms':>8}{'p95 ms':>8}{'p99 ms':>8}"
          f"{'errors':>8}")
    for name, row in (("router, back to back", r), ("static Flask baseline", b),
                      (f"router, {args.callers} paced calls", p)):
        print(f"{name:22}{row['webhooks_per_second']:>11}{row['calls_per_second']:>9}"
              f"{row['p50_ms']:>8}{row['p95_ms']:>8}{row['p99_ms']:>8}{row['errors']:>8}")
    print(f"throughput ratio to the static baseline: {results['ratio_to_baseline']}")
    print(f"paced p99 by endpoint (ms): {results['paced_by_endpoint_p99_ms']}")
    print(f"web worker RSS (MB): {results['web_worker_rss_mb']}")
    print(f"figures written to {args.out}")


if __name__ == "__main__":
    main()
