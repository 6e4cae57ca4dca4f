"""The waiting line, as callers and consultants meet it: several callers at once on one clock,
through the real webhooks, call logs and Redis, signed as Twilio signs them."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from ivr.calls.board import Board, read_board
from ivr.calls.keys import Keys
from ivr.calls.presence import Presence
from ivr.library.scenarios import WhileWaiting
from ivr.redis_url import connect
from ivr.settings import PROJECT_ROOT, Settings
from ivr.sim.embedded_redis import EmbeddedRedis
from ivr.sim.scenarios import durations, together, while_waiting
from ivr.sim.simulator import SimulatedCall, answer, press
from ivr.source import LoadError
from tests.conftest import EMERGENCY, NATIONAL, Clock, Phone, check_twiml, load, make_app

SAULE, MARAT = "+77010000104", "+77010000105"
ONE_CONSULTANT = """\
timezone: Asia/Almaty
operators:
  saule: {name: Saule, phone: "+77010000104", languages: [kk]}
  dana: {name: Dana, phone: "+77010000106", languages: [ru]}   # no shift: never on duty
weekly:
  - {who: saule, days: daily, from: "00:00", to: "24:00"}
"""
TWO_CONSULTANTS = ONE_CONSULTANT.replace(
    '  dana: {name: Dana', '  marat: {name: Marat, phone: "+77010000105", languages: [kk, ru]}\n'
    '  dana: {name: Dana').replace("who: saule,", "who: [saule, marat],")
InLine = Callable[[float], str | None]  # seconds in line -> a key, HANG_UP or nothing


@pytest.fixture
def line_flows(flows_dir: Path) -> Path:
    """The shipped flow with its waiting line, and one Kazakh consultant on duty all day."""
    shutil.copy(PROJECT_ROOT / "flows" / "hotline150.yaml", flows_dir / "hotline150.yaml")
    (flows_dir / "roster.yaml").write_text(ONE_CONSULTANT)
    return flows_dir


@dataclass
class Webhooks:
    """Every webhook the callers sent, at the simulation's time, and to which host; a
    caller's host can change (a load balancer, a restart) from a moment on."""

    clock: Clock
    seen: list[tuple[float, str, dict[str, str]]] = field(default_factory=list)
    answers: list[str] = field(default_factory=list)  # the TwiML of each, in the same order

    def client(self, host: Callable[[], Flask]) -> Any:
        webhooks = self

        def keep(at: float, path: str, data: dict[str, str], response: Any) -> Any:
            webhooks.seen.append((at, path, data))
            webhooks.answers.append(response.get_data(as_text=True))
            return response

        class Client:
            def post(self, path: str, *, data: dict[str, str], headers: dict[str, str]) -> Any:
                return keep(webhooks.clock.now, path, data,
                            host().test_client().post(path, data=data, headers=headers))

            def get(self, path: str, *, headers: dict[str, str]) -> Any:
                return keep(webhooks.clock.now, path, {},
                            host().test_client().get(path, headers=headers))

        return Client()

    def rang(self, sim: SimulatedCall) -> float:
        """When the router first answered this caller with a consultant to ring."""
        return min(at for (at, _, data), body in zip(self.seen, self.answers, strict=True)
                   if data.get("CallSid") == sim.params["CallSid"] and "<Dial" in body)

    def first(self, prefix: str, sim: SimulatedCall, by_operator: bool = True) -> float:
        """When the first webhook to a path reached the router for this caller (on their
        operator's leg, which names the caller's call as its parent)."""
        field_ = "ParentCallSid" if by_operator else "CallSid"
        return min(at for at, path, data in self.seen
                   if path.startswith(prefix) and data.get(field_) == sim.params["CallSid"])


@dataclass(frozen=True)
class Caller:
    after: float = 0.0  # seconds after the first caller
    keys: tuple[str, ...] = ("1", "1")  # Kazakh, then "a consultant"
    answers: tuple[str, ...] = ()
    talk: float = 30.0  # seconds each conversation lasts
    in_line: InLine | None = None
    host: Callable[[], Flask] | None = None  # the web host this caller's webhooks reach


