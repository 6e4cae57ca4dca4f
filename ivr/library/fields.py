"""Reading the fields supervisors write in the roster and regions files, with their lines."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping

from ivr.i18n import _
from ivr.routing.roster import DAY_MINUTES, DAY_NAMES, DAY_SHORTCUTS
from ivr.source import Collector, Node, Problem, suggest

_TIME = re.compile(r"^([01]?\d|2[0-4]):([0-5]\d)$")


class Fields(Collector):
    """Collects problems while reading typed values out of YAML nodes."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.step = ""
        self.problems: list[Problem] = []

    def boolean(self, node: Node, key: str, default: bool) -> bool:
        value = node.get(key, default)
        if isinstance(value, bool):
            return value
        self.problem(node.line_of(key), _("'{key}' must be true or false, not '{value}'").format(
            key=key, value=value))
        return default

    def text(self, node: Node, key: str, default: str = "") -> str:
        value = node.get(key, default)
        if isinstance(value, str):
            return value
        self.problem(node.line_of(key), _("'{key}' must be text").format(key=key))
        return default

    def minutes(self, node: Node, key: str) -> int | None:
        value = node.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= DAY_MINUTES:
            return value  # YAML 1.1 reads an unquoted 08:00 as 480, minutes after midnight
        match = _TIME.match(str(value)) if isinstance(value, str) else None
        if match and int(match[1]) * 60 + int(match[2]) <= DAY_MINUTES:
            return int(match[1]) * 60 + int(match[2])
        self.problem(
            node.line_of(key), _('\'{key}\' must be a time such as "08:00" or "24:00"').format(key=key)
        )
        return None

    def moment(self, node: Node, key: str, end: bool) -> dt.datetime | None:
        value = node.get(key)
        if isinstance(value, dt.datetime):
            return value.replace(tzinfo=None)
        if isinstance(value, dt.date):
            day = dt.datetime.combine(value, dt.time())
            return day + dt.timedelta(days=1) if end else day  # a date "to" includes that day
        if isinstance(value, str):
            try:
                return dt.datetime.strptime(value, "%Y-%m-%d %H:%M")
            except ValueError:
                pass
        self.problem(
            node.line_of(key),
            _("'{key}' must be a date (2026-12-01) or a date and time (\"2026-12-01 14:00\")").format(
                key=key
            ),
        )
        return None

    def who(self, node: Node, operators: Mapping[str, object]) -> tuple[str, ...]:
        value = node.get("who")
        names = [value] if isinstance(value, str) else value
        if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
            self.problem(node.line_of("who"), _("'who' must name one operator or a list of them"))
            return ()
        for name in names:
            if name not in operators:
                self.problem(
                    node.line_of("who"),
                    _("unknown operator '{name}'{hint}").format(
                        name=name, hint=suggest(str(name), list(operators))
                    ),
                )
        return tuple(str(n) for n in names if n in operators)

    def days(self, node: Node) -> frozenset[str]:
        value = node.get("days")
        if isinstance(value, str) and value in DAY_SHORTCUTS:
            return frozenset(DAY_SHORTCUTS[value])
        items = value if isinstance(value, list) else [value]
        bad = [d for d in items if d not in DAY_NAMES]
        if bad or not items:
            self.problem(
                node.line_of("days"),
                _("'days' must list days from {DAY_NAMES} (or daily, weekdays, weekend); not {bad}").format(
                    DAY_NAMES=", ".join(DAY_NAMES), bad=", ".join(map(str, bad))
                ),
            )
            return frozenset()
        return frozenset(items)

    def keys(self, node: Node, allowed: tuple[str, ...], required: tuple[str, ...], what: str) -> None:
        for key in node:
            if key not in allowed:
                self.problem(
                    node.line_of(key),
                    _("unknown key '{key}' in {what}{hint}; allowed: {allowed}").format(
                        key=key, what=what, hint=suggest(key, allowed), allowed=", ".join(allowed)
                    ),
                )
        for key in required:
            if key not in node:
                self.problem(node.line, _("{what} needs '{key}'").format(what=what, key=key))
