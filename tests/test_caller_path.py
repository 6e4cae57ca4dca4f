"""The caller's path through the default 150 flow, as a caller meets it over Twilio."""

from __future__ import annotations

import pytest

from tests.conftest import EMERGENCY, NATIONAL, OPERATOR, Phone

GREETING = [("greeting", "kk"), ("greeting", "ru"), ("greeting_tail", "kk"),
            ("greeting_tail", "ru")]


def test_caller_who_presses_nothing_reaches_an_operator(phone: Phone) -> None:
    call = phone.call([])
    assert call.prompts[:4] == GREETING
    assert ("no_input", "kk") in call.prompts
    assert ("no_input", "ru") in call.prompts
    assert call.prompts[-2:] == [("connecting", "kk"), ("connecting", "ru")]
    assert call.dialled == [(OPERATOR, "completed")]
    assert call.ended == "hangup"


def test_silent_caller_is_recorded_as_silent(phone: Phone) -> None:
    phone.call([])
    (record,) = phone.store_records()
    assert record["silent"] == 1
    assert record["outcome"] == "connected"
    assert record["destination"] == "operators"
    assert record["operator"] == "olga"
    assert record["language"] is None


def test_silence_after_choosing_a_language_reaches_an_operator(phone: Phone) -> None:
    call = phone.call(["2"])
    assert ("main_menu", "ru") in call.prompts
    assert ("no_input", "ru") in call.prompts
    assert call.numbers == [OPERATOR]


def test_wrong_keys_reach_an_operator_flagged_silent(phone: Phone) -> None:
    call = phone.call(["5", "#", "*"])
    assert call.prompts.count(("wrong_key", "kk")) == 2
    assert call.numbers == [OPERATOR]
    (record,) = phone.store_records()
    assert record["silent"] == 1


def test_a_wrong_key_is_explained_and_the_menu_repeated(phone: Phone) -> None:
    call = phone.call(["7", "2", "1"])
    after_wrong = call.prompts[4:6]
    assert after_wrong == [("wrong_key", "kk"), ("wrong_key", "ru")]
    assert call.prompts[6:10] == GREETING
    assert ("main_menu", "ru") in call.prompts
    assert call.numbers == [OPERATOR]


@pytest.mark.parametrize("keys", [["0"], ["1", "0"], ["2", "0"]],
                         ids=["greeting", "main_menu_kk", "main_menu_ru"])
def test_zero_reaches_an_operator_from_every_menu(phone: Phone, keys: list[str]) -> None:
    call = phone.call(keys)
    assert call.numbers == [OPERATOR]
    assert call.connected_to == OPERATOR


@pytest.mark.parametrize(("keys", "language"), [(["9"], None), (["1", "9"], "kk"),
                                                (["2", "9"], "ru")])
def test_nine_tells_the_caller_about_102_and_connects_the_emergency_desk(
    phone: Phone, keys: list[str], language: str | None
) -> None:
    call = phone.call(keys)
    expected = [("emergency", language)] if language else [("emergency", "kk"),
                                                           ("emergency", "ru")]
    assert [p for p in call.prompts if p[0] == "emergency"] == expected
    assert call.numbers == [EMERGENCY]
    (record,) = phone.store_records()
    assert record["emergency"] == 1
    assert record["destination"] == "emergency"


def test_emergency_desk_unanswered_falls_back_to_an_operator_then_the_national_line(
    phone: Phone,
) -> None:
    call = phone.call(["2", "9"], ["no-answer", "busy"])
    assert call.dialled == [(EMERGENCY, "no-answer"), (OPERATOR, "busy"),
                            (NATIONAL, "completed")]
    assert ("hold", "ru") in call.prompts


def test_kazakh_caller_hears_only_kazakh_recordings(phone: Phone) -> None:
    call = phone.call(["1", "1"])
    after_greeting = call.heard[4:]
    assert [h.language for h in after_greeting] == ["kk"] * len(after_greeting)
    assert all(h.via == "play" for h in call.heard)
    assert call.connected_to == OPERATOR


def test_russian_caller_reaches_an_operator(phone: Phone) -> None:
    call = phone.call(["2", "1"])
    assert [p for p in call.prompts[4:]] == [("main_menu", "ru"), ("connecting", "ru")]
    assert call.connected_to == OPERATOR


def test_crisis_centre_choice_asks_the_region_and_rings_its_centre(phone: Phone) -> None:
    call = phone.call(["2", "2", "1", "2"])
    assert ("region_menu", "ru") in call.prompts
    assert ("region_group_1", "ru") in call.prompts
    assert call.connected_to == "+77081060810"  # the Almaty city centre
    (record,) = phone.store_records()
    assert record["menu_path"] == ["greeting", "russian", "main_menu", "crisis_centre",
                                   "regional_centre"]
    assert record["region"] == "almaty_city"
    assert record["region_source"] == "chosen"
    assert record["destination"] == "regional"


def test_a_region_without_a_centre_goes_to_the_operators(phone: Phone) -> None:
    call = phone.call(["2", "2", "1", "1"])  # Astana has no line in the shipped regions
    assert call.connected_to == OPERATOR


@pytest.mark.parametrize("outcome", ["busy", "no-answer", "failed"])
def test_a_failed_connection_moves_to_the_next_destination(phone: Phone, outcome: str) -> None:
    call = phone.call(["2", "1"], [outcome])
    assert call.dialled == [(OPERATOR, outcome), (NATIONAL, "completed")]
    assert ("hold", "ru") in call.prompts


def test_when_nobody_answers_the_caller_is_told_where_to_call(phone: Phone) -> None:
    call = phone.call(["2", "1"], ["busy", "no-answer"])
    assert call.numbers == [OPERATOR, NATIONAL]
    assert call.prompts[-1] == ("all_busy", "ru")
    assert "102" in call.heard[-1].text
    assert "150" in call.heard[-1].text
    assert call.ended == "hangup"
    (record,) = phone.store_records()
    assert record["outcome"] == "no-one-answered"


def test_a_completed_connection_ends_the_call(phone: Phone) -> None:
    call = phone.call(["2", "1"], ["completed"])
    assert call.dialled == [(OPERATOR, "completed")]
    assert call.ended == "hangup"


def test_a_caller_who_hangs_up_while_it_rings_is_not_dialled_again(phone: Phone) -> None:
    call = phone.call(["2", "1"], ["canceled"])
    assert call.dialled == [(OPERATOR, "canceled")]
    assert call.ended == "hangup"
    (record,) = phone.store_records()
    assert record["outcome"] == "caller-hung-up-while-connecting"


def test_a_caller_who_hangs_up_in_a_menu_is_recorded_so(phone: Phone) -> None:
    sim = phone.start()
    sim.post("/voice")
    sim.post("/voice/gather", {"Digits": "2"})
    sim.post("/voice/status", {"CallStatus": "completed", "CallDuration": "9"})
    (record,) = phone.store_records()
    assert record["outcome"] == "caller-hung-up-in-menu"
    assert record["language"] == "ru"
    assert record["duration_seconds"] == 9
