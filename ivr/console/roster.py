"""The Roster page: the duty roster of the version in force, for supervisors, and changes to
it made as `ivr publish` makes them.

A change goes form → preview → publish. The preview makes the edit to the roster of the
version in force (never the working folder's) and shows the diff of roster.yaml with the gaps it
closes and opens over the next 14 days per language, or the checks' problems as `ivr check`
says them. Its Publish button re-sends the form's fields (hidden, with the CSRF token) and the
version previewed; `publish_edit` refuses when another version was put in force meanwhile.
After a publication the working folder's roster.yaml is brought up to date if nobody has an
unpublished edit of it there. Every publication and refusal is in the audit log.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

from babel.dates import get_day_names
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import format_date, format_datetime, get_locale, gettext, lazy_gettext
from werkzeug.wrappers import Response

from ivr.console import audit
from ivr.console.auth import current_account
from ivr.console.context import UNREACHABLE, InForce, console
from ivr.console.nav import page
from ivr.console.roster_forms import (
    SECTIONS,
    SHORTCUTS,
    OperatorForm,
    RosterChange,
    Section,
    carried,
    edit_of,
    offer_choices,
    operator_values,
    posted_form,
    summary,
)
from ivr.console.words import language_name, stretch
from ivr.i18n import _ as ivr_messages
from ivr.library.pipeline import Options
from ivr.library.roster_edits import Edit, EditError, Entries, Interval, SaveOperator, entries, preview
from ivr.library.roster_publish import MEANWHILE, publish_edit, sync_working_copy
from ivr.library.snapshot import ROSTER_FILE
from ivr.source import LoadError, Problem

SUPERVISORS = ("supervisor",)
PUBLISHED, REFUSED = "roster.publish", "roster.refused"  # audit actions
PREVIEW_DAYS = 14
log = logging.getLogger("ivr.console")


@page("/roster", lazy_gettext("Roster"), roles=SUPERVISORS, order=30)
def roster() -> str:
    ctx = console()
    found = ctx.in_force()
    if found is None:
        return render_template("roster.html", in_force=None)
    try:
        listed = _entries(found)
    except EditError as exc:
        return render_template("roster.html", in_force=found, unreadable=_sentence(exc))
    publication = ctx.snapshots.publication(found.version)
    return render_template("roster.html", in_force=found, listed=listed, publication=publication,
                           published_at=publication and dt.datetime.fromtimestamp(
                               publication.at, dt.UTC), **_words(found))


@page("/roster/<section>/edit", None, roles=SUPERVISORS, methods=("GET", "POST"))
def roster_form(section: str) -> str | Response:
    """A new entry (`?key=` names one to change); a POST brings a previewed form back."""
    kind, found, listed = _opened(section)
    if request.method == "POST":
        form = kind.form()
    else:
        key = request.args.get("key", "")
        values = _values(kind, listed, key) if key else {}
        if values is None:
            flash(gettext("That entry is no longer in the roster in force; look again."), "error")
            return redirect(url_for("console.roster"))
        form = kind.form(formdata=None, version=found.version, **values)
    return _form_page(kind, form, listed, found)


@page("/roster/<section>/preview", None, roles=SUPERVISORS, methods=("POST",))
def roster_preview(section: str) -> str | tuple[str, int]:
    kind, found, listed = _opened(section)
    form = posted_form(kind)
    if form.version.data != found.version:
        return _stale_page(kind, form)
    _choices(form, listed, found)
    if not form.validate():
        if form.remove.data:
            abort(400)
        return _form_page(kind, form, listed, found), 400
    return _preview_page(kind, form, found)


@page("/roster/<section>/publish", None, roles=SUPERVISORS, methods=("POST",))
def roster_publish(section: str) -> Response | str | tuple[str, int]:
    kind, found, listed = _opened(section)
    form = posted_form(kind)
    _choices(form, listed, found)
    if form.version.data != found.version:
        _audit(REFUSED, f"{_what(kind, form)}: previewed on {str(form.version.data)[:12]}, "
                        f"{found.version[:12]} in force by now")
        return _stale_page(kind, form)
    if not form.validate():
        if form.remove.data:
            abort(400)
        return _form_page(kind, form, listed, found), 400
    edit = _edit(kind, form)
    message = (form.message.data or "").strip()
    if not message:
        form.message.errors = [gettext("Say why, in a few words: it goes into the history with "
                                       "your name.")]
        return _preview_page(kind, form, found, status=400)
    ctx, me = console(), current_account()
    try:
        outcome = publish_edit(ctx.snapshots, found.files, edit, Options.of(ctx.settings),
                               f"{me.name} (console)", message)
    except EditError as exc:
        _audit(REFUSED, f"{summary(edit)}: {exc}")
        return _preview_page(kind, form, found, refusal=exc)
    except LoadError as exc:
        _audit(REFUSED, f"{summary(edit)}: refused by the checks at " + ", ".join(
            f"{p.file}:{p.line}" for p in exc.problems))  # where, not what: no phone numbers
        return _preview_page(kind, form, found, status=422)
    old = found.files[ROSTER_FILE].decode("utf-8")
    new = outcome.snapshot.files[ROSTER_FILE].decode("utf-8")
    synced = _sync(ctx.settings.flows_dir, old, new)
    if outcome.publication is None:
        flash(gettext("The roster in force already reads so: nothing was published."), "notice")
    else:
        _audit(PUBLISHED, f"{summary(edit)} · {found.version[:12]} → {outcome.snapshot.version[:12]}"
                          f" · why: {message}" + ("" if synced else " · working copy left"))
        flash(gettext("Published: version %(version)s is in force. New calls are routed by it "
                      "within a few seconds, on every router.",
                      version=outcome.snapshot.version[:12]), "done")
    working = ctx.settings.flows_dir / "roster.yaml"
    if synced:
        flash(gettext("The working folder's roster.yaml (%(path)s) now reads the same.",
                      path=working), "done")
    elif not working.exists():
        flash(gettext("There is no working folder's roster.yaml on this host (%(path)s) to "
                      "bring up to date.", path=working), "notice")
    else:
        flash(gettext("The working folder's roster.yaml (%(path)s) was left as it is: it differs "
                      "from the version that was in force, so someone may have an unpublished "
                      "edit there. ivr status shows the difference; merge this change into it "
                      "by hand before anyone publishes from the working folder.", path=working),
              "notice")
    return redirect(url_for("console.roster"))


# --- the pages ------------------------------------------------------------------------------
def _opened(section: str) -> tuple[Section, InForce, Entries]:
    """The section named in the address, and the version in force with its entries; without
    one, back to the roster page, which says why."""
    kind = SECTIONS.get(section)
    if kind is None:
        abort(404)
    found = console().in_force()
    if found is None:
        abort(redirect(url_for("console.roster")))
    try:
        return kind, found, _entries(found)
    except EditError:
        abort(redirect(url_for("console.roster")))


def _entries(found: InForce) -> Entries:
    return entries(found.files[ROSTER_FILE].decode("utf-8"))


def _values(kind: Section, listed: Entries, key: str) -> dict[str, object] | None:
    try:
        return kind.values(listed, key)
    except ValueError:
        return None


def _choices(form: RosterChange, listed: Entries, found: InForce) -> None:
    language = str(get_locale() or "ru")
    regions = [(rid, f"{region.names.get(language) or region.names.get('ru') or rid}")
               for rid, region in sorted(found.snapshot.routing.regions.regions.items())]
    offer_choices(form, listed, regions, _day_names())


def _form_page(kind: Section, form: RosterChange, listed: Entries, found: InForce) -> str:
    _choices(form, listed, found)
    change = bool(form.key.data)
    return render_template("roster_form.html", kind=kind, form=form,
                           title=kind.titles[1 if change else 0], change=change)


def _preview_page(kind: Section, form: RosterChange, found: InForce, status: int = 200,
                  refusal: EditError | None = None) -> str | tuple[str, int]:
    """What the change would do, to the version in force; a sentence when that is no longer
    the version the change was made to, or when the edit cannot be made."""
    if refusal is not None and refusal.template == MEANWHILE:
        return _stale_page(kind, form)
    page_of = {"kind": kind, "form": form, "title": _title(kind, form),
               "carried": list(carried(form))}
    edit, now = _edit(kind, form), _now(found)
    try:
        if refusal is not None:  # refused at publication: said as a preview would say it
            raise refusal
        seen = preview(found.files, edit, Options.of(console().settings), now.date(),
                       PREVIEW_DAYS)
    except EditError as exc:
        return render_template("roster_preview.html", refused=_sentence(exc),
                               instead=_instead(exc.instead, form), **page_of), 409
    old = found.files[ROSTER_FILE].decode("utf-8")
    return render_template(
        "roster_preview.html", diff=_diff_lines(seen.diff), unchanged=seen.text == old,
        problems=_problems(seen.problems, seen.text), days=PREVIEW_DAYS,
        closed=_gap_lines(seen.closed, now), opened=_gap_lines(seen.opened, now),
        refused_at_publish=status == 422, **page_of), status


def _stale_page(kind: Section, form: RosterChange) -> tuple[str, int]:
    """The change was made to a version no longer in force: look again."""
    return render_template("roster_preview.html", kind=kind, form=form, title=_title(kind, form),
                           stale=_sentence(EditError(MEANWHILE))), 409


def _what(kind: Section, form: RosterChange) -> str:
    """The change a form asks for, in a line for the audit log, as far as it can be read."""
    try:
        return summary(edit_of(kind, form)) if form.validate() else kind.name
    except ValueError:
        return kind.name


def _title(kind: Section, form: RosterChange) -> object:
    return kind.titles[2 if form.remove.data else 1 if form.key.data else 0]


def _edit(kind: Section, form: RosterChange) -> Edit:
    try:
        return edit_of(kind, form)
    except ValueError:  # an entry's number that is not one: not sent by the console's pages
        abort(400)


def _instead(edit: Edit | None, form: RosterChange) -> list[tuple[str, str]] | None:
    """The hidden fields of the form that makes `edit` instead (keeping an operator on the list
    without ringing them, when they cannot be removed)."""
    if not isinstance(edit, SaveOperator):
        return None
    instead = OperatorForm(formdata=None, version=form.version.data, **operator_values(edit.fields))
    return list(carried(instead))


def _diff_lines(diff: str) -> list[tuple[str, str]]:
    def kind(line: str) -> str:
        if line.startswith(("+++", "---")):
            return "file"
        return {"+": "added", "-": "removed", "@": "where"}.get(line[:1], "")
    return [(kind(line), line) for line in diff.splitlines()]


def _problems(problems: Sequence[Problem], text: str) -> list[tuple[str, str]]:
    """Each problem as `ivr check` says it, with the line of roster.yaml it names."""
    lines = text.splitlines()
    return [(str(p), f"{p.line} │ {lines[p.line - 1]}"
             if p.file == ROSTER_FILE and 0 < p.line <= len(lines) else "") for p in problems]


def _gap_lines(runs: Mapping[str, Sequence[Interval]], since: dt.datetime) -> list[tuple[str, str]]:
    """Each gap as (language, stretch of time), from now on (the preview looks from midnight)."""
    return [(language_name(lang), stretch(max(start, since), end)) for lang, found in runs.items()
            for start, end in found if end > since]


def _now(found: InForce) -> dt.datetime:
    return dt.datetime.fromtimestamp(console().clock(), found.snapshot.routing.roster.timezone)


def _sync(flows_dir: Path, old: str, new: str) -> bool:
    try:
        return sync_working_copy(flows_dir, old, new)
    except OSError:
        log.exception("the working folder's roster.yaml could not be written")
        return False


def _audit(action: str, detail: str) -> None:
    """A row in the audit log; a database out of reach does not undo what was done, so it is
    said in the console's log instead."""
    ctx = console()
    try:
        audit.log(ctx.store.engine, ctx.accounts.now(), current_account().name, action, detail)
    except UNREACHABLE:
        log.warning("the audit log cannot be reached; not written: %s %s", action, detail)


