"""Routing as callers and operators meet it: who is rung, in which order, and what happens
when nobody answers. Every test runs at a fixed local time against its own roster."""

from __future__ import annotations

import datetime as dt
import logging
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import redis
from flask import Flask

from ivr.clock import zone
from ivr.settings import Settings
from tests.conftest import CALLER, HOTLINE_ID, NATIONAL, Clock, Phone, make_app, republish

ASEL, BORIS, DINA, ERLAN = "+77010000201", "+77010000202", "+77010000203", "+77010000204"
ALMATY_CENTRE, SHYMKENT_CENTRE = "+77081060810", "+77474034069"
SHYMKENT_LANDLINE = "+77252123456"
ALMATY_ENTRY = "+77272000100"

ROSTER = """\
timezone: Asia/Almaty
operators:
  asel: {name: Asel, phone: "+77010000201", languages: [kk]}
  boris: {name: Boris, phone: "+77010000202", languages: [ru]}
  dina: {name: Dina, phone: "+77010000203", languages: [kk, ru], regions: [almaty_city]}
  erlan: {name: Erlan, phone: "+77010000204", languages: [kk, ru]}
weekly:
  - {who: [asel, boris, dina], days: weekdays, from: "09:00", to: "18:00"}
  - {who: erlan, days: daily, from: "22:00", to: "06:00"}
away:
  - {who: dina, from: 2026-12-15, to: 2026-12-15, why: leave}
"""


def local(text: str) -> dt.datetime:
    return dt.datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=zone("Asia/Almaty"))


@pytest.fixture
def routing_flows(flows_dir: Path) -> Path:
    (flows_dir / "roster.yaml").write_text(ROSTER)
    regions = flows_dir / "regions.yaml"
    regions.write_text(regions.read_text().replace(
        '    lines: ["+77081060810"]', f'    lines: ["+77081060810"]\n    entry_numbers: ["{ALMATY_ENTRY}"]'))
    return flows_dir


@pytest.fixture
def phone_at(settings: Settings, routing_flows: Path):  # type: ignore[no-untyped-def]
    """A phone whose calls happen at a given local time: `phone_at("2026-12-14 10:00")`."""
    clock = Clock()
    app = make_app(settings, clock)

    def at(when: str) -> Phone:
        clock.set(local(when))
        return Phone(app, settings)

    return at


# --- who is dialled -------------------------------------------------------------------------

def test_a_kazakh_caller_rings_kazakh_speakers_then_the_others(phone_at) -> None:  # type: ignore[no-untyped-def]
    call = phone_at("2026-12-14 10:00").call(["1", "1"], ["declined", "no-answer", "completed"])
    assert call.numbers == [DINA, ASEL, BORIS]  # rotation 1 of [asel, dina], then boris (ru)
    boris_heard = [h.prompt for h in call.whispers[-1][1]]
    assert boris_heard[:5] == ["whisper_call", "whisper_language", "language_kk",
                               "whisper_region", "region_unknown"]
    assert "whisper_other_language" in boris_heard
    assert [h.language for h in call.whispers[-1][1]] == ["ru"] * len(boris_heard)
    assert [h.language for h in call.whispers[0][1]] == ["kk"] * len(call.whispers[0][1])


def test_a_russian_caller_rings_russian_speakers(phone_at) -> None:  # type: ignore[no-untyped-def]
    call = phone_at("2026-12-14 10:00").call(["2", "1"], ["busy", "completed"])
    assert call.numbers == [DINA, BORIS]
    assert "whisper_other_language" not in [h.prompt for _, heard in call.whispers for h in heard]


def test_who_rings_first_rotates_from_call_to_call(phone_at) -> None:  # type: ignore[no-untyped-def]
    phone = phone_at("2026-12-14 10:00")
    firsts = [phone.call(["2", "1"]).numbers[0] for _ in range(4)]
    assert firsts == [DINA, BORIS, DINA, BORIS]


def test_an_operator_on_a_call_is_skipped_until_it_ends(phone_at) -> None:  # type: ignore[no-untyped-def]
    phone = phone_at("2026-12-14 10:00")
    first = phone.start()
    first.post("/voice")
    first.post("/voice/gather", {"Digits": "2"})
    dial = first.post("/voice/gather", {"Digits": "1"})
    number = dial.find("Dial/Number")
    assert number is not None
    assert number.text == DINA
    assert first.operator_leg(number, accept=True)  # dina accepts and is now talking
    assert phone.call(["2", "1"]).numbers[0] == BORIS  # dina is busy: skipped
    action = dial.find("Dial").get("action")  # type: ignore[union-attr]
    first.post(action, {"DialCallStatus": "completed", "DialBridged": "true"})
    assert phone.call(["2", "1"]).numbers[0] == DINA  # rotation 3, and dina is free again


