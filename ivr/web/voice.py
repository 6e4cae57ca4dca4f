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

import hashlib
import json
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

import redis
from flask import Blueprint, Flask, Response, current_app, request
from werkzeug.datastructures import MultiDict

from ivr.calls import simulation
from ivr.calls.log import CallLog
from ivr.calls.pseudonyms import CallerKeys, call_key, url_token
from ivr.engine import replay
from ivr.engine.flow import Flow
from ivr.engine.model import (
    Accepted,
    Dial,
    DialResult,
    Digits,
    Ended,
    Event,
    Fault,
    Routed,
    SafeDial,
    Start,
)
from ivr.engine.runner import answering
from ivr.engine.steps import DTMF_KEYS
from ivr.engine.whisper import whisper
from ivr.library.live import Library
from ivr.library.snapshot import Snapshot
from ivr.library.versions import flow_of
from ivr.records.record import (
    enqueue_record,
    lost_log_record,
    record_from_log,
    seconds_of,
    spool_entry,
    spool_event,
)
from ivr.records.spool import Spool
from ivr.routing import Routing
from ivr.routing.legs import LEG_ID, operator_of
from ivr.settings import Settings
from ivr.web import twiml
from ivr.web.signature import SignatureCheck
from ivr.web.twiml import Renderer, SafePath

log = logging.getLogger("ivr.webhooks")
bp = Blueprint("voice", __name__)
operator_bp = Blueprint("operator", __name__)
FINAL_STATUSES = frozenset({"completed", "busy", "failed", "no-answer", "canceled"})
TOKEN = re.compile(r"^[0-9a-f]{32}$")
MAX_EVENTS = 300  # a real call has a few dozen; beyond this, replaying would cost too much
RESERVE_ATTEMPTS = 3  # phones taken by another call meanwhile: choose again, this often
IDEMPOTENCY_HEADER = "I-Twilio-Idempotency-Token"
METHODS = ["GET", "POST"]  # a number's URLs may be set to either


class BadWebhook(Exception):
    """The request lacks what every Twilio voice webhook carries."""


class VersionNotHere(Exception):
    """The call started on a version this process has not loaded (it is being loaded now)."""


@dataclass(frozen=True)
class Voice:
    """Everything the views need, assembled once by the app factory."""

    settings: Settings
    library: Library
    safe: SafePath  # built at start-up: the answer when even the version in force fails
    signatures: SignatureCheck
    redis: redis.Redis
    calls: CallLog
    caller_keys: CallerKeys
    spool: Spool
    clock: Callable[[], float] = time.time  # seconds since the epoch; tests fix it

    def snapshot(self, started: Start | None = None) -> Snapshot:
        """The version in force, or the one the call started on when `started` is given."""
        if started is None or not started.published:
            return self.library.current
        found = self.library.get(started.published)
        if found is None:
            raise VersionNotHere(started.published)
        return found

    def flow(self, started: Start) -> tuple[Flow, Routing, Snapshot]:
        snapshot = self.snapshot(started)
        found = flow_of(snapshot, started)
        if found is None:
            raise BadWebhook(f"the call's flow '{started.flow}' is not in its version")
        return *found, snapshot

    def renderer(self, snapshot: Snapshot) -> Renderer:
        return Renderer(snapshot.catalogue, self.settings.public_base_url or "",
                        self.settings.caller_id or "")

    def safe_path(self) -> SafePath:
        """The safe path with the recordings in force; the one built at start-up if even
        that fails (it needs neither Redis nor the flow engine)."""
        try:
            snapshot = self.library.current
            numbers = self.settings.fallback_numbers or snapshot.national_numbers
            return SafePath(self.renderer(snapshot), numbers or self.safe.numbers)
        except Exception:
            return self.safe

    def keep(self, entry: dict[str, object]) -> None:
        """Spool an entry while Redis is away; if even that fails, say so loudly, with the
        entry (pseudonymous) in the log, where it can be recovered by hand."""
        try:
            self.spool.add(entry)
        except Exception as exc:
            log.critical("Redis is unreachable and the spool %s cannot be written (%s): this "
                         "entry of a call's record is kept only here: %s", self.spool.folder,
                         exc, json.dumps(entry))

    def note(self, key: str, event: Event) -> None:
        """Add a mark to a call's log, or to the spool while Redis is away."""
        try:
            self.calls.note(key, event)
        except redis.RedisError:
            self.keep(spool_event(key, event))


