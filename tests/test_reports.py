"""Published statistics: suppression of small cells, periods, categories, and tagging."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import uuid
from collections import defaultdict
from dataclasses import replace
from typing import Any

import pytest
from click.testing import CliRunner

from ivr.cli import main
from ivr.records.reports import suppress
from ivr.records.store import RecordStore
from ivr.records.tags import signed_headers
from ivr.settings import Settings
from tests.conftest import Clock, Phone, make_app

WINDOW = dt.timedelta(days=30)


def lines_of(keys: list[tuple[Any, ...]]) -> list[list[tuple[Any, ...]]]:
    width = len(keys[0])
    found: list[list[tuple[Any, ...]]] = [keys]
    for dim in range(width):
        groups: dict[tuple[Any, ...], list[tuple[Any, ...]]] = defaultdict(list)
        for key in keys:
            groups[key[:dim] + key[dim + 1:]].append(key)
        found.extend(groups.values())
    return found


def test_one_small_cell_takes_the_next_smallest_with_it() -> None:
    assert suppress({("a",): 10, ("b",): 3, ("c",): 20, ("d",): 8}) == {("b",), ("d",)}


def test_two_small_cells_protect_each_other() -> None:
    assert suppress({("a",): 2, ("b",): 3, ("c",): 50}) == {("a",), ("b",)}


def test_nothing_small_hides_nothing() -> None:
    assert suppress({("a",): 5, ("b",): 7}) == set()


def test_a_small_region_is_protected_along_rows_columns_and_the_total() -> None:
    counts = {("kk", "astana"): 12, ("kk", "ulytau"): 2, ("kk", "almaty"): 30,
              ("ru", "astana"): 15, ("ru", "ulytau"): 9, ("ru", "almaty"): 40}
    hidden = suppress(counts)
    assert hidden == {("kk", "ulytau"), ("kk", "astana"), ("ru", "ulytau"), ("ru", "astana")}
    for line in lines_of(list(counts)):
        assert sum(key in hidden for key in line) != 1


@pytest.mark.parametrize("seed", range(20))
def test_no_line_ever_hides_exactly_one_cell(seed: int) -> None:
    import random

    rng = random.Random(seed)
    keys = list(itertools.product("ab", "wxyz", "pq"))
    counts = {key: rng.choice([1, 2, 3, 4, 5, 6, 9, 14, 30]) for key in keys}
    hidden = suppress(counts)
    assert {k for k, n in counts.items() if n < 5} <= hidden
    for line in lines_of(keys):
        assert sum(key in hidden for key in line) != 1


def record(started: str, **fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "call_key": uuid.uuid4().hex, "caller_key": None, "started_at": started,
        "duration_seconds": 60, "answer_seconds": 5, "entry": "150", "flow": "hotline150",
        "flow_version": "x", "language": "ru", "region": None, "region_source": "unknown",
        "menu_path": ["greeting"], "silent": False, "emergency": False,
        "destination": "operators", "operator": "olga", "outcome": "connected",
    }
    return {**base, **fields}


@pytest.fixture
def store(database_url: str, monkeypatch: pytest.MonkeyPatch) -> RecordStore:
    monkeypatch.setenv("DATABASE_URL", database_url)
    store = RecordStore(database_url)
    store.upgrade()
    return store


def fill(store: RecordStore, started: str, count: int, **fields: Any) -> list[str]:
    keys = []
    for _ in range(count):
        row = record(started, **fields)
        store.insert(row, WINDOW)
        keys.append(row["call_key"])
    return keys


def run_report(*args: str) -> dict[str, Any]:
    result = CliRunner().invoke(main, ["report", *args, "--format", "json"])
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.output)
    return data


def test_a_report_hides_small_cells_on_a_crafted_month(store: RecordStore) -> None:
    november = "2026-11-10T09:00:00Z"
    fill(store, november, 12, language="kk", region="astana")
    fill(store, november, 2, language="kk", region="ulytau")
    fill(store, november, 30, language="kk", region="almaty_city")
    fill(store, november, 15, language="ru", region="astana")
    fill(store, november, 9, language="ru", region="ulytau")
    fill(store, november, 40, language="ru", region="almaty_city")
    fill(store, "2026-10-10T09:00:00Z", 7, language="ru", region="astana")  # October
    data = run_report("--month", "2026-11", "--by", "language,region")
    cells = {(r["language"], r["region"]): r["calls"] for r in data["rows"]}
    assert cells == {("kk", "almaty_city"): 30, ("kk", "astana"): None, ("kk", "ulytau"): None,
                     ("ru", "almaty_city"): 40, ("ru", "astana"): None, ("ru", "ulytau"): None}
    assert data["total"] == 108
    period = run_report("--from", "2026-10", "--to", "2026-11", "--by", "language")
    assert {r["language"]: r["calls"] for r in period["rows"]} == {"kk": 44, "ru": 71}


def test_months_are_kazakhstan_months(store: RecordStore) -> None:
    fill(store, "2026-11-30T20:00:00Z", 6)  # 1 December, 01:00 in Almaty
    assert run_report("--month", "2026-11")["total"] == 0
    assert run_report("--month", "2026-12")["total"] == 6


def test_category_shares_are_of_categorised_calls_and_may_exceed_100(store: RecordStore) -> None:
    keys = fill(store, "2026-11-10T09:00:00Z", 12)
    for key in keys[:7]:
        store.tag(key, ["psychological"])
    for key in keys[3:9]:
        store.tag(key, ["physical", "physical"])
    for key in keys[:2]:
        store.tag(key, ["shelter"])
    data = run_report("--month", "2026-11")
    shares = {c["category"]: (c["calls"], c["percent"]) for c in data["categories"]}
    assert data["categorised_calls"] == 9
    assert shares["psychological"] == (7, 77.8)
    assert shares["physical"] == (6, 66.7)
    assert shares["shelter"] == (None, None)  # 2 calls: hidden


def test_the_table_and_csv_formats(store: RecordStore) -> None:
    fill(store, "2026-11-10T09:00:00Z", 6, outcome="connected")
    fill(store, "2026-11-10T09:00:00Z", 3, outcome="no-one-answered")
    fill(store, "2026-11-10T09:00:00Z", 2, outcome="caller-hung-up-in-menu")
    table = CliRunner().invoke(main, ["report", "--month", "2026-11", "--by", "outcome"]).output
    assert "\nconnected                     6   54.5%\n" in table
    assert "\nno-one-answered              <5       -\n" in table
    assert "\ntotal                        11\n" in table
    assert table.splitlines()[-1].startswith("<5: fewer than 5 calls, hidden")
    csv_out = CliRunner().invoke(main, ["report", "--month", "2026-11", "--by", "outcome",
                                        "--format", "csv"]).output.splitlines()
    assert csv_out[0] == "outcome,calls,percent"
    assert "connected,6,54.5" in csv_out
    assert "total,11,100.0" in csv_out
    assert csv_out[-1].startswith('"# <5: fewer than 5 calls, hidden')


def test_a_cell_hidden_only_to_protect_another_is_not_printed_as_under_5(
        store: RecordStore) -> None:
    fill(store, "2026-11-10T09:00:00Z", 40, outcome="connected")
    fill(store, "2026-11-10T09:00:00Z", 16, outcome="no-one-answered")  # hidden to protect ...
    fill(store, "2026-11-10T09:00:00Z", 3, outcome="caller-hung-up-in-menu")  # ... this one
    data = run_report("--month", "2026-11", "--by", "outcome")
    hidden = {r["outcome"]: (r["calls"], r.get("hidden")) for r in data["rows"]}
    assert hidden == {"connected": (40, None), "no-one-answered": (None, "protects"),
                      "caller-hung-up-in-menu": (None, "small")}
    assert "cannot be worked out from the totals" in data["notes"]["hidden"]["protects"]
    table = CliRunner().invoke(main, ["report", "--month", "2026-11", "--by", "outcome"]).output
    assert "\nno-one-answered               x       -\n" in table
    assert "\ncaller-hung-up-in-menu       <5       -\n" in table
    assert "x: 5 calls or more, hidden so that a cell under 5 cannot be worked out" in table
    csv_out = CliRunner().invoke(main, ["report", "--month", "2026-11", "--by", "outcome",
                                        "--format", "csv"]).output.splitlines()
    assert "no-one-answered,x," in csv_out
    assert "caller-hung-up-in-menu,<5," in csv_out
    assert [line[:5] for line in csv_out if line.startswith('"#')] == ['"# <5', '"# x:']


def test_report_arguments_are_checked() -> None:
    bad = CliRunner().invoke(main, ["report", "--month", "2026-13"])
    assert bad.exit_code == 2
    assert "use the form 2026-11" in bad.output
    wrong = CliRunner().invoke(main, ["report", "--month", "2026-11", "--by", "langauge"])
    assert "unknown langauge" in wrong.output


def test_purge_command_keeps_the_window(store: RecordStore) -> None:
    now = dt.datetime.now(dt.UTC)
    old = (now - dt.timedelta(days=120)).strftime("%Y-%m-%dT%H:%M:00Z")
    recent = (now - dt.timedelta(days=10)).strftime("%Y-%m-%dT%H:%M:00Z")
    fill(store, old, 3)
    fill(store, recent, 2)
    result = CliRunner().invoke(main, ["purge"], env={"REDIS_URL": None})
    assert result.exit_code == 0, result.output
    assert "deleted 3 record(s) older than 90 days" in result.output
    assert len(store.all()) == 2


# --- tagging -------------------------------------------------------------------------------

@pytest.fixture
def tagging(settings: Settings, database_url: str, monkeypatch: pytest.MonkeyPatch
            ) -> tuple[Phone, Settings]:
    monkeypatch.setenv("DATABASE_URL", database_url)
    settings = replace(settings, database_url=database_url, tags_secret="t" * 32)
    return Phone(make_app(settings, Clock()), settings), settings


def post_tags(phone: Phone, settings: Settings, data: dict[str, Any], secret: str | None = None,  # type: ignore[no-untyped-def]
              body: bytes | None = None, now: float | None = None):
    """A tagging request signed as a client would, at the app's clock unless `now` says."""
    body = json.dumps(data).encode() if body is None else body
    clock = phone.app.extensions["ivr.voice"].clock
    return phone.app.test_client().post(
        "/api/tags", data=body,
        headers=signed_headers(secret or settings.tags_secret, body, clock() if now is None else now))