def test_an_operator_who_does_not_press_1_is_passed_over(phone_at) -> None:  # type: ignore[no-untyped-def]
    phone = phone_at("2026-12-14 10:00")
    call = phone.call(["2", "1"], ["declined", "declined", "declined"])
    assert call.numbers == [DINA, BORIS, ASEL, NATIONAL]  # asel speaks only Kazakh: last
    assert call.connected_to == NATIONAL
    (record,) = phone.store_records()
    assert record["destination"] == "national"
    assert record["operator"] is None


@pytest.mark.parametrize("outcome", ["busy", "no-answer", "failed", "declined"])
def test_each_unanswered_leg_moves_on_with_a_hold_prompt(phone_at, outcome: str) -> None:  # type: ignore[no-untyped-def]
    call = phone_at("2026-12-14 10:00").call(["2", "1"], [outcome])
    assert call.dialled[:2] == [(DINA, outcome), (BORIS, "completed")]
    assert ("hold", "ru") in call.prompts


def test_the_accepting_operator_is_recorded(phone_at) -> None:  # type: ignore[no-untyped-def]
    phone = phone_at("2026-12-14 10:00")
    phone.call(["2", "1"], ["busy", "completed"])
    (record,) = phone.store_records()
    assert record["destination"] == "operators"
    assert record["operator"] == "boris"
    assert record["outcome"] == "connected"


def test_a_whisper_key_other_than_1_hangs_up_the_operator_leg(app: Flask, settings: Settings,
                                                              phone: Phone) -> None:
    sim = phone.start()
    sim.post("/voice")
    document = sim.post("/voice/gather", {"Digits": "0"})
    number = document.find("Dial/Number")
    assert number is not None
    whisper = sim.post(number.get("url", ""), {"CallSid": "CA" + "e" * 32}, own=True)
    answer = whisper.find("Gather").get("action")  # type: ignore[union-attr]
    reply = sim.post(answer, {"CallSid": "CA" + "e" * 32, "Digits": "2"}, own=True)
    assert [v.tag for v in reply] == ["Hangup"]


# --- the clock and the calendar ----------------------------------------------------------------

@pytest.mark.parametrize("when", ["2026-12-14 23:30", "2026-12-15 02:00", "2026-12-15 05:59"])
def test_an_overnight_shift_covers_both_sides_of_midnight(phone_at, when: str) -> None:  # type: ignore[no-untyped-def]
    assert phone_at(when).call(["2", "1"]).numbers[0] == ERLAN


def test_nobody_on_duty_goes_to_the_national_line(phone_at) -> None:  # type: ignore[no-untyped-def]
    call = phone_at("2026-12-14 20:00").call(["2", "1"])
    assert call.numbers == [NATIONAL]


def test_weekday_shifts_do_not_run_on_a_public_holiday(phone_at) -> None:  # type: ignore[no-untyped-def]
    # 16 December, Independence Day, is a Wednesday
    assert phone_at("2026-12-16 10:00").call(["2", "1"]).numbers == [NATIONAL]
    assert phone_at("2026-12-17 10:00").call(["2", "1"]).numbers[0] in (BORIS, DINA)


def test_leave_overrides_a_weekly_shift(phone_at) -> None:  # type: ignore[no-untyped-def]
    call = phone_at("2026-12-15 10:00").call(["2", "1"], ["busy"])
    assert call.numbers == [BORIS, ASEL]  # dina is on leave all Tuesday


# --- the region of a call ------------------------------------------------------------------------

def test_the_number_dialled_gives_the_region(phone_at) -> None:  # type: ignore[no-untyped-def]
    phone = phone_at("2026-12-14 10:00")
    call = phone.call(["2", "2"], to=ALMATY_ENTRY)
    assert ("region_menu", "ru") not in call.prompts  # never asked
    assert call.numbers == [ALMATY_CENTRE]
    (record,) = phone.store_records()
    assert (record["region"], record["region_source"]) == ("almaty_city", "dialled")


def test_operators_covering_the_region_ring_first(phone_at) -> None:  # type: ignore[no-untyped-def]
    phone = phone_at("2026-12-14 10:00")
    phone.call(["2", "1"])  # rotation 1 would start with dina anyway: move it on
    call = phone.call(["2", "1"], to=ALMATY_ENTRY)
    assert call.numbers[0] == DINA  # she covers almaty_city, whatever the rotation