def voice() -> Voice:
    ctx: Voice = current_app.extensions["ivr.voice"]
    return ctx


def params() -> MultiDict[str, str]:
    """Twilio's parameters: the query of a GET, the form of a POST; empty when the body cannot
    be read (too large, or not a form), which the signature check then refuses."""
    if request.method == "GET":
        return request.args
    try:
        return request.form
    except Exception:  # werkzeug raises several kinds for bodies it will not read
        return MultiDict()


def param(name: str, default: str = "") -> str:
    return params().get(name, default)


def simulated() -> bool:
    return simulation.is_simulated(voice().settings.twilio_auth_token, params())


def delivery() -> str:
    """What identifies this delivery of a webhook: Twilio's idempotency token, or else the
    request itself (its URL names the call's turn, so the same key pressed in the next menu is
    a different request)."""
    token = request.headers.get(IDEMPOTENCY_HEADER, "")
    if token:
        return "t:" + token[:200]
    seen = [request.method, request.path, request.query_string.decode("latin-1"),
            *sorted(f"{k}={v}" for k, v in params().items(multi=True))]
    return "p:" + hashlib.sha256("\n".join(seen).encode()).hexdigest()[:32]


def answer(body: str) -> Response:
    return Response(body, status=200, mimetype=twiml.XML)


def forbidden(why: str) -> Response:
    return Response(f"Forbidden: {why}\n", status=403, mimetype="text/plain")


def check_signature() -> Response | None:
    """403 for anything Twilio did not sign for this router's public address. A request that
    came through a proxy while IVR_PUBLIC_URL is unset is refused too: the address Twilio
    signed is not known, and forwarded headers are never taken on trust."""
    ctx = voice()
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


bp.before_request(check_signature)
operator_bp.before_request(check_signature)


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
        log.warning("malformed webhook at %s: %s; %s", request.path, exc, who)
    elif isinstance(exc, VersionNotHere):
        log.error("a call of version %s reached a process that has not loaded it yet; %s",
                  exc, who)
    else:
        log.exception("webhook %s failed; %s", request.path, who)


def _safe_path(cause: str) -> Response:
    """The safe path for this call, noted in its record when the call is known. Nothing that
    goes wrong while noting it keeps the caller from their answer."""
    ctx = voice()
    try:
        sid = param("CallSid")
        if sid:
            ctx.note(call_key(ctx.settings.hmac_secret, sid), Fault(cause, ctx.clock()))
    except Exception:
        log.exception("could not note the safe path in the call's record")
    return answer(ctx.safe_path().answer())


@bp.errorhandler(Exception)
def safe_answer(exc: Exception) -> Response:
    _log_failure(exc, "the caller takes the safe path")
    return _safe_path(_cause(exc))


@operator_bp.errorhandler(Exception)
def operator_hangs_up(exc: Exception) -> Response:
    _log_failure(exc, "the operator's leg ends and the call moves on")
    return answer(twiml.hang_up())


def _key() -> str:
    sid = param("CallSid")
    if not sid:
        raise BadWebhook("no CallSid")
    return call_key(voice().settings.hmac_secret, sid)