def _sentence(exc: EditError) -> str:
    # The library's sentences are in the `ivr` catalogue, which `languages.speak` has set to
    # this page's language.
    text = exc.say(ivr_messages)
    return text[:1].upper() + text[1:] + ("" if text.endswith((".", "!", "?")) else ".")


# --- words for the roster's tables ----------------------------------------------------------
def _day_names() -> list[str]:
    names = get_day_names("abbreviated", locale=get_locale())
    return [str(names[number]) for number in range(7)] + [gettext("Public holidays")]


def _words(found: InForce) -> dict[str, object]:
    operators = found.snapshot.routing.roster.operators
    day_names = _day_names()
    shortcuts = dict(zip(SHORTCUTS, (gettext("Every day"), gettext("Weekdays (Mon–Fri)"),
                                     gettext("Weekend (Sat, Sun)")), strict=True))
    numbers = {name: n for n, name in enumerate(("mon", "tue", "wed", "thu", "fri", "sat", "sun",
                                                 "holiday"))}

    def who(ids: Sequence[str]) -> str:
        return ", ".join(f"{op} — {operators[op].name}" if op in operators else op for op in ids)

    def days(value: str | Sequence[str]) -> str:
        if isinstance(value, str):
            return str(shortcuts.get(value, value))
        return ", ".join(day_names[numbers[d]] if d in numbers else d for d in value)

    def day(value: dt.date) -> str:
        if isinstance(value, dt.datetime):
            return str(format_datetime(value, "EEE d MMM y HH:mm", rebase=False))
        if value == dt.date.min:
            return "—"
        return str(format_date(value, "EEE d MMM y", rebase=False))

    def languages(codes: Sequence[str]) -> str:
        return ", ".join(map(language_name, codes))

    return {"who": who, "days": days, "day": day, "languages": languages}
