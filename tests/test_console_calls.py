"""The console's Calls page, through Flask's test client against real Redis and the records
database: a consultant's own calls of the last 7 days, a supervisor's view of everyone's,
categories saved from the page (audited, replaced as a set, counted by `ivr report`), and what
no page ever shows: a caller key or a call's key. In a real browser:
`test_console_records_browser.py`."""

from __future__ import annotations

import datetime as dt
import html
import json
import re
import secrets
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from flask import Flask

from ivr.cli import main
from ivr.console import audit
from ivr.console.app import create_console
from ivr.console.calls import reference
from ivr.records.store import RecordStore, StoreError, call_categories
from ivr.settings import Settings
from tests.conftest import Clock
from tests.console_helpers import SECRET, Browser, add_account, console_settings

WINDOW = dt.timedelta(days=30)  # the repeat-caller window of inserts
KEY = re.compile(r"[0-9a-f]{64}")
# The clock of every test: Monday 14 December 2026, 10:00 in Kazakhstan (05:00 UTC).
TODAY_0905 = "2026-12-14T04:05:00Z"  # 09:05 local
SATURDAY = "2026-12-12T13:30:00Z"  # 18:30 local
LONG_AGO = "2026-12-01T06:00:00Z"  # 13 days before


def record(started: str, **fields: Any) -> dict[str, Any]:
    """A stored call as the worker makes it; its keys are 64 hex digits, as the real ones."""
    base: dict[str, Any] = {
        "call_key": secrets.token_hex(32), "caller_key": secrets.token_hex(32),
        "started_at": started, "duration_seconds": 245, "answer_seconds": 5, "entry": "150",
        "flow": "hotline150", "flow_version": "x", "language": "kk", "region": "astana",
        "region_source": "dialled", "menu_path": ["greeting"], "silent": False,
        "emergency": False, "destination": "operators", "operator": "aigerim",
        "outcome": "connected",
    }
    return {**base, **fields}


@pytest.fixture
def store(settings: Settings) -> RecordStore:
    store = RecordStore(settings.database_url)
    store.upgrade()
    return store


def insert(store: RecordStore, started: str, **fields: Any) -> dict[str, Any]:
    row = record(started, **fields)
    assert store.insert(row, WINDOW)
    return row


@pytest.fixture
def console_app(settings: Settings, store: RecordStore) -> Flask:
    add_account(settings.database_url, "sabina", "supervisor")
    add_account(settings.database_url, "aigerim", "consultant")
    add_account(settings.database_url, "olga", "consultant")
    add_account(settings.database_url, "viktor", "viewer")
    return create_console(console_settings(settings), Clock())


def logged_in(app: Flask, name: str) -> Browser:
    browser = Browser(app.test_client())
    assert browser.login(name).status_code == 302
    return browser


def categories_of(store: RecordStore, call_key: str) -> set[str]:
    with store.engine.connect() as db:
        return set(db.execute(sa.select(call_categories.c.category).where(
            call_categories.c.call_key == call_key)).scalars())


def save(browser: Browser, call_key: str, categories: list[str],
         token: bool = True) -> Any:
    data: dict[str, Any] = {"call": reference(SECRET, call_key), "categories": categories}
    if token:
        data["csrf_token"] = browser.token("/calls")
    return browser.client.post("/calls/categories", data=data)


def rows_of(page: str) -> list[str]:
    """The facts of each call on the page, as text: `started length language region ...`."""
    return [" ".join(re.sub(r"<[^>]+>", " ", row).split())
            for row in re.findall(r'<tr class="facts">(.*?)</tr>', page, re.DOTALL)]


# --- who sees which calls ----------------------------------------------------------------------

def test_a_consultant_sees_only_their_own_calls_of_the_last_7_days(
        console_app: Flask, store: RecordStore) -> None:
    insert(store, TODAY_0905, silent=True, region="almaty_city")
    insert(store, SATURDAY, language="ru", duration_seconds=65, outcome="no-one-answered")
    insert(store, SATURDAY, operator="olga", language="ru")
    insert(store, LONG_AGO)
    page = logged_in(console_app, "aigerim").page("/calls")
    assert rows_of(page) == [
        "2026-12-14 09:05 4:05 Kazakh almaty_city Yes Answered",
        "2026-12-12 18:30 1:05 Russian astana — No one answered",
    ]
    assert "Your calls of the last 7 days" in page
    assert 'name="operator"' not in page  # no filter by consultant for a consultant


