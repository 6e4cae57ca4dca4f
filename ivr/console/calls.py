"""Calls and their categories: a consultant's own calls of the last 7 days (a supervisor's:
everyone's, with a filter by consultant), each with a form of categories that the monthly
statistics count.

A row shows only what the statistics are made of: the local minute the call started, its
length, language, region, the silent flag and the outcome. No page holds a caller key or a
call's key: a form names its call by a reference, an HMAC of the key under the console's
secret, in a hidden POST field; the server finds the call among those of the window and
refuses a consultant a call that is not theirs. Saving replaces the call's set of categories
and writes an audit row in the same transaction.

The words for outcomes, categories and languages live here; `figures` uses them too.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import get_locale, gettext, lazy_gettext
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import HiddenField, SelectMultipleField
from wtforms.validators import InputRequired, Length

from ivr.clock import zone
from ivr.console import audit
from ivr.console.auth import current_account
from ivr.console.context import Unavailable, console
from ivr.console.nav import page
from ivr.ids import id_problem
from ivr.records.store import CATEGORIES

WINDOW = dt.timedelta(days=7)
PAGE_SIZE = 200
ACTION = "call.categories"  # the audit log's action for a change of a call's categories

OUTCOMES: Mapping[str, Any] = {
    "connected": lazy_gettext("Answered"),
    "no-one-answered": lazy_gettext("No one answered"),
    "caller-hung-up-in-menu": lazy_gettext("Hung up in the menu"),
    "caller-hung-up-while-waiting": lazy_gettext("Hung up while waiting"),
    "caller-hung-up-while-connecting": lazy_gettext("Hung up while a phone rang"),
    "failed": lazy_gettext("Not answered by the router"),
    "unknown": lazy_gettext("Not known (the call's log was lost)"),
}
CATEGORY_NAMES: Mapping[str, Any] = {
    "physical": lazy_gettext("Physical violence"),
    "psychological": lazy_gettext("Psychological violence"),
    "sexual": lazy_gettext("Sexual violence"),
    "economic": lazy_gettext("Economic violence"),
    "child": lazy_gettext("A child affected"),
    "suicide_risk": lazy_gettext("Suicide risk"),
    "legal": lazy_gettext("Legal question"),
    "shelter": lazy_gettext("Shelter request"),
    "information": lazy_gettext("Information"),
    "silent": lazy_gettext("Silent call"),
}
LANGUAGE_NAMES: Mapping[str, Any] = {"kk": lazy_gettext("Kazakh"),
                                     "ru": lazy_gettext("Russian")}


def outcome_name(outcome: str) -> str:
    return str(OUTCOMES.get(outcome, outcome))


def category_name(category: str) -> str:
    return str(CATEGORY_NAMES.get(category, category))


def language_name(language: str | None) -> str:
    if not language:
        return str(gettext("None chosen"))
    return str(LANGUAGE_NAMES.get(language, language))


def region_names() -> Mapping[str, str]:
    """Region ids → their names in the page's language, from the published regions file
    (which names them in Kazakh and Russian); empty when none can be read, and in English,
    where the ids are what `ivr report` prints."""
    try:
        in_force = console().in_force()
    except Unavailable:
        return {}
    if in_force is None:
        return {}
    language = str(get_locale() or "")
    regions = in_force.snapshot.routing.regions.regions
    return {rid: region.names[language] for rid, region in regions.items()
            if region.names.get(language)}


def region_name(region: str | None, names: Mapping[str, str]) -> str:
    return names.get(region, region) if region else str(gettext("Not known"))


def local_minute(started: dt.datetime) -> str:
    """A start (UTC, as the store keeps it) as Kazakhstan's local time."""
    return started.replace(tzinfo=dt.UTC).astimezone(zone()).strftime("%Y-%m-%d %H:%M")


def reference(secret: str, call_key: str) -> str:
    """What a form names a call by: it leads back to the call only with the console's secret,
    and never to the key that reports, logs and `ivr tag` use."""
    return hmac.new(secret.encode(), b"console call\0" + call_key.encode(),
                    hashlib.sha256).hexdigest()[:40]


class CategoriesForm(FlaskForm):  # type: ignore[misc]  # Flask-WTF has no type hints
    call = HiddenField(validators=[InputRequired(), Length(max=64)])
    categories = SelectMultipleField(choices=list(CATEGORIES), validate_choice=True)
    operator = HiddenField(validators=[Length(max=64)])  # the list's filter, to go back to


