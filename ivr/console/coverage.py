"""The Coverage page: the next 14 days hour by hour, per language, per region and for each
crisis centre's hours, with the gaps marked and the first one named in words at the top.

The grid comes from `ivr.routing.coverage` on the version in force: the duty index calls are
routed by, so a gap here is a gap a caller would meet. A cell shows the fewest consultants on
duty at any moment of its hour.
"""

from __future__ import annotations

import datetime as dt

from flask import render_template
from flask_babel import get_locale, lazy_gettext

from ivr.console.context import console
from ivr.console.nav import page
from ivr.console.words import language_name, stretch
from ivr.routing.coverage import Coverage, Row, coverage

DAYS = 14
_cache: dict[tuple[str, dt.date, int], Coverage] = {}  # by version, day and hour: one at a time


@page("/coverage", lazy_gettext("Coverage"), roles=("supervisor",), order=20)
def coverage_page() -> str:
    ctx = console()
    in_force = ctx.in_force()
    if in_force is None:
        return render_template("coverage.html", grid=None)
    snapshot = in_force.snapshot
    now = dt.datetime.fromtimestamp(ctx.clock(), dt.UTC)
    local = now.astimezone(snapshot.routing.roster.timezone)
    key = (in_force.version, local.date(), local.hour)
    grid = _cache.get(key)
    if grid is None:
        grid = coverage(snapshot.routing, snapshot.languages, now, DAYS)
        _cache.clear()
        _cache[key] = grid
    regions = snapshot.routing.regions.regions
    language = str(get_locale())

    def title(row: Row) -> str:
        if row.kind == "language":
            return language_name(row.key)
        region = regions.get(row.key)
        return (region.names.get(language) or region.names.get("ru") or row.key) if region \
            else row.key

    first = grid.first_gap
    covered = {r for op in snapshot.routing.roster.operators.values() for r in op.regions}
    return render_template(
        "coverage.html", grid=grid, title=title,
        first_gap=None if first is None else {
            "language": language_name(first.language), "when": stretch(first.start, first.end)},
        languages=[row for row in grid.rows if row.kind == "language"],
        # A region nobody answers first is no gap (its callers reach every consultant of
        # their language), so only regions someone covers are shown, as hours per day.
        regions=[(title(row), [sum(1 for least in day if least) for day in row.days])
                 for row in grid.rows if row.kind == "region" and row.key in covered],
        centres=[(title(row), [opening(day) for day in row.days])
                 for row in grid.rows if row.kind == "centre"])


def opening(hours: tuple[int, ...]) -> str:
    """A centre's hours in a day, from its 24 hourly marks: '09–18', '00–24', or '' (closed)."""
    runs: list[tuple[int, int]] = []
    for hour, open_ in enumerate(hours):
        if open_ and runs and runs[-1][1] == hour:
            runs[-1] = (runs[-1][0], hour + 1)
        elif open_:
            runs.append((hour, hour + 1))
    return ", ".join(f"{start:02d}–{end:02d}" for start, end in runs)
