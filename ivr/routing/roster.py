"""The duty roster: operators, their weekly and dated shifts, absences and public holidays.

Supervisors write `flows/roster.yaml`; `ivr.library.roster` reads it into these typed objects.
Who is on duty at a given moment is answered by `ivr.routing.duty.DutyIndex`, built from a
Roster.

On a public holiday the weekday shifts do not run; shifts that list `holiday` among their days
do. Absences (leave, sick days) remove an operator from every shift they overlap.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from zoneinfo import ZoneInfo

import holidays

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_NAMES = (*WEEKDAYS, "holiday")
DAY_SHORTCUTS = {"daily": (*WEEKDAYS, "holiday"), "weekdays": WEEKDAYS[:5], "weekend": ("sat", "sun")}
DAY_MINUTES = 24 * 60


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
