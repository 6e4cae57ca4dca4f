"""Twilio's debugger webhook: Twilio's own errors on the line, counted into the metrics.

Set it in the Twilio console (Monitor > Debugger > Webhook) to `https://<your host>/twilio/
debugger`. Each error Twilio meets on the account's calls (11200 an HTTP error from a webhook,
11205 a connection failure, 12100 a document that could not be parsed, ...) arrives here,
signed like every webhook, and counts into `ivr_twilio_errors_total{code}`: an alert can then
say that callers are meeting Twilio's errors, which the router itself cannot see. Twilio's
payload describes the failed request, the caller's number included: only the error's code is
read, and nothing of it is kept or logged.
"""

from __future__ import annotations

import json
import logging

from flask import Blueprint, Response

from ivr.web import twiml
from ivr.web.context import param
from ivr.web.metrics import TWILIO_ERRORS
from ivr.web.voice import check_signature

bp = Blueprint("debugger", __name__)
bp.before_request(check_signature)
log = logging.getLogger("ivr.twilio")


def error_code(payload: str) -> str:
    """The error's code from Twilio's JSON payload: digits only, or `unknown`."""
    try:
        data = json.loads(payload)
        code = str(data.get("error_code", "")) if isinstance(data, dict) else ""
    except (ValueError, RecursionError):
        code = ""
    return code if code.isascii() and code.isdigit() and len(code) <= 6 else "unknown"


@bp.route(twiml.DEBUGGER_PATH, methods=["GET", "POST"])
def debugger() -> Response:
    code = error_code(param("Payload"))
    TWILIO_ERRORS.labels(code).inc()
    log.warning("Twilio reported error %s on the line (%s)", code,
                param("Level", "Error")[:10] or "Error")
    return Response("", status=204)


@bp.errorhandler(Exception)
def ignored(exc: Exception) -> Response:
    log.exception("the debugger webhook failed")
    return Response("", status=204)
