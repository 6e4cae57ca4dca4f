"""What supervisors read about the roster: who is on duty, the week ahead, and the gaps.

Built on the same duty index the router uses, so what `ivr roster` prints is what calls get.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from ivr.routing import Routing
from ivr.routing.duty import Segment

DAY = dt.timedelta(days=1)


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


def when(moment: dt.datetime) -> str:
    return moment.strftime("%a %d %b %H:%M")


def length(start: dt.datetime, end: dt.datetime) -> str:
    hours, rest = divmod(int((end - start).total_seconds()) // 60, 60)
    return f"{hours} h {rest:02d} min" if rest else f"{hours} h"


def names(routing: Routing, ids: Sequence[str]) -> str:
    return ", ".join(f"{i} ({routing.roster.operators[i].name})" for i in ids) or "nobody"


def now_text(routing: Routing, languages: Sequence[str], at: dt.datetime) -> str:
    local = at.astimezone(routing.roster.timezone)
    segment = routing.duty.on_duty(at)
    holiday = routing.roster.holiday_name(local.date())
    lines = [f"On duty at {local:%a %d %b %Y %H:%M} ({routing.roster.timezone.key})"
             + (f", a public holiday: {holiday}" if holiday else "") + ":"]
    lines += [f"  {lang}: {names(routing, segment.by_language.get(lang, ()))}" for lang in languages]
    return "\n".join(lines)


def week_text(routing: Routing, languages: Sequence[str], first: dt.date, days: int = 7) -> str:
    header = f"{'day':<16}{'time':<14}" + "".join(f"{lang:<28}" for lang in languages)
    lines = [header.rstrip(), "-" * len(header.rstrip())]
    for span in spans(routing, first, days):
        holiday = routing.roster.holiday_name(span.start.date())
        day = f"{span.start:%a %d %b}" + (" *" if holiday else "")
        end = "24:00" if span.end.time() == dt.time() else f"{span.end:%H:%M}"
        cells = "".join(f"{', '.join(span.segment.by_language.get(lang, ())) or '-':<28}"
                        for lang in languages)
        lines.append(f"{day:<16}{span.start:%H:%M}-{end:<8}{cells}".rstrip())
    if any(routing.roster.holiday_name(first + n * DAY) for n in range(days)):
        lines.append("* public holiday: weekday shifts do not run; shifts listing 'holiday' do")
    return "\n".join(lines)


def gaps_text(routing: Routing, languages: Sequence[str], first: dt.date, days: int) -> str:
    lines = [f"Coverage gaps from {first:%a %d %b %Y} for {days} days "
             f"({routing.roster.timezone.key}):"]
    for language, runs in gaps(routing, languages, first, days).items():
        if not runs:
            lines.append(f"  {language}: none")
        for start, end in runs:
            lines.append(f"  {language}: no operator {when(start)} - {when(end)} "
                         f"({length(start, end)})")
    missing = routing.regions.without_lines()
    lines.append("Regions without a crisis-centre line (their callers go to the operators "
                 "and the national line):")
    lines += [f"  {r.id} ({r.names.get('ru', '')})" for r in missing] or ["  none"]
    return "\n".join(lines)