@dataclass(frozen=True)
class CallRow:
    ref: str
    started: str  # local, to the minute
    duration: str
    language: str
    region: str
    silent: bool
    outcome: str
    operator: str
    categories: tuple[str, ...]


def _duration(seconds: int | None) -> str:
    return "—" if seconds is None else f"{seconds // 60}:{seconds % 60:02d}"


def _since() -> dt.datetime:
    now = dt.datetime.fromtimestamp(console().clock(), dt.UTC).replace(tzinfo=None)
    return now - WINDOW


def _filter(value: str | None) -> str | None:
    """A supervisor's choice of consultant: a roster id, or None for everyone."""
    return value if value and id_problem(value) is None else None


@page("/calls", lazy_gettext("Calls"), roles=("consultant",), order=40)
def calls() -> str:
    return _calls_page(_filter(request.args.get("operator")))


@page("/calls/categories", None, roles=("consultant",), methods=("POST",))
def save_categories() -> Response | tuple[str, int]:
    ctx, me = console(), current_account()
    form = CategoriesForm()
    if not form.validate_on_submit():
        return _calls_page(None, gettext(
            "The categories were not understood, so nothing was changed. Reload the page and "
            "try again.")), 400
    chosen = _filter(form.operator.data)
    found = _find(str(form.call.data))
    if found is None:
        return _calls_page(chosen, gettext(
            "This call is no longer on the page (it shows the last 7 days): its categories "
            "were not changed.")), 404
    call_key, started, operator = found
    if me.role != "supervisor" and (me.operator is None or operator != me.operator):
        return _calls_page(chosen, gettext(
            "This call was taken by another consultant: only they or a supervisor can set "
            "its categories.")), 403
    ticked = set(form.categories.data or ())
    wanted = [c for c in CATEGORIES if c in ticked]
    with ctx.store.engine.begin() as db:
        before = ctx.store.set_categories(call_key, wanted, within=db)
        if set(before) != set(wanted):
            audit.write(db, ctx.accounts.now(), me.name, ACTION, _detail(started, operator,
                                                                         wanted))
    when = local_minute(started)
    if wanted:
        flash(gettext("Saved: the call of %(time)s is now marked %(categories)s.", time=when,
                      categories=", ".join(category_name(c) for c in wanted)), "done")
    else:
        flash(gettext("Saved: the call of %(time)s has no categories now.", time=when), "done")
    return redirect(url_for("console.calls", operator=chosen))


def _find(ref: str) -> tuple[str, dt.datetime, str | None] | None:
    """The call a form's reference names, among the calls of the window."""
    secret = console().settings.console_secret
    for call_key, started, operator in console().store.calls_started_since(_since()):
        if hmac.compare_digest(reference(secret, call_key), ref):
            return call_key, started, operator
    return None


def _detail(started: dt.datetime, operator: str | None, categories: Iterable[str]) -> str:
    """The audit row's detail: which call (its start, UTC, and who took it) and what it now
    carries; nothing of the caller."""
    return (f"call of {started:%Y-%m-%d %H:%M} UTC, operator {operator or '-'}: "
            f"{', '.join(categories) or 'no categories'}")


def _calls_page(chosen: str | None, error: str | None = None) -> str:
    ctx, me = console(), current_account()
    since = _since()
    supervisor = me.role == "supervisor"
    operators = ctx.store.call_operators(since) if supervisor else []
    operator = chosen if supervisor else me.operator
    found = ctx.store.recent_calls(since, operator, PAGE_SIZE + 1) \
        if supervisor or operator else []
    names = region_names() if found else {}
    secret = ctx.settings.console_secret
    rows = [CallRow(reference(secret, row["call_key"]), local_minute(row["started_at"]),
                    _duration(row["duration_seconds"]), language_name(row["language"]),
                    region_name(row["region"], names), bool(row["silent"]),
                    outcome_name(row["outcome"]), row["operator"] or "—", row["categories"])
            for row in found[:PAGE_SIZE]]
    return render_template(
        "calls.html", rows=rows, more=len(found) > PAGE_SIZE, supervisor=supervisor,
        operators=operators, chosen=chosen or "", no_roster_id=not supervisor and not operator,
        categories=[(c, category_name(c)) for c in CATEGORIES], error=error,
        days=WINDOW.days, page_size=PAGE_SIZE)
