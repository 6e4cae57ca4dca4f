"""Twilio's webhooks: thin views over the call log, the engine and the renderer.

Every request is signed (403 otherwise). Every failure, whether an exception, Redis unreachable
or a request we cannot make sense of, is answered with the safe path's TwiML and status 200: a
5xx would make Twilio play an English error and hang up on the caller.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import redis
from flask import Blueprint, Flask, Response, current_app, request

from ivr.engine import FlowSet, replay
from ivr.engine.model import DialResult, Digits, Ended, Event, Start
from ivr.engine.steps import DTMF_KEYS
from ivr.records import build_record, enqueue_record
from ivr.settings import Settings
from ivr.signature import SignatureCheck
from ivr.state import CallLog, call_key
from ivr.twiml import Renderer, SafePath

log = logging.getLogger("ivr.webhooks")
bp = Blueprint("voice", __name__, url_prefix="/voice")
FINAL_STATUSES = frozenset({"completed", "busy", "failed", "no-answer", "canceled"})
XML = "text/xml"


@dataclass(frozen=True)
class Voice:
    """Everything the views need, assembled once by the app factory."""

    settings: Settings
    flows: FlowSet
    renderer: Renderer
    safe: SafePath
    signatures: SignatureCheck
    redis: redis.Redis
    calls: CallLog


class BadWebhook(Exception):
    """The request lacks what every Twilio voice webhook carries."""


def voice() -> Voice:
    ctx: Voice = current_app.extensions["ivr.voice"]
    return ctx


def twiml(body: str) -> Response:
    return Response(body, status=200, mimetype=XML)


@bp.before_request
def check_signature() -> Response | None:
    if not voice().signatures.is_valid(request):
        log.warning("refused a webhook with a missing or wrong signature: %s", request.path)
        return Response("Forbidden: bad or missing X-Twilio-Signature\n", status=403,
                        mimetype="text/plain")
    return None


@bp.errorhandler(Exception)
def safe_answer(exc: Exception) -> Response:
    if isinstance(exc, redis.RedisError):
        log.error("Redis unreachable (%s); the caller takes the safe path", type(exc).__name__)
    elif isinstance(exc, BadWebhook):
        log.warning("malformed webhook at %s: %s; the caller takes the safe path", request.path, exc)
    else:
        log.exception("webhook %s failed; the caller takes the safe path", request.path)
    return twiml(voice().safe.answer())


def _key() -> str:
    sid = request.form.get("CallSid", "")
    if not sid:
        raise BadWebhook("no CallSid")
    return call_key(voice().settings.hmac_secret, sid)


def _advance(event: Event) -> Response:
    ctx = voice()
    events = ctx.calls.append(_key(), event)
    if not isinstance(events[0], Start):
        raise BadWebhook("a webhook for a call whose start we do not know")
    flow = ctx.flows.flows[events[0].flow]
    _, reply = replay(flow, events)
    return twiml(ctx.renderer.render(reply))


@bp.post("")
def incoming() -> Response:
    ctx = voice()
    to = request.form.get("To", "")
    flow = ctx.flows.for_number(to)
    return _advance(Start(flow.name, flow.version, to, time.time()))


@bp.post("/gather")
def gathered() -> Response:
    digits = request.form.get("Digits", "")[:1]
    if digits and digits not in DTMF_KEYS:
        digits = "?"  # not a key any menu offers: counted as a wrong key
    return _advance(Digits(digits))


@bp.post("/dial")
def dialled() -> Response:
    bridged = request.form.get("DialBridged")
    return _advance(DialResult(
        status=request.form.get("DialCallStatus", "failed"),
        bridged=None if bridged is None else bridged.lower() == "true",
    ))


@bp.post("/status")
def status() -> Response:
    call_status = request.form.get("CallStatus", "")
    if call_status not in FINAL_STATUSES:
        return twiml("<Response/>")
    ctx = voice()
    key = _key()
    duration = request.form.get("CallDuration", "")
    events = ctx.calls.append(key, Ended(call_status, int(duration) if duration.isdigit() else None))
    if isinstance(events[0], Start):
        flow = ctx.flows.flows[events[0].flow]
        state, _ = replay(flow, events)
        enqueue_record(ctx.redis, ctx.settings.queue_name, build_record(key, flow, state))
    return twiml("<Response/>")


@bp.post("/fallback")
def fallback() -> Response:
    return twiml(voice().safe.answer())


@bp.post("/fallback/dial")
def fallback_dialled() -> Response:
    leg = request.args.get("leg", "0")
    return twiml(voice().safe.after_dial(request.form.get("DialCallStatus", "failed"),
                                         int(leg) if leg.isdigit() else 0))


@bp.post("/<path:rest>")
def unknown(rest: str) -> Response:
    log.warning("webhook to an unknown path /voice/%s; the caller takes the safe path", rest[:40])
    return twiml(voice().safe.answer())


def init_app(app: Flask, ctx: Voice) -> None:
    app.extensions["ivr.voice"] = ctx
    app.register_blueprint(bp)
