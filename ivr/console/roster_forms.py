"""The roster's forms (Flask-WTF) and the edits they make (`ivr.library.roster_edits`).

One form per kind of entry, each carrying what a change is made against: the version in force
that the supervisor saw (`version`), the entry changed (`key`: a list's index, or an operator's
id; empty for a new one) and, for a removal, `remove`. A preview re-sends the same fields as
hidden inputs with the page's CSRF token, so the publication rebuilds exactly the edit that was
previewed, against the version that was previewed (`carried`), and nothing waits in the session.
Also the availability page's forms.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from flask import request
from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    Field,
    HiddenField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    Optional,
    Regexp,
    ValidationError,
)
from wtforms.widgets import CheckboxInput, ListWidget

from ivr.console.words import CALL_LANGUAGES
from ivr.library.roster_edits import (
    Absence,
    AddAbsence,
    AddDated,
    AddWeekly,
    DatedShift,
    Edit,
    Entries,
    OperatorFields,
    RemoveAbsence,
    RemoveDated,
    RemoveOperator,
    RemoveWeekly,
    ReplaceAbsence,
    ReplaceDated,
    ReplaceWeekly,
    SaveOperator,
    WeeklyShift,
)
from ivr.routing.roster import DAY_NAMES

TIME = r"^([01]?\d|2[0-4]):[0-5]\d$"  # as the roster reads times (24:00 ends a day)
INDEX = r"^\d{0,5}$"
OPERATOR_ID = r"^[A-Za-z0-9_-]{0,32}$"
SHORTCUTS = ("daily", "weekdays", "weekend")
SOME_DAYS = "some"
ONE_OR_MORE = {"required": False}  # not `required` on each checkbox: one of them is enough


class CheckboxesField(SelectMultipleField):  # type: ignore[misc]  # WTForms has no type hints
    """Several choices as checkboxes: readable, and no script needed."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _time(label: Any, required: bool = True) -> StringField:
    first = InputRequired(lazy_gettext("Write a time such as 08:00.")) if required else Optional()
    return StringField(label, validators=[first, Regexp(TIME, message=lazy_gettext(
        "Write the time as hours and minutes, such as 08:00 or 20:00 (24:00 is the end of a "
        "day)."))], render_kw={"inputmode": "numeric", "placeholder": "08:00", "maxlength": 5})


def _who() -> CheckboxesField:
    return CheckboxesField(lazy_gettext("Who"), validators=[
        DataRequired(lazy_gettext("Tick at least one operator."))], render_kw=ONE_OR_MORE)


# --- the roster -----------------------------------------------------------------------------
class RosterChange(FlaskForm):  # type: ignore[misc]  # Flask-WTF has no type hints
    """What every roster form carries; on its own, the form of a removal."""

    version = HiddenField(validators=[InputRequired(), Length(max=64)])
    key = HiddenField(validators=[Regexp(OPERATOR_ID)])
    remove = HiddenField()
    message = StringField(lazy_gettext("Why (kept in the history, with your name)"),
                          validators=[Length(max=200, message=lazy_gettext(
                              "Say why in at most 200 characters."))],
                          render_kw={"maxlength": 200})


class OperatorForm(RosterChange):
    operator = StringField(lazy_gettext("Roster id"), validators=[
        InputRequired(lazy_gettext("Write the id that shifts and absences will use.")),
        Regexp(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$", message=lazy_gettext(
            "Use Latin letters, digits, '_' and '-', starting with a letter or digit, at most 32 "
            "characters."))],
        render_kw={"autocapitalize": "none", "spellcheck": "false", "maxlength": 32})
    name = StringField(lazy_gettext("Name"), validators=[
        InputRequired(lazy_gettext("Write the operator's name.")),
        Length(max=100, message=lazy_gettext("A name has at most 100 characters."))])
    phone = StringField(lazy_gettext("Phone"), validators=[
        InputRequired(lazy_gettext("Write the number of the phone that rings.")),
        Length(max=32)],
        description=lazy_gettext("A full international number, such as +77010000001."),
        render_kw={"inputmode": "tel", "autocomplete": "off"})
    languages = CheckboxesField(lazy_gettext("Languages"), choices=[
        SelectChoice(code, name) for code, name in CALL_LANGUAGES.items()],
        validators=[DataRequired(lazy_gettext("Tick at least one language."))],
        render_kw=ONE_OR_MORE)
    regions = CheckboxesField(lazy_gettext("Regions (optional: rings first for callers from "
                                           "them)"))
    active = BooleanField(lazy_gettext("Active: rung when on duty"), default=True)


