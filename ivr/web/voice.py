"""Twilio's webhooks: thin views over the call log, the engine and the renderer.

Every request is signed (403 otherwise). Every failure on the caller's side, whether an
exception, Redis unreachable, a version this process does not have yet, or a request we cannot
make sense of, is answered with the safe path's TwiML and status 200: a 5xx would make Twilio
play an English error and hang up on the caller. On an operator's leg a failure hangs up that
leg, and the caller's call moves on. Views only read published versions already in memory
(`ivr.library.live`): no webhook waits for a version to load.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

import redis
from flask import Blueprint, Flask, Response, current_app, request

from ivr.calls import simulation
from ivr.calls.log import CallLog
from ivr.calls.pseudonyms import CallerKeys, call_key
from ivr.engine import replay
from ivr.engine.flow import Flow
from ivr.engine.model import Accepted, DialResult, Digits, Ended, Event, Start
from ivr.engine.steps import DTMF_KEYS
from ivr.engine.whisper import whisper
from ivr.library.live import Library
from ivr.library.snapshot import Snapshot
from ivr.library.versions import flow_of
from ivr.records.record import enqueue_record, lost_log_record, record_from_log, spool_entry
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
CALL_KEY = re.compile(r"^[0-9a-f]{32}$")
MAX_EVENTS = 300  # a real call has a few dozen; beyond this, replaying would cost too much


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
                        self.settings.caller_id)

    def safe_path(self) -> SafePath:
        """The safe path with the recordings in force; the one built at start-up if even
        that fails (it needs neither Redis nor the flow engine)."""
        try:
            snapshot = self.library.current
            numbers = self.settings.fallback_numbers or snapshot.national_numbers
            return SafePath(self.renderer(snapshot), numbers or self.safe.numbers)
        except Exception:
            return self.safe

    def simulated(self) -> bool:
        return simulation.is_simulated(self.settings.twilio_auth_token, request.form)


def voice() -> Voice:
    ctx: Voice = current_app.extensions["ivr.voice"]
    return ctx


def answer(body: str) -> Response:
    return Response(body, status=200, mimetype=twiml.XML)


def check_signature() -> Response | None:
    if not voice().signatures.is_valid(request):
        log.warning("refused a webhook with a missing or wrong signature: %s", request.path)
        return Response("Forbidden: bad or missing X-Twilio-Signature\n", status=403,
                        mimetype="text/plain")
    return None


bp.before_request(check_signature)
operator_bp.before_request(check_signature)


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


@bp.errorhandler(Exception)
def safe_answer(exc: Exception) -> Response:
    _log_failure(exc, "the caller takes the safe path")
    return answer(voice().safe_path().answer(request.form.get("To", "")))


@operator_bp.errorhandler(Exception)
def operator_hangs_up(exc: Exception) -> Response:
    _log_failure(exc, "the operator's leg ends and the call moves on")
    return answer(twiml.hang_up())


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
    flow, routing, snapshot = ctx.flow(start)
    _, reply = replay(flow, events, routing, busy)
    return answer(ctx.renderer(snapshot).render(reply, key, start.to))


def incoming() -> Response:
    ctx = voice()
    to = request.form.get("To", "")
    snapshot = ctx.snapshot()
    flow = snapshot.for_number(to)
    regions = snapshot.routing.regions
    region, source = regions.by_number(to), "dialled"
    if region is None:
        # The caller's number is read here once for its landline code, and never kept.
        region, source = regions.by_landline(request.form.get("From", "")), "hint"
    simulated = ctx.simulated()
    caller_key = None if simulated else ctx.caller_keys.key(request.form.get("From", ""))
    return _advance(Start(flow.name, flow.version, to, ctx.clock(),
                          region.id if region else None, source if region else "unknown",
                          caller_key, snapshot.version, simulated))


def gathered() -> Response:
    digits = request.form.get("Digits", "")[:1]
    if digits and digits not in DTMF_KEYS:
        digits = "?"  # not a key any menu offers: counted as a wrong key
    return _advance(Digits(digits, voice().clock()))


def dialled() -> Response:
    legs = tuple(leg for leg in request.args.get("legs", "").split(",") if LEG_ID.match(leg))
    bridged = request.form.get("DialBridged")
    result = DialResult(
        status=request.form.get("DialCallStatus", "failed"),
        bridged=None if bridged is None else bridged.lower() == "true",
        legs=legs, at=voice().clock(),
    )
    # A simulation marks nobody busy, so it releases nobody either: the operator it rang may
    # have taken a real call since.
    operators = () if voice().simulated() else tuple(op for op in map(operator_of, legs) if op)
    return _advance(result, release=operators)


def status() -> Response:
    call_status = request.form.get("CallStatus", "")
    if call_status not in FINAL_STATUSES:
        return answer(twiml.nothing())
    ctx = voice()
    key = _key()
    duration = request.form.get("CallDuration", "")
    ended = Ended(call_status, int(duration) if duration.isdigit() else None, ctx.clock())
    if ctx.simulated():
        ctx.calls.append(key, ended)
        return answer(twiml.nothing())  # a simulation leaves no record
    try:
        events, _ = ctx.calls.append(key, ended)
        started = events[0] if isinstance(events[0], Start) else None
        if started is not None and started.published and \
                ctx.library.get(started.published) is None:
            raise VersionNotHere(started.published)  # a worker settles it, loading the version
        # A call that began while Redis was away has no start in its log: count it anyway.
        record = record_from_log(key, events, lambda s: flow_of(ctx.snapshot(s), s)) or \
            lost_log_record(key, ended.status, ended.duration, ended.at)
        enqueue_record(ctx.redis, ctx.settings.queue_name, record, ctx.settings.retry_intervals)
    except (redis.RedisError, VersionNotHere) as exc:
        ctx.spool.add(spool_entry(key, ended))
        log.error("%s at the end of a call; its record is spooled in %s",
                  "Redis unreachable" if isinstance(exc, redis.RedisError)
                  else f"version {exc} not loaded here", ctx.spool.folder)
    return answer(twiml.nothing())


def fallback() -> Response:
    return answer(voice().safe_path().answer(request.form.get("To", "")))


def fallback_dialled() -> Response:
    leg = request.args.get("leg", "0")
    return answer(voice().safe_path().after_dial(request.form.get("DialCallStatus", "failed"),
                                                 int(leg) if leg.isdigit() else 0,
                                                 request.form.get("To", "")))


def unknown(rest: str) -> Response:
    log.warning("webhook to an unknown path /voice/%s; the caller takes the safe path", rest[:40])
    return answer(voice().safe_path().answer(request.form.get("To", "")))


def _operator_leg() -> tuple[str, str]:
    key, leg = request.args.get("c", ""), request.args.get("leg", "")
    if not CALL_KEY.match(key) or not LEG_ID.match(leg):
        raise BadWebhook("an operator webhook without its call and leg")
    return key, leg


def operator_whisper() -> Response:
    """Runs on the operator's phone when they answer: who is calling, press 1 to accept."""
    ctx = voice()
    key, leg = _operator_leg()
    events = ctx.calls.read(key)
    if not events or not isinstance(events[0], Start):
        raise BadWebhook("the caller's call is not known (it may have ended)")
    flow, routing, snapshot = ctx.flow(events[0])
    state, _ = replay(flow, events, routing)
    operator_id = operator_of(leg)
    operator = routing.roster.operators.get(operator_id) if operator_id else None
    return answer(ctx.renderer(snapshot).whisper(whisper(state, operator), key, leg))


