"""The Coverage grid agrees with `ivr roster gaps`: the same duty index, hour by hour."""

from __future__ import annotations

import datetime as dt

from ivr.routing.coverage import coverage
from ivr.settings import PROJECT_ROOT
from tests.conftest import load

ALMATY = dt.timezone(dt.timedelta(hours=5))


def test_the_grid_shows_the_gaps_ivr_roster_gaps_names() -> None:
    snapshot = load(PROJECT_ROOT / "flows")
    now = dt.datetime(2026, 12, 14, 9, 30, tzinfo=ALMATY)  # Monday
    grid = coverage(snapshot.routing, ["kk", "ru"], now)
    assert grid.days[0] == dt.date(2026, 12, 14)
    assert len(grid.days) == 14
    kk = next(row for row in grid.rows if row.kind == "language" and row.key == "kk")
    ru = next(row for row in grid.rows if row.kind == "language" and row.key == "ru")
    tuesday = kk.days[1]  # "kk: no operator Tue 15 Dec 20:00 - Wed 16 Dec 08:00"
    assert tuesday[19] > 0
    assert tuesday[20:] == (0, 0, 0, 0)
    assert kk.days[2][:8] == (0,) * 8
    assert kk.days[2][8] > 0
    assert ru.days[5][8:20] == (0,) * 12  # "ru: no operator Sat 19 Dec 08:00 - 20:00"
    assert grid.first_gap is not None
    assert (grid.first_gap.language, grid.first_gap.start, grid.first_gap.end) == (
        "kk", dt.datetime(2026, 12, 15, 20, 0, tzinfo=ALMATY),
        dt.datetime(2026, 12, 16, 8, 0, tzinfo=ALMATY))


def test_a_gap_of_minutes_marks_its_whole_hour(flows_dir) -> None:  # type: ignore[no-untyped-def]
    (flows_dir / "roster.yaml").write_text("""\
timezone: Asia/Almaty
operators:
  saule: {name: Saule, phone: "+77010000104", languages: [kk, ru], regions: [astana]}
weekly:
  - {who: saule, days: daily, from: "00:00", to: "10:10"}
  - {who: saule, days: daily, from: "10:20", to: "24:00"}
""")
    grid = coverage(load(flows_dir).routing, ["kk"], dt.datetime(2026, 12, 14, tzinfo=ALMATY), 2)
    (kk,) = [row for row in grid.rows if row.kind == "language"]
    assert kk.days[0][9:12] == (1, 0, 1)
    astana = next(row for row in grid.rows if row.kind == "region" and row.key == "astana")
    assert astana.days[0][10] == 0
    assert astana.days[0][11] == 1
    assert grid.first_gap is not None
    assert grid.first_gap.start.time() == dt.time(10, 10)
    assert grid.gap_hours() == 2