def test_a_landline_code_gives_the_region_and_the_number_is_not_kept(
    phone_at, settings: Settings, caplog: pytest.LogCaptureFixture  # type: ignore[no-untyped-def]
) -> None:
    caplog.set_level(logging.DEBUG)
    phone = phone_at("2026-12-14 20:00")  # no operator on duty
    call = phone.call(["2", "1"], ["no-answer"], caller=SHYMKENT_LANDLINE)
    assert call.numbers == [SHYMKENT_CENTRE, NATIONAL]  # regional, then national
    (record,) = phone.store_records()
    assert (record["region"], record["region_source"]) == ("shymkent", "hint")
    assert settings.redis_url
    stored = redis.Redis.from_url(settings.redis_url)
    logs = b"".join(b"".join(stored.lrange(k, 0, -1))
                    for k in stored.keys(settings.redis_prefix + "*") if stored.type(k) == b"list")
    for text in (str(record), caplog.text, logs.decode(), *call.responses):
        assert SHYMKENT_LANDLINE not in text
        assert SHYMKENT_LANDLINE[2:] not in text


def test_a_mobile_number_gives_no_region_and_the_menu_asks(phone_at) -> None:  # type: ignore[no-untyped-def]
    call = phone_at("2026-12-14 10:00").call(["2", "2", "3"], caller=CALLER)
    assert ("region_menu", "ru") in call.prompts
    assert ("region_group_3", "ru") in call.prompts


def test_a_closed_regional_centre_is_skipped(phone_at, routing_flows: Path) -> None:  # type: ignore[no-untyped-def]
    regions = routing_flows / "regions.yaml"
    regions.write_text(regions.read_text().replace(
        '    lines: ["+77474034069"]',
        '    lines: ["+77474034069"]\n    hours: [{days: weekdays, from: "09:00", to: "18:00"}]'))
    phone = phone_at("2026-12-14 20:00")
    republish(phone.app, phone.settings)  # the edit, published
    call = phone.call(["2", "2"], caller=SHYMKENT_LANDLINE)
    assert call.numbers == [NATIONAL]


def test_an_unknown_region_goes_to_the_national_operators(phone_at) -> None:  # type: ignore[no-untyped-def]
    call = phone_at("2026-12-14 10:00").call(["2", "2", "", ""])  # silent in the region menu
    assert call.numbers[0] in (DINA, BORIS)


# --- what operators see ---------------------------------------------------------------------------

def test_operator_legs_show_the_hotline_number_never_the_callers(phone_at) -> None:  # type: ignore[no-untyped-def]
    for to in (ALMATY_ENTRY, "150"):  # a regional line's number, and the short code
        call = phone_at("2026-12-14 10:00").call(["2", "1"], to=to)
        dials = [d for body in call.responses for d in ET.fromstring(body).iter("Dial")]
        assert dials
        assert {d.get("callerId") for d in dials} == {HOTLINE_ID}
        assert all(CALLER not in body for body in call.responses)


def test_the_configured_caller_id_wins(settings: Settings, routing_flows: Path) -> None:
    from dataclasses import replace

    settings = replace(settings, caller_id="+77172000000")
    phone = Phone(make_app(settings, Clock(local("2026-12-14 10:00"))), settings)
    call = phone.call(["2", "1"], to=ALMATY_ENTRY)
    dials = [d for body in call.responses for d in ET.fromstring(body).iter("Dial")]
    assert {d.get("callerId") for d in dials} == {"+77172000000"}


def test_a_silent_caller_is_flagged_in_the_whisper(phone_at) -> None:  # type: ignore[no-untyped-def]
    call = phone_at("2026-12-14 10:00").call([])
    assert "whisper_silent" in [h.prompt for h in call.whispers[0][1]]


def test_simultaneous_ringing_rings_every_operator_at_once(phone_at, routing_flows: Path) -> None:  # type: ignore[no-untyped-def]
    flow = routing_flows / "hotline150.yaml"
    flow.write_text(flow.read_text().replace("    ring_seconds: 20\n",
                                             "    ring_seconds: 20\n    ring: all\n"))
    phone = phone_at("2026-12-14 10:00")
    republish(phone.app, phone.settings)
    call = phone.call(["2", "1"])
    assert call.numbers[0] == f"{DINA},{BORIS}"
    assert call.connected_to == DINA
