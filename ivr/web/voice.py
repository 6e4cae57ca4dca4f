"""Twilio's webhooks: thin views over the call log, the engine and the renderer.

Every request is signed (403 otherwise), by POST or GET, whichever the number is configured
with. Every failure on the caller's side, whether an exception, Redis unreachable, a version
this process does not have yet, or a request we cannot make sense of, is answered with the
safe path's TwiML and status 200, and noted in the call's record: a 5xx would make Twilio play
an English error and hang up on the caller. On an operator's leg a failure hangs up that leg,
and the caller's call moves on. Views only read published versions already in memory
(`ivr.library.live`): no webhook waits for a version to load.

A webhook delivered twice is applied once: Twilio's `I-Twilio-Idempotency-Token`, or where it
is missing a fingerprint of the request (whose action URL names the call's turn), marks a
delivery as seen, and a repeated one is answered from the call's log as it stands.
"""

from __future__ import annotations

import logging
import re

import redis
from flask import Flask
from werkzeug.wrappers import Response

from ivr.calls.pseudonyms import call_key
from ivr.engine import replay
from ivr.engine.model import Accepted, DialResult, Digits, Ended, Fault, SafeDial, Start
from ivr.engine.steps import DTMF_KEYS
from ivr.engine.whisper import whisper
from ivr.library.versions import flow_of
from ivr.records.record import enqueue_record, lost_log_record, record_from_log, seconds_of, spool_entry
from ivr.routing.legs import LEG_ID, operator_of
from ivr.web import decide, twiml
from ivr.web.context import (
    BadWebhook,
    VersionNotHere,
    Voice,
    answer,
    call_key_of_request,
    delivery,
    forbidden,
    param,
    params,
    simulated,
    voice,
    webhook,
)
from ivr.web.lean import Lean, Route, Routes
from ivr.web.metrics import SAFE_PATH

log = logging.getLogger("ivr.webhooks")
FINAL_STATUSES = frozenset({"completed", "busy", "failed", "no-answer", "canceled"})
TOKEN = re.compile(r"^[0-9a-f]{32}$")


def check_signature() -> Response | None:
    """403 for anything Twilio did not sign for this router's public address. A request that
    came through a proxy while IVR_PUBLIC_URL is unset is refused too: the address Twilio
    signed is not known, and forwarded headers are never taken on trust."""
    ctx, request = voice(), webhook()
    if ctx.signatures.behind_unknown_proxy(request):
        log.error("refused a webhook that came through a proxy (X-Forwarded-* headers) while "
                  "IVR_PUBLIC_URL is not set: set IVR_PUBLIC_URL to the public address Twilio "
                  "calls (https://...), or every webhook is refused")
        return forbidden("set IVR_PUBLIC_URL on the router behind this proxy")
    try:
        valid = ctx.signatures.is_valid(request, params())
    except Exception:  # a request too malformed to check (a Host with a bad port, ...)
        valid = False
    if not valid:
        log.warning("refused a webhook with a missing or wrong signature: %s", request.path)
        return forbidden("bad or missing X-Twilio-Signature")
    return None



def _cause(exc: Exception) -> str:
    if isinstance(exc, redis.RedisError):
        return "redis"
    if isinstance(exc, VersionNotHere):
        return "version"
    if isinstance(exc, BadWebhook):
        return "request"
    return "exception"


def _log_failure(exc: Exception, who: str) -> None:
    if isinstance(exc, redis.RedisError):
        log.error("Redis unreachable (%s); %s", type(exc).__name__, who)
    elif isinstance(exc, BadWebhook):
        log.warning("malformed webhook at %s: %s; %s", webhook().path, exc, who)
    elif isinstance(exc, VersionNotHere):
        log.error("a call of version %s reached a process that has not loaded it yet; %s",
                  exc, who)
    else:
        log.exception("webhook %s failed; %s", webhook().path, who)