def test_an_operator_tags_their_last_call(tagging: tuple[Phone, Settings]) -> None:
    phone, settings = tagging
    phone.call(["2", "1"])
    (row,) = phone.store_records()
    answer = post_tags(phone, settings, {"operator": "olga", "at": "2026-12-14T10:20:00+05:00",
                                         "categories": ["psychological", "legal"]})
    assert answer.status_code == 200
    assert answer.get_json() == {"call": row["call_key"], "added": 2}
    again = post_tags(phone, settings, {"call": row["call_key"], "categories": ["legal"]})
    assert again.get_json()["added"] == 0


def test_tagging_refuses_bad_signatures_and_bad_input(tagging: tuple[Phone, Settings]) -> None:
    phone, settings = tagging
    phone.call(["2", "1"])
    phone.store_records()
    forged = post_tags(phone, settings, {"operator": "olga", "at": "2026-12-14T10:20:00+05:00",
                                         "categories": ["legal"]}, secret="wrong")
    assert forged.status_code == 403
    unknown = post_tags(phone, settings, {"operator": "olga", "at": "2026-12-14T10:20:00+05:00",
                                          "categories": ["gossip"]})
    assert unknown.status_code == 400
    assert "unknown categories: gossip" in unknown.get_json()["error"]
    nobody = post_tags(phone, settings, {"operator": "olga", "at": "2026-12-13T10:20:00+05:00",
                                         "categories": ["legal"]})
    assert nobody.status_code == 404


