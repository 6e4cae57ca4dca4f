"""The second anchor for bench/webhooks.py: the call flow as anyone would first write it.

Flask views, Twilio's `RequestValidator`, the call's state as one JSON value in Redis (read,
changed, written back on every webhook), `VoiceResponse` for the TwiML, and one RQ job at the
end of the call that would store its record. It follows the shipped flow's shape (greeting with
the language choice, the main menu, a consultant with a whisper and press-1 accept, the
regional menu, emergency, the national line when nobody answers), so the benchmark's simulated
callers, which follow whatever TwiML they are given, make calls of the same length to it.

It is a yardstick, not a design: it keeps the CallSid in Redis and in URLs, reads no roster
beyond a fixed list, and has no safe path. Nothing of the router uses it.
"""

from __future__ import annotations

import json
import os
import time

from flask import Flask, Response, abort, request
from redis import Redis
from rq import Queue
from twilio.request_validator import RequestValidator
from twilio.twiml.voice_response import Dial, Gather, VoiceResponse

QUEUE = "naive-records"
CONSULTANTS = {"kk": ["+77010000001", "+77010000002"], "ru": ["+77010000003", "+77010000004"]}
NATIONAL, EMERGENCY = "+77172000150", "+77172000112"
CENTRES = {str(n): f"+7717200{n:04d}" for n in range(1, 10)}
TTL = 4 * 3600


def store_record(record: dict[str, object]) -> None:
    """The job: a real app would insert the record into its database here."""


def create_app() -> Flask:
    app = Flask(__name__)
    redis = Redis.from_url(os.environ["REDIS_URL"])
    queue = Queue(QUEUE, connection=redis)
    validator = RequestValidator(os.environ["TWILIO_AUTH_TOKEN"])

    @app.before_request
    def signed() -> None:
        if request.path == "/healthz":
            return
        if not validator.validate(request.url, request.form,
                                  request.headers.get("X-Twilio-Signature", "")):
            abort(403)

    def load() -> dict[str, object]:
        raw = redis.get("naive:" + request.form["CallSid"])
        return json.loads(raw) if raw else {"step": "greeting", "lang": "", "misses": 0,
                                            "events": [], "started": time.time()}

    def save(state: dict[str, object], event: str) -> None:
        state["events"].append([event, time.time()])  # type: ignore[attr-defined]
        redis.set("naive:" + request.form["CallSid"], json.dumps(state), ex=TTL)

    def twiml(response: VoiceResponse) -> Response:
        return Response(str(response), mimetype="text/xml")

    def menu(state: dict[str, object], prompts: list[str]) -> Response:
        response = VoiceResponse()
        gather = Gather(action="/voice/gather", num_digits=1, timeout=6)
        for prompt in prompts:
            for lang in [state["lang"]] if state["lang"] else ["kk", "ru"]:
                gather.play(f"/audio/{lang}/{prompt}.wav")
        response.append(gather)
        response.redirect("/voice/gather")
        return twiml(response)

    def connect(state: dict[str, object], target: str) -> Response:
        state["step"], state["target"] = "dialling", target
        save(state, "route")
        response = VoiceResponse()
        response.play(f"/audio/{state['lang'] or 'ru'}/connecting.wav")
        dial = Dial(action="/voice/dial", timeout=20, caller_id=NATIONAL)
        if target == "consultant":
            number = CONSULTANTS[str(state["lang"] or "ru")][0]
            dial.number(number, url=f"/voice/operator/whisper?call={request.form['CallSid']}")
        else:
            dial.number({"national": NATIONAL, "emergency": EMERGENCY}.get(
                target, CENTRES.get(str(state.get("region")), NATIONAL)))
        response.append(dial)
        return twiml(response)

    @app.get("/healthz")
    def healthz() -> str:
        return "ok"

    @app.post("/voice")
    def incoming() -> Response:
        state = load()
        save(state, "start")
        return menu(state, ["greeting", "greeting_tail"])

    @app.post("/voice/gather")
    def gathered() -> Response:
        state = load()
        key = request.form.get("Digits", "")
        step = state["step"]
        if key in ("0", "9") and step in ("greeting", "menu"):
            return connect(state, "consultant" if key == "0" else "emergency")
        if step == "greeting":
            if key in ("1", "2"):
                state["lang"], state["step"] = ("kk" if key == "1" else "ru"), "menu"
                save(state, "lang")
                return menu(state, ["main_menu"])
        elif step == "menu":
            if key == "1":
                return connect(state, "consultant")
            if key == "2":
                state["step"] = "region"
                save(state, "region menu")
                return menu(state, ["region_menu"])
        elif step == "region":
            state["region"] = key
            return connect(state, "centre")
        state["misses"] = int(state["misses"]) + 1  # type: ignore[call-overload]
        if int(state["misses"]) > 1:  # type: ignore[call-overload]
            return connect(state, "consultant")
        save(state, "miss")
        return menu(state, ["no_input" if not key else "wrong_key",
                            "main_menu" if step == "menu" else "greeting"])

    @app.post("/voice/dial")
    def dialled() -> Response:
        state = load()
        response = VoiceResponse()
        if request.form.get("DialCallStatus") == "completed":
            save(state, "talked")
            response.hangup()
            return twiml(response)
        if state.get("target") != "national":
            return connect(state, "national")
        save(state, "all busy")
        response.play(f"/audio/{state['lang'] or 'ru'}/all_busy.wav")
        response.hangup()
        return twiml(response)

    @app.post("/voice/operator/whisper")
    def whisper() -> Response:
        response = VoiceResponse()
        gather = Gather(action=f"/voice/operator/answer?call={request.args['call']}",
                        num_digits=1, timeout=10)
        gather.play("/audio/ru/whisper.wav")
        response.append(gather)
        response.hangup()
        return twiml(response)

    @app.post("/voice/operator/answer")
    def accepted() -> Response:
        response = VoiceResponse()
        if request.form.get("Digits") != "1":
            response.hangup()
        return twiml(response)

    @app.post("/voice/status")
    def status() -> Response:
        state = load()
        queue.enqueue(store_record, {
            "language": state["lang"], "outcome": state.get("target", ""),
            "seconds": request.form.get("CallDuration"), "events": state["events"]})
        redis.delete("naive:" + request.form["CallSid"])
        return twiml(VoiceResponse())

    return app
