"""The waiting line against queueing theory, on the real stack, in real time.

    .venv/bin/python bench/line.py [--calls 300] [--consultants 3] [--load 0.8] [--talk 6]

Starts gunicorn (the Procfile's web process), an RQ worker and Redis, on a flow whose only
step is a consultant route with a waiting line. Callers arrive at random (a Poisson stream);
simulated consultants answer at once, press 1 and talk for a random (exponential) time. The
arrival rate gives `--load` per consultant. At the end it prints, side by side, the measured
probability of waiting and mean wait (from a caller's arrival to a consultant's accept) and
what the Erlang C formula gives for the same arrival rate, talk time and consultants.

The line's prompts are replaced by half-second tones and its hold sound by a `--tone` one
(half a second), so the hold loop asks about every one and a half seconds (the polling
interval printed): the benchmark measures the line, not the length of the recordings.

A consultant freed while callers wait takes the caller whose turn it is at that caller's next
poll, so each conversation is followed by part of a polling interval in which the consultant
waits; near saturation (a load of 0.8) a wait grows many times faster than that. So the
benchmark also prints the formula for conversations lengthened by the gaps it measured. With
real conversations of ten minutes and more, the gap (a few seconds) is a small fraction of
each; here conversations last seconds so that the run fits in the better part of an hour.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import random
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.webhooks import free_port, stop, wait_up  # noqa: E402
from ivr.cli.processes import procfile_commands  # noqa: E402
from ivr.library.files import FolderSource  # noqa: E402
from ivr.library.pipeline import Options, build  # noqa: E402
from ivr.sim.embedded_redis import EmbeddedRedis  # noqa: E402
from ivr.sim.scenarios import durations  # noqa: E402
from ivr.sim.simulator import HttpClient, SimulatedCall, answer, press  # noqa: E402

TOKEN = secrets.token_hex(16)
QUIET = 1.0  # the hold loop's quiet second after each round
FLOW = """\
flow: bench
languages: [kk, ru]
start: consultant
numbers: {national: "+77172000150", emergency: "+77172000112"}
anywhere: {"0": consultant, "9": emergency}
steps:
  consultant:
    type: route
    try: [operators, national]
    ring_seconds: 20
    wait: {max_seconds: 1800, announce_every: 300, capacity: 200}
    then: all_busy
  emergency:
    type: emergency
    prompts: [emergency]
    try: [emergency]
    then: all_busy
  all_busy:
    type: hangup
    prompts: [all_busy]
