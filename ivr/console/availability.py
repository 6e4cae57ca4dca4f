"""The Availability page: a consultant steps away for a while, and comes back.

"Away now, until …" marks the consultant away at once (`ivr.calls.presence`): from the next
webhook on, routing leaves them out of those on duty and a waiting line does not wait for them,
whatever the roster says, until the time they chose (at most a day; a mark lapses by itself).
"I'm back" ends it. Supervisors see everyone's marks here, by the names in the roster in force,
and can end one. Every mark and every end of one is in the audit log. A longer absence belongs
in the roster, where the cover is checked.
"""

from __future__ import annotations

import datetime as dt
import logging
from zoneinfo import ZoneInfo

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext, lazy_gettext, ngettext
from werkzeug.wrappers import Response
from wtforms import SelectChoice

from ivr.calls.presence import LONGEST_SECONDS, Presence
from ivr.console import audit
from ivr.console.auth import current_account
from ivr.console.context import UNREACHABLE, InForce, console
from ivr.console.nav import page
from ivr.console.roster_forms import AT_TIME, AWAY_MINUTES, SHIFT_END, AwayForm, BackForm
from ivr.console.words import moment
from ivr.routing.report import spans

CONSULTANTS = ("consultant",)
AWAY, BACK = "presence.away", "presence.back"  # audit actions
LINE_ZONE = ZoneInfo("Asia/Almaty")  # without a roster in force: the line's time zone
DAY = dt.timedelta(days=1)


@page("/away", lazy_gettext("Availability"), roles=CONSULTANTS, order=35)
def availability() -> str:
    return _page(AwayForm())


@page("/away/mark", None, roles=CONSULTANTS, methods=("POST",))
def mark_away() -> Response | tuple[str, int]:
    me = current_account()
    if not me.operator:
        abort(403)
    form = AwayForm()
    now, found = _now(), console().in_force()
    shift_end = _shift_end(found, me.operator, now)
    _offer(form, shift_end)
    if not form.validate_on_submit():
        return _page(form), 400
    until = _until(form, now, shift_end)
    if until is None:
        form.at.errors = [gettext("That time has already passed today: write a later one.")]
        return _page(form), 400
    back_at = _presence().away(me.operator, until.timestamp())
    when = dt.datetime.fromtimestamp(back_at, now.tzinfo)
    _audit(AWAY, f"{me.operator} until {when:%Y-%m-%d %H:%M}")
    flash(gettext("You are marked away until %(time)s. New calls skip you from now on, until "
                  "then or until you say you are back.", time=moment(when)), "done")
    return redirect(url_for("console.availability"))


@page("/away/back", None, roles=CONSULTANTS, methods=("POST",))
def mark_back() -> Response:
    form = BackForm()
    if not form.validate_on_submit():
        abort(400)
    me, operator = current_account(), form.operator.data
    if me.role != "supervisor" and operator != me.operator:
        abort(403)  # a consultant ends only their own mark
    if _presence().back(operator):
        _audit(BACK, operator)
        flash(gettext("You are back: new calls can reach you again when you are on duty.")
              if operator == me.operator else
              gettext("%(operator)s is back: new calls can reach them again when they are on "
                      "duty.", operator=operator), "done")
    else:
        flash(gettext("There was no mark to end: it had lapsed already."), "notice")
    return redirect(url_for("console.availability"))


def _page(form: AwayForm) -> str:
    me = current_account()
    now, found = _now(), console().in_force()
    marks = _presence().marks()
    operators = found.snapshot.routing.roster.operators if found else {}
    shift_end = _shift_end(found, me.operator, now) if me.operator else None
    _offer(form, shift_end)
    mine = marks.get(me.operator or "")
    own = operators.get(me.operator or "")
    everyone = [(op, operators[op].name if op in operators else "—",
                 moment(dt.datetime.fromtimestamp(until, now.tzinfo)))
                for op, until in sorted(marks.items(), key=lambda item: item[1])]
    return render_template(
        "availability.html", form=form, back=BackForm(operator=me.operator or ""),
        operator=me.operator, known=own is not None, name=own.name if own else None,
        away_until=moment(dt.datetime.fromtimestamp(mine, now.tzinfo)) if mine else None,
        on_duty=found is not None and me.operator is not None and _on_duty(found, me.operator, now),
        shift_end=moment(shift_end) if shift_end else None,
        everyone=everyone if me.role == "supervisor" else None, in_force=found)


def _offer(form: AwayForm, shift_end: dt.datetime | None) -> None:
    choices = [SelectChoice(str(minutes), ngettext("%(num)s minute", "%(num)s minutes", minutes)
                            if minutes < 60 else
                            ngettext("%(num)s hour", "%(num)s hours", minutes // 60))
               for minutes in AWAY_MINUTES]
    if shift_end is not None:
        choices.append(SelectChoice(SHIFT_END, gettext("the end of my shift, %(time)s",
                                                       time=moment(shift_end))))
    choices.append(SelectChoice(AT_TIME, gettext("a time today, written below")))
    form.until.choices = choices


def _until(form: AwayForm, now: dt.datetime, shift_end: dt.datetime | None
           ) -> dt.datetime | None:
    """When the consultant will be back; None for a time today that has passed."""
    choice = form.until.data
    if choice == SHIFT_END and shift_end is not None:
        return shift_end
    if choice == AT_TIME:
        hours, minutes = (int(part) for part in form.at.data.split(":"))
        at = dt.datetime.combine(now.date(), dt.time(hours, minutes), now.tzinfo)
        return at if at > now else None
    return now + dt.timedelta(minutes=int(choice))


def _now() -> dt.datetime:
    """Now on the line's clock, in the roster's time zone."""
    found = console().in_force()
    zone = found.snapshot.routing.roster.timezone if found else LINE_ZONE
    return dt.datetime.fromtimestamp(console().clock(), zone)


def _on_duty(found: InForce, operator: str, now: dt.datetime) -> bool:
    return operator in found.snapshot.routing.duty.on_duty(now).operators


def _shift_end(found: InForce | None, operator: str | None, now: dt.datetime
               ) -> dt.datetime | None:
    """When the consultant's time on duty that includes now ends, shift after adjoining shift
    (None: not on duty now, or on duty for longer than a mark may last)."""
    if found is None or operator is None:
        return None
    routing = found.snapshot.routing
    end: dt.datetime | None = None
    for span in spans(routing, now.date() - DAY, 3):
        if span.end <= now:
            continue
        if operator not in span.segment.operators or (end is not None and span.start != end):
            break
        end = span.end
    if end is not None and (end - now).total_seconds() > LONGEST_SECONDS:
        return None  # on duty for more than a day: longer than a mark lasts
    return end


def _presence() -> Presence:
    ctx = console()
    return Presence(ctx.redis, ctx.keys, ctx.clock)


def _audit(action: str, detail: str) -> None:
    ctx = console()
    try:
        audit.log(ctx.store.engine, ctx.accounts.now(), current_account().name, action, detail)
    except UNREACHABLE:  # the mark is made; the log says what the audit log could not
        logging.getLogger("ivr.console").warning("the audit log cannot be reached; not written: "
                                                 "%s %s", action, detail)