def operator_answer() -> Response:
    """1 accepts: the call is bridged. Any other key, or none, hangs up this leg."""
    key, leg = _operator_leg()
    if request.form.get("Digits", "") != "1":
        return answer(twiml.hang_up())
    ctx = voice()
    operator = None if ctx.simulated() else operator_of(leg)
    ctx.calls.accept(key, Accepted(leg, ctx.clock()), operator)
    return answer(twiml.nothing())


for path, view in ((twiml.VOICE_PATH, incoming), (twiml.GATHER_PATH, gathered),
                   (twiml.DIAL_PATH, dialled), (twiml.STATUS_PATH, status),
                   (twiml.FALLBACK_PATH, fallback), (twiml.SAFE_DIAL_PATH, fallback_dialled),
                   (f"{twiml.VOICE_PATH}/<path:rest>", unknown)):
    bp.add_url_rule(path, view_func=view, methods=["POST"])
for path, view in ((twiml.WHISPER_PATH, operator_whisper), (twiml.ANSWER_PATH, operator_answer)):
    operator_bp.add_url_rule(path, view_func=view, methods=["POST"])


def init_app(app: Flask, ctx: Voice) -> None:
    app.extensions["ivr.voice"] = ctx
    app.register_blueprint(bp)
    app.register_blueprint(operator_bp)
