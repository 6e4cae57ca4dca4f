"""The duty roster: operators, their weekly and dated shifts, absences and public holidays.

Supervisors write `flows/roster.yaml`; this module turns it into typed objects and reports every
problem as `file:line: sentence`. Who is on duty at a given moment is answered by
`ivr.routing.duty.DutyIndex`, built from a Roster.

On a public holiday the weekday shifts do not run; shifts that list `holiday` among their days
do. Absences (leave, sick days) remove an operator from every shift they overlap.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

import holidays

from ivr.clock import DEFAULT_ZONE, ClockError, zone
from ivr.i18n import _
from ivr.numbers import dialable_problem
from ivr.prompts import LANGUAGE_NAMES, language_codes
from ivr.routing.fields import WEEKDAYS, Fields
from ivr.yamlsrc import LoadError, Node, load_yaml, suggest

ROSTER_KEYS = ("timezone", "operators", "weekly", "dated", "away", "holidays")
OPERATOR_KEYS = ("name", "phone", "languages", "regions", "active")


@dataclass(frozen=True)
class Operator:
    id: str
    name: str
    phone: str
    languages: tuple[str, ...]
    regions: tuple[str, ...] = ()
    active: bool = True
    line: int = 0


@dataclass(frozen=True)
class Shift:
    """`who` works from `start` to `end` (minutes after midnight) on each of `days`, or on `date`.

    An `end` at or before `start` means the shift runs past midnight into the next day.
    """

    who: tuple[str, ...]
    start: int
    end: int
    days: frozenset[str] = frozenset()
    date: dt.date | None = None
    line: int = 0

    @property
    def crosses_midnight(self) -> bool:
        return self.end <= self.start


@dataclass(frozen=True)
class Away:
    """`who` is not on duty from `start` (inclusive) to `end` (exclusive), local time."""

    who: str
    start: dt.datetime
    end: dt.datetime
    why: str = ""
    line: int = 0


@dataclass(frozen=True)
class Roster:
    file: str
    version: str
    timezone: ZoneInfo
    operators: Mapping[str, Operator]
    weekly: tuple[Shift, ...]
    dated: tuple[Shift, ...]
    away: tuple[Away, ...]
    calendar: str | None = "KZ"
    extra_holidays: frozenset[dt.date] = frozenset()
    worked_holidays: frozenset[dt.date] = frozenset()

    def holiday_name(self, day: dt.date) -> str | None:
        """The holiday's name (Kazakh) if `day` is a public holiday under this roster."""
        if day in self.worked_holidays:
            return None
        if day in self.extra_holidays:
            return "holiday (roster)"
        if self.calendar is None:
            return None
        return _calendar(self.calendar, day.year).get(day)

    def day_type(self, day: dt.date) -> str:
        return "holiday" if self.holiday_name(day) else WEEKDAYS[day.weekday()]


@cache
def _calendar(country: str, year: int) -> Mapping[dt.date, str]:
    # The holidays package has no Russian names; Kazakh is the hotline's first language.
    return dict(holidays.country_holidays(country, years=[year], language="kk").items())


