"""Simulated calls (`ivr call`, `ivr test`) never touch production, and no command answers a
hostile file with a traceback."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
import redis
from click.testing import CliRunner
from rq import Queue

from ivr.calls import simulation
from ivr.calls.keys import Keys
from ivr.cli import main
from ivr.settings import Settings
from ivr.sim.embedded_redis import EmbeddedRedis
from ivr.sim.simulator import SimulatedCall, answer, press
from tests.conftest import Phone, make_app

MONDAY = ["--at", "2026-12-14 10:00"]


def dump(client: redis.Redis) -> dict[bytes, tuple[bytes | None, bool]]:
    """Every key's serialised value, and whether it expires."""
    return {key: (client.dump(key), client.pttl(key) > 0) for key in client.scan_iter()}


@pytest.fixture
def live_redis(settings: Settings) -> Iterator[tuple[str, Settings]]:
    """A Redis as a router host has it: a published version, a rotation counter, a busy
    operator, this month's caller secret and a queued record, under the default prefix."""
    with EmbeddedRedis() as server:
        live = replace(settings, redis_url=server.url, redis_prefix="ivr:", queue_name="ivr-records")
        phone = Phone(make_app(live), live)
        phone.call(["2", "1"])  # a finished call: its record waits in the queue
        sim = phone.start()
        sim.post("/voice")
        document = sim.post("/voice/gather", {"Digits": "0"})
        number = document.find("Dial/Number")
        assert number is not None
        assert sim.operator_leg(number, accept=True)  # an operator on a call: busy
        yield server.url, live


def test_ivr_test_and_ivr_call_leave_a_live_redis_byte_for_byte_unchanged(
    live_redis: tuple[str, Settings]
) -> None:
    url, _live = live_redis
    client = redis.Redis.from_url(url)
    keys = Keys("ivr:")
    assert client.get(keys.rotation)
    assert client.zcard(keys.busy) == 1
    assert len(Queue("ivr-records", connection=client)) == 1
    assert list(client.scan_iter(keys.caller_secrets))
    before = dump(client)
    connections = client.info("stats")["total_connections_received"]
    env = {"REDIS_URL": url, "IVR_FLOWS_DIR": None, "IVR_REDIS_PREFIX": None}
    tested = CliRunner().invoke(main, ["test"], env=env)
    assert tested.exit_code == 0, tested.output
    assert "23 passed, 0 failed" in tested.output
    called = CliRunner().invoke(main, ["call", *MONDAY, "--press", "2,1"], env=env)
    assert called.exit_code == 0, called.output
    assert dump(client) == before
    assert client.info("stats")["total_connections_received"] == connections  # never connected


def test_ivr_test_needs_no_reachable_redis() -> None:
    result = CliRunner().invoke(main, ["test"], env={"REDIS_URL": "redis://127.0.0.1:1/0",
                                                     "IVR_FLOWS_DIR": None})
    assert result.exit_code == 0, result.output
    assert "23 passed, 0 failed" in result.output


def test_a_marked_call_moves_nothing_real_calls_share(settings: Settings) -> None:
    app = make_app(settings)
    phone = Phone(app, settings)
    assert settings.redis_url
    client = redis.Redis.from_url(settings.redis_url)
    keys = Keys(settings.redis_prefix)
    phone.call(["2", "1"])  # a real call: rotation 1, a queued record, this month's secret
    rotation, secrets = client.get(keys.rotation), sorted(client.scan_iter(keys.caller_secrets))
    queue = Queue(settings.queue_name, connection=client)
    sim = SimulatedCall(app.test_client(), settings.twilio_auth_token, phone.catalogue,
                        call_sid="CA" + uuid.uuid4().hex, mark=True)
    transcript = sim.run(press(["2", "1"]), answer(["completed"]))
    assert transcript.connected_to  # served like any call ...
    assert client.get(keys.rotation) == rotation  # ... but the rotation did not move,
    assert client.zcard(keys.busy) == 0  # nobody was marked busy,
    assert len(queue) == 1  # no record was queued,
    assert sorted(client.scan_iter(keys.caller_secrets)) == secrets  # no secret was made
    real = phone.start()  # a real caller is put through to olga: she is busy ...
    real.post("/voice")
    document = real.post("/voice/gather", {"Digits": "0"})
    number = document.find("Dial/Number")
    assert number is not None
    assert real.operator_leg(number, accept=True)
    late = SimulatedCall(app.test_client(), settings.twilio_auth_token, phone.catalogue,
                         call_sid="CA" + uuid.uuid4().hex, mark=True)
    late.post("/voice")
    late.post("/voice/dial?legs=op:olga", {"DialCallStatus": "completed"})
    assert client.zrange(keys.busy, 0, -1) == [b"olga"]  # ... and a simulation cannot free her
    forged = SimulatedCall(app.test_client(), settings.twilio_auth_token, phone.catalogue,
                           call_sid="CA" + uuid.uuid4().hex)
    forged.params[simulation.PARAMETER] = "0" * 32  # a caller cannot pass for a simulation
    forged.run(press(["2", "1"]), answer([]))
    assert len(queue) == 2


HOSTILE = {
    "alias bomb": b"a: &a [x, x]\nb: &b [*a, *a]\nc: [*b, *b]\n",
    "control character": b"operators: {olga: {name: \"\\x1b[31m\"}}\n",
    "raw control character": b"operators: {olga: {name: x\x07}}\n",
    "deep nesting": b"operators: " + b"[" * 5000 + b"]" * 5000 + b"\n",
    "not UTF-8": b"operators: \xff\xfe\n",
    "an impossible date": b"dated: [{who: olga, date: 2026-02-30, from: '08:00', to: '09:00'}]\n",
    "a huge number": b"operators: " + b"9" * 5000 + b"\n",
    "lists where names go": b"operators: {olga: {phone: '+77010000101', languages: [kk]}}\n"
                            b"weekly: [{who: [[olga]], days: [[mon]], from: '08:00', to: '09:00'}]\n",
    "a list for a step type": b"",  # (written into the flow below)
    "too big": b"# " + b"x" * (5 * 1024 * 1024) + b"\n",
}
COMMANDS = [["check"], ["check", "--format", "json"], ["test"], ["call", "--press", "1"],
            ["graph"], ["roster", "now"], ["roster", "week"], ["roster", "gaps"],
            ["audio", "check"], ["status"], ["publish"]]


@pytest.mark.parametrize("hostile", list(HOSTILE))
def test_no_command_answers_a_hostile_file_with_a_traceback(
    hostile: str, flows_dir: Path, settings: Settings
) -> None:
    if hostile == "a list for a step type":
        flow = flows_dir / "hotline150.yaml"
        flow.write_text(flow.read_text().replace("type: hangup", "type: [hangup]"))
    else:
        (flows_dir / "roster.yaml").write_bytes(HOSTILE[hostile])
    env = {"IVR_FLOWS_DIR": str(flows_dir), "REDIS_URL": settings.redis_url,
           "IVR_REDIS_PREFIX": settings.redis_prefix}
    for command in COMMANDS:
        result = CliRunner().invoke(main, command, env=env)
        assert result.exception is None or isinstance(result.exception, SystemExit), \
            (command, result.exception)
        assert "Traceback" not in result.output
        if command[0] in ("check", "test", "call", "graph", "roster", "publish"):
            assert result.exit_code == 1, (command, result.output)
