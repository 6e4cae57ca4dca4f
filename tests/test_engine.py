"""Step types and flow selection beyond the default flow."""

from __future__ import annotations

from pathlib import Path

from ivr.engine import replay
from ivr.engine.model import DialResult, Digits, Gather, Hangup, Start
from ivr.settings import Settings
from tests.conftest import Phone, load, make_app

SECOND_FLOW = """\
flow: almaty_line
languages: [ru]
start: hello
entry_numbers: ["+77272000001"]
numbers:
  centre: "+77081060810"
anywhere:
  "0": centre_line
steps:
  hello:
    type: say
    prompts: [connecting]
    next: ask
  ask:
    type: menu
    prompts: [main_menu]
    options: {"1": centre_line}
    no_input: {retries: 0, then: centre_line}
    wrong_key: {retries: 0, then: centre_line}
  centre_line:
    type: route
    try: [centre]
    then: goodbye
  goodbye:
    type: hangup
    prompts: [all_busy]
"""


def write_second_flow(flows_dir: Path) -> None:
    (flows_dir / "almaty.yaml").write_text(SECOND_FLOW)


def test_a_number_listed_in_entry_numbers_runs_that_flow(settings: Settings,
                                                         flows_dir: Path) -> None:
    write_second_flow(flows_dir)
    phone = Phone(make_app(settings), settings)
    call = phone.call([], ["busy"], to="+77272000001")
    assert call.prompts == [("connecting", "ru"), ("main_menu", "ru"), ("all_busy", "ru")]
    assert call.dialled == [("+77081060810", "busy")]
    other = phone.call(["2", "1"], to="+77170000000")
    assert other.prompts[0] == ("greeting", "kk")


def test_say_plays_then_moves_on_and_retries_zero_means_no_repeat(flows_dir: Path) -> None:
    write_second_flow(flows_dir)
    flow = load(flows_dir).flows["almaty_line"]
    start = Start(flow.name, flow.version, "+77272000001", 0.0)
    state, reply = replay(flow, [start])
    assert [s.prompt for s in reply.speech] == ["connecting", "main_menu"]
    assert reply.then == Gather(6)
    state, reply = replay(flow, [start, Digits("")])
    assert state.silent is True
    assert state.path == ["hello", "ask", "centre_line"]
    state, reply = replay(flow, [start, Digits(""), DialResult("failed")])
    assert state.exhausted is True
    assert reply.then == Hangup()


def test_replaying_the_same_events_gives_the_same_call(settings: Settings) -> None:
    flow = load(settings.flows_dir).flows["hotline150"]
    events = [Start(flow.name, flow.version, "150", 0.0), Digits("2"), Digits("7"), Digits("9"),
              DialResult("busy", False)]
    first, reply_one = replay(flow, events)
    second, reply_two = replay(flow, events)
    assert first == second
    assert reply_one == reply_two
