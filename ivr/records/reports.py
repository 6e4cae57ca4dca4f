"""Published statistics: calls by month, language, region, outcome…, with small cells hidden.

A count below 5 can identify a person in a small region, so it is suppressed. Hiding one cell
is not enough when totals are published: the total minus the others gives it back. So every
line of the table along which a total can be formed (all cells sharing every grouping but
one, and the whole table) must hide none or at least two cells; the smallest other cell of
such a line is hidden too, until that holds everywhere (complementary suppression). The two
kinds are marked apart (`<5` and `x`, with a footnote each), so nobody reads a protecting cell
of 16 calls as "fewer than 5".

Categories: a call may carry several, so a category's share is the share of categorised calls
that carry it, and the shares add up to more than 100%.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from ivr.i18n import N_, _
from ivr.records.store import RecordStore

THRESHOLD = 5
Key = tuple[Any, ...]


SMALL, PROTECTS = "small", "protects"  # why a cell is hidden
MARKS = {SMALL: f"<{THRESHOLD}", PROTECTS: "x"}
NOTES = {  # the footnotes, in English here: `footnote` gives them in the supervisor's language
    SMALL: N_("<{threshold}: fewer than {threshold} calls, hidden so that no caller can be "
              "recognised."),
    PROTECTS: N_("x: {threshold} calls or more, hidden so that a cell under {threshold} cannot "
                 "be worked out from the totals."),
}


HEADINGS = {  # the table's column headings for the groupings (`--by`), in English here
    "language": N_("language"), "region": N_("region"), "outcome": N_("outcome"),
    "destination": N_("destination"), "region_source": N_("region_source"), "flow": N_("flow"),
    "silent": N_("silent"), "emergency": N_("emergency"), "repeat_caller": N_("repeat_caller"),
    "operator": N_("operator"), "fault": N_("fault"), "closed_by": N_("closed_by"),
}


def heading(grouping: str) -> str:
    """A grouping's column heading in the current language."""
    return _(HEADINGS[grouping]) if grouping in HEADINGS else grouping


def footnote(why: str) -> str:
    """The footnote for a mark (SMALL or PROTECTS), in the current language."""
    return _(NOTES[why]).format(threshold=THRESHOLD)


def period_text(first: str, last: str) -> str:
    return first if first == last else _("{first} to {last}").format(first=first, last=last)


def suppress(counts: Mapping[Key, int], threshold: int = THRESHOLD) -> set[Key]:
    """The cells to hide: those below the threshold, and enough others to protect them."""
    hidden = {key for key, count in counts.items() if count < threshold}
    if not counts:
        return hidden
    width = len(next(iter(counts)))
    lines: list[list[Key]] = [list(counts)]
    for dim in range(width):
        groups: dict[Key, list[Key]] = defaultdict(list)
        for key in counts:
            groups[key[:dim] + key[dim + 1:]].append(key)
        lines.extend(groups.values())
    changed = True
    while changed:
        changed = False
        for line in lines:
            if sum(key in hidden for key in line) != 1:
                continue
            visible = [key for key in line if key not in hidden]
            if visible:
                hidden.add(min(visible, key=lambda k: (counts[k], str(k))))
                changed = True
    return hidden


@dataclass(frozen=True)
class Row:
    key: Key
    count: int | None  # None when suppressed
    share: float | None
    hidden: str | None = None  # SMALL, or PROTECTS (hidden only to protect a small cell)


@dataclass(frozen=True)
class Report:
    first: str  # YYYY-MM
    last: str
    by: tuple[str, ...]
    total: int | None
    rows: tuple[Row, ...]
    categorised: int | None
    categories: tuple[Row, ...]