def place_calls(app: Flask, settings: Settings, clock: Clock, callers: list[Caller],
                webhooks: Webhooks | None = None) -> list[SimulatedCall]:
    """Every caller on one clock, from now; returns each call as Twilio saw it."""
    snapshot = app.extensions["ivr.voice"].snapshot()
    webhooks = webhooks or Webhooks(clock)
    sims, steps = [], []
    for caller in callers:
        sim = SimulatedCall(webhooks.client(caller.host or (lambda: app)),
                            settings.twilio_auth_token, snapshot.catalogue,
                            call_sid="CA" + uuid.uuid4().hex, durations=durations(snapshot),
                            talk=caller.talk, while_waiting=caller.in_line)
        sims.append(sim)
        steps.append((clock.now + caller.after,
                      sim.steps(press(caller.keys), answer(caller.answers))))
    together(steps, lambda at: setattr(clock, "now", at))
    for sim in sims:
        for body in sim.transcript.responses:
            check_twiml(body)
    return sims


def heard(sim: SimulatedCall) -> list[str]:
    return [h.prompt or "" for h in sim.transcript.heard]


def then(seconds: float, press_: str | None = None, hangs_up: bool = False) -> InLine:
    return while_waiting(WhileWaiting(seconds, press_, hangs_up))


@pytest.fixture
def router(settings: Settings, line_flows: Path, clock: Clock) -> tuple[Flask, Settings, Clock]:
    return make_app(settings, clock), settings, clock


def test_a_caller_waits_while_the_only_consultant_talks_then_is_put_through(router) -> None:  # type: ignore[no-untyped-def]
    app, settings, clock = router
    first, second = place_calls(app, settings, clock, [Caller(talk=120), Caller(after=10)])
    assert first.transcript.connected_to == SAULE
    assert first.transcript.waited is None
    assert second.transcript.numbers == [SAULE]  # rung once: when it was their turn
    assert second.transcript.connected_to == SAULE
    prompts = heard(second)
    joined = prompts.index("wait_all_busy")
    assert prompts[joined + 1:joined + 3] == ["wait_place_1", "hold_tone"]
    assert "wait_reassure" in prompts  # reassured at intervals, with their place again
    assert second.transcript.waited is not None
    assert 60 < second.transcript.waited < 130
    rows = sorted(Phone(app, settings).store_records(), key=lambda r: r["line_seconds"] or 0)
    assert [r["outcome"] for r in rows] == ["connected", "connected"]
    assert rows[0]["line_seconds"] is None  # the first caller never waited
    assert abs(rows[1]["line_seconds"] - second.transcript.waited) <= 12


def test_two_callers_waiting_are_served_in_the_order_they_came(router) -> None:  # type: ignore[no-untyped-def]
    app, settings, clock = router
    webhooks = Webhooks(clock)
    calls = place_calls(app, settings, clock,
                        [Caller(talk=100), Caller(after=5, talk=60), Caller(after=8)], webhooks)
    assert [c.transcript.connected_to for c in calls] == [SAULE] * 3
    accepted = [webhooks.first("/voice/operator/answer", c) for c in calls]
    assert accepted == sorted(accepted)
    assert "wait_place_2" in heard(calls[2])  # the third caller heard they were second in line


def test_a_freed_consultant_is_offered_to_the_head_of_the_line_within_ten_seconds(
        router) -> None:  # type: ignore[no-untyped-def]
    app, settings, clock = router
    webhooks = Webhooks(clock)
    first, second = place_calls(app, settings, clock, [Caller(talk=90), Caller(after=5)],
                                webhooks)
    freed = max(at for at, path, data in webhooks.seen if path.startswith("/voice/dial")
                and data.get("CallSid") == first.params["CallSid"])
    assert 0 < webhooks.rang(second) - freed <= 10