def test_tagging_is_off_without_a_secret(app, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    answer = app.test_client().post("/api/tags", data=b"{}")
    assert answer.status_code == 404


def test_an_insert_says_whether_it_stored_the_row(store: RecordStore) -> None:
    row = record("2026-11-10T09:00:00Z")
    assert store.insert(row, WINDOW) is True
    assert store.insert(row, WINDOW) is False
    assert len(store.all()) == 1


# --- the contact-centre figures ------------------------------------------------------------------

def test_service_figures_by_month_and_language(store: RecordStore) -> None:
    november = "2026-11-10T09:00:00Z"
    for wait in (5, 10, 15, 30, 50, 90):  # six Kazakh calls answered after these waits
        fill(store, november, 1, language="kk", route_wait_seconds=wait, line_seconds=wait)
    fill(store, november, 2, language="kk", outcome="caller-hung-up-while-waiting",
         route_wait_seconds=200, line_seconds=190)
    fill(store, november, 3, language="ru", route_wait_seconds=8)  # too few to show ...
    fill(store, november, 6, language=None, route_wait_seconds=3)  # ... and hidden with it
    fill(store, november, 4, language="ru", route_wait_seconds=None)  # never at the route
    december = "2026-12-02T09:00:00Z"
    fill(store, december, 9, language="kk", route_wait_seconds=12)
    fill(store, december, 7, language="ru", route_wait_seconds=12)
    fill(store, december, 6, language=None, route_wait_seconds=12)
    data = run_report("--from", "2026-11", "--to", "2026-12", "--service")
    rows = {(r["month"], r["language"]): r for r in data["rows"]}
    kk = rows[("2026-11", "kk")]
    assert kk["offered"] == 8
    assert kk["answered_within_20s_percent"] == 37.5  # 3 of 8
    assert kk["answered_within_60s_percent"] == 62.5  # 5 of 8
    assert kk["speed_of_answer_seconds"] == 33.3  # (5+10+15+30+50+90) / 6
    assert kk["abandoned_percent"] == 25.0
    assert kk["longest_wait_seconds"] == 200
    ru = rows[("2026-11", "ru")]
    assert (ru["offered"], ru["hidden"], ru["speed_of_answer_seconds"]) == (None, "small", None)
    assert (rows[("2026-11", None)]["offered"], rows[("2026-11", None)]["hidden"]) == (
        None, "protects")
    assert rows[("2026-12", "kk")]["answered_within_20s_percent"] == 100.0
    table = CliRunner().invoke(main, ["report", "--month", "2026-11", "--service"]).output
    assert "answered within 20 s" in table
    assert "\n2026-11  ru        <5" in table
    assert "<5: fewer than 5 calls" in table