def test_a_supervisor_sees_everyones_calls_and_filters_by_consultant(
        console_app: Flask, store: RecordStore) -> None:
    insert(store, TODAY_0905)
    insert(store, SATURDAY, operator="olga", language="ru")
    insert(store, "2026-12-12T13:00:00Z", operator=None, outcome="caller-hung-up-in-menu",
           language=None, region=None, duration_seconds=None)
    insert(store, LONG_AGO, operator="olga")
    browser = logged_in(console_app, "sabina")
    assert rows_of(browser.page("/calls")) == [
        "2026-12-14 09:05 4:05 Kazakh astana — Answered aigerim",
        "2026-12-12 18:30 4:05 Russian astana — Answered olga",
        "2026-12-12 18:00 — None chosen Not known — Hung up in the menu —",
    ]
    page = browser.page("/calls?operator=olga")
    assert rows_of(page) == ["2026-12-12 18:30 4:05 Russian astana — Answered olga"]
    assert '<option value="olga" selected>olga</option>' in page
    assert '<option value="aigerim">aigerim</option>' in page
    assert len(rows_of(browser.page("/calls?operator=no-such-one"))) == 0
    assert len(rows_of(browser.page("/calls?operator=%27%3B--"))) == 3  # not an id: everyone


def test_at_most_200_calls_newest_first(console_app: Flask, store: RecordStore) -> None:
    start = dt.datetime(2026, 12, 13, 0, 0)
    for n in range(201):
        insert(store, f"{start + dt.timedelta(minutes=n):%Y-%m-%dT%H:%M:%SZ}")
    page = logged_in(console_app, "aigerim").page("/calls")
    rows = rows_of(page)
    assert len(rows) == 200
    assert rows[0].startswith("2026-12-13 08:20")  # 03:20 UTC: the 201st call
    assert rows[-1].startswith("2026-12-13 05:01")  # the oldest is left out
    assert "Only the newest 200 calls are shown." in page


def test_a_viewer_cannot_open_calls_and_a_consultant_cannot_open_statistics(
        console_app: Flask, store: RecordStore) -> None:
    row = insert(store, TODAY_0905)
    viewer = logged_in(console_app, "viktor")
    assert viewer.client.get("/calls").status_code == 403
    assert save(viewer, row["call_key"], ["physical"], token=False).status_code in (400, 403)
    reply = viewer.client.post("/calls/categories", data={
        "call": reference(SECRET, row["call_key"]), "categories": ["physical"],
        "csrf_token": viewer.token("/account")})
    assert reply.status_code == 403
    consultant = logged_in(console_app, "aigerim")
    for path in ("/statistics", "/statistics.csv?by=language"):
        assert consultant.client.get(path).status_code == 403
    assert 'href="/calls"' in consultant.page("/")
    assert 'href="/statistics"' not in consultant.page("/")
    assert 'href="/calls"' not in viewer.page("/")
    assert categories_of(store, row["call_key"]) == set()


# --- categories --------------------------------------------------------------------------------

def test_saving_replaces_the_calls_categories_and_writes_an_audit_row(
        console_app: Flask, store: RecordStore, settings: Settings) -> None:
    row = insert(store, TODAY_0905)
    browser = logged_in(console_app, "aigerim")
    reply = save(browser, row["call_key"], ["psychological", "physical"])
    assert reply.status_code == 302
    assert reply.headers["Location"] == "/calls"
    assert categories_of(store, row["call_key"]) == {"physical", "psychological"}
    page = browser.page("/calls")
    assert "Saved: the call of 2026-12-14 09:05 is now marked Physical violence, " \
           "Psychological violence." in page
    checked = re.findall(r'value="([a-z_]+)" checked>', page)
    assert checked == ["physical", "psychological"]
    save(browser, row["call_key"], ["shelter"])
    assert categories_of(store, row["call_key"]) == {"shelter"}
    save(browser, row["call_key"], ["shelter"])  # no change: no audit row
    save(browser, row["call_key"], [])
    assert categories_of(store, row["call_key"]) == set()
    assert "Saved: the call of 2026-12-14 09:05 has no categories now." in browser.page("/calls")
    changes = [(e.user, e.action, e.detail) for e in reversed(audit.recent(store.engine))
               if e.action == "call.categories"]
    call = "call of 2026-12-14 04:05 UTC, operator aigerim"
    assert changes == [("aigerim", "call.categories", f"{call}: physical, psychological"),
                       ("aigerim", "call.categories", f"{call}: shelter"),
                       ("aigerim", "call.categories", f"{call}: no categories")]