def test_a_consultant_freed_on_one_host_is_offered_to_the_caller_waiting_on_another(
        settings: Settings, line_flows: Path, clock: Clock) -> None:
    host_a, host_b = make_app(settings, clock), make_app(settings, clock)
    first, second = place_calls(host_a, settings, clock, [
        Caller(talk=90, host=lambda: host_a), Caller(after=5, host=lambda: host_b)])
    assert first.transcript.connected_to == SAULE  # freed by its end, on host a
    assert second.transcript.waited is not None
    assert second.transcript.connected_to == SAULE  # waiting on host b


def test_a_caller_keeps_their_place_when_the_web_process_restarts(
        settings: Settings, line_flows: Path, clock: Clock) -> None:
    before = make_app(settings, clock)
    restarted: list[Flask] = []

    def host() -> Flask:  # the web process restarts half a minute into the wait
        if not restarted and clock.now > start + 90:
            restarted.append(make_app(settings, clock))
        return restarted[0] if restarted else before

    start = clock.now
    calls = place_calls(before, settings, clock, [
        Caller(talk=150), Caller(after=5, host=host), Caller(after=8)])
    assert restarted
    assert [c.transcript.connected_to for c in calls] == [SAULE] * 3
    assert calls[1].transcript.waited is not None
    assert calls[1].transcript.waited > 30


def test_9_while_waiting_reaches_the_emergency_desk_at_once(router) -> None:  # type: ignore[no-untyped-def]
    app, settings, clock = router
    _, second = place_calls(app, settings, clock, [
        Caller(talk=600), Caller(after=5, in_line=then(20, "9"))])
    assert second.transcript.numbers == [EMERGENCY]
    prompts = heard(second)
    assert prompts.index("emergency") > prompts.index("wait_all_busy")
    (row,) = [r for r in Phone(app, settings).store_records() if r["emergency"]]
    assert row["destination"] == "emergency"
    assert 15 <= row["line_seconds"] <= 45


def test_0_while_waiting_keeps_the_place_and_says_it_again(router) -> None:  # type: ignore[no-untyped-def]
    app, settings, clock = router
    _, second = place_calls(app, settings, clock, [
        Caller(talk=80), Caller(after=5, in_line=then(10, "0"))])
    prompts = heard(second)
    assert prompts[prompts.index("wait_all_busy"):].count("wait_place_1") >= 2
    assert second.transcript.connected_to == SAULE


def test_after_the_longest_wait_the_route_goes_on(router) -> None:  # type: ignore[no-untyped-def]
    app, settings, clock = router
    _, second = place_calls(app, settings, clock, [Caller(talk=900), Caller(after=5)])
    assert second.transcript.numbers == [NATIONAL]
    assert second.transcript.waited is not None
    assert 280 <= second.transcript.waited <= 312  # (the simulation counts from the hold sound)


def test_a_caller_who_hangs_up_while_waiting_is_recorded_so(router) -> None:  # type: ignore[no-untyped-def]
    app, settings, clock = router
    _, second = place_calls(app, settings, clock, [
        Caller(talk=600), Caller(after=5, in_line=then(40, hangs_up=True))])
    assert second.transcript.ended == "caller hung up"
    (row,) = [r for r in Phone(app, settings).store_records() if r["outcome"] != "connected"]
    assert row["outcome"] == "caller-hung-up-while-waiting"
    assert 35 <= row["line_seconds"] <= 70
    assert row["route_wait_seconds"] >= row["line_seconds"]
    assert app.extensions["ivr.voice"].line.read().members == ()  # gone from the line


