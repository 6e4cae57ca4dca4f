"""The baseline for bench/webhooks.py: a bare Flask app answering static TwiML."""

from __future__ import annotations

from flask import Flask, Response

TWIML = ('<?xml version="1.0" encoding="UTF-8"?><Response><Gather action="/voice/gather" '
         'numDigits="1" timeout="6"><Play>/audio/kk/greeting.wav</Play></Gather>'
         '<Redirect>/voice/gather</Redirect></Response>')


def create_app() -> Flask:
    app = Flask(__name__)

    @app.get("/healthz")
    def healthz() -> str:
        return "ok"

    @app.post("/voice")
    @app.post("/voice/<path:rest>")
    def voice(rest: str = "") -> Response:
        return Response(TWIML, mimetype="text/xml")

    return app