def _advance(event: Event, release: tuple[str, ...] = ()) -> Response:
    ctx = voice()
    key = _key()
    appended = ctx.calls.append(key, event, release, delivery())
    events = appended.events
    start = events[0]
    if not isinstance(start, Start):
        raise BadWebhook("a webhook for a call whose start we do not know")
    if len(events) > MAX_EVENTS:
        raise BadWebhook(f"more than {MAX_EVENTS} webhooks for one call")
    flow, routing, snapshot = ctx.flow(start)
    token = url_token(ctx.settings.hmac_secret, param("CallSid"))
    # This call's own ringing phones are not taken from it by a repeated delivery.
    busy = appended.busy - {op for op in map(operator_of, appended.own_legs) if op}
    turn = answering(events)
    for attempt in range(RESERVE_ATTEMPTS):
        _, reply = replay(flow, events, routing, busy)
        if not reply.routed:  # nothing decided now (a repeated delivery: as the log says)
            break
        dial = reply.then if isinstance(reply.then, Dial) else None
        legs = [(leg.operator, leg.id) for leg in dial.legs if leg.operator] if dial else []
        last = attempt == RESERVE_ATTEMPTS - 1
        taken = ctx.calls.routed(key, Routed(turn, reply.routed), legs,
                                 dial.timeout if dial else 0, token,
                                 reserve=bool(legs) and not start.simulated and not last)
        if not taken:
            break
        busy = busy | taken  # another caller got them first: ring someone else
    return answer(ctx.renderer(snapshot).render(reply, token, turn + 1))


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
    return _advance(Start(flow.name, flow.version, to[:64], ctx.clock(),
                          region.id if region else None, source if region else "unknown",
                          caller_key, snapshot.version, is_simulated))


def gathered() -> Response:
    digits = param("Digits")[:1]
    if digits and digits not in DTMF_KEYS:
        digits = "?"  # not a key any menu offers: counted as a wrong key
    return _advance(Digits(digits, voice().clock()))


def dialled() -> Response:
    legs = tuple(leg for leg in request.args.get("legs", "").split(",") if LEG_ID.match(leg))
    bridged = param("DialBridged") or None
    result = DialResult(
        status=param("DialCallStatus", "failed")[:20],
        bridged=None if bridged is None else bridged.lower() == "true",
        legs=legs, at=voice().clock(),
    )
    # A simulation marks nobody busy, so it releases nobody either: the operator it rang may
    # have taken a real call since.
    operators = () if simulated() else tuple(op for op in map(operator_of, legs) if op)
    return _advance(result, release=operators)


def status() -> Response:
    call_status = param("CallStatus")
    if call_status not in FINAL_STATUSES:
        return answer(twiml.nothing())
    ctx = voice()
    key = _key()
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
        enqueue_record(ctx.redis, ctx.settings.queue_name, record, ctx.settings.retry_intervals)
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
    leg_text = request.args.get("leg", "0")
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
    token, leg = request.args.get("c", ""), request.args.get("leg", "")
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
    events = ctx.calls.read(key)
    if not events or not isinstance(events[0], Start):
        raise BadWebhook("the caller's call is not known (it may have ended)")
    flow, routing, snapshot = ctx.flow(events[0])
    state, _ = replay(flow, events, routing)
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


for path, view in ((twiml.VOICE_PATH, incoming), (twiml.GATHER_PATH, gathered),
                   (twiml.DIAL_PATH, dialled), (twiml.STATUS_PATH, status),
                   (twiml.FALLBACK_PATH, fallback), (twiml.SAFE_DIAL_PATH, fallback_dialled),
                   (f"{twiml.VOICE_PATH}/<path:rest>", unknown)):
    bp.add_url_rule(path, view_func=view, methods=METHODS)
for path, view in ((twiml.WHISPER_PATH, operator_whisper), (twiml.ANSWER_PATH, operator_answer)):
    operator_bp.add_url_rule(path, view_func=view, methods=METHODS)


def init_app(app: Flask, ctx: Voice) -> None:
    app.extensions["ivr.voice"] = ctx
    app.register_blueprint(bp)
    app.register_blueprint(operator_bp)
