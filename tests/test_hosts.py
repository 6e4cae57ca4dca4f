"""Real gunicorn processes, as the Procfile runs them: workers that restart next to a refused
edit, and two web hosts on one Redis that keep each call on the version it started on."""

from __future__ import annotations

import os
import shutil
import signal
import uuid
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from click.testing import CliRunner

from ivr.cli import main
from ivr.settings import PROJECT_ROOT, Settings
from ivr.sim.simulator import HttpClient, SimulatedCall, answer, press
from tests.conftest import EMERGENCY, OPERATOR
from tests.servers import PUBLIC_URL, SHIPPED, TOKEN, Host, hosts, wait_for

__all__ = ["hosts"]  # the fixture


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
        # gunicorn may be replacing a worker at this very moment on a busy machine
        wait_for(lambda: len(host.workers()) == 2)
        before = host.workers()
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
