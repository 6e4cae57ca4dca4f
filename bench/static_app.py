"""The baseline for bench/webhooks.py: a bare Flask app answering static TwiML.

A call to it is three webhooks, each a fixed answer: the greeting's Gather, a prompt and a
hang-up, and the status callback. So the benchmark's simulated caller, the same code that
calls the router, can call it too.
"""

from __future__ import annotations

from flask import Flask, Response

GREETING = ('<?xml version="1.0" encoding="UTF-8"?><Response><Gather action="/voice/gather" '
            'numDigits="1" timeout="6"><Play>/audio/kk/greeting.wav</Play></Gather>'
            '<Redirect>/voice/gather</Redirect></Response>')
GOODBYE = ('<?xml version="1.0" encoding="UTF-8"?><Response><Play>/audio/ru/connecting.wav'
           '</Play><Hangup/></Response>')
ENDED = '<?xml version="1.0" encoding="UTF-8"?><Response/>'
ANSWERS = {"gather": GOODBYE, "status": ENDED}


def create_app() -> Flask:
    app = Flask(__name__)

    @app.get("/healthz")
    def healthz() -> str:
        return "ok"

    @app.post("/voice")
    @app.post("/voice/<path:rest>")
    def voice(rest: str = "") -> Response:
        return Response(ANSWERS.get(rest, GREETING), mimetype="text/xml")

    return app
