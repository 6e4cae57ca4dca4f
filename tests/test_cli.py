"""The `ivr` command as a supervisor or developer uses it."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from click.testing import CliRunner

from ivr.cli import main
from ivr.settings import PROJECT_ROOT
from ivr.sim.simulator import HttpClient, SimulatedCall, answer, press
from tests.conftest import load

MONDAY = ["--at", "2026-12-14 10:00"]  # the example roster: aigerim (kk, ru) and dana (ru)


def test_ivr_call_prints_what_the_caller_and_the_operator_hear() -> None:
    result = CliRunner().invoke(main, ["call", *MONDAY, "--press", "2,1", "--answer", "busy"],
                                env={"REDIS_URL": None})
    assert result.exit_code == 0, result.output
    assert "caller hears [ru] Чтобы поговорить с консультантом, нажмите один." in result.output
    assert "(operator dana): busy" in result.output or "(operator aigerim): busy" in result.output
    assert "hears [ru] Звонок на линию 150. Язык: русский Регион: неизвестен" in result.output
    assert "presses 1" in result.output
    assert "Result: connected to +7701000000" in result.output


def test_ivr_call_for_a_silent_caller() -> None:
    result = CliRunner().invoke(main, ["call", *MONDAY, "--press", ""], env={"REDIS_URL": None})
    assert result.exit_code == 0, result.output
    assert result.output.count("caller presses nothing") == 2
    assert "Абонент молчит." in result.output
    assert "Result: connected to +7701000000" in result.output


def test_ivr_call_at_night_on_a_holiday_falls_back_as_the_roster_says() -> None:
    # 16 December is Independence Day: at 22:00 only yelena (ru) is on duty
    result = CliRunner().invoke(main, ["call", "--at", "2026-12-16 22:00", "--press", "1,1"],
                                env={"REDIS_URL": None})
    assert result.exit_code == 0, result.output
    assert "(operator yelena)" in result.output
    assert "Абонент говорит на казахском языке." in result.output


def test_ivr_help_lists_the_commands() -> None:
    result = CliRunner().invoke(main, ["--help"])
    for command in ("serve", "worker", "check", "call", "audio"):
        assert command in result.output


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(check, seconds: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise AssertionError("timed out")


def test_ivr_serve_runs_web_worker_and_redis_and_stores_a_record(tmp_path: Path) -> None:
    port = free_port()
    database = tmp_path / "records.sqlite3"
    flows = tmp_path / "flows"
    shutil.copytree(PROJECT_ROOT / "flows", flows)
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "TWILIO_AUTH_TOKEN")}
    env.update(DATABASE_URL=f"sqlite:///{database}", IVR_HMAC_SECRET="x" * 32,
               TWILIO_AUTH_TOKEN="serve-test-token", IVR_FLOWS_DIR=str(flows),
               IVR_CACHE_DIR=str(tmp_path / "cache"), IVR_SPOOL_DIR=str(tmp_path / "spool"),
               IVR_METRICS_PORT=str(free_port()), IVR_CONSOLE_PORT=str(free_port()))
    ivr = str(Path(sys.executable).parent / "ivr")
    server = subprocess.Popen([ivr, "serve", "--watch", "--port", str(port)], env=env,
                              cwd=PROJECT_ROOT, stderr=subprocess.PIPE, text=True)
    try:
        def healthy() -> bool:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                return b'"redis":"ok"' in r.read()

        wait_for(healthy)
        base = f"http://127.0.0.1:{port}"
        # `ivr call --url` first: its calls carry the simulation mark, so no record is kept
        call = subprocess.run([ivr, "call", "--url", base, "--press", "2,1"],
                              env=env, capture_output=True, text=True, timeout=60)
        assert call.returncode == 0, call.stderr
        assert "Result: connected to +7" in call.stdout
        # then a real call, signed and followed as Twilio does
        twilio = SimulatedCall(HttpClient(base), "serve-test-token",
                               load(PROJECT_ROOT / "flows").catalogue, base,
                               call_sid="CA" + "3" * 32, to="150")
        assert twilio.run(press(["1", "1"]), answer([])).connected_to
        status = subprocess.run([ivr, "status", "--url", base], env=env,
                                capture_output=True, text=True, timeout=60)
        assert status.returncode == 0, status.stderr
        on_disk = status.stdout.split("working folders: version ")[1].split()[0]
        assert f"router:          version {on_disk}, Redis ok" in status.stdout

        def stored() -> bool:
            with contextlib.closing(sqlite3.connect(database)) as db:
                return db.execute("SELECT count(*) FROM call_records").fetchone()[0] >= 1

        wait_for(lambda: database.exists() and stored())
        # --watch: an edit is checked and published, and the router takes it
        roster = flows / "roster.yaml"
        roster.write_text(roster.read_text().replace('from: "08:00"', 'from: "07:00"', 1))

        def version() -> str:
            with urllib.request.urlopen(f"{base}/healthz", timeout=2) as r:  # noqa: S310
                return str(json.loads(r.read())["version"])

        wait_for(lambda: version() != on_disk)
    finally:
        server.send_signal(signal.SIGINT)
        _, errors = server.communicate(timeout=30)
    assert server.returncode == 0, errors
    assert f"ngrok http {port}" in errors  # how to let Twilio reach a development machine
    assert "/voice/fallback" not in errors  # no URL Twilio could not reach
    assert "serve-test-token" not in errors  # a real token is never printed
    with contextlib.closing(sqlite3.connect(database)) as db:
        rows = db.execute("SELECT language, outcome FROM call_records").fetchall()
    assert rows == [("kk", "connected")]  # the real call only; the marked one left no record


def test_ivr_call_from_a_region_with_a_transcript(tmp_path: Path) -> None:
    out = tmp_path / "call.txt"
    result = CliRunner().invoke(main, ["call", "--at", "2026-12-14 20:00", "--region", "shymkent",
                                       "--press", "2,2", "--transcript", str(out)],
                                env={"REDIS_URL": None})
    assert result.exit_code == 0, result.output
    assert "router dials +77474034069 (shymkent crisis centre): completed" in result.output
    assert "region_menu" not in result.output  # the landline code told the region
    text = out.read_text()
    assert text.startswith("Calling 150:\n  caller hears [kk] Сәлеметсіз бе!")
    assert text.endswith("Result: connected to +77474034069 (shymkent crisis centre)\n")
    unknown = CliRunner().invoke(main, ["call", "--region", "atlantis", "--press", "1"],
                                 env={"REDIS_URL": None})
    assert unknown.exit_code == 2
    assert "unknown region" in unknown.output