"""


def roster(consultants: int) -> str:
    people = "\n".join(f'  c{n}: {{name: C{n}, phone: "+7701000{n:04d}", languages: [kk, ru]}}'
                       for n in range(consultants))
    who = ", ".join(f"c{n}" for n in range(consultants))
    return (f"timezone: Asia/Almaty\noperators:\n{people}\nweekly:\n"
            f'  - {{who: [{who}], days: daily, from: "00:00", to: "24:00"}}\n')


def folders(base: Path, consultants: int, tone: float) -> tuple[Path, Path]:
    flows, audio = base / "flows", base / "audio"
    flows.mkdir()
    shutil.copy(ROOT / "flows" / "prompts.yaml", flows)
    shutil.copy(ROOT / "flows" / "regions.yaml", flows)
    (flows / "bench.yaml").write_text(FLOW)
    (flows / "roster.yaml").write_text(roster(consultants))
    shutil.copytree(ROOT / "audio", audio)
    for language in ("kk", "ru"):  # short sounds: the benchmark measures the line itself
        for wav in (audio / language).glob("wait_*.wav"):
            subprocess.run(["sox", "-n", "-r", "8000", "-c", "1", "-b", "16", str(wav),
                            "synth", "0.5", "sine", "440", "vol", "0.1"], check=True)
        subprocess.run(["sox", "-n", "-r", "8000", "-c", "1", "-b", "16",
                        str(audio / language / "hold_tone.wav"), "synth", str(tone), "sine", "523",
                        "vol", "0.1"], check=True)
    return flows, audio


def erlang_c(arrivals: float, talk: float, consultants: int) -> tuple[float, float]:
    """The probability that a caller waits, and the mean wait of all callers (seconds); a
    line offered as much work as its consultants can do, or more, only grows."""
    offered = arrivals * talk  # in Erlangs
    if offered >= consultants:
        return 1.0, math.inf
    top = offered ** consultants / math.factorial(consultants) * consultants / (
        consultants - offered)
    bottom = sum(offered ** k / math.factorial(k) for k in range(consultants)) + top
    waits = top / bottom
    return waits, waits * talk / (consultants - offered)


class Timeline(HttpClient):
    """Notes when each caller's consultant pressed 1 (the end of the caller's wait), and when
    the conversation ended (the consultant is released)."""

    def __init__(self, base_url: str, accepted: dict[str, float], ended: dict[str, float]
                 ) -> None:
        super().__init__(base_url)
        object.__setattr__(self, "accepted", accepted)
        object.__setattr__(self, "ended", ended)

    def post(self, path: str, *, data: dict[str, str], headers: dict[str, str]) -> Any:
        if path.startswith("/voice/operator/answer"):
            self.accepted.setdefault(data.get("ParentCallSid", ""),  # type: ignore[attr-defined]
                                     time.monotonic())
        elif path.startswith("/voice/dial") and data.get("DialBridged") == "true":
            self.ended[data.get("CallSid", "")] = time.monotonic()  # type: ignore[attr-defined]
        return super().post(path, data=data, headers=headers)


def effective_talk(arrived: dict[str, float], accepted: dict[str, float],
                   ended: dict[str, float], served_by: dict[str, str]) -> float:
    """A conversation's mean length as the line lives it: the talk, and the moments a freed
    consultant waited for the next caller's poll while that caller was already waiting."""
    busy, idle = 0.0, 0.0
    by_consultant: dict[str, list[tuple[float, float, float]]] = {}
    for sid, start in accepted.items():
        if sid in ended:
            by_consultant.setdefault(served_by[sid], []).append((start, ended[sid], arrived[sid]))
    for services in by_consultant.values():
        services.sort()
        for (_, previous_end, _), (start, _, came) in itertools.pairwise(services):
            if came < previous_end:  # the next caller was waiting when this one ended
                idle += start - previous_end
        busy += sum(end - start for start, end, _ in services)
    return (busy + idle) / max(1, len(ended))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--consultants", type=int, default=3)
    parser.add_argument("--load", type=float, default=0.8, help="per consultant")
    parser.add_argument("--talk", type=float, default=20.0,
                        help="mean seconds of a conversation")
    parser.add_argument("--tone", type=float, default=0.5,
                        help="seconds of the hold sound: with the quiet second after it, the "
                             "polling interval")
    parser.add_argument("--seed", type=int, default=150)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "line.json")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    arrivals = args.load * args.consultants / args.talk  # calls per second
    commands = procfile_commands(ROOT / "Procfile")
    with tempfile.TemporaryDirectory() as folder, EmbeddedRedis() as redis_server:
        flows, audio = folders(Path(folder), args.consultants, args.tone)
        snapshot = build(FolderSource(flows, audio), Options(default_flow="bench"))
        lengths = durations(snapshot)
        poll = lengths["hold_tone"] + QUIET
        port = free_port()
        env = {**os.environ, "PATH": str(Path(sys.executable).parent) + os.pathsep +
               os.environ.get("PATH", ""), "TWILIO_AUTH_TOKEN": TOKEN,
               "IVR_HMAC_SECRET": "b" * 32, "REDIS_URL": redis_server.url,
               "IVR_FLOWS_DIR": str(flows), "IVR_AUDIO_DIR": str(audio),
               "IVR_DEFAULT_FLOW": "bench", "IVR_CALLER_ID": "+77172000150",
               "IVR_METRICS_PORT": str(free_port()),
               "DATABASE_URL": f"sqlite:///{folder}/bench.sqlite3", "PORT": str(port),
               "IVR_SPOOL_DIR": f"{folder}/spool", "IVR_CACHE_DIR": f"{folder}/cache"}
        web = subprocess.Popen(commands["web"], shell=True, env=env, cwd=ROOT,  # noqa: S602
                               start_new_session=True, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
        worker = subprocess.Popen(commands["worker"], shell=True, env=env, cwd=ROOT,  # noqa: S602
                                  start_new_session=True, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{port}"
        accepted: dict[str, float] = {}
        ended: dict[str, float] = {}
        served_by: dict[str, str] = {}
        arrived: dict[str, float] = {}
        waited: dict[str, bool] = {}
        failures: list[str] = []
        try:
            wait_up(base + "/healthz")
            print(f"{args.calls} calls, {args.consultants} consultants, {arrivals:.3f} calls/s "
                  f"(load {args.load} each), talk {args.talk} s on average, hold loop polling "
                  f"every {poll:.1f} s; about {args.calls / arrivals / 60:.0f} minutes",
                  flush=True)

            def caller(sid: str, talk: float) -> None:
                sim = SimulatedCall(Timeline(base, accepted, ended), TOKEN, snapshot.catalogue,
                                    base,
                                    call_sid=sid, to="150", durations=lengths, talk=talk,
                                    ring=0.0, whisper=0.0)
                arrived[sid] = time.monotonic()
                try:
                    for seconds in sim.steps(press([]), answer([])):
                        time.sleep(seconds)
                except (AssertionError, OSError) as exc:
                    failures.append(f"{sid}: {exc}")
                waited[sid] = sim.transcript.waited is not None
                if sim.transcript.connected_to:
                    served_by[sid] = sim.transcript.connected_to

            threads = []
            for n in range(args.calls):
                thread = threading.Thread(target=caller, args=(
                    f"CA{n:032d}", rng.expovariate(1 / args.talk)), daemon=True)
                thread.start()
                threads.append(thread)
                time.sleep(rng.expovariate(arrivals))
            for thread in threads:
                thread.join()
        finally:
            stop(web)
            stop(worker)
    waits = [accepted[sid] - arrived[sid] for sid in arrived if sid in accepted]
    if not waits:
        raise SystemExit(f"no call was answered: {failures[:3]}")
    span = max(arrived.values()) - min(arrived.values())
    rate = (len(arrived) - 1) / span  # the arrivals as they came
    talk = statistics.fmean(ended[sid] - accepted[sid] for sid in ended if sid in accepted)
    lived = effective_talk(arrived, accepted, ended, served_by)
    columns = {"measured": (sum(waited.values()) / len(waited), statistics.fmean(waits)),
               "Erlang C": erlang_c(rate, talk, args.consultants),
               "Erlang C, +gap": erlang_c(rate, lived, args.consultants)}
    print(f"arrivals {rate:.3f}/s, conversations {talk:.2f} s on average; with the moments a "
          f"freed consultant waited for the next caller's poll, {lived:.2f} s")
    print(f"{'':24}" + "".join(f"{name:>16}" for name in columns))
    print(f"{'probability of waiting':24}" + "".join(f"{p:>16.3f}" for p, _ in columns.values()))
    print(f"{'mean wait (s)':24}" + "".join(f"{w:>16.2f}" for _, w in columns.values()))
    measured = columns["measured"][1]
    print(f"mean wait, measured less Erlang C: {measured - columns['Erlang C'][1]:+.2f} s; "
          f"less Erlang C with the gap: {measured - columns['Erlang C, +gap'][1]:+.2f} s "
          f"(polling interval {poll:.1f} s); answered {len(waits)} of {args.calls}, "
          f"{len(failures)} failed; longest wait {max(waits):.1f} s")
    figures = {
        "calls": args.calls, "answered": len(waits), "failures": failures,
        "consultants": args.consultants, "arrivals_per_second": round(rate, 4),
        "talk_seconds": round(talk, 2), "talk_with_gap_seconds": round(lived, 2),
        "polling_seconds": round(poll, 2),
        **{name: {"probability_of_waiting": round(p, 3), "mean_wait_seconds": round(w, 2)}
           for name, (p, w) in columns.items()},
        "longest_wait_seconds": round(max(waits), 1),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(figures, indent=2))
    print(f"figures written to {args.out}")
    if failures:
        raise SystemExit(1)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    main()