class WeeklyForm(RosterChange):
    key = HiddenField(validators=[Regexp(INDEX)])
    who = _who()
    days = SelectField(lazy_gettext("Days"), choices=[
        SelectChoice("daily", lazy_gettext("Every day")),
        SelectChoice("weekdays", lazy_gettext("Weekdays (Mon–Fri)")),
        SelectChoice("weekend", lazy_gettext("Weekend (Sat, Sun)")),
        SelectChoice(SOME_DAYS, lazy_gettext("The days ticked below"))])
    some_days = CheckboxesField(lazy_gettext("Which days"))
    start = _time(lazy_gettext("From"))
    end = _time(lazy_gettext("To"))

    def validate_some_days(self, field: Field) -> None:
        if self.days.data == SOME_DAYS and not field.data:
            raise ValidationError(lazy_gettext("Tick the days of the shift."))


class DatedForm(RosterChange):
    key = HiddenField(validators=[Regexp(INDEX)])
    who = _who()
    date = DateField(lazy_gettext("Date"), validators=[
        InputRequired(lazy_gettext("Choose the date of the shift."))])
    start = _time(lazy_gettext("From"))
    end = _time(lazy_gettext("To"))


class AbsenceForm(RosterChange):
    key = HiddenField(validators=[Regexp(INDEX)])
    who = _who()
    first = DateField(lazy_gettext("From (date)"), validators=[
        InputRequired(lazy_gettext("Choose the first day."))])
    first_time = _time(lazy_gettext("From (time, optional: from the start of the day)"),
                       required=False)
    last = DateField(lazy_gettext("To (date, inclusive)"), validators=[
        InputRequired(lazy_gettext("Choose the last day."))])
    last_time = _time(lazy_gettext("To (time, optional: to the end of the day)"), required=False)
    why = StringField(lazy_gettext("Why (optional)"), validators=[
        Length(max=100, message=lazy_gettext("At most 100 characters."))],
        description=lazy_gettext("Leave, sick… Never a caller's details."))


def _moment(day: dt.date, time: str | None) -> dt.date:
    if not time:
        return day
    hours, minutes = (int(part) for part in time.split(":"))
    return dt.datetime.combine(day, dt.time()) + dt.timedelta(hours=hours, minutes=minutes)


def _date_and_time(value: dt.date) -> tuple[dt.date, str]:
    if isinstance(value, dt.datetime):
        return value.date(), f"{value:%H:%M}"
    return value, ""


@dataclass(frozen=True)
class Section:
    """One list of the roster, as its forms edit it."""

    name: str  # operators, weekly, dated, away
    form: type[RosterChange]
    edit: Callable[[Any], Edit]  # the filled form's edit (an addition, or a change of `key`)
    removal: Callable[[str], Edit]
    values: Callable[[Entries, str], dict[str, object] | None]  # an entry as the form's data
    titles: tuple[Any, Any, Any]  # add, change, remove


def _index(key: str) -> int:
    return int(key)


def _operator_edit(form: OperatorForm) -> Edit:
    op_id = form.key.data or form.operator.data.strip()  # a change keeps the id it changes
    fields = OperatorFields(op_id, form.name.data.strip(),
                            form.phone.data.strip(), tuple(form.languages.data),
                            tuple(form.regions.data), bool(form.active.data))
    return SaveOperator(fields, new=not form.key.data)


