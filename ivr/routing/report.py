"""What supervisors read about the roster: who is on duty, the week ahead, and the gaps.

Built on the same duty index the router uses, so what `ivr roster` prints is what calls get.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from ivr.i18n import N_, _, current_language
from ivr.routing import Routing
from ivr.routing.duty import Segment

DAY = dt.timedelta(days=1)
WEEKDAYS = (N_("Mon"), N_("Tue"), N_("Wed"), N_("Thu"), N_("Fri"), N_("Sat"), N_("Sun"))
MONTHS = (N_("Jan"), N_("Feb"), N_("Mar"), N_("Apr"), N_("May"), N_("Jun"), N_("Jul"),
          N_("Aug"), N_("Sep"), N_("Oct"), N_("Nov"), N_("Dec"))


@dataclass(frozen=True)
class Span:
    start: dt.datetime  # local, aware
    end: dt.datetime
    segment: Segment


def spans(routing: Routing, first: dt.date, days: int) -> Iterator[Span]:
    """The duty segments from `first` 00:00 for `days` days, in local time."""
    tz = routing.roster.timezone
    for offset in range(days):
        day = first + offset * DAY
        midnight = dt.datetime.combine(day, dt.time(), tz)
        for segment in routing.duty.schedule(day).segments:
            yield Span(midnight + dt.timedelta(minutes=segment.start),
                       midnight + dt.timedelta(minutes=segment.end), segment)


def gaps(routing: Routing, languages: Sequence[str], first: dt.date,
         days: int) -> dict[str, list[tuple[dt.datetime, dt.datetime]]]:
    """Every interval in which no operator who speaks a language is on duty, merged over days."""
    found: dict[str, list[tuple[dt.datetime, dt.datetime]]] = {lang: [] for lang in languages}
    for span in spans(routing, first, days):
        for language in languages:
            if span.segment.by_language.get(language):
                continue
            runs = found[language]
            if runs and runs[-1][1] == span.start:
                runs[-1] = (runs[-1][0], span.end)
            else:
                runs.append((span.start, span.end))
    return found


def day_text(day: dt.date, year: bool = False) -> str:
    """A day as supervisors read it, in their language: 'Mon 14 Dec' (with the year: 'Mon 14
    Dec 2026')."""
    words = {"weekday": _(WEEKDAYS[day.weekday()]), "day": f"{day.day:02d}",
             "month": _(MONTHS[day.month - 1]), "year": day.year}
    return (_("{weekday} {day} {month} {year}") if year else _("{weekday} {day} {month}")).format(
        **words)


def when(moment: dt.datetime) -> str:
    return f"{day_text(moment.date())} {moment:%H:%M}"


def length(start: dt.datetime, end: dt.datetime) -> str:
    hours, rest = divmod(int((end - start).total_seconds()) // 60, 60)
    return (_("{hours} h {minutes} min").format(hours=hours, minutes=f"{rest:02d}") if rest
            else _("{hours} h").format(hours=hours))


def names(routing: Routing, ids: Sequence[str]) -> str:
    return ", ".join(f"{i} ({routing.roster.operators[i].name})" for i in ids) or _("nobody")


def now_text(routing: Routing, languages: Sequence[str], at: dt.datetime) -> str:
    local = at.astimezone(routing.roster.timezone)
    segment = routing.duty.on_duty(at)
    holiday = routing.roster.holiday_name(local.date())
    moment = f"{day_text(local.date(), year=True)} {local:%H:%M}"
    zone = routing.roster.timezone.key
    lines = [_("On duty at {moment} ({zone}), a public holiday: {holiday}:").format(
                 moment=moment, zone=zone, holiday=holiday) if holiday
             else _("On duty at {moment} ({zone}):").format(moment=moment, zone=zone)]
    lines += [f"  {lang}: {names(routing, segment.by_language.get(lang, ()))}" for lang in languages]
    return "\n".join(lines)


def week_text(routing: Routing, languages: Sequence[str], first: dt.date, days: int = 7) -> str:
    day_heading, time_heading = _("day"), _("time")  # (outside the f-string, for extraction)
    header = f"{day_heading:<16}{time_heading:<14}" + "".join(f"{lang:<28}" for lang in languages)
    lines = [header.rstrip(), "-" * len(header.rstrip())]
    for span in spans(routing, first, days):
        holiday = routing.roster.holiday_name(span.start.date())
        day = day_text(span.start.date()) + (" *" if holiday else "")
        end = "24:00" if span.end.time() == dt.time() else f"{span.end:%H:%M}"
        cells = "".join(f"{', '.join(span.segment.by_language.get(lang, ())) or '-':<28}"
                        for lang in languages)
        lines.append(f"{day:<16}{span.start:%H:%M}-{end:<8}{cells}".rstrip())
    if any(routing.roster.holiday_name(first + n * DAY) for n in range(days)):
        lines.append("* " + _("public holiday: weekday shifts do not run; shifts listing "
                              "'holiday' do"))
    return "\n".join(lines)


def gaps_text(routing: Routing, languages: Sequence[str], first: dt.date, days: int) -> str:
    lines = [_("Coverage gaps from {first} for {days} days ({zone}):").format(
        first=day_text(first, year=True), days=days, zone=routing.roster.timezone.key)]
    for language, runs in gaps(routing, languages, first, days).items():
        if not runs:
            lines.append(f"  {language}: " + _("none"))
        for start, end in runs:
            lines.append(f"  {language}: " + _("no operator {start} - {end} ({length})").format(
                start=when(start), end=when(end), length=length(start, end)))
    missing = routing.regions.without_lines()
    lines.append(_("Regions without a crisis-centre line (their callers go to the operators "
                   "and the national line):"))
    own = current_language()  # a region's name in the supervisor's language, if it has one
    lines += [f"  {r.id} ({r.names.get(own) or r.names.get('ru', '')})" for r in missing] \
        or ["  " + _("none")]
    return "\n".join(lines)


@dataclass(frozen=True)
class Cover:
    """A language's cover as the metrics report it: operators on duty now, hours without
    anyone in the next 24 hours, and seconds until the first such moment (None: none)."""

    on_duty: int
    uncovered_hours: float
    next_gap_seconds: float | None


def cover(routing: Routing, languages: Sequence[str], at: dt.datetime,
          hours: int = 24) -> dict[str, Cover]:
    """The cover of each language from `at` (aware) over the next `hours`."""
    local = at.astimezone(routing.roster.timezone)
    until = local + dt.timedelta(hours=hours)
    now = routing.duty.on_duty(at)
    found: dict[str, Cover] = {}
    runs = gaps(routing, languages, local.date(), hours // 24 + 2)
    for language in languages:
        open_runs = [(max(start, local), min(end, until)) for start, end in runs[language]
                     if end > local and start < until]
        uncovered = sum((end - start).total_seconds() for start, end in open_runs) / 3600
        first = min((start for start, _ in open_runs), default=None)
        found[language] = Cover(len(now.by_language.get(language, ())), round(uncovered, 2),
                                None if first is None else (first - local).total_seconds())
    return found
