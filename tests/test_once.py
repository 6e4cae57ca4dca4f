"""Each webhook applied once: a repeated delivery is answered as before and changes nothing; an
operator's "1" counts only while their phone rings for that call; a ringing phone is not
offered to a second caller; every reservation ends when its leg ends, or lapses by itself."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from flask import Flask

from ivr.settings import Settings
from ivr.sim.simulator import SimulatedCall
from tests.conftest import NATIONAL, Clock, Phone, make_app

DINA, BORIS = "+77010000203", "+77010000202"
ROSTER = """\
timezone: Asia/Almaty
operators:
  dina: {name: Dina, phone: "+77010000203", languages: [ru]}
  boris: {name: Boris, phone: "+77010000202", languages: [ru]}
  asel: {name: Asel, phone: "+77010000201", languages: [kk]}  # no shift: never on duty
weekly:
  - {who: [dina, boris], days: daily, from: "00:00", to: "24:00"}
"""


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def phone(settings: Settings, flows_dir: Path, clock: Clock) -> Phone:
    (flows_dir / "roster.yaml").write_text(ROSTER)
    return Phone(make_app(settings, clock), settings)


def at_the_consultant_route(phone: Phone) -> tuple[SimulatedCall, ET.Element]:
    """A Russian caller who asked for a consultant: the first phone rings."""
    call = phone.start()
    call.post("/voice")
    call.post("/voice/gather?t=2", {"Digits": "2"})
    menu = call.post("/voice/gather?t=3", {"Digits": "1"})
    assert menu.find("Dial") is not None
    return call, menu


def dialled(document: ET.Element) -> list[str]:
    return [(n.text or "").strip() for n in document.iter("Number")]


def repeat(call: SimulatedCall, app: Flask, path: str, params: dict[str, str],
           token: str | None = None) -> bytes:
    """Send exactly the same signed request again, as a retrying Twilio would."""
    full = {**call.params, **params}
    signature = call.validator.compute_signature(call.base + path, full)
    headers = {"X-Twilio-Signature": signature}
    if token:
        headers["I-Twilio-Idempotency-Token"] = token
    answer = app.test_client().post(path, data=full, headers=headers)
    assert answer.status_code == 200
    return bytes(answer.data)


@pytest.mark.parametrize("token", [None, "idem-1234"])
def test_a_gather_delivered_twice_is_one_key_press(phone: Phone, token: str | None) -> None:
    call = phone.start()
    greeting = call.post("/voice")
    action = greeting.find("Gather").get("action")  # type: ignore[union-attr]
    first = repeat(call, phone.app, action, {"Digits": "2"}, token)  # Russian: the main menu
    again = repeat(call, phone.app, action, {"Digits": "2"}, token)  # the same delivery
    assert again == first  # answered as before ...
    menu = ET.fromstring(first)
    # ... and not taken as "2" in the main menu (the crisis centre): 1 is still a consultant
    document = call.post(menu.find("Gather").get("action"), {"Digits": "1"})  # type: ignore[union-attr]
    assert dialled(document) in ([DINA], [BORIS])


def test_the_same_key_in_the_next_menu_is_a_new_press(phone: Phone) -> None:
    call = phone.start()
    call.post("/voice")
    call.post("/voice/gather?t=2", {"Digits": "2"})  # Russian
    # "2" again, in the main menu: a different menu, a different request: the crisis centre
    document = call.post("/voice/gather?t=3", {"Digits": "2"})
    prompts = [call.heard_from(v).prompt for v in document.iter() if v.tag in ("Play", "Say")]
    assert "region_menu" in prompts


def test_a_repeated_status_callback_and_dial_result_are_applied_once(phone: Phone) -> None:
    call, document = at_the_consultant_route(phone)
    action = document.find("Dial").get("action")  # type: ignore[union-attr]
    after = repeat(call, phone.app, action, {"DialCallStatus": "no-answer"}, "tok-dial")
    assert repeat(call, phone.app, action, {"DialCallStatus": "no-answer"}, "tok-dial") == after
    assert len(dialled(ET.fromstring(after))) == 1  # the next phone, not the one after it
    for _ in range(3):
        repeat(call, phone.app, "/voice/status", {"CallStatus": "completed",
                                                  "CallDuration": "30"}, "tok-status")
    assert len(phone.store_records()) == 1


def test_a_ringing_phone_is_not_offered_to_a_second_caller(phone: Phone) -> None:
    _, first = at_the_consultant_route(phone)
    _, second = at_the_consultant_route(phone)
    assert {*dialled(first), *dialled(second)} == {DINA, BORIS}  # one phone each
    third = phone.start()
    third.post("/voice")
    third.post("/voice/gather", {"Digits": "2"})
    document = third.post("/voice/gather?t=3", {"Digits": "1"})
    assert dialled(document) == [NATIONAL]  # both operators' phones ring for others


def test_a_ringing_leg_that_ends_frees_its_operator(phone: Phone) -> None:
    call, first = at_the_consultant_route(phone)
    _, second = at_the_consultant_route(phone)
    freed = dialled(first)[0]
    call.post(first.find("Dial").get("action"), {"DialCallStatus": "no-answer"})  # type: ignore[union-attr]
    # the first caller's route moved on to the other operator, who still rings for the second
    # caller, so the first caller goes to the national line; the freed operator can ring again
    nxt = phone.start()
    nxt.post("/voice")
    nxt.post("/voice/gather", {"Digits": "2"})
    assert dialled(nxt.post("/voice/gather?t=3", {"Digits": "1"})) == [freed]
    assert dialled(second) != [freed]


def test_a_reservation_whose_end_never_comes_lapses(phone: Phone, clock: Clock) -> None:
    at_the_consultant_route(phone)
    at_the_consultant_route(phone)  # both phones ring; their results never arrive
    assert dialled(at_the_consultant_route(phone)[1]) == [NATIONAL]
    clock.now += 25 + 31  # ring_seconds and a margin later, the reservations lapse
    assert dialled(at_the_consultant_route(phone)[1]) in ([DINA], [BORIS])


def test_an_operator_who_accepted_is_busy_until_their_leg_ends(phone: Phone) -> None:
    call, document = at_the_consultant_route(phone)
    number = document.find("Dial/Number")
    assert number is not None
    assert call.operator_leg(number, accept=True)
    taken = (number.text or "").strip()
    _, other = at_the_consultant_route(phone)
    assert dialled(other) != [taken]
    call.post(document.find("Dial").get("action"),  # type: ignore[union-attr]
              {"DialCallStatus": "completed", "DialBridged": "true"})
    _, later = at_the_consultant_route(phone)
    assert dialled(later) == [taken]  # free again (the other operator rings for `other`)


def ringing_operator(phone: Phone) -> tuple[SimulatedCall, ET.Element, str, str]:
    """A caller at the consultant route, the operator whose phone rings for them and answers,
    and the URL of that operator's "1" (from the whisper they hear)."""
    call, document = at_the_consultant_route(phone)
    number = document.find("Dial/Number")
    assert number is not None
    leg = {"CallSid": "CA" + "e" * 32, "ParentCallSid": call.params["CallSid"]}
    whisper = call.post(number.get("url", ""), leg, own=True)
    accept_url = whisper.find("Gather").get("action", "")  # type: ignore[union-attr]
    return call, document, (number.text or "").strip(), accept_url


