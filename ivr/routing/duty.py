"""Who is on duty at a moment: an index of each day's duty segments, built once per day.

A day's schedule is a sorted list of minute boundaries, each starting a segment with the
operators on duty in it, already grouped by language. A lookup is one bisect over that day's
boundaries: its cost does not grow with the number of operators. Yesterday, today and tomorrow
are built when the roster loads; later days by `prepare`, which the process that serves calls
runs in the background ahead of time, so no webhook waits for a day to be built (any other day
is built the first time it is asked for, then kept).
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from ivr.routing.roster import DAY_MINUTES, Roster, Shift

EMPTY: Mapping[str, tuple[str, ...]] = {}
BUILT_AT_LOAD = (-1, 0, 1)  # days around today
MAX_CACHED_DAYS = 400


@dataclass(frozen=True)
class Order:
    """Who a call rings in a segment, for one language and region, before rotation: those of
    the language who cover the region first, the rest of the language, then everyone else on
    duty (each part sorted by id)."""

    local: tuple[str, ...]
    rest: tuple[str, ...]
    others: tuple[str, ...]


@dataclass(frozen=True)
class Segment:
    start: int  # minute of the day
    end: int
    operators: frozenset[str]
    by_language: Mapping[str, tuple[str, ...]]  # each sorted by id
    ordered: tuple[str, ...] = ()  # every operator on duty, sorted by id
    # The orders asked of this segment so far, by (language, region): segments live as long as
    # their day's schedule, so every call in a segment after the first gets its order without
    # going through the operators on duty again.
    _orders: dict[tuple[str | None, str | None], Order] = field(
        default_factory=dict, compare=False, repr=False)

    def order(self, language: str | None, region: str | None,
              regions_of: Mapping[str, tuple[str, ...]]) -> Order:
        """The order for a caller of `language` from `region` (`regions_of`: the regions
        each operator covers first)."""
        key = (language, region)
        found = self._orders.get(key)
        if found is None:
            matched = self.ordered if language is None else self.by_language.get(language, ())
            local = tuple(op for op in matched if region in regions_of.get(op, ())) \
                if region else ()
            in_local, in_matched = set(local), set(matched)
            found = Order(local, tuple(op for op in matched if op not in in_local),
                          tuple(op for op in self.ordered if op not in in_matched))
            self._orders[key] = found  # two threads may both make it: the same value
        return found


@dataclass(frozen=True)
class DaySchedule:
    day: dt.date
    starts: tuple[int, ...]
    segments: tuple[Segment, ...]

    def at(self, minute: int) -> Segment:
        return self.segments[bisect.bisect_right(self.starts, minute) - 1]


def _shift_parts(shift: Shift, day_matches: bool, previous_matches: bool) -> Iterator[tuple[int, int]]:
    """The minutes of one day a shift covers: its own part, and the tail of yesterday's."""
    if day_matches:
        yield shift.start, (DAY_MINUTES if shift.crosses_midnight else shift.end)
    if previous_matches and shift.crosses_midnight and shift.end > 0:
        yield 0, shift.end


class DutyIndex:
    def __init__(self, roster: Roster, today: dt.date | None = None) -> None:
        self.roster = roster
        self._days: dict[dt.date, DaySchedule] = {}
        start = today or dt.datetime.now(roster.timezone).date()
        for offset in BUILT_AT_LOAD:
            self.schedule(start + dt.timedelta(days=offset))

    def prepare(self, first: dt.date, days: int) -> None:
        """Build `days` days from `first` now, so that no call has to wait for them."""
        for offset in range(days):
            self.schedule(first + dt.timedelta(days=offset))

    def on_duty(self, at: dt.datetime) -> Segment:
        """The duty segment in force at an aware moment."""
        local = at.astimezone(self.roster.timezone)
        return self.schedule(local.date()).at(local.hour * 60 + local.minute)

    def schedule(self, day: dt.date) -> DaySchedule:
        found = self._days.get(day)
        if found is None:
            if len(self._days) >= MAX_CACHED_DAYS:
                self._days.clear()
            found = self._days[day] = self._build(day)
        return found

    def _covered(self, day: dt.date) -> dict[str, list[tuple[int, int]]]:
        roster = self.roster
        previous = day - dt.timedelta(days=1)
        today_type, previous_type = roster.day_type(day), roster.day_type(previous)
        covered: dict[str, list[tuple[int, int]]] = {}
        for shift in roster.weekly:
            parts = list(_shift_parts(shift, today_type in shift.days, previous_type in shift.days))
            for op in shift.who:
                covered.setdefault(op, []).extend(parts)
        for shift in roster.dated:
            parts = list(_shift_parts(shift, shift.date == day, shift.date == previous))
            for op in shift.who:
                covered.setdefault(op, []).extend(parts)
        return covered

    def _absent(self, day: dt.date) -> dict[str, list[tuple[int, int]]]:
        midnight = dt.datetime.combine(day, dt.time())
        absent: dict[str, list[tuple[int, int]]] = {}
        for away in self.roster.away:
            start = max(away.start, midnight)
            end = min(away.end, midnight + dt.timedelta(days=1))
            if start < end:
                minutes = (int((start - midnight).total_seconds() // 60),
                           int((end - midnight).total_seconds() // 60))
                absent.setdefault(away.who, []).append(minutes)
        return absent

    def _build(self, day: dt.date) -> DaySchedule:
        """Sweep the day's shift boundaries once, keeping the set of operators on duty."""
        operators = self.roster.operators
        absent = self._absent(day)
        changes: dict[int, list[tuple[str, int]]] = {0: [], DAY_MINUTES: []}
        for op, spans in self._covered(day).items():
            if not operators[op].active:
                continue
            for start, end in _subtract(spans, absent.get(op, [])):
                changes.setdefault(start, []).append((op, 1))
                changes.setdefault(end, []).append((op, -1))
        depth: dict[str, int] = {}
        segments: list[Segment] = []
        cuts = sorted(changes)
        for index, cut in enumerate(cuts[:-1]):
            for op, step in changes[cut]:
                depth[op] = depth.get(op, 0) + step
            on = frozenset(op for op, n in depth.items() if n > 0)
            if segments and segments[-1].operators == on:
                last = segments.pop()
                segments.append(Segment(last.start, cuts[index + 1], on, last.by_language,
                                        last.ordered))
                continue
            ordered = tuple(sorted(on))
            by_language: dict[str, list[str]] = {}
            for op in ordered:
                for lang in operators[op].languages:
                    by_language.setdefault(lang, []).append(op)
            segments.append(Segment(cut, cuts[index + 1], on,
                                    {lang: tuple(ops) for lang, ops in sorted(by_language.items())},
                                    ordered))
        return DaySchedule(day, tuple(s.start for s in segments), tuple(segments))


def _subtract(spans: list[tuple[int, int]], holes: list[tuple[int, int]]) -> list[tuple[int, int]]:
    pieces = list(spans)
    for hole_start, hole_end in holes:
        cut: list[tuple[int, int]] = []
        for start, end in pieces:
            if hole_end <= start or end <= hole_start:
                cut.append((start, end))
                continue
            if start < hole_start:
                cut.append((start, hole_start))
            if hole_end < end:
                cut.append((hole_end, end))
        pieces = cut
    return [(a, b) for a, b in pieces if a < b]