def test_a_consultant_cannot_tag_another_consultants_call(
        console_app: Flask, store: RecordStore) -> None:
    theirs = insert(store, TODAY_0905, operator="olga")
    nobodys = insert(store, SATURDAY, operator=None)
    browser = logged_in(console_app, "aigerim")
    for row in (theirs, nobodys):
        reply = save(browser, row["call_key"], ["physical"])
        assert reply.status_code == 403
        assert "This call was taken by another consultant" in html.unescape(
            reply.get_data(as_text=True))
        assert categories_of(store, row["call_key"]) == set()
    supervisor = logged_in(console_app, "sabina")
    assert save(supervisor, theirs["call_key"], ["legal"]).status_code == 302
    assert categories_of(store, theirs["call_key"]) == {"legal"}
    filtered = supervisor.client.post("/calls/categories", data={
        "call": reference(SECRET, theirs["call_key"]), "categories": ["child"],
        "operator": "olga", "csrf_token": supervisor.token("/calls")})
    assert filtered.headers["Location"] == "/calls?operator=olga"  # back to the same list


def test_a_call_off_the_page_or_bad_input_changes_nothing(
        console_app: Flask, store: RecordStore) -> None:
    old = insert(store, LONG_AGO)
    row = insert(store, TODAY_0905)
    browser = logged_in(console_app, "aigerim")
    reply = save(browser, old["call_key"], ["physical"])
    assert reply.status_code == 404
    assert "This call is no longer on the page" in html.unescape(reply.get_data(as_text=True))
    for data in ({"call": row["call_key"], "categories": ["physical"]},  # the key itself
                 {"call": reference(SECRET, row["call_key"]), "categories": ["boredom"]},
                 {"categories": ["physical"]}):
        reply = browser.client.post("/calls/categories",
                                    data={**data, "csrf_token": browser.token("/calls")})
        assert reply.status_code in (400, 404), data
        assert "Traceback" not in reply.get_data(as_text=True)
    assert categories_of(store, old["call_key"]) == categories_of(store, row["call_key"]) == set()


def test_a_form_without_its_csrf_token_is_refused(console_app: Flask,
                                                  store: RecordStore) -> None:
    row = insert(store, TODAY_0905)
    browser = logged_in(console_app, "aigerim")
    reply = save(browser, row["call_key"], ["physical"], token=False)
    assert reply.status_code == 400
    assert "The form's security token is missing or out of date" in html.unescape(
        reply.get_data(as_text=True))
    other = logged_in(console_app, "olga")
    stolen = {"call": reference(SECRET, row["call_key"]), "categories": ["physical"],
              "csrf_token": other.token("/calls")}
    assert browser.client.post("/calls/categories", data=stolen).status_code == 400
    assert categories_of(store, row["call_key"]) == set()