def _safe_path(cause: str) -> Response:
    """The safe path for this call, noted in its record when the call is known. Nothing that
    goes wrong while noting it keeps the caller from their answer."""
    ctx = voice()
    SAFE_PATH.labels(cause).inc()
    try:
        sid = param("CallSid")
        if sid:
            ctx.note(call_key(ctx.settings.hmac_secret, sid), Fault(cause, ctx.clock()))
    except Exception:
        log.exception("could not note the safe path in the call's record")
    return answer(ctx.safe_path().answer())


def safe_answer(exc: Exception) -> Response:
    _log_failure(exc, "the caller takes the safe path")
    return _safe_path(_cause(exc))


def operator_hangs_up(exc: Exception) -> Response:
    _log_failure(exc, "the operator's leg ends and the call moves on")
    return answer(twiml.hang_up())


def incoming() -> Response:
    ctx = voice()
    to = param("To")
    snapshot = ctx.snapshot()
    flow = snapshot.for_number(to)
    regions = snapshot.routing.regions
    region, source = regions.by_number(to), "dialled"
    if region is None:
        # The caller's number is read here once for its landline code, and never kept.
        region, source = regions.by_landline(param("From")), "hint"
    is_simulated = simulated()
    caller_key = None if is_simulated else ctx.caller_keys.key(param("From"))
    return answer(decide.advance(Start(
        flow.name, flow.version, to[:64], ctx.clock(), region.id if region else None,
        source if region else "unknown", caller_key, snapshot.version, is_simulated)).body)


def gathered() -> Response:
    digits = param("Digits")[:1]
    if digits and digits not in DTMF_KEYS:
        digits = "?"  # not a key any menu offers: counted as a wrong key
    return answer(decide.advance(Digits(digits, voice().clock())).body)


def waited() -> Response:
    """A caller waiting in line: the hold loop asks again."""
    return answer(decide.poll().body)


def dialled() -> Response:
    ctx = voice()
    legs = tuple(leg for leg in webhook().args.get("legs", "").split(",") if LEG_ID.match(leg))
    bridged = param("DialBridged") or None
    result = DialResult(
        status=param("DialCallStatus", "failed")[:20],
        bridged=None if bridged is None else bridged.lower() == "true",
        legs=legs, at=ctx.clock(), talked=seconds_of(param("DialCallDuration")),
    )
    # A simulation marks nobody busy, so it releases nobody either: the operator it rang may
    # have taken a real call since.
    is_simulated = simulated()
    operators = () if is_simulated else tuple(op for op in map(operator_of, legs) if op)
    answered = decide.advance(result, release=operators)
    state = answered.state
    if state.operator in operators and state.accepted_at is not None and not is_simulated:
        # A conversation with a consultant has ended: its length predicts waits in line.
        ctx.line.note_talk(result.talked if result.talked is not None
                           else max(0.0, result.at - state.accepted_at))
    return answer(answered.body)


def status() -> Response:
    call_status = param("CallStatus")
    if call_status not in FINAL_STATUSES:
        return answer(twiml.nothing())
    ctx = voice()
    key = call_key_of_request()
    ended = Ended(call_status, seconds_of(param("CallDuration")), ctx.clock())
    if simulated():
        ctx.calls.append(key, ended, delivery=delivery())
        return answer(twiml.nothing())  # a simulation leaves no record
    try:
        appended = ctx.calls.append(key, ended, delivery=delivery())
        events = appended.events
        started = events[0] if isinstance(events[0], Start) else None
        if started is not None and started.published and \
                ctx.library.get(started.published) is None:
            raise VersionNotHere(started.published)  # a worker settles it, loading the version
        try:
            record = record_from_log(key, events, lambda s: flow_of(ctx.snapshot(s), s))
        except Exception:
            log.exception("a call's log could not be replayed; its record keeps what is known")
            record = None
        # A call that began while Redis was away has no start in its log: count it anyway.
        record = record or lost_log_record(key, ended.status, ended.duration, ended.at, events)
        enqueue_record(ctx.redis, ctx.settings.queue_name, record, ctx.settings.redis_prefix,
                       ctx.settings.retry_intervals)
    except (redis.RedisError, VersionNotHere) as exc:
        ctx.keep(spool_entry(key, ended))
        log.error("%s at the end of a call; its record is spooled in %s",
                  "Redis unreachable" if isinstance(exc, redis.RedisError)
                  else f"version {exc} not loaded here", ctx.spool.folder)
    return answer(twiml.nothing())


