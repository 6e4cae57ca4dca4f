"""The console's own pages: home, the person's account (password and language), and the
supervisors' list of accounts. Other pages register themselves the same way (`ivr.console.nav`).
"""

from __future__ import annotations

import math

import flask_babel
from flask import flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext, lazy_gettext, ngettext
from werkzeug.wrappers import Response

from ivr.console import audit
from ivr.console.accounts import AccountError, WrongPassword
from ivr.console.auth import current_account
from ivr.console.context import console
from ivr.console.forms import LanguageForm, PasswordForm
from ivr.console.languages import NAMES
from ivr.console.languages import SESSION_KEY as LANGUAGE_KEY
from ivr.console.nav import page


@page("/", lazy_gettext("Home"), order=0)
def home() -> str:
    return render_template("home.html")


@page("/account", lazy_gettext("My account"), order=100)
def account() -> str:
    return _account_page(PasswordForm(prefix="password"), _language_form())


@page("/account/password", None, methods=("POST",))
def change_password() -> Response | tuple[str, int]:
    form = PasswordForm(prefix="password")
    if not form.validate_on_submit():
        return _account_page(form, _language_form()), 400
    ctx, me = console(), current_account()
    attempt = ctx.throttle.begin(me.name, request.remote_addr or "")  # guessing the current one
    if attempt.paused_for:
        error = ngettext("Too many wrong passwords: changes are paused. Try again in %(num)s "
                         "minute.", "Too many wrong passwords: changes are paused. Try again "
                         "in %(num)s minutes.", math.ceil(attempt.paused_for / 60))
        return _account_page(form, _language_form(), error), 429
    try:
        changed = ctx.accounts.change_password(me.name, form.current.data or "",
                                               form.new.data or "")
    except AccountError as exc:
        (ctx.throttle.failed if isinstance(exc, WrongPassword) else ctx.throttle.forgive)(attempt)
        return _account_page(form, _language_form(), _sentence(exc.say(gettext))), 400
    ctx.throttle.succeeded(attempt)
    session["epoch"] = changed.session_epoch  # this session goes on; the others end
    flash(gettext("Your password is changed. Your other sessions have ended."), "done")
    return redirect(url_for("console.account"))


@page("/account/language", None, methods=("POST",))
def change_language() -> Response | tuple[str, int]:
    form = LanguageForm(prefix="language")
    if not form.validate_on_submit():
        return _account_page(PasswordForm(prefix="password"), form), 400
    g.account = console().accounts.set_language(current_account().name, form.language.data)
    session[LANGUAGE_KEY] = g.account.language
    flask_babel.refresh()
    flash(gettext("Saved: the console's language is now %(language)s.",
                  language=NAMES[g.account.language]), "done")
    return redirect(url_for("console.account"))


@page("/users", lazy_gettext("Accounts"), roles=("supervisor",), order=90)
def users() -> str:
    ctx = console()
    return render_template("users.html", accounts=ctx.accounts.all(),
                           changes=audit.recent(ctx.store.engine, limit=20))


def _language_form() -> LanguageForm:
    return LanguageForm(prefix="language", language=current_account().language)


def _account_page(passwords: PasswordForm, language: LanguageForm, error: str | None = None
                  ) -> str:
    return render_template("account.html", passwords=passwords, language=language, error=error)


def _sentence(text: str) -> str:
    """A message from the accounts' rules as a sentence on a page: capital first, full stop."""
    return text[:1].upper() + text[1:] + ("" if text.endswith((".", "!", "?")) else ".")
