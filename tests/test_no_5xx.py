"""No 5xx, whatever arrives: any body size, either method a number can be set to, any encoding.

A caller-facing endpoint answers a signed request with 200 and TwiML (the safe path when it
cannot make sense of it), a forged one with 403; an operator's leg hangs up; `/api/tags`
answers 4xx with a sentence for every bad request.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import replace
from typing import Any
from urllib.parse import urlencode

import pytest
from flask import Flask
from twilio.request_validator import RequestValidator

from ivr.records.tags import signed_headers
from ivr.settings import Settings
from tests.conftest import CALLER, Phone, make_app

CALLER_PATHS = ["/voice", "/voice/gather", "/voice/dial?legs=op:olga&t=3", "/voice/status",
                "/voice/fallback", "/voice/fallback/dial?leg=0", "/voice/unknown/path"]
OPERATOR_PATHS = ["/voice/operator/whisper?c=" + "a" * 32 + "&leg=op:olga",
                  "/voice/operator/answer?c=" + "a" * 32 + "&leg=op:olga"]
CALL = {"CallSid": "CA" + "4" * 32, "From": CALLER, "To": "150", "AccountSid": "AC" + "1" * 32,
        "CallStatus": "completed", "CallDuration": "42", "DialCallStatus": "no-answer"}


def sign(settings: Settings, url: str, params: dict[str, str]) -> str:
    return str(RequestValidator(settings.twilio_auth_token).compute_signature(url, params))


def verbs(body: bytes) -> list[str]:
    return [verb.tag for verb in ET.fromstring(body)]


@pytest.mark.parametrize("size", [70 * 1024, 3 * 1024 * 1024])
@pytest.mark.parametrize("path", CALLER_PATHS + OPERATOR_PATHS)
def test_a_large_body_gets_its_answer_and_a_forged_one_403(
        app: Flask, settings: Settings, path: str, size: int) -> None:
    params = {**CALL, "Junk": "x" * size}
    client = app.test_client()
    signed = client.post(path, data=params,
                         headers={"X-Twilio-Signature": sign(settings, "http://localhost" + path,
                                                             params)})
    assert signed.status_code == 200
    assert signed.mimetype == "text/xml"
    ET.fromstring(signed.data)
    forged = client.post(path, data=params, headers={"X-Twilio-Signature": "Zm9yZ2Vk"})
    assert forged.status_code == 403


def test_a_body_beyond_what_the_router_reads_is_refused_not_failed(
        app: Flask, settings: Settings) -> None:
    params = {**CALL, "Junk": "x" * (17 * 1024 * 1024)}
    answer = app.test_client().post("/voice", data=params, headers={
        "X-Twilio-Signature": sign(settings, "http://localhost/voice", params)})
    assert answer.status_code == 403


def test_the_status_of_a_call_with_a_large_body_is_still_recorded(phone: Phone) -> None:
    sim = phone.start()
    sim.run(status=False)
    sim.post("/voice/status", {"CallStatus": "completed", "CallDuration": "61",
                               "Junk": "x" * (200 * 1024)})
    (row,) = phone.store_records()
    assert row["duration_seconds"] == 61


@pytest.mark.parametrize("body", [
    b"CallSid=CA%FF%FE&From=%2B7701%C3&To=150&Digits=%E2%82",  # broken percent-escapes
    "CallSid=CA1&From=Дина&To=١٥٠&Digits=٣".encode(),  # raw UTF-8, Arabic-Indic digits
    b"\xff\xfe\x00C\x00a\x00l\x00l",  # bytes that are no form at all
    b"CallSid=" + b"%" * 5000,
])
@pytest.mark.parametrize("content_type", [
    "application/x-www-form-urlencoded", "application/x-www-form-urlencoded; charset=utf-16",
    "multipart/form-data; boundary=x", "application/json", "text/plain; charset=koi8-r"])
def test_broken_encodings_get_403_unsigned_and_never_a_5xx(
        app: Flask, body: bytes, content_type: str) -> None:
    for path in CALLER_PATHS + OPERATOR_PATHS:
        answer = app.test_client().post(path, data=body, content_type=content_type,
                                        headers={"X-Twilio-Signature": "AAAA"})
        assert answer.status_code == 403, (path, answer.status_code)


def test_a_signed_webhook_with_a_broken_encoding_gets_the_safe_path(
        app: Flask, settings: Settings) -> None:
    body = b"CallSid=CA%FF%FE1&From=%2B7701%C3&To=150"
    # Sign what the router will read: werkzeug replaces undecodable bytes.
    form = app.test_request_context("/voice", method="POST", data=body,
                                    content_type="application/x-www-form-urlencoded").request.form
    signature = sign(settings, "http://localhost/voice", form.to_dict())
    answer = app.test_client().post("/voice", data=body, headers={"X-Twilio-Signature": signature},
                                    content_type="application/x-www-form-urlencoded")
    assert answer.status_code == 200
    assert "Gather" in verbs(answer.data) or "Dial" in verbs(answer.data)


def test_a_number_set_to_get_takes_whole_calls_and_records_them(phone: Phone) -> None:
    call = phone.call(["2", "1"], method="GET")
    assert call.connected_to is not None
    assert set(call.status_codes) == {200}
    (row,) = phone.store_records()
    assert row["outcome"] == "connected"
    assert row["language"] == "ru"


def test_a_get_is_signed_over_its_query_string(app: Flask, settings: Settings) -> None:
    path = "/voice?" + urlencode(CALL)
    good = sign(settings, "http://localhost" + path, {})
    assert app.test_client().get(path, headers={"X-Twilio-Signature": good}).status_code == 200
    tampered = "/voice?" + urlencode({**CALL, "To": "+77272000100"})
    assert app.test_client().get(tampered, headers={"X-Twilio-Signature": good}).status_code == 403


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH"])
def test_methods_twilio_never_uses_get_4xx(app: Flask, method: str) -> None:
    assert app.test_client().open("/voice", method=method, data=CALL).status_code == 405


def test_an_operator_leg_that_makes_no_sense_hangs_up(app: Flask, settings: Settings) -> None:
    for path in OPERATOR_PATHS:
        leg = {"CallSid": "CA" + "9" * 32, "Digits": "1"}
        answer = app.test_client().post(path, data=leg, headers={
            "X-Twilio-Signature": sign(settings, "http://localhost" + path, leg)})
        assert answer.status_code == 200
        assert verbs(answer.data) == ["Hangup"]


# --- /api/tags ---------------------------------------------------------------------------------

@pytest.fixture
def tagging(settings: Settings, database_url: str, monkeypatch: pytest.MonkeyPatch
            ) -> Phone:
    monkeypatch.setenv("DATABASE_URL", database_url)
    settings = replace(settings, database_url=database_url, tags_secret="t" * 32)
    return Phone(make_app(settings), settings)


def post_tags(phone: Phone, data: Any = None, body: bytes | None = None,
              now: float | None = None) -> Any:
    body = json.dumps(data).encode() if body is None else body
    clock = phone.app.extensions["ivr.voice"].clock
    return phone.app.test_client().post("/api/tags", data=body, headers=signed_headers(
        phone.settings.tags_secret, body, clock() if now is None else now))


def test_tagging_before_the_first_record_is_stored_is_404(tagging: Phone) -> None:
    answer = post_tags(tagging, {"operator": "olga", "at": "2026-12-14T10:20:00+05:00",
                                 "categories": ["legal"]})
    assert answer.status_code == 404
    assert "no call is stored yet" in answer.get_json()["error"]


@pytest.mark.parametrize("at", ["0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00",
                                "0001-01-01T03:00:00+14:00", "1969-07-20T20:17:00Z"])
def test_tagging_at_a_time_no_call_could_have_is_400(tagging: Phone, at: str) -> None:
    tagging.call(["2", "1"])
    tagging.store_records()
    answer = post_tags(tagging, {"operator": "olga", "at": at, "categories": ["legal"]})
    assert answer.status_code == 400
    assert "not a time any call could have" in answer.get_json()["error"]


@pytest.mark.parametrize("body", [
    b"[" * 100_000 + b"]" * 100_000,
    b'{"a":' * 30_000 + b"1" + b"}" * 30_000,
    b"\xff\xfe not json",
    b'{"categories": [{"x": 1}], "call": "k"}',
    b'{"categories": ["legal"], "call": 12}',
    b'{"categories": ["legal"], "operator": ["olga"], "at": 5}',
    b'"just a string"',
])
def test_tagging_with_a_hostile_body_is_400(tagging: Phone, body: bytes) -> None:
    tagging.call(["2", "1"])
    tagging.store_records()
    answer = post_tags(tagging, body=body)
    assert answer.status_code in (400, 413), answer.get_data(as_text=True)
    assert answer.get_json()["error"]


def test_tagging_with_an_oversized_body_is_413(tagging: Phone) -> None:
    answer = post_tags(tagging, body=b" " * (65 * 1024) + b"{}")
    assert answer.status_code == 413


def test_a_signed_tagging_request_cannot_be_replayed_later(tagging: Phone) -> None:
    tagging.call(["2", "1"])
    tagging.store_records()
    data = {"operator": "olga", "at": "2026-12-14T10:20:00+05:00", "categories": ["legal"]}
    clock = tagging.app.extensions["ivr.voice"].clock
    assert post_tags(tagging, data).status_code == 200
    for late in (clock() - 301, clock() + 301, clock() - 86400 * 30):
        answer = post_tags(tagging, data, now=late)
        assert answer.status_code == 403
        assert "X-IVR-Timestamp is not within 300 s" in answer.get_json()["error"]
    body = json.dumps(data).encode()
    headers = signed_headers(tagging.settings.tags_secret, body, clock())
    headers["X-IVR-Timestamp"] = str(int(clock()) + 5)  # the timestamp is inside the signature
    answer = tagging.app.test_client().post("/api/tags", data=body, headers=headers)
    assert answer.status_code == 403


def test_tagging_while_the_database_is_unreachable_is_503_not_500(
        settings: Settings) -> None:
    settings = replace(settings, database_url="postgresql://nobody@127.0.0.1:1/none",
                       tags_secret="t" * 32)
    phone = Phone(make_app(settings), settings)
    answer = post_tags(phone, {"operator": "olga", "at": "2026-12-14T10:20:00+05:00",
                               "categories": ["legal"]})
    assert answer.status_code == 503
    assert "cannot be reached" in answer.get_json()["error"]