def fallback() -> Response:
    """The number's Fallback URL: Twilio could not get an answer from the Voice URL."""
    log.error("Twilio called the Fallback URL: the router failed or could not be reached")
    return _safe_path("fallback")


def fallback_dialled() -> Response:
    ctx = voice()
    leg_text = webhook().args.get("leg", "0")
    leg = int(leg_text) if leg_text.isascii() and leg_text.isdigit() and len(leg_text) < 3 else 0
    status_ = param("DialCallStatus", "failed")[:20]
    sid = param("CallSid")
    if sid:
        ctx.note(call_key(ctx.settings.hmac_secret, sid), SafeDial(status_, leg, ctx.clock()))
    return answer(ctx.safe_path().after_dial(status_, leg))


def unknown(rest: str) -> Response:
    log.warning("webhook to an unknown path /voice/%s; the caller takes the safe path", rest[:40])
    return _safe_path("request")


def _operator_leg() -> tuple[str, str, str]:
    """The caller's call an operator's leg belongs to (its key), the URL's token, and the leg."""
    args = webhook().args
    token, leg = args.get("c", ""), args.get("leg", "")
    if not TOKEN.match(token) or not LEG_ID.match(leg):
        raise BadWebhook("an operator webhook without its call and leg")
    key = voice().calls.call_of(token)
    if key is None:
        raise BadWebhook("the caller's call is not known (it may have ended)")
    return key, token, leg


def operator_whisper() -> Response:
    """Runs on the operator's phone when they answer: who is calling, press 1 to accept."""
    ctx = voice()
    key, token, leg = _operator_leg()
    log = ctx.calls.peek(key)
    start = log.since.start if log.since else log.events[0] if log.events else None
    if not isinstance(start, Start):
        raise BadWebhook("the caller's call is not known (it may have ended)")
    flow, routing, snapshot = ctx.flow(start)
    state, _ = replay(flow, log.events, routing, since=log.since)
    operator_id = operator_of(leg)
    operator = routing.roster.operators.get(operator_id) if operator_id else None
    return answer(ctx.renderer(snapshot).whisper(whisper(state, operator), token, leg))


def operator_answer() -> Response:
    """1 accepts while the leg still rings for this call: the call is bridged. Any other key,
    none, or a "1" that comes too late hangs up this leg."""
    key, _, leg = _operator_leg()
    if param("Digits") != "1":
        return answer(twiml.hang_up())
    ctx = voice()
    operator = None if simulated() else operator_of(leg)
    accepted = ctx.calls.accept(key, Accepted(leg, ctx.clock()), operator)
    if accepted == "late":
        log.info("an operator's 1 came after their leg stopped ringing; their leg hangs up")
        return answer(twiml.hang_up())
    return answer(twiml.nothing())


CALLER = {twiml.VOICE_PATH: incoming, twiml.GATHER_PATH: gathered, twiml.WAIT_PATH: waited,
          twiml.DIAL_PATH: dialled, twiml.STATUS_PATH: status, twiml.FALLBACK_PATH: fallback,
          twiml.SAFE_DIAL_PATH: fallback_dialled}
OPERATOR = {twiml.WHISPER_PATH: operator_whisper, twiml.ANSWER_PATH: operator_answer}
ROUTES = Routes(
    by_path={**{path: Route(view, safe_answer) for path, view in CALLER.items()},
             **{path: Route(view, operator_hangs_up) for path, view in OPERATOR.items()}},
    unknown=unknown, unknown_label=f"{twiml.VOICE_PATH}/<path:rest>",
    on_unknown_error=safe_answer, check=check_signature)


def init_app(app: Flask, ctx: Voice) -> None:
    """The voice webhooks answer in front of the app (`ivr.web.lean`)."""
    app.extensions["ivr.voice"] = ctx
    app.wsgi_app = Lean(app.wsgi_app, ctx, ROUTES)  # type: ignore[method-assign]
