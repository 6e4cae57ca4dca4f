"""What every webhook view shares: the router's parts (`Voice`, built once by the app factory),
the request being answered, Twilio's parameters whichever method brought them, and what
identifies one delivery.

The voice webhooks are answered by `ivr.web.lean` straight from WSGI, which sets the request and
the router's parts for the views here; the router's Flask views (the debugger webhook, health,
tags) reach the same functions through Flask's own request and app.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field

import redis
from flask import current_app, request
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Request, Response

from ivr.calls import simulation
from ivr.calls.line import Line
from ivr.calls.log import CallLog
from ivr.calls.pseudonyms import CallerKeys, call_key
from ivr.engine.flow import Flow
from ivr.engine.model import Event, Start
from ivr.library.live import Library
from ivr.library.snapshot import Snapshot
from ivr.library.versions import flow_of
from ivr.records.record import spool_event
from ivr.records.spool import Spool
from ivr.routing import Routing
from ivr.settings import Settings
from ivr.web import twiml
from ivr.web.signature import SignatureCheck
from ivr.web.twiml import Renderer, SafePath

log = logging.getLogger("ivr.webhooks")
IDEMPOTENCY_HEADER = "I-Twilio-Idempotency-Token"


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
    line: Line
    clock: Callable[[], float] = time.time  # seconds since the epoch; tests fix it
    renderers: dict[str, Renderer] = field(default_factory=dict, compare=False, repr=False)

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
        """The version's renderer, kept while the version is (its answers are built once)."""
        found = self.renderers.get(snapshot.version)
        if found is None or found.catalogue is not snapshot.catalogue:
            found = Renderer(snapshot.catalogue, self.settings.public_base_url or "",
                             self.settings.caller_id or "")
            if len(self.renderers) >= 8:  # versions a call can still be on: a handful
                self.renderers.clear()
            self.renderers[snapshot.version] = found
        return found

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


ANSWERING: ContextVar[tuple[Request, Voice] | None] = ContextVar("ivr_webhook", default=None)


def voice() -> Voice:
    answering = ANSWERING.get()
    if answering is not None:
        return answering[1]
    ctx: Voice = current_app.extensions["ivr.voice"]
    return ctx


def webhook() -> Request:
    """The request being answered (a voice webhook's, or else Flask's)."""
    answering = ANSWERING.get()
    if answering is not None:
        return answering[0]
    return request._get_current_object()  # type: ignore[attr-defined, no-any-return]


def params() -> MultiDict[str, str]:
    """Twilio's parameters: the query of a GET, the form of a POST; empty when the body cannot
    be read (too large, or not a form), which the signature check then refuses."""
    current = webhook()
    if current.method == "GET":
        return current.args
    try:
        return current.form
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
    current = webhook()
    token = current.headers.get(IDEMPOTENCY_HEADER, "")
    if token:
        return "t:" + token[:200]
    seen = [current.method, current.path, current.query_string.decode("latin-1"),
            *sorted(f"{k}={v}" for k, v in params().items(multi=True))]
    return "p:" + hashlib.sha256("\n".join(seen).encode()).hexdigest()[:32]


def answer(body: str) -> Response:
    return Response(body, status=200, mimetype=twiml.XML)


def forbidden(why: str) -> Response:
    return Response(f"Forbidden: {why}\n", status=403, mimetype="text/plain")


def call_key_of_request() -> str:
    """The key of the call this webhook is about (an HMAC of its CallSid)."""
    sid = param("CallSid")
    if not sid:
        raise BadWebhook("no CallSid")
    return call_key(voice().settings.hmac_secret, sid)