def month_range(first: str, last: str, tz: ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    """UTC bounds of whole local months, from the first day of `first` to the end of `last`."""
    start = dt.datetime.strptime(first, "%Y-%m").replace(tzinfo=tz)
    end_month = dt.datetime.strptime(last, "%Y-%m")
    following = dt.datetime(end_month.year + end_month.month // 12, end_month.month % 12 + 1, 1,
                            tzinfo=tz)
    return (start.astimezone(dt.UTC).replace(tzinfo=None),
            following.astimezone(dt.UTC).replace(tzinfo=None))


def build(store: RecordStore, first: str, last: str, by: Sequence[str], tz: ZoneInfo) -> Report:
    start, end = month_range(first, last, tz)
    counts = store.counts(start, end, by) if by else {}
    total = sum(store.counts(start, end, []).values())
    hidden = suppress(counts)
    shown_total = total if total >= THRESHOLD or total == 0 else None
    rows = tuple(
        Row(key, None if key in hidden else n,
            None if key in hidden or not total else round(100 * n / total, 1),
            None if key not in hidden else SMALL if n < THRESHOLD else PROTECTS)
        for key, n in sorted(counts.items(), key=lambda item: [str(v) for v in item[0]])
    )
    tagged = store.category_counts(start, end)
    categorised = store.categorised_calls(start, end)
    categories = tuple(
        Row((name,), None if n < THRESHOLD else n,
            None if n < THRESHOLD or not categorised else round(100 * n / categorised, 1),
            SMALL if n < THRESHOLD else None)
        for name, n in sorted(tagged.items(), key=lambda item: -item[1])
    )
    return Report(first, last, tuple(by), shown_total, rows,
                  categorised if categorised >= THRESHOLD or categorised == 0 else None,
                  categories)


def _cell(value: int | float | None, hidden: str | None = SMALL, percent: bool = False) -> str:
    if value is None:
        return "-" if percent else MARKS[hidden or SMALL]
    return f"{value}%" if percent else str(value)


def _notes(report: Report) -> list[str]:
    """The footnotes for the marks this report uses."""
    used = {row.hidden for row in (*report.rows, *report.categories) if row.hidden}
    if report.total is None or (report.categories and report.categorised is None):
        used.add(SMALL)
    return [footnote(why) for why in (SMALL, PROTECTS) if why in used]


def render(report: Report, fmt: str) -> str:
    notes = _notes(report)
    if fmt == "json":
        return json.dumps({
            "period": {"from": report.first, "to": report.last}, "by": list(report.by),
            "suppressed_below": THRESHOLD, "total": report.total,
            "rows": [{**dict(zip(report.by, row.key, strict=True)), "calls": row.count,
                      "percent": row.share, **({"hidden": row.hidden} if row.hidden else {})}
                     for row in report.rows],
            "categorised_calls": report.categorised,
            "categories": [{"category": row.key[0], "calls": row.count, "percent": row.share,
                            **({"hidden": row.hidden} if row.hidden else {})}
                           for row in report.categories],
            "notes": {"hidden": {SMALL: footnote(SMALL), PROTECTS: footnote(PROTECTS)}},
        }, ensure_ascii=False, indent=2)
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow([*report.by, "calls", "percent"])
        for row in report.rows:
            writer.writerow([*("" if v is None else v for v in row.key),
                             _cell(row.count, row.hidden), "" if row.share is None else row.share])
        label = ["total", *[""] * (len(report.by) - 1)] if report.by else []
        writer.writerow([*label, _cell(report.total), "100.0" if report.total else ""])
        for row in report.categories:
            label = [f"category:{row.key[0]}", *[""] * (len(report.by) - 1)] if report.by else []
            writer.writerow([*label, _cell(row.count, row.hidden),
                             "" if row.share is None else row.share])
        for note in notes:
            writer.writerow([f"# {note}"])
        return out.getvalue()
    lines = [_("Calls, {period}").format(period=period_text(report.first, report.last))]
    calls, total = _("calls"), _("total")
    count_width = max(7, len(calls))
    names = [heading(name) for name in report.by]
    widths = [max([len(name)] + [len(str(row.key[i])) for row in report.rows])
              for i, name in enumerate(names)]
    if widths:  # the total's label fits under the groupings' columns
        widths[-1] += max(0, len(total) - sum(widths) - 2 * (len(widths) - 1))
    header = "  ".join(name.ljust(w) for name, w in zip(names, widths, strict=True))
    lines.append(f"{header}  {calls:>{count_width}}  {'%':>6}".lstrip())
    for row in report.rows:
        labels = "  ".join(str("-" if v is None else v).ljust(w)
                           for v, w in zip(row.key, widths, strict=True))
        lines.append(f"{labels}  {_cell(row.count, row.hidden):>{count_width}}  "
                     f"{_cell(row.share, row.hidden, True):>6}".lstrip())
    lines.append(f"{total.ljust(sum(widths) + 2 * max(0, len(widths) - 1))}  "
                 f"{_cell(report.total):>{count_width}}".lstrip())
    if report.categories:
        lines.append(_("Categories (share of {count} categorised calls; a call may carry "
                       "several)").format(count=_cell(report.categorised)))
        for row in report.categories:
            lines.append(f"  {row.key[0]:<14} {_cell(row.count, row.hidden):>{count_width}}  "
                         f"{_cell(row.share, row.hidden, True):>6}")
    lines.extend(notes)
    return "\n".join(lines) + "\n"
