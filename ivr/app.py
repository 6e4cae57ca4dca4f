"""The application factory: the one place where configuration becomes a running router.

Flows and prompts are loaded and checked here, before the first call: a router with a broken flow
refuses to start and prints every problem, instead of failing on a caller.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from typing import Any

import redis
from flask import Blueprint, Flask, Response, abort, current_app, jsonify, send_from_directory

from ivr import tags, webhooks
from ivr.clock import check_kazakhstan_offset
from ivr.engine import FlowSet, load_flowset
from ivr.i18n import set_language
from ivr.library import Library
from ivr.prompts import LANGUAGE_NAMES, plain_name
from ivr.pseudonyms import CallerKeys
from ivr.redis_url import connect
from ivr.settings import ConfigError, Settings
from ivr.signature import SignatureCheck
from ivr.spool import Spool
from ivr.state import CallLog
from ivr.twiml import Renderer, SafePath
from ivr.yamlsrc import LoadError, Problem

SAFE_PROMPTS = ("fallback", "hold", "all_busy")
AUDIO_MAX_AGE = 24 * 3600

public = Blueprint("public", __name__)


def _voice() -> webhooks.Voice:
    return webhooks.voice()


@public.get("/healthz")
def healthz() -> tuple[Response, int]:
    """For load balancers: 200 while flows are loaded; Redis's state is reported, not fatal."""
    ctx = _voice()
    try:
        ctx.redis.ping()
        redis_state = "ok"
    except redis.RedisError:
        redis_state = "unreachable"
    flows = ctx.flows()
    body: dict[str, Any] = {
        "status": "ok",
        "version": flows.version,
        "loaded_at": dt.datetime.fromtimestamp(ctx.library.loaded_at, dt.UTC).isoformat(
            timespec="seconds"),
        "flows": {name: flow.version for name, flow in flows.flows.items()},
        "prompts": flows.catalogue.version,
        "routing": flows.routing.version,
        "refused": [str(problem) for problem in ctx.library.refused],
        "redis": redis_state,
    }
    return jsonify(body), 200


@public.get("/audio/<language>/<name>")
def audio(language: str, name: str) -> Response:
    """Recorded prompts. Not signed: Twilio fetches media plainly, and prompts are public.

    Served with ETag and Last-Modified so Twilio caches them. TwiML names each file with a
    hash of its content (`greeting.3f2a….wav`), so a replaced recording is a new name and is
    fetched anew at once; the plain name works too.
    """
    if language not in LANGUAGE_NAMES:
        abort(404)
    response = send_from_directory(current_app.config["IVR_AUDIO_DIR"] / language,
                                   plain_name(name), conditional=True, etag=True,
                                   max_age=AUDIO_MAX_AGE)
    return response


def _check_safe_path(flows: FlowSet, numbers: tuple[str, ...]) -> None:
    prompts = flows.catalogue.prompts
    problems = [
        Problem(flows.catalogue.file, 1, "", f"the safe path needs the prompt '{p}' in kk and ru")
        for p in SAFE_PROMPTS
        if p not in prompts or not {"kk", "ru"} <= prompts[p].texts.keys()
    ]
    if not numbers:
        problems.append(Problem(flows.flows[flows.default].file, 1, "",
                                "the safe path needs a 'national' number in the default flow "
                                "(or IVR_FALLBACK_NUMBERS)"))
    if problems:
        raise LoadError(problems)


def create_app(settings: Settings | None = None,
               clock: Callable[[], float] = time.time, simulated: bool = False) -> Flask:
    """The router. `clock` gives the time of each event (seconds since the epoch);
    `simulated` apps (ivr call, ivr test) skip advice meant for a live deployment."""
    settings = settings or Settings.from_env()
    settings.check_web()
    if not settings.redis_url:
        raise ConfigError("REDIS_URL is not set: start Redis and set it, or run `ivr serve`, "
                          "which starts an embedded Redis for local use.")
    check_kazakhstan_offset()
    set_language(settings.messages_language)
    library = Library(
        lambda: load_flowset(settings.flows_dir, settings.audio_dir, settings.default_flow),
        (settings.flows_dir, settings.audio_dir),
    )
    flows = library.current()
    numbers = settings.fallback_numbers or flows.national_numbers
    _check_safe_path(flows, numbers)

    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = 64 * 1024
    app.config["IVR_AUDIO_DIR"] = settings.audio_dir
    client = connect(settings.redis_url, settings.redis_timeout_seconds)
    renderer = Renderer(flows.catalogue, settings.public_base_url or "", settings.caller_id)
    webhooks.init_app(app, webhooks.Voice(
        settings=settings, library=library, safe=SafePath(renderer, numbers),
        signatures=SignatureCheck(settings.twilio_auth_token, settings.public_base_url),
        redis=client, calls=CallLog(client, settings.call_ttl_seconds, settings.redis_prefix, clock),
        caller_keys=CallerKeys(client, settings.redis_prefix, clock),
        spool=Spool(settings.spool_dir), clock=clock,
    ))
    app.register_blueprint(public)
    app.register_blueprint(tags.bp)
    logging.getLogger("ivr").setLevel(logging.INFO)
    if not settings.caller_id and not simulated:
        logging.getLogger("ivr").warning(
            "IVR_CALLER_ID is not set: operators' phones show the number the caller dialled "
            "when Twilio gives it in full; set IVR_CALLER_ID to one of your Twilio numbers")
    return app
