"""Coverage ahead, hour by hour: how few consultants are on duty for each language and region,
and when each crisis centre is open; the grid of the console's Coverage page.

A cell holds the fewest consultants on duty at any moment of its hour, so a gap of ten minutes
shows as a gap: a supervisor must see it before a caller meets it. Built on the same duty
index calls are routed by, as `ivr roster gaps` is.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from ivr.routing import Routing
from ivr.routing.report import gaps

HOURS = 24


@dataclass(frozen=True)
class Row:
    """One line of the grid: per day, 24 hourly figures (fewest on duty; for a centre's hours
    1 open, 0 closed)."""

    kind: str  # `language`, `region` (consultants who cover it first) or `centre` (its hours)
    key: str  # the language or region id
    days: tuple[tuple[int, ...], ...]


@dataclass(frozen=True)
class Gap:
    language: str
    start: dt.datetime  # local, aware
    end: dt.datetime


@dataclass(frozen=True)
class Coverage:
    first: dt.date
    days: tuple[dt.date, ...]
    rows: tuple[Row, ...]
    first_gap: Gap | None  # the earliest moment a language has nobody, from `now`

    def gap_hours(self, kind: str = "language") -> int:
        return sum(1 for row in self.rows if row.kind == kind for day in row.days
                   for least in day if least == 0)


def coverage(routing: Routing, languages: Sequence[str], now: dt.datetime,
             days: int = 14) -> Coverage:
    """The grid from today 00:00 (local) for `days` days; `now` is aware."""
    roster = routing.roster
    local = now.astimezone(roster.timezone)
    first = local.date()
    dates = tuple(first + dt.timedelta(days=n) for n in range(days))
    regions = sorted(routing.regions.regions.values(), key=lambda r: r.id)
    language_rows: dict[str, list[tuple[int, ...]]] = {lang: [] for lang in languages}
    region_rows: dict[str, list[tuple[int, ...]]] = {r.id: [] for r in regions}
    centre_rows: dict[str, list[tuple[int, ...]]] = {r.id: [] for r in regions if r.hours}
    covers = {op: o.regions for op, o in roster.operators.items()}
    for day in dates:
        segments = routing.duty.schedule(day).segments
        per_segment = []
        for segment in segments:
            counted: Counter[str] = Counter()
            for op in segment.operators:
                counted.update(covers.get(op, ()))
            per_segment.append(counted)
        hourly_lang: dict[str, list[int]] = {lang: [] for lang in languages}
        hourly_region: dict[str, list[int]] = {r.id: [] for r in regions}
        for hour in range(HOURS):
            start, end = hour * 60, hour * 60 + 60
            inside = [(s, c) for s, c in zip(segments, per_segment, strict=True)
                      if s.start < end and s.end > start]
            for lang in languages:
                hourly_lang[lang].append(min((len(s.by_language.get(lang, ())) for s, _ in inside),
                                             default=0))
            for region in regions:
                hourly_region[region.id].append(min((c[region.id] for _, c in inside), default=0))
        for lang in languages:
            language_rows[lang].append(tuple(hourly_lang[lang]))
        for region in regions:
            region_rows[region.id].append(tuple(hourly_region[region.id]))
        holiday = roster.holiday_name(day) is not None
        midnight = dt.datetime.combine(day, dt.time(), roster.timezone)
        for region in regions:
            if region.hours:
                centre_rows[region.id].append(tuple(
                    int(region.is_open(midnight + dt.timedelta(hours=h), holiday))
                    for h in range(HOURS)))
    rows = [Row("language", lang, tuple(language_rows[lang])) for lang in languages]
    rows += [Row("region", rid, tuple(found)) for rid, found in region_rows.items()]
    rows += [Row("centre", rid, tuple(found)) for rid, found in centre_rows.items()]
    return Coverage(first, dates, tuple(rows), first_gap(routing, languages, local, days))


def first_gap(routing: Routing, languages: Sequence[str], local: dt.datetime,
              days: int) -> Gap | None:
    """The earliest stretch, from `local` on, in which a language has nobody on duty."""
    found = [Gap(lang, max(start, local), end)
             for lang, runs in gaps(routing, languages, local.date(), days).items()
             for start, end in runs if end > local]
    return min(found, key=lambda g: (g.start, g.language), default=None)