def _operator_values(listed: Entries, key: str) -> dict[str, object] | None:
    found = next((op for op in listed.operators if op.id == key), None)
    return None if found is None else operator_values(found)


def operator_values(op: OperatorFields) -> dict[str, object]:
    return {"operator": op.id, "name": op.name, "phone": op.phone, "languages": list(op.languages),
            "regions": list(op.regions), "active": op.active, "key": op.id}


def _weekly_edit(form: WeeklyForm) -> Edit:
    days = tuple(form.some_days.data) if form.days.data == SOME_DAYS else form.days.data
    shift = WeeklyShift(tuple(form.who.data), days, form.start.data, form.end.data)
    return ReplaceWeekly(_index(form.key.data), shift) if form.key.data else AddWeekly(shift)


def _weekly_values(listed: Entries, key: str) -> dict[str, object] | None:
    index = _index(key)
    if index >= len(listed.weekly):
        return None
    shift = listed.weekly[index]
    shortcut = isinstance(shift.days, str)
    return {"who": list(shift.who), "days": shift.days if shortcut else SOME_DAYS,
            "some_days": [] if shortcut else list(shift.days), "start": shift.start,
            "end": shift.end, "key": key}


def _dated_edit(form: DatedForm) -> Edit:
    shift = DatedShift(tuple(form.who.data), form.date.data, form.start.data, form.end.data)
    return ReplaceDated(_index(form.key.data), shift) if form.key.data else AddDated(shift)


def _dated_values(listed: Entries, key: str) -> dict[str, object] | None:
    index = _index(key)
    if index >= len(listed.dated):
        return None
    shift = listed.dated[index]
    return {"who": list(shift.who), "date": shift.date, "start": shift.start, "end": shift.end,
            "key": key}


def _absence_edit(form: AbsenceForm) -> Edit:
    absence = Absence(tuple(form.who.data), _moment(form.first.data, form.first_time.data),
                      _moment(form.last.data, form.last_time.data), form.why.data.strip())
    return ReplaceAbsence(_index(form.key.data), absence) if form.key.data else AddAbsence(absence)


def _absence_values(listed: Entries, key: str) -> dict[str, object] | None:
    index = _index(key)
    if index >= len(listed.away):
        return None
    absence = listed.away[index]
    first, first_time = _date_and_time(absence.start)
    last, last_time = _date_and_time(absence.end)
    return {"who": list(absence.who), "first": first, "first_time": first_time, "last": last,
            "last_time": last_time, "why": absence.why, "key": key}


SECTIONS: Mapping[str, Section] = {section.name: section for section in (
    Section("operators", OperatorForm, _operator_edit, RemoveOperator, _operator_values,
            (lazy_gettext("Add an operator"), lazy_gettext("Change an operator"),
             lazy_gettext("Remove an operator"))),
    Section("weekly", WeeklyForm, _weekly_edit, lambda key: RemoveWeekly(_index(key)),
            _weekly_values,
            (lazy_gettext("Add a weekly shift"), lazy_gettext("Change a weekly shift"),
             lazy_gettext("Remove a weekly shift"))),
    Section("dated", DatedForm, _dated_edit, lambda key: RemoveDated(_index(key)), _dated_values,
            (lazy_gettext("Add a dated shift"), lazy_gettext("Change a dated shift"),
             lazy_gettext("Remove a dated shift"))),
    Section("away", AbsenceForm, _absence_edit, lambda key: RemoveAbsence(_index(key)),
            _absence_values,
            (lazy_gettext("Add an absence"), lazy_gettext("Change an absence"),
             lazy_gettext("Remove an absence"))),
)}


def posted_form(section: Section) -> RosterChange:
    """The form a POST carries: a removal, or the section's own form."""
    return RosterChange() if request.form.get("remove") else section.form()


def edit_of(section: Section, form: RosterChange) -> Edit:
    """The edit a validated form makes."""
    if form.remove.data:
        return section.removal(form.key.data)
    return section.edit(form)


