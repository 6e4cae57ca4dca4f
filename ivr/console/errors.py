"""Error pages: a sentence in the person's language for every failure, never a traceback.

A form sent without its CSRF token (or with a stale one), a page the role may not open, a page
that does not exist, a database or Redis out of reach, and any fault in the code each get a
page that says what happened and what to do; the fault itself goes to the log.
"""

from __future__ import annotations

import logging

import redis
from flask import Flask, render_template
from flask_babel import gettext
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from ivr.console.context import UNREACHABLE, Unavailable
from ivr.console.throttle import ThrottleUnavailable

log = logging.getLogger("ivr.console")


def _page(status: int, title: str, sentence: str) -> tuple[str, int]:
    return render_template("error.html", status=status, title=title, sentence=sentence), status


def csrf_refused(error: CSRFError) -> tuple[str, int]:
    return _page(400, gettext("The form was not accepted"), gettext(
        "The form's security token is missing or out of date: the page was open too long, you "
        "logged out meanwhile, or the form did not come from the console. Go back, reload the "
        "page and send the form again."))


def http_error(error: HTTPException) -> tuple[str, int]:
    code = error.code or 500
    if code == 403:
        return _page(403, gettext("Not for your role"), gettext(
            "This page is not open to your role. If you need it, ask a supervisor."))
    if code == 404:
        return _page(404, gettext("No such page"), gettext(
            "The console has no page at this address. Use the links above."))
    if code == 405:
        return _page(405, gettext("Not this way"), gettext(
            "This address is not opened that way. Use the links and buttons of the console."))
    if code == 413:
        return _page(413, gettext("Too much"), gettext(
            "What was sent is larger than any form of the console takes."))
    if code < 500:
        return _page(code, gettext("Not understood"), gettext(
            "The console could not understand this request. Go back and try again."))
    return unexpected(error)


def unavailable(error: Unavailable) -> tuple[str, int]:
    log.warning("a console page could not be shown: the %s cannot be reached", error.what)
    if error.what == "redis":
        sentence = gettext("The console cannot reach Redis just now. Try again in a minute; if "
                           "this goes on, tell the technician.")
    else:
        sentence = gettext("The console cannot reach the records database just now. Try again "
                           "in a minute; if this goes on, tell the technician.")
    return _page(503, gettext("Not available just now"), sentence)


def unexpected(error: Exception) -> tuple[str, int]:
    log.exception("a console page failed", exc_info=error)
    return _page(500, gettext("Something went wrong"), gettext(
        "Something went wrong on the console's side; it is written in the console's log for "
        "the technician. Try again in a moment."))


def init_app(app: Flask) -> None:
    app.register_error_handler(CSRFError, csrf_refused)
    app.register_error_handler(HTTPException, http_error)
    app.register_error_handler(Unavailable, unavailable)
    app.register_error_handler(ThrottleUnavailable, lambda _e: unavailable(Unavailable("redis")))
    app.register_error_handler(redis.RedisError, lambda _e: unavailable(Unavailable("redis")))
    for failure in UNREACHABLE:
        app.register_error_handler(failure, lambda _e: unavailable(Unavailable("database")))
    app.register_error_handler(Exception, unexpected)
