"""Property-based tests: whatever Twilio (or anyone) sends, no caller is ever dropped.

A signed request always gets 200 and TwiML that keeps the caller going to a person, or ends a
call that is already over; an unsigned one gets 403; nothing gets a 5xx.
"""

from __future__ import annotations

import logging
import uuid
import xml.etree.ElementTree as ET
from typing import Any

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from twilio.request_validator import RequestValidator

from ivr.settings import Settings
from tests.conftest import CALLER, check_twiml

CALLER_PATHS = ["/voice", "/voice/gather", "/voice/dial", "/voice/fallback",
                "/voice/fallback/dial", "/voice/status", "/voice/operator/whisper",
                "/voice/operator/answer", "/voice/unknown/path"]
FIELDS = ["CallSid", "From", "To", "Digits", "DialCallStatus", "DialBridged", "CallStatus",
          "CallDuration", "AccountSid", "ParentCallSid"]
STATUSES = ["completed", "answered", "busy", "no-answer", "failed", "canceled", "ringing",
            "in-progress", ""]
ENDED = {"completed", "answered", "canceled"}
FUZZ = settings(max_examples=120, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])

values = st.one_of(
    st.text(max_size=40), st.text(min_size=2000, max_size=5000),
    st.sampled_from([*STATUSES, "0", "1", "9", "#", "*", "12", "", "true", "false", CALLER,
                     "anonymous", "+7", "150", "CA" + "1" * 32, "' OR 1=1 --", "<Hangup/>"]),
)
queries = st.one_of(st.just(""), st.sampled_from(
    ["?legs=op:olga", "?legs=line:national", "?leg=0", "?leg=99", "?leg=-1",
     "?c=" + "a" * 32 + "&leg=op:olga", "?c=zz&leg=%00", "?legs=" + "x" * 300]))


def post(app: Flask, settings_: Settings, path: str, form: dict[str, str], sign: bool = True
         ) -> Any:
    headers = {}
    if sign:
        headers["X-Twilio-Signature"] = RequestValidator(
            settings_.twilio_auth_token).compute_signature("http://localhost" + path, form)
    return app.test_client().post(path, data=form, headers=headers)


def keeps_caller_going(path: str, form: dict[str, str], body: str) -> bool:
    """The answer reaches or waits for a person, or ends a call that is over or was told
    where to call."""
    root = ET.fromstring(body)
    verbs = [verb.tag for verb in root]
    if path.startswith("/voice/operator") or path == "/voice/status":
        return True  # the operator's leg, or a call that has ended
    if any(tag in verbs for tag in ("Dial", "Gather", "Redirect")):
        return True
    if "Hangup" in verbs:
        told = any("all_busy" in (verb.text or "") for verb in root)
        return told or form.get("DialCallStatus") in ENDED or ("Digits" not in form and \
            path == "/voice/dial" and form.get("DialCallStatus", "failed") in ENDED)
    return False


@FUZZ
@given(path=st.sampled_from(CALLER_PATHS), query=queries,
       form=st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=20), values, max_size=8))
def test_signed_requests_always_get_200_and_twiml_that_keeps_the_caller_going(
    app: Flask, settings: Settings, caplog: pytest.LogCaptureFixture, path: str, query: str,
    form: dict[str, str]
) -> None:
    caplog.set_level(logging.DEBUG)
    answer = post(app, settings, path + query, form)
    assert CALLER not in caplog.text  # whatever a webhook carries, no log line repeats it
    assert answer.status_code == 200, answer.get_data(as_text=True)
    body = answer.get_data(as_text=True)
    check_twiml(body)
    assert keeps_caller_going(path, form, body), (path, form, body)


@FUZZ
@given(path=st.sampled_from(CALLER_PATHS), query=queries,
       form=st.dictionaries(st.sampled_from(FIELDS), values, max_size=6))
def test_unsigned_requests_get_403(app: Flask, settings: Settings, path: str, query: str,
                                   form: dict[str, str]) -> None:
    assert post(app, settings, path + query, form, sign=False).status_code == 403


event = st.one_of(
    st.tuples(st.just("/voice/gather"), st.fixed_dictionaries(
        {}, optional={"Digits": st.sampled_from(["1", "2", "9", "0", "7", "#", "", "55"])})),
    st.tuples(st.just("/voice/dial?legs=op:olga"), st.fixed_dictionaries(
        {"DialCallStatus": st.sampled_from(STATUSES)},
        optional={"DialBridged": st.sampled_from(["true", "false"])})),
    st.tuples(st.just("/voice/dial"), st.fixed_dictionaries(
        {"DialCallStatus": st.sampled_from(STATUSES)})),
    st.tuples(st.just("/voice"), st.just({})),
    st.tuples(st.just("/voice/status"), st.fixed_dictionaries(
        {"CallStatus": st.sampled_from(STATUSES)})),
)


FINAL = {"completed", "busy", "failed", "no-answer", "canceled"}


@FUZZ
@given(events=st.lists(event, max_size=12))
def test_replayed_and_out_of_order_webhooks_never_drop_the_caller(
    app: Flask, settings: Settings, events: list[tuple[str, dict[str, str]]]
) -> None:
    base = {"CallSid": "CA" + uuid.uuid4().hex, "From": CALLER, "To": "150"}
    over = False  # once Twilio said the call ended, or a connection completed, a hang-up is due
    for path, extra in events:  # whatever order, duplicates included; the call may not exist
        form = {**base, **extra}
        answer = post(app, settings, path, form)
        assert answer.status_code == 200
        body = answer.get_data(as_text=True)
        check_twiml(body)
        assert over or keeps_caller_going(path.split("?")[0], form, body), (events, path, body)
        over = over or (path == "/voice/status" and extra.get("CallStatus") in FINAL) or (
            path.startswith("/voice/dial") and extra.get("DialCallStatus") in ENDED)