def offer_choices(form: RosterChange, listed: Entries, regions: Sequence[tuple[str, str]],
                  day_names: Sequence[str]) -> None:
    """Fill the choices that come from the roster in force (before validating or showing)."""
    if hasattr(form, "who"):
        form.who.choices = [SelectChoice(op.id, f"{op.id} — {op.name}") for op in listed.operators]
    if isinstance(form, OperatorForm):
        form.regions.choices = [SelectChoice(value, label) for value, label in regions]
    if isinstance(form, WeeklyForm):
        form.some_days.choices = [SelectChoice(value, label)
                                  for value, label in zip(DAY_NAMES, day_names, strict=True)]


def carried(form: RosterChange) -> Iterator[tuple[str, str]]:
    """The form's fields as hidden inputs (name, value), to send them again unchanged (the
    message and the CSRF token are the page's own)."""
    for field in form:
        if field.name in ("csrf_token", "message"):
            continue
        if isinstance(field, SelectMultipleField):
            yield from ((field.name, str(value)) for value in field.data or ())
        elif isinstance(field, BooleanField):
            if field.data:
                yield field.name, "y"
        elif isinstance(field, SelectField):
            yield field.name, str(field.data or "")
        else:
            yield field.name, field._value()


def summary(edit: Edit) -> str:
    """An edit in a line, for the audit log (ids, days and times; never a phone number)."""
    match edit:
        case SaveOperator(fields, new):
            return (f"operator {'added' if new else 'changed'}: {fields.id} "
                    f"[{', '.join(fields.languages)}]" + ("" if fields.active else " inactive"))
        case RemoveOperator(op_id):
            return f"operator removed: {op_id}"
        case AddWeekly(shift) | ReplaceWeekly(_, shift):
            days = shift.days if isinstance(shift.days, str) else ",".join(shift.days)
            where = "added" if isinstance(edit, AddWeekly) else f"{edit.index + 1} changed"
            return f"weekly shift {where}: {','.join(shift.who)} {days} {shift.start}-{shift.end}"
        case AddDated(shift) | ReplaceDated(_, shift):
            where = "added" if isinstance(edit, AddDated) else f"{edit.index + 1} changed"
            return (f"dated shift {where}: {','.join(shift.who)} {shift.date:%Y-%m-%d} "
                    f"{shift.start}-{shift.end}")
        case AddAbsence(absence) | ReplaceAbsence(_, absence):
            where = "added" if isinstance(edit, AddAbsence) else f"{edit.index + 1} changed"
            return f"absence {where}: {','.join(absence.who)} {absence.start} - {absence.end}"
        case RemoveWeekly(index):
            return f"weekly shift {index + 1} removed"
        case RemoveDated(index):
            return f"dated shift {index + 1} removed"
        case RemoveAbsence(index):
            return f"absence {index + 1} removed"
    return type(edit).__name__


# --- availability ---------------------------------------------------------------------------
SHIFT_END, AT_TIME = "shift", "time"
AWAY_MINUTES = (30, 60, 120, 240)


class AwayForm(FlaskForm):  # type: ignore[misc]
    until = RadioField(lazy_gettext("Away now, until"), default="60", validators=[
        InputRequired(lazy_gettext("Choose until when."))])
    at = StringField(lazy_gettext("Time today"), validators=[
        Optional(), Regexp(r"^([01]?\d|2[0-3]):[0-5]\d$", message=lazy_gettext(
            "Write the time as hours and minutes, such as 14:30."))],
        render_kw={"inputmode": "numeric", "placeholder": "14:30", "maxlength": 5})

    def validate(self, extra_validators: Any = None) -> bool:
        valid: bool = super().validate(extra_validators)
        if valid and self.until.data == AT_TIME and not self.at.data:
            self.at.errors = [lazy_gettext("Write the time you will be back, such as 14:30.")]
            return False
        return valid


class BackForm(FlaskForm):  # type: ignore[misc]
    operator = HiddenField(validators=[InputRequired(), Regexp(OPERATOR_ID)])
