"""Reading `roster.yaml` into the typed roster that routing uses, with every problem's line.

Operators' ids travel in URLs and the store, so they must follow `ivr.ids`; `active` must be
true or false (a `0` or `"no"` that reads as "not false" would keep ringing someone taken off
duty); every phone must be a full international number.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from functools import cache

import holidays

from ivr.clock import DEFAULT_ZONE, ClockError, zone
from ivr.i18n import _
from ivr.languages import LANGUAGE_NAMES, language_codes
from ivr.library.fields import Fields
from ivr.numbers import dialable_problem
from ivr.routing.roster import Away, Operator, Roster, Shift
from ivr.source import LoadError, Node, suggest

ROSTER_KEYS = ("timezone", "operators", "weekly", "dated", "away", "holidays")
OPERATOR_KEYS = ("name", "phone", "languages", "regions", "active")


@cache
def _countries() -> frozenset[str]:
    return frozenset(holidays.list_supported_countries())


def warm_up() -> None:
    """Load the holidays package's countries now (a few megabytes of modules), so a process
    that forks workers afterwards shares them (`ivr.web.gunicorn`)."""
    _countries()


class _Parser(Fields):
    def operators(self, data: Node) -> dict[str, Operator]:
        raw = data.get("operators")
        result: dict[str, Operator] = {}
        if not isinstance(raw, Node) or not raw:
            self.problem(data.line_of("operators"), _("'operators' must map operator ids to details"))
            return result
        for op_id, node in raw.items():
            self.ident(raw.line_of(op_id), op_id, _("operator id"))
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
            if not isinstance(regions, list) or not all(isinstance(r, str) for r in regions):
                self.problem(node.line_of("regions"), _(
                    "operator '{op_id}': 'regions' must list region ids").format(op_id=op_id))
                regions = []
            result[op_id] = Operator(
                id=op_id,
                name=self.text(node, "name", op_id),
                phone=phone,
                languages=languages or (),
                regions=tuple(regions),
                active=self.boolean(node, "active", True),
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
        if not isinstance(raw, list):
            self.problem(data.line_of("away"), _("'away' must be a list of absences"))
            return result
        for node in raw:
            if not isinstance(node, Node):
                self.problem(data.line_of("away"), _("each entry of 'away' must be a mapping"))
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
        if calendar not in (None, "none") and (not isinstance(calendar, str)
                                                or calendar not in _countries()):
            self.problem(node.line_of("calendar"), _(
                "'calendar' must be a country code such as KZ, or none; not '{value}'").format(
                    value=calendar))
            calendar = "KZ"
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


def read_roster(data: Node, name: str, version: str) -> Roster:
    """The roster in `data` (the parsed `roster.yaml`); LoadError listing every problem."""
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
        version=version,
        timezone=tz,
        operators=operators,
        weekly=tuple(weekly),
        dated=tuple(dated),
        away=tuple(away),
        calendar=calendar,
        extra_holidays=extra,
        worked_holidays=worked,
    )
