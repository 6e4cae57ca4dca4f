"""Publishing a roster of 10,000 consultants while calls are in progress: no webhook waits.

    .venv/bin/python bench/publish_under_load.py [--callers 50] [--operators 10000]

Starts the real stack as the Procfile does (gunicorn with the Procfile's settings, an RQ worker,
Redis) on a copy of the shipped files, and places `--callers` concurrent simulated calls at a
call-like pace (a pause before each webhook, as prompts play and phones ring). After a few
seconds it publishes the same files with a roster of `--operators` consultants through `ivr
publish`, as a supervisor would; calls go on until every web process serves the new version,
and a little longer. It prints the latency of the webhooks before, during and after (max and
p99), how long `ivr publish` took, and how long until the routers served the new version.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from duty_lookup import roster_yaml  # noqa: E402
from webhooks import free_port, start, stop, wait_up  # noqa: E402

from ivr.cli.processes import procfile_commands  # noqa: E402
from ivr.library.files import FolderSource  # noqa: E402
from ivr.library.pipeline import Options, build  # noqa: E402
from ivr.sim.embedded_redis import EmbeddedRedis  # noqa: E402
from ivr.sim.simulator import HttpClient, SimulatedCall, answer, press  # noqa: E402

TOKEN = secrets.token_hex(16)
KEYS = [["1", "1"], ["2", "1"], ["2", "2", "1", "2"], ["9"], [], ["0"], ["2", "1"]]
SAMPLES: list[tuple[float, float, str]] = []  # (when sent, seconds, path)


class Paced(HttpClient):
    """A phone that waits before each webhook and notes when it sent it and how long it took."""

    def __init__(self, base_url: str, pause: float) -> None:
        super().__init__(base_url)
        object.__setattr__(self, "pause", pause)

    def post(self, path: str, *, data: dict[str, str], headers: dict[str, str]) -> Any:
        time.sleep(random.uniform(0, 2 * self.pause))  # type: ignore[attr-defined]
        began = time.perf_counter()
        response = super().post(path, data=data, headers=headers)
        SAMPLES.append((began, time.perf_counter() - began, path.split("?")[0]))
        return response


def version(base: str) -> str:
    with urllib.request.urlopen(f"{base}/healthz", timeout=5) as reply:  # noqa: S310
        return str(json.loads(reply.read())["version"])


def figures(samples: list[float]) -> str:
    if not samples:
        return "no webhooks"
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
    return (f"{len(ordered):>6} webhooks  p50 {1000 * ordered[len(ordered) // 2]:6.1f} ms  "
            f"p99 {1000 * p99:6.1f} ms  max {1000 * ordered[-1]:6.1f} ms")


def server_times(log: Path, began: float, published: float, served: float
                 ) -> dict[str, list[float]]:
    """Each webhook's time at the server, from the access log, in the same windows (by the
    second its request arrived)."""
    offset = time.time() - time.perf_counter()
    windows: dict[str, list[float]] = {"before": [], "publishing": [], "loading": [],
                                       "after": []}
    for row in log.read_text().splitlines():
        try:  # the web process logs JSON lines (IVR_LOG_FORMAT=json); its access log is here
            line = str(json.loads(row).get("message", ""))
        except ValueError:
            continue
        if "/voice" not in line or not line.startswith("["):
            continue
        stamp = line[line.index("[") + 1:line.index("]")]
        when = datetime.strptime(stamp, "%d/%b/%Y:%H:%M:%S %z").timestamp() - offset
        seconds = int(line.rsplit(" ", 1)[1]) / 1000
        name = ("before" if when < began else "publishing" if when < published
                else "loading" if when < served else "after")
        windows[name].append(seconds)
    return windows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--callers", type=int, default=50)
    parser.add_argument("--operators", type=int, default=10_000)
    parser.add_argument("--pause", type=float, default=0.5, help="mean seconds before a webhook")
    parser.add_argument("--before", type=float, default=8.0, help="seconds of calls before")
    parser.add_argument("--after", type=float, default=8.0, help="seconds of calls after")
    args = parser.parse_args()
    catalogue = build(FolderSource(ROOT / "flows", ROOT / "audio"), Options()).catalogue
    commands = procfile_commands(ROOT / "Procfile")
    bin_dir = str(Path(sys.executable).parent)
    with tempfile.TemporaryDirectory() as folder, EmbeddedRedis() as redis_server:
        flows = Path(folder) / "flows"
        shutil.copytree(ROOT / "flows", flows)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        env = {**os.environ, "PATH": bin_dir + os.pathsep + os.environ.get("PATH", ""),
               "TWILIO_AUTH_TOKEN": TOKEN, "IVR_HMAC_SECRET": secrets.token_hex(32),
               "REDIS_URL": redis_server.url, "IVR_FLOWS_DIR": str(flows),
               "DATABASE_URL": f"sqlite:///{folder}/bench.sqlite3", "PORT": str(port),
               "IVR_SPOOL_DIR": f"{folder}/spool", "IVR_CACHE_DIR": f"{folder}/cache",
               "IVR_CALLER_ID": "+77172000150",
               "IVR_METRICS_PORT": str(free_port())}
        access_log = Path(folder) / "access.log"
        # the Procfile's web process, with each request's time at the server in its access log
        web_command = commands["web"].replace(
            "gunicorn ", "gunicorn --access-logformat '%(t)s %(U)s %(s)s %(M)s' ", 1)
        with access_log.open("wb") as log_file:
            web = subprocess.Popen(web_command, shell=True,  # noqa: S602
                                   env={**env, "IVR_LOG_FORMAT": "json"}, cwd=ROOT,
                                   start_new_session=True, stdout=log_file, stderr=log_file)
        worker = start(commands["worker"], env)
        stop_calls = threading.Event()
        try:
            wait_up(f"{base}/healthz")
            old = version(base)

            def caller() -> None:
                while not stop_calls.is_set():
                    sim = SimulatedCall(Paced(base, args.pause), TOKEN, catalogue, base,
                                        call_sid="CA" + secrets.token_hex(16), to="150")
                    try:
                        sim.run(press(random.choice(KEYS)), answer([]))
                    except (AssertionError, OSError) as exc:
                        print(f"call failed: {exc}", file=sys.stderr)

            threads = [threading.Thread(target=caller) for _ in range(args.callers)]
            for thread in threads:
                thread.start()
            time.sleep(args.before)
            (flows / "roster.yaml").write_text(roster_yaml(args.operators, random.Random(150)))
            print(f"publishing a roster of {args.operators} consultants "
                  f"({(flows / 'roster.yaml').stat().st_size // 1024} KB) during "
                  f"{args.callers} calls ...", flush=True)
            began = time.perf_counter()
            published = subprocess.run([str(Path(bin_dir) / "ivr"), "publish", "-m", "bench"],
                                       env=env, capture_output=True, text=True, check=False)
            publish_seconds = time.perf_counter() - began
            publish_ended = time.perf_counter()
            if published.returncode != 0:
                raise SystemExit(f"ivr publish refused:\n{published.stdout[-2000:]}")
            new = published.stdout.split("published version ")[1].split(":")[0]
            seen = 0
            while seen < 20:  # twenty answers in a row from the new version: every process has it
                seen = seen + 1 if version(base) == new else 0
                time.sleep(0.05)
            served = time.perf_counter()
            time.sleep(args.after)
        finally:
            stop_calls.set()
            for process in (web, worker):
                stop(process)
        for thread in threads:
            thread.join()
        server = server_times(access_log, began, publish_ended, served)
    before = [s for when, s, _ in SAMPLES if when < began]
    publishing = [s for when, s, _ in SAMPLES if began <= when < publish_ended]
    loading = [s for when, s, _ in SAMPLES if publish_ended <= when < served]
    after = [s for when, s, _ in SAMPLES if when >= served]
    print(f"version {old} -> {new}: `ivr publish` took {publish_seconds:.1f} s; every process "
          f"served the new version {served - began:.1f} s after it started")
    print(f"before     {figures(before)}")
    print(f"publishing {figures(publishing)}   (`ivr publish` checking and storing)")
    print(f"loading    {figures(loading)}   (the routers taking the new version)")
    print(f"after      {figures(after)}")
    worst, at = max(((s, when) for when, s, _ in SAMPLES if when >= began), default=(0.0, began))
    print(f"slowest webhook from the publication on: {1000 * worst:.1f} ms, sent "
          f"{at - began:.1f} s after `ivr publish` started (target: under 100 ms)")
    spikes = sorted(f"+{when - began:.1f}s" for when, s, _ in SAMPLES if when >= began and s > 0.08)
    print(f"webhooks over 80 ms from the publication on, by when they were sent: {spikes}")
    print("at the server (gunicorn's request time, without the simulated callers' own delays):")
    for name, samples in server.items():
        print(f"{name:<10} {figures(samples)}")


if __name__ == "__main__":
    main()
