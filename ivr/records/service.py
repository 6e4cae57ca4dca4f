"""The contact-centre figures supervisors are asked for, by month and language.

Counted over the calls that reached a consultant route (a route with `operators`, not the
emergency path), from the moment they reached it:

- offered: how many such calls there were;
- answered within 20 s and within 60 s: the share of offered calls someone answered that soon;
- speed of answer: the mean time to answer, of the calls answered;
- abandoned: the share of offered calls whose caller hung up before anyone answered (in line,
  or while a phone rang);
- longest wait: the longest time a caller spent there before being answered or leaving.

A month and language with fewer than 5 offered calls shows no figures: a share or a mean of so
few calls tells of the callers themselves. The offered counts are hidden as in every report
(`ivr.records.reports.suppress`), with their marks and footnotes.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from ivr.i18n import N_, _
from ivr.records.reports import (
    MARKS,
    PROTECTS,
    SMALL,
    THRESHOLD,
    footnote,
    month_range,
    period_text,
    suppress,
)
from ivr.records.store import RecordStore

ABANDONED = frozenset({"caller-hung-up-while-waiting", "caller-hung-up-while-connecting"})
WITHIN = (20, 60)  # seconds: the service levels reported


@dataclass(frozen=True)
class Figures:
    month: str
    language: str | None
    offered: int | None  # None when hidden
    hidden: str | None  # SMALL or PROTECTS
    within: tuple[float | None, ...]  # share answered within each of WITHIN, in %
    speed_of_answer: float | None  # seconds
    abandoned: float | None  # %
    longest_wait: int | None  # seconds


def build(store: RecordStore, first: str, last: str, tz: ZoneInfo) -> list[Figures]:
    start, end = month_range(first, last, tz)
    groups: dict[tuple[str, str | None], list[tuple[str, int]]] = defaultdict(list)
    for started, language, outcome, waited in store.route_waits(start, end):
        month = started.replace(tzinfo=dt.UTC).astimezone(tz).strftime("%Y-%m")
        groups[(month, language)].append((outcome, waited))
    counts = {key: len(calls) for key, calls in groups.items()}
    hidden = suppress(counts)
    figures = []
    for (month, language), calls in sorted(groups.items(), key=lambda i: (i[0][0], str(i[0][1]))):
        n = len(calls)
        why = None if (month, language) not in hidden else SMALL if n < THRESHOLD else PROTECTS
        answered = [waited for outcome, waited in calls if outcome == "connected"]
        shown = why is None
        figures.append(Figures(
            month, language, n if shown else None, why,
            tuple(_share(sum(1 for w in answered if w <= s), n) if shown else None
                  for s in WITHIN),
            round(sum(answered) / len(answered), 1) if shown and len(answered) >= THRESHOLD
            else None,
            _share(sum(1 for outcome, _ in calls if outcome in ABANDONED), n) if shown else None,
            max(waited for _, waited in calls) if shown else None,
        ))
    return figures


def _share(part: int, whole: int) -> float:
    return round(100 * part / whole, 1) if whole else 0.0


HEADINGS = ("month", "language", "offered", *(f"answered within {s} s" for s in WITHIN),
            "speed of answer (s)", "abandoned", "longest wait (s)")  # the CSV's, in English
WITHIN_HEADING = N_("answered within {seconds} s")
TABLE_HEADINGS = (N_("month"), N_("language"), N_("offered"), N_("speed of answer (s)"),
                  N_("abandoned"), N_("longest wait (s)"))


def headings() -> list[str]:
    """The table's headings in the current language, in the order of HEADINGS."""
    month, language, offered, speed, abandoned, longest = (_(h) for h in TABLE_HEADINGS)
    return [month, language, offered,
            *(_(WITHIN_HEADING).format(seconds=s) for s in WITHIN), speed, abandoned, longest]


def render(figures: Sequence[Figures], first: str, last: str, fmt: str) -> str:
    used = {f.hidden for f in figures if f.hidden}
    notes = [footnote(why) for why in (SMALL, PROTECTS) if why in used]
    if fmt == "json":
        return json.dumps({
            "period": {"from": first, "to": last}, "suppressed_below": THRESHOLD,
            "rows": [{"month": f.month, "language": f.language, "offered": f.offered,
                      **({"hidden": f.hidden} if f.hidden else {}),
                      **{f"answered_within_{s}s_percent": v
                         for s, v in zip(WITHIN, f.within, strict=True)},
                      "speed_of_answer_seconds": f.speed_of_answer,
                      "abandoned_percent": f.abandoned, "longest_wait_seconds": f.longest_wait}
                     for f in figures],
            "notes": {"hidden": {SMALL: footnote(SMALL), PROTECTS: footnote(PROTECTS)}},
        }, ensure_ascii=False, indent=2)
    rows = [[f.month, f.language or "-",
             str(f.offered) if f.offered is not None else MARKS[f.hidden or SMALL],
             *(_percent(v) for v in f.within), _number(f.speed_of_answer), _percent(f.abandoned),
             _number(f.longest_wait)] for f in figures]
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(HEADINGS)
        writer.writerows(rows)
        for note in notes:
            writer.writerow([f"# {note}"])
        return out.getvalue()
    table = headings()
    widths = [max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(table)]
    lines = [_("Calls that reached a consultant route, {period}").format(
                 period=period_text(first, last)),
             "  ".join(h.ljust(w) for h, w in zip(table, widths, strict=True)).rstrip()]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
              for row in rows]
    if not rows:
        lines.append(_("(no call reached a consultant route in this period)"))
    return "\n".join([*lines, *notes]) + "\n"


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value}%"


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"
