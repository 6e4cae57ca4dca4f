"""Statistics: the monthly figures of `ivr report` for a month or a period of whole months,
as tables with bar charts, and each table's CSV as `ivr report --format csv` writes it.

The figures are `ivr.records.reports.build` and `ivr.records.service.build`, never counted
again here, so a hidden cell is hidden the same way (`<5`, `x`) and a chart draws no bar for
it. The footnotes and the service figures' headings are `ivr report`'s own, from its
catalogue in the page's language, so the page and the command never say them differently.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from gettext import NullTranslations, translation

from babel.dates import format_date
from flask import render_template, request
from flask_babel import get_locale, gettext, lazy_gettext
from markupsafe import Markup
from werkzeug.wrappers import Response

from ivr.clock import zone
from ivr.console.calls import category_name, language_name, outcome_name, region_name, region_names
from ivr.console.charts import Bar, bar_chart
from ivr.console.context import console
from ivr.console.nav import page
from ivr.i18n import LOCALE_DIR
from ivr.records import reports, service
from ivr.records.reports import MARKS, NOTES, PROTECTS, SMALL, THRESHOLD

MONTH = re.compile(r"^[0-9]{4}-(0[1-9]|1[0-2])$")  # ASCII digits only
FIRST_YEAR = 2000
GROUPINGS = ("outcome", "language", "region")  # the tables of `ivr report --by`
SERVICE = "service"  # the table of `ivr report --service`


class PeriodError(Exception):
    """A month picked that the page cannot show; the message is the sentence it shows."""


@dataclass(frozen=True)
class Row:
    label: str
    cells: tuple[str, ...]  # figures, or the marks of hidden cells


@dataclass(frozen=True)
class Table:
    key: str  # a grouping, "categories" or SERVICE
    title: str
    about: str  # what the figures are, in a sentence
    headings: tuple[str, ...]  # the label column's first
    rows: tuple[Row, ...]
    total: Row | None
    notes: tuple[str, ...]  # `ivr report`'s footnotes for the marks used
    chart: Markup | None
    csv: str | None  # the `by` of its CSV, when it has one of its own


# --- the period ------------------------------------------------------------------------------

def this_month() -> str:
    return dt.datetime.fromtimestamp(console().clock(), zone()).strftime("%Y-%m")


def last_full_month() -> str:
    today = dt.datetime.fromtimestamp(console().clock(), zone()).date()
    return (today.replace(day=1) - dt.timedelta(days=1)).strftime("%Y-%m")


def period(args: Mapping[str, str]) -> tuple[str, str]:
    """The months asked for (`from`, `to`; one of them: that month; none: the last full
    month), or PeriodError with the sentence that says what is wrong."""
    first, last = (args.get("from") or "").strip(), (args.get("to") or "").strip()
    if not first and not last:
        return last_full_month(), last_full_month()
    first, last = first or last, last or first
    now = this_month()
    for month in (first, last):
        if not MONTH.match(month):
            raise PeriodError(gettext("Choose the months as year and month, for example "
                                      "2026-11."))
        if int(month[:4]) < FIRST_YEAR:
            raise PeriodError(gettext("The statistics begin with January %(year)s: choose a "
                                      "later month.", year=FIRST_YEAR))
        if month > now:
            raise PeriodError(gettext("%(month)s has not begun yet: choose this month or an "
                                      "earlier one.", month=month_name(month)))
    if last < first:
        raise PeriodError(gettext("The last month comes before the first: swap them."))
    return first, last


def month_name(month: str) -> str:
    return format_date(dt.date(int(month[:4]), int(month[5:]), 1), "LLLL y",
                       locale=_language())


def period_name(first: str, last: str) -> str:
    if first == last:
        return month_name(first)
    return str(gettext("%(first)s to %(last)s", first=month_name(first), last=month_name(last)))


# --- the pages -------------------------------------------------------------------------------

@page("/statistics", lazy_gettext("Statistics"), roles=("viewer",), order=70)
def statistics() -> str | tuple[str, int]:
    try:
        first, last = period(request.args)
    except PeriodError as problem:
        return _refused(problem)
    return _page(first, last, tables=_tables(first, last))


@page("/statistics.csv", None, roles=("viewer",))
def statistics_csv() -> Response | tuple[str, int]:
    by = request.args.get("by", "")
    try:
        first, last = period(request.args)
    except PeriodError as problem:
        return _refused(problem)
    if by not in (*GROUPINGS, SERVICE):
        return _page(first, last, error=gettext(
            "There is no such table to download. Use the links under the tables.")), 400
    store, tz = console().store, zone()
    if by == SERVICE:
        body = service.render(service.build(store, first, last, tz), first, last, "csv")
        name = f"service-{_period_slug(first, last)}.csv"
    else:
        body = reports.render(reports.build(store, first, last, [by], tz), "csv")
        name = f"calls-by-{by}-{_period_slug(first, last)}.csv"
    return Response(body, mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})


def _refused(problem: PeriodError) -> tuple[str, int]:
    """The page with the sentence that says what is wrong with the months, and the picker
    holding what was typed."""
    return _page(request.args.get("from", ""), request.args.get("to", ""),
                 error=str(problem)), 400


def _period_slug(first: str, last: str) -> str:
    return first if first == last else f"{first}-to-{last}"


def _page(first: str, last: str, tables: Sequence[Table] = (), error: str | None = None
          ) -> str:
    """The page: the month picker (with what was typed, when it was wrong), and the tables."""
    return render_template(
        "figures.html", first=first[:16], last=last[:16], tables=tables, error=error,
        period=period_name(first, last) if error is None else "", this_month=this_month(),
        first_month=f"{FIRST_YEAR}-01")


# --- the tables ------------------------------------------------------------------------------

def _tables(first: str, last: str) -> list[Table]:
    store, tz = console().store, zone()
    names = region_names()
    labels: dict[str, Callable[[str | None], str]] = {
        "outcome": lambda value: outcome_name(str(value)),
        "language": language_name,
        "region": lambda value: region_name(value, names),
    }
    titles = {"outcome": (gettext("Outcomes"), gettext("Outcome"), gettext(
                  "How the calls ended.")),
              "language": (gettext("Languages"), gettext("Language"), gettext(
                  "The language each caller chose.")),
              "region": (gettext("Regions"), gettext("Region"), gettext(
                  "Where the calls came from, as far as it was known."))}
    calls, share = gettext("Calls"), gettext("Share")
    tables: list[Table] = []
    total: Row | None
    built = {grouping: reports.build(store, first, last, [grouping], tz)
             for grouping in GROUPINGS}
    for grouping, report in built.items():
        title, heading, about = titles[grouping]
        rows = [(labels[grouping](row.key[0]), row.count, row.share, row.hidden)
                for row in report.rows]
        total = _row(gettext("Total"), report.total, 100.0 if report.total else None, None)
        used = {row.hidden for row in report.rows} | ({SMALL} if report.total is None
                                                      else set())
        tables.append(_table(grouping, title, about, (heading, calls, share), rows, total,
                             used, csv=grouping))
    categories = built[GROUPINGS[0]]  # every report counts the period's categories alike
    rows = [(category_name(row.key[0]), row.count, row.share, row.hidden)
            for row in categories.categories]
    total = _row(gettext("Calls with a category"), categories.categorised, None, None) \
        if categories.categories else None
    used = {row.hidden for row in categories.categories} | (
        {SMALL} if categories.categories and categories.categorised is None else set())
    tables.append(_table(
        "categories", gettext("Categories"), gettext(
            "The share of calls with a category that carry each one: a call may carry "
            "several, so the shares add up to more than 100%."),
        (gettext("Category"), calls, gettext("Share of calls with a category")), rows, total,
        used, csv=None))
    tables.append(_service_table(service.build(store, first, last, tz)))
    return tables


def _cell(count: int | None, hidden: str | None) -> str:
    return str(count) if count is not None else MARKS[hidden or SMALL]


def _row(label: str, count: int | None, share: float | None, hidden: str | None) -> Row:
    return Row(label, (_cell(count, hidden), _percent(share)))


def _table(key: str, title: str, about: str, headings: tuple[str, ...],
           rows: Sequence[tuple[str, int | None, float | None, str | None]], total: Row | None,
           used: Iterable[str | None], csv: str | None) -> Table:
    """A table of counts and shares, with its chart: one bar per shown count, and only the
    mark where a count is hidden."""
    chart = bar_chart(title, [Bar(label, count, _cell(count, hidden))
                              for label, count, _share, hidden in rows]) if rows else None
    return Table(key, title, about, headings,
                 tuple(_row(label, count, share, hidden) for label, count, share, hidden in rows),
                 total, footnotes(used), chart, csv)


def _service_table(figures: Sequence[service.Figures]) -> Table:
    """`ivr report --service`: by month and language, the calls that reached the consultants'
    route, and how soon they were answered; the chart shows the calls offered."""
    rows = tuple(Row(f"{month_name(f.month)} · {language_name(f.language)}",
                     (_cell(f.offered, f.hidden), *(_percent(v) for v in f.within),
                      _number(f.speed_of_answer), _percent(f.abandoned),
                      _number(f.longest_wait)))
                 for f in figures)
    title = gettext("Waiting line and answer times")
    chart = bar_chart(title, [Bar(row.label, f.offered, row.cells[0])
                              for row, f in zip(rows, figures, strict=True)]) if rows else None
    return Table(SERVICE, title, gettext(
        "The calls that reached the consultants: how many, the share answered within 20 and "
        "within 60 seconds, the mean time to answer, the share whose caller hung up before "
        "an answer, and the longest wait. A month and language with fewer than 5 calls shows "
        "no figures."),
        (gettext("Month and language"), *service_headings()), rows, None,
        footnotes(f.hidden for f in figures), chart, SERVICE)


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value}%"


def _number(value: float | None) -> str:
    return "—" if value is None else f"{value:g}"


# --- `ivr report`'s own words ----------------------------------------------------------------

def _language() -> str:
    return str(get_locale() or "en")


@cache
def _catalogue(language: str) -> NullTranslations:
    if language == "en":
        return NullTranslations()
    return translation("ivr", LOCALE_DIR, languages=[language], fallback=True)


def report_text(message: str) -> str:
    """A message of `ivr report` in the page's language, as `ivr --lang <language>` says it
    (read from its catalogue without touching the command line's language)."""
    return _catalogue(_language()).gettext(message)


def footnotes(marks: Iterable[str | None]) -> tuple[str, ...]:
    """The footnotes of `ivr report` for the marks a table uses, in its order."""
    used = set(marks)
    return tuple(report_text(NOTES[why]).format(threshold=THRESHOLD)
                 for why in (SMALL, PROTECTS) if why in used)


def service_headings() -> list[str]:
    """The service figures' headings, after the month and language, in the words of
    `ivr report --service` (a capital first, as headings on a page)."""
    _month, _lang, offered, speed, abandoned, longest = (
        report_text(h) for h in service.TABLE_HEADINGS)
    within = [report_text(service.WITHIN_HEADING).format(seconds=s) for s in service.WITHIN]
    return [h[:1].upper() + h[1:] for h in (offered, *within, speed, abandoned, longest)]