def test_a_consultant_who_does_not_take_the_call_does_not_cost_the_caller_their_place(
        settings: Settings, line_flows: Path, clock: Clock) -> None:
    (line_flows / "roster.yaml").write_text(TWO_CONSULTANTS)
    app = make_app(settings, clock)
    webhooks = Webhooks(clock)
    # Both consultants are talking when three more callers come. The first of them is offered
    # the first consultant free, who does not answer; the caller behind takes that one. When the
    # other consultant is free, it goes to the first caller, who kept their place at the head
    # of the line, and not to the caller behind them.
    calls = place_calls(app, settings, clock, [
        Caller(talk=100), Caller(after=2, talk=200), Caller(after=20, answers=("no-answer",)),
        Caller(after=25, talk=300), Caller(after=30)], webhooks)
    head, behind = calls[2], calls[4]
    declined = head.transcript.dialled[0]
    assert declined[1] == "no-answer"
    assert head.transcript.connected_to not in (None, declined[0])
    assert behind.transcript.connected_to is not None
    assert webhooks.first("/voice/operator/answer", head) < \
        webhooks.first("/voice/operator/answer", behind)


def test_a_full_line_sends_a_newcomer_on_at_once(settings: Settings, line_flows: Path,
                                                 clock: Clock) -> None:
    flow = line_flows / "hotline150.yaml"
    flow.write_text(flow.read_text().replace("capacity: 10", "capacity: 1"))
    app = make_app(settings, clock)
    calls = place_calls(app, settings, clock, [Caller(talk=300), Caller(after=5),
                                               Caller(after=10)])
    assert calls[1].transcript.waited is not None
    assert calls[2].transcript.waited is None  # the line was full: straight on
    assert calls[2].transcript.numbers == [NATIONAL]


def test_a_predicted_wait_beyond_the_longest_sends_a_newcomer_on(router) -> None:  # type: ignore[no-untyped-def]
    app, settings, clock = router
    app.extensions["ivr.voice"].line.note_talk(900)  # conversations last a quarter hour lately
    _, second = place_calls(app, settings, clock, [Caller(talk=600), Caller(after=5)])
    assert second.transcript.waited is None
    assert second.transcript.numbers == [NATIONAL]


def test_nobody_on_duty_for_the_call_means_no_line(settings: Settings, line_flows: Path,
                                                   clock: Clock) -> None:
    (line_flows / "roster.yaml").write_text(
        ONE_CONSULTANT.replace('from: "00:00", to: "24:00"', 'from: "00:00", to: "01:00"'))
    app = make_app(settings, clock)  # Monday 10:00: nobody is on duty
    (call,) = place_calls(app, settings, clock, [Caller()])
    assert call.transcript.waited is None
    assert call.transcript.numbers == [NATIONAL]


def test_a_long_wait_keeps_the_call_log_short(router) -> None:  # type: ignore[no-untyped-def]
    app, settings, clock = router
    _, second = place_calls(app, settings, clock, [Caller(talk=280), Caller(after=5)])
    assert second.transcript.waited is not None
    assert second.transcript.waited > 200
    polls = sum(1 for body in second.transcript.responses if "/voice/wait" in body)
    calls = app.extensions["ivr.voice"].calls
    log = calls.read(_key(settings, second))
    assert polls > 40  # asked every few seconds ...
    assert len(log) < 30  # ... and only announcements and the offer were written


def _key(settings: Settings, sim: SimulatedCall) -> str:
    from ivr.calls.pseudonyms import call_key

    return call_key(settings.hmac_secret, sim.params["CallSid"])


def test_callers_waiting_when_redis_goes_away_are_put_through_by_the_safe_path(
        settings: Settings, line_flows: Path, clock: Clock) -> None:
    server = EmbeddedRedis().start()
    stopped: list[bool] = []

    def lose_redis(waited: float) -> str | None:
        if waited > 20 and not stopped:
            stopped.append(True)
            server.stop()  # Redis goes away while two callers wait in line
        return None

    try:
        settings = replace(settings, redis_url=server.url)
        app = make_app(settings, clock)
        calls = place_calls(app, settings, clock, [
            Caller(talk=600), Caller(after=5, in_line=lose_redis), Caller(after=8)])
    finally:
        server.stop()
    assert stopped
    for waiting in calls[1:]:
        assert set(waiting.transcript.status_codes) == {200}  # never an error, never dropped
        assert "fallback" in heard(waiting)
        assert waiting.transcript.connected_to == NATIONAL  # the safe path's first line


