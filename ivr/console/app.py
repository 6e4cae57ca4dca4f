"""The console's factory: the one place where configuration becomes the console.

It is its own process (the Procfile's `console`, on IVR_CONSOLE_BIND:IVR_CONSOLE_PORT,
127.0.0.1:8150 by default), never part of the public webhook app: its pages are for staff on
an internal network or behind the TLS proxy under a hostname of their own.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from flask import Flask, g
from flask_babel import lazy_gettext
from flask_wtf.csrf import CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.wrappers import Response

from ivr.calls.keys import Keys
from ivr.console import (  # noqa: F401  # each module registers its pages (`ivr.console.nav`)
    availability,
    calls,
    coverage,
    errors,
    figures,
    flows,
    languages,
    now,
    pages,
    roster,
)
from ivr.console.accounts import Accounts
from ivr.console.auth import AUTO, bp
from ivr.console.context import EXTENSION, Console, Unavailable
from ivr.console.nav import nav_for
from ivr.console.throttle import Throttle
from ivr.library.store import SnapshotStore
from ivr.records.store import RecordStore
from ivr.redis_url import connect
from ivr.settings import Settings

# Scripts, styles and images from the console itself only (none inline, no CDN: the servers
# may have no internet); forms post only to the console; no page may be framed.
CSP = ("default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; "
       "object-src 'none'")
ROLE_NAMES = {"supervisor": lazy_gettext("Supervisor"), "consultant": lazy_gettext("Consultant"),
              "viewer": lazy_gettext("Viewer")}
MAX_BODY_BYTES = 64 * 1024  # the largest form is a few hundred bytes


def create_console(settings: Settings | None = None,
                   clock: Callable[[], float] = time.time) -> Flask:
    """The console. `clock` gives the time (seconds since the epoch) for sessions, the login
    throttle and the audit log; tests move it."""
    settings = settings or Settings.from_env()
    settings.check_console()
    store = RecordStore(settings.database_url)
    client = connect(settings.redis_url or "", settings.redis_timeout_seconds)
    keys = Keys(settings.redis_prefix)
    ctx = Console(settings, store, Accounts(store, clock), Throttle(client, keys, clock),
                  client, keys, SnapshotStore(client, keys), clock)

    app = Flask(__name__)  # templates/ and static/ beside this file
    if settings.console_proxies:
        # Behind the TLS proxy: the person's own address (for the login throttle) and the
        # scheme come from the proxy's headers, trusted from that many proxies and no others.
        n = settings.console_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n,  # type: ignore[method-assign]
                                x_host=n)
    secure = not settings.console_insecure_cookies
    app.config.update(
        SECRET_KEY=settings.console_secret,
        # `__Host-`: the browser keeps it only from this host, over HTTPS (or 127.0.0.1).
        SESSION_COOKIE_NAME="__Host-ivr-console" if secure else "ivr-console",
        SESSION_COOKIE_SECURE=secure, SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict", SESSION_COOKIE_PATH="/",
        MAX_CONTENT_LENGTH=MAX_BODY_BYTES, MAX_FORM_MEMORY_SIZE=MAX_BODY_BYTES,
        # A token lives as long as its session (which the idle timeout ends). Flask-WTF's
        # Referer check is off: pages send no Referer (Referrer-Policy), and the SameSite
        # cookie with the token keeps other sites' forms out.
        WTF_CSRF_TIME_LIMIT=None, WTF_CSRF_SSL_STRICT=False,
    )
    app.extensions[EXTENSION] = ctx
    CSRFProtect(app)
    languages.init_app(app)
    errors.init_app(app)
    app.register_blueprint(bp)
    app.before_request(languages.speak)  # after the blueprint's: the account is known by then
    app.after_request(secure_headers)

    @app.context_processor
    def page_context() -> dict[str, object]:
        account = g.get("account")
        return {"account": account, "nav": nav_for(account), "role_names": ROLE_NAMES,
                "auto": AUTO}

    try:
        ctx.ensure_schema()
    except Unavailable:
        logging.getLogger("ivr.console").warning(
            "the records database cannot be reached; the console says so on its pages until "
            "it can")
    return app


def secure_headers(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Content-Type-Options"] = "nosniff"
    if response.mimetype == "text/html":
        response.headers["Cache-Control"] = "no-store"
    return response
