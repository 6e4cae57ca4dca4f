"""Every failure is answered with TwiML that reaches a person: never a 5xx, never silence."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from flask import Flask
from twilio.request_validator import RequestValidator

from ivr.engine.steps import Exit, ParseContext, Step
from ivr.engine.turn import Turn
from ivr.settings import Settings
from ivr.sim.embedded_redis import EmbeddedRedis
from ivr.source import Node
from tests.conftest import CALLER, EMERGENCY, NATIONAL, OPERATOR, Phone, make_app, republish

UNREACHABLE = "redis://127.0.0.1:1/0"


def app_without_redis(settings: Settings) -> tuple[Flask, Settings]:
    """A router started while Redis is unreachable, on a host that served before: it serves the
    version it served last, from its own copy."""
    make_app(settings)  # the host's earlier run, when Redis was there
    settings = replace(settings, redis_url=UNREACHABLE)
    return make_app(settings), settings

SAFE_START = [("fallback", "kk"), ("fallback", "ru")]


def signed_post(app: Flask, settings: Settings, path: str, params: dict[str, str],
                url_base: str = "http://localhost"):  # type: ignore[no-untyped-def]
    signature = RequestValidator(settings.twilio_auth_token).compute_signature(url_base + path,
                                                                               params)
    return app.test_client().post(path, data=params, headers={"X-Twilio-Signature": signature})


CALL = {"CallSid": "CA" + "5" * 32, "From": CALLER, "To": "150", "AccountSid": "AC" + "1" * 32}


@pytest.mark.parametrize("path", ["/voice", "/voice/gather", "/voice/dial", "/voice/status",
                                  "/voice/fallback", "/voice/fallback/dial"])
def test_unsigned_requests_are_refused(app: Flask, path: str) -> None:
    response = app.test_client().post(path, data=CALL)
    assert response.status_code == 403


def test_a_forged_signature_is_refused(app: Flask) -> None:
    forged = RequestValidator("not-the-token").compute_signature("http://localhost/voice", CALL)
    response = app.test_client().post("/voice", data=CALL,
                                      headers={"X-Twilio-Signature": forged})
    assert response.status_code == 403


def test_a_signature_for_other_parameters_is_refused(app: Flask, settings: Settings) -> None:
    signature = RequestValidator(settings.twilio_auth_token).compute_signature(
        "http://localhost/voice", CALL)
    response = app.test_client().post("/voice", data={**CALL, "Digits": "1"},
                                      headers={"X-Twilio-Signature": signature})
    assert response.status_code == 403


def test_behind_an_https_proxy_the_public_url_validates(settings: Settings) -> None:
    settings = replace(settings, public_base_url="https://ivr.example.org")
    app = make_app(settings)
    assert signed_post(app, settings, "/voice", CALL, "https://ivr.example.org").status_code == 200
    assert signed_post(app, settings, "/voice", CALL, "http://localhost").status_code == 403


def test_behind_an_https_proxy_a_whole_call_works(settings: Settings) -> None:
    settings = replace(settings, public_base_url="https://ivr.example.org")
    phone = Phone(make_app(settings), settings)
    call = phone.call(["2", "1"])
    assert call.connected_to == OPERATOR
    assert all(h.via == "play" for h in call.heard)
    assert "https://ivr.example.org/voice/gather" in call.responses[0]


def test_a_webhook_without_a_callsid_gets_the_safe_answer(app: Flask, settings: Settings) -> None:
    response = signed_post(app, settings, "/voice", {"To": "150"})
    assert response.status_code == 200
    assert f"<Number>{NATIONAL}</Number>" in response.get_data(as_text=True)


def test_a_dial_result_for_an_unknown_call_gets_the_safe_answer(app: Flask,
                                                                 settings: Settings) -> None:
    response = signed_post(app, settings, "/voice/dial", {**CALL, "DialCallStatus": "busy"})
    assert response.status_code == 200
    assert f"<Number>{NATIONAL}</Number>" in response.get_data(as_text=True)


def test_an_unknown_voice_path_gets_the_safe_answer(app: Flask, settings: Settings) -> None:
    response = signed_post(app, settings, "/voice/nonsense", CALL)
    assert response.status_code == 200
    assert f"<Number>{NATIONAL}</Number>" in response.get_data(as_text=True)


@dataclass(frozen=True)
class Explode(Step):
    """A step that fails at run time, as a bug in a step type would."""

    TYPE = "explode"
    SCHEMA = {"next": {"type": "string"}}  # noqa: RUF012
    REQUIRED = ("next",)
    next: str = ""

    @classmethod
    def parse(cls, raw: Node, ctx: ParseContext) -> Step:
        return cls(ctx.step, raw.line, str(raw["next"]))

    def exits(self) -> tuple[Exit, ...]:
        return (Exit(self.next, self.line, "next", silent=True),)

    def enter(self, turn: Turn) -> str | None:
        raise RuntimeError("a bug inside a step")


def test_an_exception_inside_a_step_gets_200_and_the_safe_path(
    settings: Settings, flows_dir: Path, register_step, caplog: pytest.LogCaptureFixture  # type: ignore[no-untyped-def]
) -> None:
    register_step(Explode)
    flow = flows_dir / "hotline150.yaml"
    text = flow.read_text().replace('"2": russian', '"2": boom')
    flow.write_text(text + "\n  boom:\n    type: explode\n    next: russian\n")
    phone = Phone(make_app(settings), settings)
    call = phone.call(["2"])
    assert call.status_codes == [200] * len(call.status_codes)
    assert call.prompts[4:6] == SAFE_START
    assert call.dialled == [(NATIONAL, "completed")]
    assert "a bug inside a step" in caplog.text
    assert CALLER not in caplog.text


def test_redis_stopped_in_the_middle_of_a_call_still_connects_the_caller(
    settings: Settings,
) -> None:
    server = EmbeddedRedis().start()
    try:
        settings = replace(settings, redis_url=server.url)
        phone = Phone(make_app(settings), settings)
        keys = iter(["2", "1"])

        def press_then_lose_redis() -> str | None:
            key = next(keys, None)
            if key == "1":
                server.stop()  # the caller has chosen Russian; Redis dies before "1"
            return key

        call = phone.call(press_then_lose_redis, status=False)
    finally:
        server.stop()
    assert ("main_menu", "ru") in call.prompts
    assert call.prompts[-2:] == SAFE_START
    assert call.connected_to == NATIONAL


def test_redis_unreachable_from_the_start_still_connects_the_caller(settings: Settings) -> None:
    app, settings = app_without_redis(settings)
    phone = Phone(app, settings)
    call = phone.call([], ["busy", "no-answer"], status=False)
    assert call.prompts[:2] == SAFE_START
    assert call.numbers == [NATIONAL, EMERGENCY]
    assert call.prompts[-2:] == [("all_busy", "kk"), ("all_busy", "ru")]
    assert call.ended == "hangup"


def test_the_fallback_url_connects_without_redis_or_the_flow(settings: Settings) -> None:
    app, settings = app_without_redis(settings)
    body = signed_post(app, settings, "/voice/fallback", CALL).get_data(as_text=True)
    assert "/audio/kk/fallback." in body
    assert "/audio/ru/fallback." in body
    assert f"<Number>{NATIONAL}</Number>" in body


def test_the_fallback_ends_quietly_after_a_completed_conversation(app: Flask,
                                                                   settings: Settings) -> None:
    body = signed_post(app, settings, "/voice/fallback/dial?leg=0",
                       {**CALL, "DialCallStatus": "completed"}).get_data(as_text=True)
    assert "<Hangup" in body
    assert "<Dial" not in body
    assert "all_busy" not in body


def test_configured_fallback_numbers_replace_the_flows_lines(settings: Settings) -> None:
    settings = replace(settings, fallback_numbers=("+77272000000",))
    app = make_app(settings)
    body = signed_post(app, settings, "/voice/fallback", CALL).get_data(as_text=True)
    assert "<Number>+77272000000</Number>" in body


def test_healthz_reports_redis_without_failing(settings: Settings) -> None:
    up = make_app(settings).test_client().get("/healthz")
    assert up.status_code == 200
    assert up.get_json()["redis"] == "ok"
    app, _ = app_without_redis(settings)
    down = app.test_client().get("/healthz")
    assert down.status_code == 200
    assert down.get_json()["redis"] == "unreachable"
    assert down.get_json()["version"] == up.get_json()["version"]


def test_recordings_are_served_for_caching(app: Flask) -> None:
    client = app.test_client()
    name = app.extensions["ivr.voice"].snapshot().catalogue.recording("greeting", "kk")
    with client.get(f"/audio/{name.published_name}") as first:
        assert first.status_code == 200
        assert first.mimetype in ("audio/wav", "audio/x-wav")
        assert first.get_data()[:4] == b"RIFF"
        etag = first.headers["ETag"]
        assert etag
        assert first.headers["Cache-Control"] == "public, max-age=31536000"
    with client.get(f"/audio/{name.published_name}", headers={"If-None-Match": etag}) as again:
        assert again.status_code == 304
    with client.get("/audio/kk/greeting.wav") as plain:
        assert plain.status_code == 404  # only published, content-addressed names
    with client.get("/audio/kk/../../pyproject.toml") as escape:
        assert escape.status_code == 404
    with client.get("/audio/xx/greeting.wav") as unknown:
        assert unknown.status_code == 404


def test_a_repeated_incoming_webhook_repeats_the_greeting(phone: Phone) -> None:
    sim = phone.start()
    first = sim.post("/voice")
    second = sim.post("/voice")
    assert [e.tag for e in first] == [e.tag for e in second] == ["Gather", "Redirect"]
    assert len(list(second[0])) == 4


def test_a_stale_dial_result_during_a_menu_repeats_the_menu(phone: Phone) -> None:
    sim = phone.start()
    sim.post("/voice")
    sim.post("/voice/gather", {"Digits": "2"})
    document = sim.post("/voice/dial", {"DialCallStatus": "busy"})
    assert document[0].tag == "Gather"
    assert "/audio/ru/main_menu." in (document[0][0].text or "")


def test_a_recording_is_published_under_a_name_with_its_content_hash(
    settings: Settings, tmp_path: Path
) -> None:
    import re
    import shutil

    audio = tmp_path / "audio"
    shutil.copytree(settings.audio_dir, audio)
    settings = replace(settings, audio_dir=audio)
    app = make_app(settings)
    body = signed_post(app, settings, "/voice/fallback", CALL).get_data(as_text=True)
    name = re.search(r"/audio/kk/(fallback\.[0-9a-f]{12}\.wav)", body)
    assert name is not None
    with app.test_client().get(f"/audio/kk/{name[1]}") as served:
        assert served.status_code == 200
        assert served.get_data() == (audio / "kk" / "fallback.wav").read_bytes()
    (audio / "kk" / "fallback.wav").write_bytes((audio / "kk" / "hold.wav").read_bytes())
    republish(app, settings)
    renamed = signed_post(app, settings, "/voice/fallback", CALL).get_data(as_text=True)
    assert name[1] not in renamed  # a new recording, a new name: no stale cache anywhere
    with app.test_client().get(f"/audio/kk/{name[1]}") as old:  # calls still on the old one
        assert old.status_code == 200


def test_a_signature_over_the_url_with_its_default_port_is_accepted(app: Flask,
                                                                    settings: Settings) -> None:
    # Twilio may sign https://host:443/... or https://host/...; both must be accepted.
    assert signed_post(app, settings, "/voice", CALL, "http://localhost:80").status_code == 200