# --- what `ivr check` says of a line ---------------------------------------------------------

WAIT = "wait: {max_seconds: 300, announce_every: 45, capacity: 10}"


@pytest.mark.parametrize(("old", "new", "message"), [
    (WAIT, "wait: {max_seconds: 5, announce_every: 45, capacity: 10}",
     "consultant: 'max_seconds' must be a whole number from 30 to 1800"),
    (WAIT, "wait: {max_seconds: 300, every: 45}",
     "consultant: unknown key 'every' in 'wait' (allowed: max_seconds, announce_every, capacity)"),
    (WAIT, "wait: 300", "consultant: 'wait' must be a mapping such as {max_seconds: 300, "
     "announce_every: 45}"),
    ("try: [operators, regional, national]", "try: [regional, national]",
     "consultant: 'wait' is a line for consultants: add 'operators' to 'try', or remove 'wait'"),
    ("ring_seconds: 20\n    wait:", "ring_seconds: 20\n    ring: all\n    wait:",
     "consultant: a route with 'wait' offers each free consultant to the caller whose turn it "
     "is, one at a time: remove 'ring: all' or 'wait'"),
])
def test_a_wrong_line_is_refused_with_its_line_and_the_fix(
        line_flows: Path, old: str, new: str, message: str) -> None:
    flow = line_flows / "hotline150.yaml"
    text = flow.read_text()
    assert old in text
    flow.write_text(text.replace(old, new, 1))
    with pytest.raises(LoadError) as caught:
        load(line_flows)
    found = [str(p) for p in caught.value.problems]
    line = next(n for n, row in enumerate(flow.read_text().splitlines(), 1)
                if "wait:" in row and "consultant" not in row)
    assert any(p.startswith(f"flows/hotline150.yaml:{line}:") and p.endswith(message)
               for p in found), found


def test_a_line_needs_its_prompts_in_every_language(line_flows: Path) -> None:
    prompts = line_flows / "prompts.yaml"
    prompts.write_text(prompts.read_text().replace(
        '    kk: "Кезектегі орныңыз — үшінші."\n', ""))
    with pytest.raises(LoadError) as caught:
        load(line_flows)
    assert any("wait_place_3" in str(p) for p in caught.value.problems)


def test_the_graph_shows_the_line(line_flows: Path) -> None:
    from ivr.library.graph import mermaid

    flow = load(line_flows).flows["hotline150"]
    assert "operators ⏳ line ≤ 300 s → regional → national" in mermaid(flow)


def _presence(settings: Settings, clock: Clock) -> Presence:
    return Presence(connect(settings.redis_url or ""), Keys(settings.redis_prefix),
                    lambda: clock.now)


def test_a_consultant_marked_away_is_not_rung_and_is_rung_again_once_back(
        settings: Settings, line_flows: Path, clock: Clock) -> None:
    (line_flows / "roster.yaml").write_text(TWO_CONSULTANTS)
    app = make_app(settings, clock)
    presence = _presence(settings, clock)
    presence.away("saule", clock.now + 3600)
    (call,) = place_calls(app, settings, clock, [Caller()])
    assert call.transcript.numbers == [MARAT]
    assert call.transcript.connected_to == MARAT
    assert presence.back("saule")
    calls = place_calls(app, settings, clock, [Caller(), Caller(after=1)])
    assert {c.transcript.connected_to for c in calls} == {SAULE, MARAT}


def test_nobody_waits_for_a_consultant_who_is_away(settings: Settings, line_flows: Path,
                                                   clock: Clock) -> None:
    app = make_app(settings, clock)
    _presence(settings, clock).away("saule", clock.now + 600)  # the only one on duty
    (call,) = place_calls(app, settings, clock, [Caller()])
    assert call.transcript.waited is None  # no line: the route goes on at once
    assert call.transcript.numbers == [NATIONAL]


