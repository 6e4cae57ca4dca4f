"""Real gunicorn processes, as the Procfile runs them: workers that restart next to a refused
edit, and two web hosts on one Redis that keep each call on the version it started on."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

from ivr.cli import main
from ivr.cli.processes import procfile_commands
from ivr.settings import PROJECT_ROOT, Settings
from ivr.sim.simulator import HttpClient, SimulatedCall, answer, press
from tests.conftest import EMERGENCY, OPERATOR, children, load

TOKEN = "hosts-test-token"
PUBLIC_URL = "https://ivr.example.org"  # the load balancer's address, which Twilio signs
SHIPPED = load(PROJECT_ROOT / "flows")  # the prompts callers hear, to name what they hear


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(check: Callable[[], bool], seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except (OSError, ValueError):
            pass
        time.sleep(0.2)
    raise AssertionError("timed out")


class Host:
    """One web host: gunicorn with the Procfile's settings (one worker, so a test knows which
    process answers), on its own port and cache folder."""

    def __init__(self, settings: Settings, folder: Path, workers: int = 1) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        command = procfile_commands(PROJECT_ROOT / "Procfile")["web"]
        self.command = command.replace("--workers 2", f"--workers {workers}")
        self.env = {**os.environ, "PORT": str(self.port), "TWILIO_AUTH_TOKEN": TOKEN,
                    "IVR_HMAC_SECRET": "h" * 32, "REDIS_URL": settings.redis_url or "",
                    "IVR_PUBLIC_URL": PUBLIC_URL,
                    "IVR_REDIS_PREFIX": settings.redis_prefix, "IVR_CALLER_ID": "+77172000150",
                    "IVR_FLOWS_DIR": str(settings.flows_dir), "IVR_AUDIO_DIR": str(settings.audio_dir),
                    "IVR_CACHE_DIR": str(folder / "cache"), "IVR_SPOOL_DIR": str(folder / "spool"),
                    "IVR_QUEUE": settings.queue_name, "DATABASE_URL": settings.database_url,
                    "PATH": str(Path(sys.executable).parent) + os.pathsep + os.environ["PATH"]}
        self.log = folder / "gunicorn.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> Host:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(self.command, shell=True, env=self.env,  # noqa: S602
                                            cwd=PROJECT_ROOT, start_new_session=True,
                                            stdout=log, stderr=log)
        wait_for(lambda: self.health()["status"] == "ok")
        return self

    def health(self) -> dict[str, str]:
        with urllib.request.urlopen(f"{self.url}/healthz", timeout=5) as reply:  # noqa: S310
            data: dict[str, str] = json.loads(reply.read())
        return data

    def workers(self) -> list[int]:
        assert self.process is not None
        masters = children(self.process.pid) or [self.process.pid]  # the shell, then gunicorn
        return [pid for master in masters for pid in children(master)]

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.process = None


@pytest.fixture
def hosts(settings: Settings, tmp_path: Path) -> Iterator[Callable[..., Host]]:
    started: list[Host] = []

    def make(name: str, workers: int = 1) -> Host:
        folder = tmp_path / name
        folder.mkdir()
        host = Host(settings, folder, workers).start()
        started.append(host)
        return host

    yield make
    for host in started:
        host.stop()


def caller(host: Host, settings: Settings, sid: str | None = None) -> SimulatedCall:
    """A call as Twilio places it, signed for the host it is sent to."""
    return SimulatedCall(HttpClient(host.url), TOKEN, SHIPPED.catalogue, PUBLIC_URL,
                         call_sid=sid or "CA" + uuid.uuid4().hex, to="150")


def test_a_refused_edit_on_disk_cannot_stop_a_restarting_worker(
    hosts: Callable[..., Host], settings: Settings, flows_dir: Path, tmp_path: Path
) -> None:
    audio = tmp_path / "audio"
    shutil.copytree(PROJECT_ROOT / "audio", audio)
    settings = replace(settings, audio_dir=audio)
    host = hosts("a", workers=2)
    version = host.health()["version"]
    flow = flows_dir / "hotline150.yaml"
    breakages: list[Callable[[], None]] = [
        lambda: flow.write_text(flow.read_text().replace('"2": russian', '"2": rusian')),
        lambda: shutil.copy(flow, flows_dir / "hotline150 (copy).yaml"),
        lambda: (flows_dir / ".#hotline150.yaml").symlink_to("aigerim@host.1234:1700000000"),
        lambda: (audio / "kk" / "greeting.wav").unlink(),
    ]
    for breakage in breakages:
        breakage()
        before = host.workers()
        assert len(before) == 2
        for pid in before:  # out of memory, a timeout kill: the worker is gone
            os.kill(pid, signal.SIGKILL)
        wait_for(lambda before=before: len(host.workers()) == 2 and not set(host.workers()) & set(before))
        wait_for(lambda: host.health()["version"] == version)
        assert host.alive()
        call = caller(host, settings).run(press(["2", "1"]), answer([]))
        assert call.connected_to == "+77010000101"
        assert ("greeting", "kk") in call.prompts  # the recording deleted on disk still plays


def test_two_hosts_keep_a_call_on_its_version_across_a_publish_and_a_restart(
    hosts: Callable[..., Host], settings: Settings, flows_dir: Path
) -> None:
    a, b = hosts("a"), hosts("b")
    old = a.health()["version"]
    assert b.health()["version"] == old
    call = caller(a, settings)
    call.post("/voice")
    call.client = HttpClient(b.url)  # the load balancer sends the next webhook to host b
    call.post("/voice/gather", {"Digits": "2"})  # Russian: the main menu of the old version
    flow = flows_dir / "hotline150.yaml"
    flow.write_text(flow.read_text().replace('"1": consultant\n      "2": crisis_centre',
                                             '"1": emergency\n      "2": crisis_centre'))
    env = {"IVR_FLOWS_DIR": str(flows_dir), "REDIS_URL": settings.redis_url,
           "IVR_REDIS_PREFIX": settings.redis_prefix}
    published = CliRunner().invoke(main, ["publish", "-m", "9 first"], env=env)
    assert published.exit_code == 0, published.output
    new = published.output.split("published version ")[1].split(":")[0]
    wait_for(lambda: a.health()["version"] == new and b.health()["version"] == new)
    a.stop()  # the host the call started on restarts
    a.start()
    assert a.health()["version"] == new
    call.client = HttpClient(a.url)
    document = call.post("/voice/gather", {"Digits": "1"})  # 1 on the old menu: a consultant
    assert document.find("Dial/Number").text == OPERATOR  # type: ignore[union-attr]
    for host in (a, b):
        fresh = caller(host, settings).run(press(["2", "1"]), answer([]))
        assert fresh.numbers[0] == EMERGENCY  # new calls get the new version