class _Parser(Fields):
    def operators(self, data: Node) -> dict[str, Operator]:
        raw = data.get("operators")
        result: dict[str, Operator] = {}
        if not isinstance(raw, Node) or not raw:
            self.problem(data.line_of("operators"), _("'operators' must map operator ids to details"))
            return result
        for op_id, node in raw.items():
            if not isinstance(node, Node):
                self.problem(
                    raw.line_of(op_id), _("operator '{op_id}' must be a mapping").format(op_id=op_id)
                )
                continue
            self.keys(
                node, OPERATOR_KEYS, ("phone", "languages"), _("operator '{op_id}'").format(op_id=op_id)
            )
            phone = str(node.get("phone", ""))
            why = dialable_problem(phone)
            if why:
                self.problem(
                    node.line_of("phone"), _("operator '{op_id}': {why}").format(op_id=op_id, why=why)
                )
            languages = language_codes(node.get("languages"))
            if languages is None:
                self.problem(
                    node.line_of("languages"),
                    _(
                        "operator '{op_id}': 'languages' must list language codes from {LANGUAGE_NAMES}"
                    ).format(op_id=op_id, LANGUAGE_NAMES=", ".join(LANGUAGE_NAMES)),
                )
            regions = node.get("regions", [])
            result[op_id] = Operator(
                id=op_id,
                name=str(node.get("name", op_id)),
                phone=phone,
                languages=languages or (),
                regions=tuple(regions) if isinstance(regions, list) else (),
                active=node.get("active", True) is not False,
                line=raw.line_of(op_id),
            )
        return result

    def shifts(self, data: Node, key: str, operators: Mapping[str, Operator]) -> list[Shift]:
        raw = data.get(key, [])
        if not isinstance(raw, list):
            self.problem(data.line_of(key), _("'{key}' must be a list of shifts").format(key=key))
            return []
        seen: dict[tuple[object, ...], int] = {}
        shifts = []
        for node in raw:
            if not isinstance(node, Node):
                self.problem(data.line_of(key), _("each entry of '{key}' must be a mapping").format(key=key))
                continue
            wanted = ("who", "days", "from", "to") if key == "weekly" else ("who", "date", "from", "to")
            self.keys(node, wanted, wanted, _("a weekly shift") if key == "weekly" else _("a dated shift"))
            start, end = self.minutes(node, "from"), self.minutes(node, "to")
            who = self.who(node, operators)
            days = self.days(node) if key == "weekly" else frozenset()
            date = node.get("date") if key == "dated" else None
            if key == "dated" and not isinstance(date, dt.date):
                self.problem(node.line_of("date"), _("'date' must be a date such as 2026-12-16"))
                continue
            if start is None or end is None or not who:
                continue
            shift = Shift(who, start, end, days, date, node.line)
            for op in who:
                for day in days or {str(date)}:
                    slot = (op, day, start, end)
                    if slot in seen:
                        self.problem(
                            node.line,
                            _("operator '{op}' already has this shift on {day} (line {seen})").format(
                                op=op, day=day, seen=seen[slot]
                            ),
                        )
                    seen[slot] = node.line
            shifts.append(shift)
        return shifts

    def away(self, data: Node, operators: Mapping[str, Operator]) -> list[Away]:
        raw = data.get("away", [])
        result: list[Away] = []
        for node in raw if isinstance(raw, list) else []:
            if not isinstance(node, Node):
                continue
            self.keys(node, ("who", "from", "to", "why"), ("who", "from", "to"), _("an absence"))
            who = self.who(node, operators)
            start, end = self.moment(node, "from", end=False), self.moment(node, "to", end=True)
            if start and end and end <= start:
                self.problem(node.line_of("to"), _("'to' must come after 'from'"))
            elif start and end:
                result.extend(Away(op, start, end, str(node.get("why", "")), node.line) for op in who)
        return result

    def holidays(self, data: Node) -> tuple[str | None, frozenset[dt.date], frozenset[dt.date]]:
        node = data.get("holidays", Node())
        if not isinstance(node, Node):
            self.problem(data.line_of("holidays"), _("'holidays' must be a mapping"))
            return "KZ", frozenset(), frozenset()
        self.keys(node, ("calendar", "add", "remove"), (), _("'holidays'"))
        calendar = node.get("calendar", "KZ")
        dates: list[frozenset[dt.date]] = []
        for key in ("add", "remove"):
            value = node.get(key, [])
            if not isinstance(value, list) or not all(isinstance(d, dt.date) for d in value):
                self.problem(
                    node.line_of(key), _("'{key}' must be a list of dates (2026-12-31)").format(key=key)
                )
                value = []
            dates.append(frozenset(value))
        return (None if calendar in (None, "none") else str(calendar)), dates[0], dates[1]


def load_roster(path: Path, label: str | None = None) -> Roster:
    name = label or path.name
    data = load_yaml(path, name)
    parser = _Parser(name)
    for key in data:
        if key not in ROSTER_KEYS:
            parser.problem(
                data.line_of(key),
                _("unknown key '{key}'{hint}; allowed: {ROSTER_KEYS}").format(
                    key=key, hint=suggest(key, ROSTER_KEYS), ROSTER_KEYS=", ".join(ROSTER_KEYS)
                ),
            )
    try:
        tz = zone(str(data.get("timezone", DEFAULT_ZONE)))
    except ClockError as exc:
        parser.problem(data.line_of("timezone"), str(exc))
        tz = zone()
    operators = parser.operators(data)
    weekly = parser.shifts(data, "weekly", operators)
    dated = parser.shifts(data, "dated", operators)
    away = parser.away(data, operators)
    calendar, extra, worked = parser.holidays(data)
    if parser.problems:
        raise LoadError(parser.problems)
    return Roster(
        file=name,
        version=hashlib.sha256(path.read_bytes()).hexdigest()[:12],
        timezone=tz,
        operators=operators,
        weekly=tuple(weekly),
        dated=tuple(dated),
        away=tuple(away),
        calendar=calendar,
        extra_holidays=extra,
        worked_holidays=worked,
    )
