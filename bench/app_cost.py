"""What one webhook costs the app itself, without the HTTP server: CPU per webhook in-process.

    .venv/bin/python bench/app_cost.py [--calls 300] [--rounds 3] [--profile [--sort tottime]]

The same simulated calls as bench/webhooks.py (signed, following the TwiML) are handed straight
to each app's WSGI callable in this process: the router, the static anchor and the naive anchor.
Only the time inside the app is counted (this thread's CPU time around each call), so the
figures show what the app's own code costs per webhook, the server's share left out; Redis is
an embedded one on a unix socket. With --profile, the router's share is broken down by cProfile.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import random
import secrets
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.webhooks import KEYS, roster_yaml  # noqa: E402
from ivr.sim.embedded_redis import EmbeddedRedis  # noqa: E402
from ivr.sim.simulator import HttpResponse, SimulatedCall, answer, press  # noqa: E402

TOKEN = secrets.token_hex(16)


@dataclass
class Direct:
    """A WSGI client that times only the app: this thread's CPU inside the callable."""

    app: Any
    cpu: list[float] = field(default_factory=list)
    profiler: cProfile.Profile | None = None

    def post(self, path: str, *, data: dict[str, str], headers: dict[str, str]) -> HttpResponse:
        body = urlencode(data).encode()
        target, _, query = path.partition("?")
        environ = {"REQUEST_METHOD": "POST", "PATH_INFO": target, "QUERY_STRING": query,
                   "SERVER_NAME": "localhost", "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1",
                   "HTTP_HOST": "localhost", "wsgi.url_scheme": "http",
                   "CONTENT_TYPE": "application/x-www-form-urlencoded",
                   "CONTENT_LENGTH": str(len(body)), "wsgi.input": io.BytesIO(body),
                   "wsgi.errors": sys.stderr, "wsgi.multithread": True,
                   "wsgi.multiprocess": True, "wsgi.run_once": False, "SCRIPT_NAME": "",
                   **{"HTTP_" + k.upper().replace("-", "_"): v for k, v in headers.items()}}
        status: list[str] = []
        if self.profiler:
            self.profiler.enable()
        began = time.thread_time()
        chunks = self.app(environ, lambda s, h, e=None: status.append(s))
        answer_ = b"".join(chunks)
        if hasattr(chunks, "close"):
            chunks.close()
        self.cpu.append(time.thread_time() - began)
        if self.profiler:
            self.profiler.disable()
        return HttpResponse(int(status[0].split()[0]), answer_)

    def get(self, path: str, *, headers: dict[str, str]) -> HttpResponse:
        raise NotImplementedError


def measure(app: Any, calls: int, catalogue: Any, profiler: cProfile.Profile | None = None
            ) -> list[float]:
    client = Direct(app, profiler=profiler)
    for _ in range(calls):
        sim = SimulatedCall(client, TOKEN, catalogue, "http://localhost",
                            call_sid="CA" + secrets.token_hex(16), to="150")
        sim.run(press(random.choice(KEYS)), answer([]))
    return client.cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3,
                        help="times each app is measured, in turn (the machine's speed drifts)")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--sort", default="cumulative",
                        help="order of the profile: cumulative or tottime (own time)")
    args = parser.parse_args()
    random.seed(150)
    with tempfile.TemporaryDirectory() as folder, EmbeddedRedis() as redis_server:
        shutil.copytree(ROOT / "flows", f"{folder}/flows")
        Path(f"{folder}/flows/roster.yaml").write_text(roster_yaml(40))
        os.environ.update({
            "TWILIO_AUTH_TOKEN": TOKEN, "IVR_HMAC_SECRET": secrets.token_hex(32),
            "REDIS_URL": redis_server.url, "DATABASE_URL": f"sqlite:///{folder}/b.sqlite3",
            "IVR_SPOOL_DIR": f"{folder}/spool", "IVR_REDIS_PREFIX": "bench:",
            "IVR_CACHE_DIR": f"{folder}/cache", "IVR_FLOWS_DIR": f"{folder}/flows",
            "IVR_QUEUE": "bench-records", "IVR_CALLER_ID": "+77172000150"})
        from bench import naive_app, static_app
        from ivr.web.app import create_app

        router = create_app(background=False)
        catalogue = router.extensions["ivr.voice"].snapshot().catalogue
        apps = {"router": router, "static": static_app.create_app(),
                "naive": naive_app.create_app()}
        for app in apps.values():
            measure(app, 20, catalogue)  # warm up
        found: dict[str, list[float]] = {name: [] for name in apps}
        for _round in range(args.rounds):
            for name, app in apps.items():
                found[name] += measure(app, args.calls, catalogue)
        print(f"{'app':8}{'webhooks':>10}{'µs CPU per webhook':>20}{'p50 µs':>8}"
              f"{'router / app':>14}")
        mean = {name: sum(cpu) / len(cpu) for name, cpu in found.items()}
        for name, cpu in found.items():
            cpu.sort()
            print(f"{name:8}{len(cpu):>10}{1e6 * mean[name]:>20.0f}"
                  f"{1e6 * cpu[len(cpu) // 2]:>8.0f}{mean['router'] / mean[name]:>14.2f}")
        if args.profile:
            profiler = cProfile.Profile()
            measure(router, args.calls, catalogue, profiler)
            stats = pstats.Stats(profiler)
            stats.sort_stats(args.sort).print_stats(45)


if __name__ == "__main__":
    main()
