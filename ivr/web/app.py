"""The application factory: the one place where configuration becomes a running router.

The router serves published versions only (`ivr.library.live`): it starts on the version in
force in the shared store, and a new version reaches it in the background. The working folders
are read once, and only when the store holds nothing yet: then they are published if they pass
the checks, and otherwise the router refuses to start and prints every problem.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from flask import Flask

from ivr.calls.keys import Keys
from ivr.calls.line import Line
from ivr.calls.log import CallLog
from ivr.calls.pseudonyms import CallerKeys
from ivr.clock import check_kazakhstan_offset
from ivr.i18n import set_language
from ivr.library.cache import LocalCache
from ivr.library.files import FolderSource
from ivr.library.live import Library
from ivr.library.pipeline import Options
from ivr.library.store import SnapshotStore
from ivr.records.spool import Spool
from ivr.redis_url import connect, persistence_problem
from ivr.settings import ConfigError, Settings
from ivr.web import debugger, metrics, public, tags, voice
from ivr.web.context import Voice
from ivr.web.lean import MAX_BODY_BYTES, MAX_FORM_PARTS
from ivr.web.signature import SignatureCheck
from ivr.web.twiml import Renderer, SafePath


def create_app(settings: Settings | None = None, clock: Callable[[], float] = time.time,
               background: bool = True) -> Flask:
    """The router. `clock` gives the time of each event (seconds since the epoch);
    `background` keeps the published versions current in a thread (a served router); tests
    and simulations call `library.refresh()` themselves."""
    settings = settings or Settings.from_env()
    settings.check_web()
    if not settings.redis_url:
        raise ConfigError("REDIS_URL is not set: start Redis and set it, or run `ivr serve`, "
                          "which starts an embedded Redis for local use.")
    check_kazakhstan_offset()
    set_language(settings.messages_language)
    client = connect(settings.redis_url, settings.redis_timeout_seconds)
    if background and (problem := persistence_problem(client)):
        logging.getLogger("ivr").warning(problem)
    keys = Keys(settings.redis_prefix)
    library = Library(SnapshotStore(client, keys), Options.of(settings),
                      LocalCache(settings.cache_dir), settings.call_ttl_seconds, clock)
    snapshot = library.boot(lambda: FolderSource(settings.flows_dir, settings.audio_dir))
    numbers = settings.fallback_numbers or snapshot.national_numbers
    renderer = Renderer(snapshot.catalogue, settings.public_base_url or "", settings.caller_id or "")

    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    app.config["MAX_FORM_MEMORY_SIZE"] = MAX_BODY_BYTES
    app.config["MAX_FORM_PARTS"] = MAX_FORM_PARTS
    voice.init_app(app, Voice(
        settings=settings, library=library, safe=SafePath(renderer, numbers),
        signatures=SignatureCheck(settings.twilio_auth_token, settings.public_base_url),
        redis=client, calls=CallLog(client, settings.call_ttl_seconds, keys, clock),
        caller_keys=CallerKeys(client, keys, clock, settings.hmac_secret),
        spool=Spool(settings.spool_dir), line=Line(client, keys, clock),
        clock=clock,
    ))
    app.register_blueprint(public.bp)
    app.register_blueprint(tags.bp)
    app.register_blueprint(debugger.bp)
    metrics.init_app(app)
    if background:
        library.start()
    return app
