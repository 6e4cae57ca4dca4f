"""How a routed webhook's cost grows with the roster: 10, 100, 1,000 and 10,000 consultants.

    .venv/bin/python bench/routed.py [--calls 200]

For each size, the shipped flow with a generated roster (random weekly shifts, some overnight,
and absences, as `bench/duty_lookup.py` makes them) is published to an embedded Redis and
served by the real app in this process. Simulated callers, signed as Twilio signs, press
Kazakh then "a consultant"; the webhook whose answer rings consultants (`<Dial>`) is timed,
and the whole call is followed to its end so each call leaves the consultant free again. It
prints the routed webhook's p50 and p99 and the ratio of the median to the 10-consultant one,
measured in the same run (the machines are shared: compare ratios, not absolute times).
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import secrets
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from duty_lookup import roster_yaml  # the same rosters as that benchmark

from ivr.clock import zone
from ivr.settings import PROJECT_ROOT, Settings
from ivr.sim.embedded_redis import EmbeddedRedis
from ivr.sim.simulator import SimulatedCall, answer, press
from ivr.web.app import create_app

SIZES = (10, 100, 1_000, 10_000)


class TimedClient:
    """A test client that times each answer that rings someone."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.routed: list[float] = []

    def post(self, path: str, **kwargs: Any) -> Any:
        began = time.perf_counter()
        response = self.client.post(path, **kwargs)
        elapsed = time.perf_counter() - began
        if b"<Dial" in response.data and path.startswith("/voice/gather"):
            self.routed.append(elapsed)
        return response

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.client.get(path, **kwargs)


def measure(size: int, calls: int, redis_url: str, folder: Path) -> list[float]:
    flows = folder / f"flows{size}"
    shutil.copytree(PROJECT_ROOT / "flows", flows)
    (flows / "roster.yaml").write_text(roster_yaml(size, random.Random(size)))
    settings = replace(Settings.from_env({}), twilio_auth_token="b" * 32,
                       hmac_secret=secrets.token_bytes(32), redis_url=redis_url,
                       redis_prefix=f"bench:{uuid.uuid4().hex}:", flows_dir=flows,
                       database_url=f"sqlite:///{folder}/records{size}.sqlite3",
                       spool_dir=folder / f"spool{size}", cache_dir=folder / f"cache{size}",
                       caller_id="+77172000150")
    # The same moment of the week for every size (a Monday morning in Kazakhstan), so the
    # number on duty is the roster's, not the hour's at which the benchmark runs.
    moment = [dt.datetime(2026, 12, 14, 10, 0, tzinfo=zone("Asia/Almaty")).timestamp()]

    def clock() -> float:
        moment[0] += 0.001
        return moment[0]

    app = create_app(settings, clock=clock, background=False)
    catalogue = app.extensions["ivr.voice"].snapshot().catalogue
    timed = TimedClient(app.test_client())
    for _ in range(calls):
        call = SimulatedCall(timed, settings.twilio_auth_token, catalogue,
                             call_sid="CA" + uuid.uuid4().hex)
        call.run(press(["1", "1"]), answer([]))  # the consultant answers and presses 1
    return timed.routed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200)
    args = parser.parse_args()
    print(f"{'consultants':>12} {'routed':>7} {'p50 ms':>8} {'p99 ms':>8} {'p50 / p50 of 10':>16}")
    baseline = None
    with EmbeddedRedis() as redis_server, tempfile.TemporaryDirectory() as folder:
        for size in SIZES:
            found = sorted(measure(size, args.calls, redis_server.url, Path(folder)))
            if not found:
                print(f"{size:>12} {'none':>7}")
                continue
            p50 = statistics.median(found) * 1000
            p99 = found[min(len(found) - 1, int(len(found) * 0.99))] * 1000
            baseline = baseline or p50
            print(f"{size:>12} {len(found):>7} {p50:>8.2f} {p99:>8.2f} {p50 / baseline:>16.2f}",
                  flush=True)


if __name__ == "__main__":
    main()
