"""Logging in and out, the session, and who may open which page.

The session is Flask's signed cookie (IVR_CONSOLE_SECRET), Secure, HttpOnly and SameSite=Strict.
It holds the account's name, its session epoch and the time of the last activity; each request
checks the epoch against the database, so a reset password or a removed account ends every
session on every host at once, and a session unused for IVR_CONSOLE_IDLE_MINUTES ends at its
next request. A page that reloads itself (`<meta http-equiv="refresh">`) asks with `?auto=1`,
which is not activity: a screen left open on such a page still times out.

A supervisor may open every page; `@requires(...)` names the other roles a page admits.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

import flask_babel
from flask import Blueprint, abort, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext, ngettext
from werkzeug.wrappers import Response

from ivr.console import audit
from ivr.console.accounts import Account
from ivr.console.context import UNREACHABLE, Unavailable, console
from ivr.console.forms import LoginForm
from ivr.console.languages import SESSION_KEY as LANGUAGE_KEY
from ivr.console.throttle import ThrottleUnavailable

bp = Blueprint("console", __name__)
AUTO = "auto"  # `?auto=1`: a page reloading itself, which does not count as activity
View = TypeVar("View", bound=Callable[..., Any])


def current_account() -> Account:
    """The logged-in account (only in views behind `@requires`)."""
    account: Account = g.account
    return account


def requires(*roles: str) -> Callable[[View], View]:
    """Only logged-in accounts of these roles (any role when none is named; supervisors
    always) may open the view; others are sent to the login page, or get a 403 page."""
    def decorate(view: View) -> View:
        @functools.wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            account = g.get("account")
            if account is None:
                wanted = request.full_path.rstrip("?") if request.method == "GET" else None
                return redirect(url_for("console.login", next=wanted))
            if roles and account.role != "supervisor" and account.role not in roles:
                abort(403)
            return view(*args, **kwargs)
        return guarded  # type: ignore[return-value]
    return decorate


@bp.before_app_request
def load_account() -> None:
    """Who is asking: `g.account`, or None once the session has ended (and why, flashed)."""
    g.account = None
    if request.endpoint == "static" or "name" not in session:
        return
    ctx = console()
    now = ctx.clock()
    idle = ctx.settings.console_idle_minutes
    if now - float(session.get("seen", 0)) > idle * 60:
        end_session(ngettext("You were logged out after %(num)s minute without activity. "
                             "Please log in again.",
                             "You were logged out after %(num)s minutes without activity. "
                             "Please log in again.", math.ceil(idle)))
        return
    ctx.ensure_schema()
    try:
        account = ctx.accounts.get(str(session["name"]))
    except UNREACHABLE as exc:
        raise Unavailable("database") from exc
    if account is None or account.session_epoch != session.get("epoch"):
        end_session(gettext("Your session has ended: your password was changed or your account "
                            "was removed. Please log in again."))
        return
    g.account = account
    if request.args.get(AUTO) != "1":
        session["seen"] = now


def end_session(why: str | None = None) -> None:
    """Forget the account, keep the language, and say why on the next page."""
    language = session.get(LANGUAGE_KEY)
    session.clear()
    if language:
        session[LANGUAGE_KEY] = language
    g.account = None
    flask_babel.refresh()
    if why:
        flash(why, "notice")


def start_session(account: Account) -> None:
    session.clear()
    session.update(name=account.name, epoch=account.session_epoch, seen=console().clock())
    session[LANGUAGE_KEY] = account.language
    g.account = account
    flask_babel.refresh()


def safe_next(target: str | None) -> str:
    """Where to go after logging in: a path of this console only, never another site."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc:
            return target
    return url_for("console.home")


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response | tuple[str, int]:
    if g.account is not None:
        return redirect(url_for("console.home"))
    form = LoginForm()
    error, status = None, 200
    if form.validate_on_submit():
        error, status = _log_in(form.name.data or "", form.password.data or "")
        if error is None:
            return redirect(safe_next(request.args.get("next")))
    return render_template("login.html", form=form, error=error), status


def _log_in(name: str, password: str) -> tuple[str | None, int]:
    """None when the person is now logged in, else what the page says and its status."""
    ctx = console()
    ctx.ensure_schema()
    try:
        attempt = ctx.throttle.begin(name, request.remote_addr or "")
    except ThrottleUnavailable:
        return gettext("Logging in is not possible just now: the console cannot reach Redis, "
                       "where it counts failed logins. Try again in a minute; if this goes "
                       "on, tell the technician."), 503
    if attempt.paused_for:
        return ngettext("Too many failed logins: logins for this name or from this computer "
                        "are paused. Try again in %(num)s minute.",
                        "Too many failed logins: logins for this name or from this computer "
                        "are paused. Try again in %(num)s minutes.",
                        math.ceil(attempt.paused_for / 60)), 429
    try:
        account = ctx.accounts.verify(name, password)
    except UNREACHABLE as exc:
        ctx.throttle.forgive(attempt)
        raise Unavailable("database") from exc
    if account is None:
        ctx.throttle.failed(attempt)
        return gettext("The name or the password is not right."), 200
    ctx.throttle.succeeded(attempt)
    start_session(account)
    audit.log(ctx.store.engine, ctx.accounts.now(), account.name, audit.LOGIN)
    return None, 200


@bp.post("/logout")
@requires()
def logout() -> Response:
    ctx = console()  # the form's CSRF token was checked before the view, as on every form
    audit.log(ctx.store.engine, ctx.accounts.now(), current_account().name, audit.LOGOUT)
    end_session(gettext("You are logged out."))
    return redirect(url_for("console.login"))
