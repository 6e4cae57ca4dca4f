"""The voice webhooks' lean path (`ivr.web.lean`) answers as the Flask routes did, and its
shortcuts (the form reader, the signature, the answers built once, orjson) give exactly what
the general code gives."""

from __future__ import annotations

import importlib
import io
import json
import sys
import xml.etree.ElementTree as ET
from typing import Any
from urllib.parse import urlencode

import pytest
from flask import Flask
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from twilio.request_validator import RequestValidator
from werkzeug.wrappers import Request

from ivr import fastjson
from ivr.engine.model import Dial, Gather, Hangup, Hold, Reply, Speech
from ivr.routing.legs import Leg
from ivr.settings import Settings
from ivr.web.lean import MAX_BODY_BYTES, MAX_FORM_PARTS, Webhook
from ivr.web.signature import SignatureCheck
from tests.conftest import CALLER

CALL = {"CallSid": "CA" + "7" * 32, "From": CALLER, "To": "150", "AccountSid": "AC" + "1" * 32}


def signed(settings: Settings, path: str, params: dict[str, str]) -> dict[str, str]:
    signature = RequestValidator(settings.twilio_auth_token).compute_signature(
        "http://localhost" + path, params)
    return {"X-Twilio-Signature": signature}


def test_head_is_answered_as_get_without_a_body(app: Flask, settings: Settings) -> None:
    path = "/voice?" + urlencode(CALL)
    answer = app.test_client().head(path, headers=signed(settings, path, {}))
    assert answer.status_code == 200
    assert answer.data == b""
    assert answer.content_type.startswith("text/xml")


def test_options_says_the_methods_once_signed(app: Flask, settings: Settings) -> None:
    client = app.test_client()
    assert client.options("/voice/gather").status_code == 403
    answer = client.options("/voice/gather", headers=signed(settings, "/voice/gather", {}))
    assert answer.status_code == 200
    assert set(answer.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS", "POST"}


def test_an_unknown_voice_path_takes_the_safe_path_and_others_are_flasks(
        app: Flask, settings: Settings) -> None:
    client = app.test_client()
    answer = client.post("/voice/no/such/step", data=CALL,
                         headers=signed(settings, "/voice/no/such/step", CALL))
    assert answer.status_code == 200
    assert "Dial" in [verb.tag for verb in ET.fromstring(answer.data)]
    assert client.post("/voice/no/such/step", data=CALL).status_code == 403
    assert client.post("/voicemail", data=CALL).status_code == 404  # not a voice path


def test_a_forged_request_never_reaches_a_view(app: Flask, settings: Settings) -> None:
    forged = {"X-Twilio-Signature": "Zm9yZ2Vk"}
    for path in ("/voice", "/voice/gather?t=1", "/voice/operator/whisper?c=" + "a" * 32):
        assert app.test_client().post(path, data=CALL, headers=forged).status_code == 403


texts = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=30)


@hypothesis_settings(max_examples=200, deadline=None)
@given(url=texts, params=st.dictionaries(texts, texts, max_size=8))
def test_the_signature_is_twilios(url: str, params: dict[str, str]) -> None:
    check = SignatureCheck("t" * 32, None)
    assert check.signature("https://x.example/" + url, params) == \
        RequestValidator("t" * 32).compute_signature("https://x.example/" + url, params)


class Plain(Request):
    max_content_length = MAX_BODY_BYTES
    max_form_memory_size = MAX_BODY_BYTES
    max_form_parts = MAX_FORM_PARTS


def environ(body: bytes, content_type: str) -> dict[str, Any]:
    return {"REQUEST_METHOD": "POST", "PATH_INFO": "/voice", "SERVER_NAME": "localhost",
            "SERVER_PORT": "80", "wsgi.url_scheme": "http", "CONTENT_TYPE": content_type,
            "CONTENT_LENGTH": str(len(body)), "wsgi.input": io.BytesIO(body)}


@hypothesis_settings(max_examples=300, deadline=None)
@given(body=st.one_of(st.binary(max_size=200),
                      st.dictionaries(texts, texts, max_size=6).map(
                          lambda d: urlencode(d).encode()),
                      st.lists(st.sampled_from(["a=1", "b=%zz", "&", "=", "c", "d=%C3%A9", "+",
                                                "e=%ff", ";", "f=a+b"]), max_size=8).map(
                          lambda parts: "&".join(parts).encode())),
       content_type=st.sampled_from(["application/x-www-form-urlencoded",
                                     "application/x-www-form-urlencoded; charset=utf-8",
                                     "text/plain", ""]))
def test_the_form_reads_as_werkzeugs_parser_reads_it(body: bytes, content_type: str) -> None:
    def form(cls: type[Request]) -> list[tuple[str, str]] | str:
        try:
            return list(cls(environ(body, content_type)).form.items(multi=True))
        except Exception as exc:  # either must fail the same way
            return type(exc).__name__

    assert form(Webhook) == form(Plain)


values = st.recursive(
    st.none() | st.booleans() | st.integers(-2**53, 2**53) | texts |
    st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(texts, inner, max_size=4),
    max_leaves=12)


@hypothesis_settings(max_examples=300, deadline=None)
@given(value=values)
def test_orjson_and_the_standard_library_write_the_same_text(value: Any) -> None:
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    assert fastjson.loads(fastjson.dumps(value)) == json.loads(text)
    if "e" not in text.lower():  # exponents are spelled differently, and read the same
        assert fastjson.dumps(value) == text


def test_without_orjson_the_logs_work_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    from ivr.calls.log import decode, encode
    from ivr.engine.model import Start

    event = Start("f", "v", "150", 1765692000.25, "astana", "dialled", "ключ", "v1")
    with_orjson = encode(event)
    monkeypatch.setitem(sys.modules, "orjson", None)  # an install without the server extra
    plain = importlib.reload(fastjson)
    try:
        assert plain.dumps is plain._std_dumps
        assert plain.dumps({"k": "ключ", "at": 1765692000.25}) == \
            '{"k":"ключ","at":1765692000.25}'
        assert decode(plain.dumps(json.loads(with_orjson))) == event
    finally:
        monkeypatch.undo()
        importlib.reload(fastjson)


@pytest.mark.parametrize("reply", [
    Reply((Speech("greeting", "kk"), Speech("greeting", "ru")), Gather(6)),
    Reply((Speech("hold", "ru"),), Hold(8)),
    Reply((Speech("connecting", "ru"),), Dial((
        Leg("op:olga", "operator", "+77010000101", whisper=True, operator="olga"),
        Leg("line:national", "national", "+77172000150")), 20)),
    Reply((Speech("all_busy", "kk"),), Hangup()),
])
def test_an_answer_built_once_is_the_answer_built_anew(app: Flask, reply: Reply) -> None:
    ctx = app.extensions["ivr.voice"]
    renderer = ctx.renderer(ctx.snapshot())
    for token, turn, round_ in (("a" * 32, 3, 1765692000), ("", 0, 0), ("b" * 32, 12, 7)):
        assert renderer.render(reply, token, turn, round_) == \
            renderer._render(reply, token, str(turn), str(round_))
    speech = (Speech("whisper_call", "ru"), Speech("whisper_accept", "ru"))
    assert renderer.whisper(speech, "c" * 32, "op:olga") == \
        renderer._whisper(speech, "c" * 32, "op:olga")