def test_a_consultant_setting_categories_and_the_report_counting_them(
        console_app: Flask, store: RecordStore, monkeypatch: pytest.MonkeyPatch,
        settings: Settings) -> None:
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.delenv("IVR_MESSAGES", raising=False)
    rows = [insert(store, f"2026-12-{day:02d}T08:00:00Z") for day in range(8, 15)]  # 7 calls
    browser = logged_in(console_app, "aigerim")
    for n, row in enumerate(rows):
        wanted = ["psychological"] + (["physical"] if n < 5 else []) + (
            ["shelter"] if n < 2 else [])
        assert save(browser, row["call_key"], wanted).status_code == 302
    result = CliRunner().invoke(main, ["report", "--month", "2026-12", "--format", "json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["categorised_calls"] == 7
    assert {c["category"]: c["calls"] for c in report["categories"]} == {
        "psychological": 7, "physical": 5, "shelter": None}  # 2: hidden


@pytest.fixture
def both_stores(database_url: str) -> RecordStore:
    """The store on SQLite and on PostgreSQL, one test each."""
    store = RecordStore(database_url)
    store.upgrade()
    return store


def test_the_calls_page_queries_on_sqlite_and_postgresql(both_stores: RecordStore) -> None:
    store = both_stores
    since = dt.datetime(2026, 12, 7, 5, 0)
    mine = insert(store, TODAY_0905, silent=True)
    insert(store, SATURDAY, operator="olga")
    insert(store, "2026-12-12T12:00:00Z", operator=None)
    insert(store, LONG_AGO, operator="dana")
    store.set_categories(mine["call_key"], ["shelter", "physical"])
    rows = store.recent_calls(since)
    assert [(r["operator"], r["categories"]) for r in rows] == [
        ("aigerim", ("physical", "shelter")), ("olga", ()), (None, ())]
    assert set(rows[0]) == {*RecordStore.RECENT, "categories"}  # nothing of the caller
    assert [r["call_key"] for r in store.recent_calls(since, "aigerim")] == [mine["call_key"]]
    assert len(store.recent_calls(since, limit=2)) == 2
    assert store.call_operators(since) == ["aigerim", "olga"]
    assert {key for key, _start, _op in store.calls_started_since(since)} == {
        r["call_key"] for r in rows}


def test_set_categories_is_all_or_nothing(both_stores: RecordStore) -> None:
    store = both_stores
    row = insert(store, TODAY_0905)
    assert store.set_categories(row["call_key"], ["physical", "legal"]) == ()
    with pytest.raises(StoreError, match="unknown categories: boredom"):
        store.set_categories(row["call_key"], ["shelter", "boredom"])
    with pytest.raises(StoreError, match="no stored call"):
        store.set_categories("f" * 64, ["shelter"])

    def fails_after_replacing() -> None:
        with store.engine.begin() as db:
            store.set_categories(row["call_key"], ["child"], within=db)
            raise RuntimeError("the audit row could not be written")

    with pytest.raises(RuntimeError):
        fails_after_replacing()
    assert categories_of(store, row["call_key"]) == {"physical", "legal"}  # rolled back
    assert store.set_categories(row["call_key"], ["shelter", "shelter"]) == ("physical", "legal")
    assert store.tag(row["call_key"], ["child"]) == 1  # the API's tag() still adds
    assert categories_of(store, row["call_key"]) == {"shelter", "child"}


# --- what no page shows ------------------------------------------------------------------------

def test_no_page_shows_a_caller_key_or_a_calls_key(console_app: Flask, store: RecordStore,
                                                    settings: Settings) -> None:
    rows = [insert(store, TODAY_0905), insert(store, SATURDAY, operator="olga"),
            *(insert(store, f"2026-11-{day:02d}T08:00:00Z", route_wait_seconds=9)
              for day in range(2, 12))]
    consultant, supervisor = logged_in(console_app, "aigerim"), logged_in(console_app, "sabina")
    save(consultant, rows[0]["call_key"], ["physical", "child"])
    save(supervisor, rows[1]["call_key"], ["legal"])
    pages = [consultant.client.get("/calls"), supervisor.client.get("/calls"),
             supervisor.client.get("/calls?operator=olga"), supervisor.client.get("/users"),
             supervisor.client.get("/statistics"), save(consultant, rows[1]["call_key"], ["sexual"]),
             supervisor.client.get("/statistics?from=2026-11&to=2026-12"),
             *(supervisor.client.get(f"/statistics.csv?by={by}&from=2026-11")
               for by in ("outcome", "language", "region", "service"))]
    keys = {row[name] for row in rows for name in ("call_key", "caller_key")}
    for reply in pages:
        assert reply.status_code in (200, 403)
        text = reply.get_data(as_text=True)
        assert not keys & set(KEY.findall(text))
        assert not any(key[:16] in text for key in keys)
    assert all(row["call_key"] not in entry.detail for entry in audit.recent(store.engine)
               for row in rows)