def press_one(call: SimulatedCall, url: str) -> ET.Element:
    leg = {"CallSid": "CA" + "e" * 32, "ParentCallSid": call.params["CallSid"], "Digits": "1"}
    return call.post(url, leg, own=True)


def test_a_late_one_is_refused_and_marks_nobody_busy(phone: Phone) -> None:
    call, document, operator, accept_url = ringing_operator(phone)
    # the phone stopped ringing for this call (the caller moved on) before the "1" came
    call.post(document.find("Dial").get("action"), {"DialCallStatus": "no-answer"})  # type: ignore[union-attr]
    late = press_one(call, accept_url)
    assert [verb.tag for verb in late] == ["Hangup"]  # the leg hangs up; no bridge
    call.post("/voice/status", {"CallStatus": "completed", "CallDuration": "50"})
    calls_to = [dialled(at_the_consultant_route(phone)[1]) for _ in range(2)]
    assert [operator] in calls_to  # not kept busy for hours: rung for the next callers


def test_a_repeated_one_after_the_call_changes_nothing(phone: Phone) -> None:
    call, document, operator, accept_url = ringing_operator(phone)
    assert [verb.tag for verb in press_one(call, accept_url)] == []  # accepted: bridged
    assert [verb.tag for verb in press_one(call, accept_url)] == []  # a repeat: as before
    call.post(document.find("Dial").get("action"),  # type: ignore[union-attr]
              {"DialCallStatus": "completed", "DialBridged": "true"})
    call.post("/voice/status", {"CallStatus": "completed", "CallDuration": "300"})
    press_one(call, accept_url)  # delivered once more, long after
    calls_to = [dialled(at_the_consultant_route(phone)[1]) for _ in range(2)]
    assert [operator] in calls_to
    (row,) = [r for r in phone.store_records() if r["outcome"] == "connected"]
    assert row["operator"] in ("dina", "boris")