def test_an_away_mark_lapses_by_itself(settings: Settings, line_flows: Path,
                                       clock: Clock) -> None:
    app = make_app(settings, clock)
    presence = _presence(settings, clock)
    presence.away("saule", clock.now + 60)
    assert presence.marks() == {"saule": clock.now + 60}
    clock.now += 61
    assert presence.marks() == {}
    (call,) = place_calls(app, settings, clock, [Caller()])
    assert call.transcript.connected_to == SAULE
    with pytest.raises(ValueError, match="later than now"):
        presence.away("saule", clock.now - 1)


def test_the_board_shows_who_talks_who_waits_and_who_is_away(
        settings: Settings, line_flows: Path, clock: Clock) -> None:
    (line_flows / "roster.yaml").write_text(TWO_CONSULTANTS)
    app = make_app(settings, clock)
    client, keys = connect(settings.redis_url or ""), Keys(settings.redis_prefix)
    boards: list[Board] = []

    def host() -> Flask:  # a supervisor looks at the board a minute into the calls
        if not boards and clock.now > start + 60:
            boards.append(read_board(client, keys, lambda: clock.now))
        return app

    start = clock.now
    _presence(settings, clock).away("marat", clock.now + 3600)
    place_calls(app, settings, clock, [Caller(talk=120, host=host), Caller(after=5, host=host)])
    (board,) = boards
    assert board.consultants == {"saule": "talking"}
    assert board.away == {"marat": start + 3600}
    assert (board.connected, board.waiting, board.in_menus) == (1, 1, 0)
    assert 10 < board.longest_wait_seconds < 60  # joined after the greeting and menus
    later = read_board(client, keys, lambda: clock.now)
    assert (later.connected, later.waiting, later.in_menus, later.consultants) == (0, 0, 0, {})


def _long_calls(router: tuple[Flask, Settings, Clock], every: int,
                monkeypatch: pytest.MonkeyPatch) -> tuple[list[Any], list[int]]:
    """Two callers, the second waiting long behind the first, with checkpoints every `every`
    events; what each caller met, and how many log entries each webhook replayed."""
    import ivr.web.decide as decide
    from ivr.calls.log import CallLog
    from ivr.engine.model import Ended
    from ivr.library.versions import flow_of
    from ivr.records.record import record_from_log

    app, settings, clock = router
    monkeypatch.setattr(decide, "EVERY", every)
    replayed: list[int] = []
    for name in ("append", "peek"):
        original = getattr(CallLog, name)

        def counted(self: CallLog, *args: Any, _original: Any = original, **kwargs: Any) -> Any:
            found = _original(self, *args, **kwargs)
            if not isinstance(args[1:2] and args[1], Ended):  # the end reads the whole log
                replayed.append(len(found.events))
            return found

        monkeypatch.setattr(CallLog, name, counted)
    sims = place_calls(app, settings, clock, [
        Caller(talk=280), Caller(after=5, keys=("1", "7", "7", "1"), answers=("no-answer",))])
    ctx = app.extensions["ivr.voice"]
    met = []
    for sim in sims:
        record = record_from_log("k", ctx.calls.read(_key(settings, sim)),
                                 lambda s: flow_of(ctx.snapshot(s), s))
        assert record is not None
        met.append((heard(sim), sim.transcript.dialled, sim.transcript.waited,
                    sim.transcript.ended, {k: v for k, v in record.payload().items()
                                           if k not in ("call_key", "caller_key")}))
    return met, replayed


def test_a_long_call_is_replayed_from_its_checkpoint_with_the_same_answers(
        settings: Settings, line_flows: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Checkpoints change nothing a caller or a record meets, and they bound what one
    webhook replays, however long the call."""
    runs = []
    for every in (10**6, 3):
        clock = Clock()
        runs.append(_long_calls((make_app(settings, clock), settings, clock), every,
                                monkeypatch))
        monkeypatch.undo()
    (whole, replayed_whole), (checkpointed, replayed) = runs
    assert checkpointed == whole
    assert max(replayed_whole) > 12  # without checkpoints the log read back keeps growing
    assert max(replayed) <= 3 + 4  # with them, at most `every` events and a few marks
