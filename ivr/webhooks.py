"""Twilio's webhooks: thin views over the call log, the engine and the renderer.

Every request is signed (403 otherwise). Every failure on the caller's side, whether an
exception, Redis unreachable or a request we cannot make sense of, is answered with the safe
path's TwiML and status 200: a 5xx would make Twilio play an English error and hang up on the
caller. On an operator's leg a failure hangs up that leg, and the caller's call moves on.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

import redis
from flask import Blueprint, Flask, Response, current_app, request

from ivr.engine import FlowSet, replay
from ivr.engine.model import Accepted, DialResult, Digits, Ended, Event, Start
from ivr.engine.steps import DTMF_KEYS
from ivr.library import Library
from ivr.pseudonyms import CallerKeys, call_key
from ivr.records import enqueue_record, lost_log_record, record_from_log, spool_entry
from ivr.routing.whisper import whisper
from ivr.settings import Settings
from ivr.signature import SignatureCheck
from ivr.spool import Spool
from ivr.state import CallLog
from ivr.twiml import Renderer, SafePath

log = logging.getLogger("ivr.webhooks")
bp = Blueprint("voice", __name__, url_prefix="/voice")
operator_bp = Blueprint("operator", __name__, url_prefix="/operator")
FINAL_STATUSES = frozenset({"completed", "busy", "failed", "no-answer", "canceled"})
LEG_ID = re.compile(r"^[a-z]+:[A-Za-z0-9_.:-]{1,64}$")
CALL_KEY = re.compile(r"^[0-9a-f]{32}$")
XML = "text/xml"
MAX_EVENTS = 300  # a real call has a few dozen; beyond this, replaying would cost too much


@dataclass(frozen=True)
class Voice:
    """Everything the views need, assembled once by the app factory."""

    settings: Settings
    library: Library
    safe: SafePath
    signatures: SignatureCheck
    redis: redis.Redis
    calls: CallLog
    caller_keys: CallerKeys
    spool: Spool
    clock: Callable[[], float] = time.time  # seconds since the epoch; tests fix it

    def flows(self, started: Start | None = None) -> FlowSet:
        """What is in force now, or what the call started on when `started` is given."""
        return self.library.version(started.published) if started else self.library.current()

    def renderer(self, flows: FlowSet) -> Renderer:
        return Renderer(flows.catalogue, self.settings.public_base_url or "",
                        self.settings.caller_id)

    def safe_path(self) -> SafePath:
        """The safe path with the recordings in force; the one built at start-up if even
        that fails (it needs neither Redis nor the flow engine)."""
        try:
            return SafePath(self.renderer(self.library.current()), self.safe.numbers)
        except Exception:
            return self.safe

    def reload(self, force: bool = False) -> bool:
        return self.library.reload(force)


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


def _log_failure(exc: Exception, who: str) -> None:
    if isinstance(exc, redis.RedisError):
        log.error("Redis unreachable (%s); %s", type(exc).__name__, who)
    elif isinstance(exc, BadWebhook):
        log.warning("malformed webhook at %s: %s; %s", request.path, exc, who)
    else:
        log.exception("webhook %s failed; %s", request.path, who)


@bp.errorhandler(Exception)
def safe_answer(exc: Exception) -> Response:
    _log_failure(exc, "the caller takes the safe path")
    return twiml(voice().safe_path().answer(request.form.get("To", "")))


@operator_bp.errorhandler(Exception)
def operator_hangs_up(exc: Exception) -> Response:
    _log_failure(exc, "the operator's leg ends and the call moves on")
    return twiml("<Response><Hangup/></Response>")


def _key() -> str:
    sid = request.form.get("CallSid", "")
    if not sid:
        raise BadWebhook("no CallSid")
    return call_key(voice().settings.hmac_secret, sid)


def _advance(event: Event, release: tuple[str, ...] = ()) -> Response:
    ctx = voice()
    key = _key()
    events, busy = ctx.calls.append(key, event, release)
    start = events[0]
    if not isinstance(start, Start):
        raise BadWebhook("a webhook for a call whose start we do not know")
    if len(events) > MAX_EVENTS:
        raise BadWebhook(f"more than {MAX_EVENTS} webhooks for one call")
    flows = ctx.flows(start)
    _, reply = replay(flows.flows[start.flow], events, flows.routing, busy)
    return twiml(ctx.renderer(flows).render(reply, key, start.to))


@bp.post("")
def incoming() -> Response:
    ctx = voice()
    to = request.form.get("To", "")
    flows = ctx.flows()
    flow = flows.for_number(to)
    regions = flows.routing.regions
    region, source = regions.by_number(to), "dialled"
    if region is None:
        # The caller's number is read here once for its landline code, and never kept.
        region, source = regions.by_landline(request.form.get("From", "")), "hint"
    caller_key = ctx.caller_keys.key(request.form.get("From", ""))
    return _advance(Start(flow.name, flow.version, to, ctx.clock(),
                          region.id if region else None, source if region else "unknown",
                          caller_key, flows.version))


@bp.post("/gather")
def gathered() -> Response:
    digits = request.form.get("Digits", "")[:1]
    if digits and digits not in DTMF_KEYS:
        digits = "?"  # not a key any menu offers: counted as a wrong key
    return _advance(Digits(digits, voice().clock()))


@bp.post("/dial")
def dialled() -> Response:
    legs = tuple(leg for leg in request.args.get("legs", "").split(",") if LEG_ID.match(leg))
    bridged = request.form.get("DialBridged")
    result = DialResult(
        status=request.form.get("DialCallStatus", "failed"),
        bridged=None if bridged is None else bridged.lower() == "true",
        legs=legs, at=voice().clock(),
    )
    operators = tuple(leg.removeprefix("op:") for leg in legs if leg.startswith("op:"))
    return _advance(result, release=operators)


@bp.post("/status")
def status() -> Response:
    call_status = request.form.get("CallStatus", "")
    if call_status not in FINAL_STATUSES:
        return twiml("<Response/>")
    ctx = voice()
    key = _key()
    duration = request.form.get("CallDuration", "")
    ended = Ended(call_status, int(duration) if duration.isdigit() else None, ctx.clock())
    try:
        events, _ = ctx.calls.append(key, ended)
        started = events[0] if isinstance(events[0], Start) else None
        # A call that began while Redis was away has no start in its log: count it anyway.
        record = record_from_log(key, events, ctx.flows(started)) or lost_log_record(
            key, ended.status, ended.duration, ended.at)
        enqueue_record(ctx.redis, ctx.settings.queue_name, record, ctx.settings.retry_intervals)
    except redis.RedisError as exc:
        ctx.spool.add(spool_entry(key, ended))
        log.error("Redis unreachable (%s) at the end of a call; its record is spooled in %s",
                  type(exc).__name__, ctx.spool.folder)
    return twiml("<Response/>")


@bp.post("/fallback")
def fallback() -> Response:
    return twiml(voice().safe_path().answer(request.form.get("To", "")))


@bp.post("/fallback/dial")
def fallback_dialled() -> Response:
    leg = request.args.get("leg", "0")
    return twiml(voice().safe_path().after_dial(request.form.get("DialCallStatus", "failed"),
                                         int(leg) if leg.isdigit() else 0,
                                         request.form.get("To", "")))


def _operator_leg() -> tuple[str, str]:
    key, leg = request.args.get("c", ""), request.args.get("leg", "")
    if not CALL_KEY.match(key) or not LEG_ID.match(leg):
        raise BadWebhook("an operator webhook without its call and leg")
    return key, leg


@operator_bp.post("/whisper")
def operator_whisper() -> Response:
    """Runs on the operator's phone when they answer: who is calling, press 1 to accept."""
    ctx = voice()
    key, leg = _operator_leg()
    events = ctx.calls.read(key)
    if not events or not isinstance(events[0], Start):
        raise BadWebhook("the caller's call is not known (it may have ended)")
    flows = ctx.flows(events[0])
    state, _ = replay(flows.flows[events[0].flow], events, flows.routing)
    operator = flows.routing.roster.operators.get(leg.removeprefix("op:"))
    return twiml(ctx.renderer(flows).whisper(whisper(state, operator), key, leg))


@operator_bp.post("/answer")
def operator_answer() -> Response:
    """1 accepts: the call is bridged. Any other key, or none, hangs up this leg."""
    key, leg = _operator_leg()
    if request.form.get("Digits", "") != "1":
        return twiml("<Response><Hangup/></Response>")
    operator = leg.removeprefix("op:") if leg.startswith("op:") else None
    ctx = voice()
    ctx.calls.accept(key, Accepted(leg, ctx.clock()), operator)
    return twiml("<Response/>")


@bp.post("/<path:rest>")
def unknown(rest: str) -> Response:
    log.warning("webhook to an unknown path /voice/%s; the caller takes the safe path", rest[:40])
    return twiml(voice().safe_path().answer(request.form.get("To", "")))


bp.register_blueprint(operator_bp)  # /voice/operator/...: signed like the rest, fails differently


def init_app(app: Flask, ctx: Voice) -> None:
    app.extensions["ivr.voice"] = ctx
    app.register_blueprint(bp)
