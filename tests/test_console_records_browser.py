"""Calls and Statistics in a real browser (Chromium, the Procfile's console process): a
consultant ticks categories and finds them kept, a viewer reads the month's figures and
downloads a table as CSV, and each page in Kazakh, Russian and English.

Each test saves screenshots to test-artifacts/screenshots/ (`calls-kk.png`, `statistics-en.png`…).
The console runs on the real clock, so the calls are made minutes and days before now, and the
figures are those of the last full month.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from playwright.sync_api import Page, expect

from ivr.cli import main
from ivr.clock import zone
from ivr.records.store import RecordStore, call_categories
from ivr.settings import Settings
from tests.console_browser import Console, log_in, log_out, shot
from tests.console_helpers import add_account
from tests.test_console_calls import KEY, insert


def utc(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:00Z")


def last_full_month() -> dt.date:
    today = dt.datetime.now(zone()).date()
    return (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)


@pytest.fixture
def records(settings: Settings, console: Console,
            monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Calls of the last hours for aigerim (kk), dana (en) and olga, and a last full month with
    a small cell, categories and waits; with the accounts that read them."""
    monkeypatch.setenv("DATABASE_URL", settings.database_url)  # what `ivr report` reads
    monkeypatch.delenv("IVR_MESSAGES", raising=False)
    add_account(settings.database_url, "dana", "consultant", language="en")
    add_account(settings.database_url, "asel", "viewer", language="kk")
    store = RecordStore(settings.database_url)
    now = dt.datetime.now(dt.UTC)
    mine = [insert(store, utc(now - dt.timedelta(minutes=minutes)), **fields)
            for minutes, fields in ((40, {"region": "almaty_city"}),
                                    (200, {"language": "ru", "silent": True,
                                           "outcome": "caller-hung-up-while-waiting"}),
                                    (60 * 30, {"region": None, "duration_seconds": 1312}))]
    insert(store, utc(now - dt.timedelta(minutes=90)), operator="dana", language="ru",
           region="shymkent")
    insert(store, utc(now - dt.timedelta(days=2)), operator="dana", region="ulytau")
    insert(store, utc(now - dt.timedelta(hours=5)), operator="olga", language="ru")
    month = last_full_month()
    day = dt.datetime(month.year, month.month, 10, 9, 0, tzinfo=dt.UTC)
    tagged = []
    for count, fields in ((28, {"language": "kk", "route_wait_seconds": 14}),
                          (17, {"language": "ru", "region": "almaty_city",
                                "route_wait_seconds": 45}),
                          (9, {"language": "ru", "outcome": "no-one-answered",
                               "route_wait_seconds": 95}),
                          (2, {"language": "kk", "outcome": "caller-hung-up-in-menu",
                               "region": "ulytau"})):
        tagged += [insert(store, utc(day), **fields)["call_key"] for _ in range(count)]
    for n, key in enumerate(tagged[:20]):
        store.tag(key, ["psychological", *(["physical"] if n < 8 else []),
                        *(["child"] if n < 3 else [])])
    return {"store": store, "mine": mine, "month": month.strftime("%Y-%m"),
            "keys": {row[k] for row in mine for k in ("call_key", "caller_key")}}


def categories_of(store: RecordStore, call_key: str) -> set[str]:
    with store.engine.connect() as db:
        return set(db.execute(sa.select(call_categories.c.category).where(
            call_categories.c.call_key == call_key)).scalars())


def no_keys(page: Page, keys: set[str]) -> None:
    assert not keys & set(KEY.findall(page.content()))


def test_a_consultant_ticks_two_categories_and_finds_them_kept(
        console: Console, page: Page, records: dict[str, Any]) -> None:
    log_in(page, console, "aigerim")
    page.click("nav a[href='/calls']")
    expect(page).to_have_url(f"{console.url}/calls")
    expect(page.locator("html")).to_have_attribute("lang", "kk")
    calls = page.locator("tbody.call")
    expect(calls).to_have_count(3)  # hers only
    shot(page, "calls-kk")
    no_keys(page, records["keys"])
    first = calls.first
    first.get_by_role("checkbox").nth(0).check()  # physical
    first.locator("input[value=suicide_risk]").check()
    first.get_by_role("button").click()
    expect(page).to_have_url(f"{console.url}/calls")
    expect(page.locator(".message.done")).to_be_visible()
    for _ in range(2):  # after saving, and after reloading
        first = page.locator("tbody.call").first
        expect(first.locator("input[value=physical]")).to_be_checked()
        expect(first.locator("input[value=suicide_risk]")).to_be_checked()
        expect(first.locator("input:checked")).to_have_count(2)
        expect(page.locator("tbody.call").nth(1).locator("input:checked")).to_have_count(0)
        page.reload()
    shot(page, "calls-saved-kk")
    assert categories_of(records["store"], records["mine"][0]["call_key"]) == {
        "physical", "suicide_risk"}
    no_keys(page, records["keys"])


def test_calls_in_russian_and_english(console: Console, page: Page,
                                      records: dict[str, Any]) -> None:
    log_in(page, console, "sabina")
    page.goto(f"{console.url}/calls")
    expect(page.locator("html")).to_have_attribute("lang", "ru")
    expect(page.locator("tbody.call")).to_have_count(6)  # everyone's
    shot(page, "calls-ru")
    page.select_option("#operator", "dana")
    page.click("form.filter button[type=submit]")
    expect(page).to_have_url(f"{console.url}/calls?operator=dana")
    expect(page.locator("tbody.call")).to_have_count(2)
    shot(page, "calls-filtered-ru")
    log_out(page)
    log_in(page, console, "dana")
    page.goto(f"{console.url}/calls")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("tbody.call")).to_have_count(2)
    expect(page.locator("tbody.call").first.locator("tr.facts")).to_contain_text("shymkent")
    shot(page, "calls-en")


def test_a_viewer_reads_statistics_and_downloads_a_csv(console: Console, page: Page,
                                                       records: dict[str, Any]) -> None:
    log_in(page, console, "viktor")
    page.click("nav a[href='/statistics']")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("#outcome tbody tr")).to_have_count(3)
    # 2 calls hung up in the menu (<5), and the 9 no one answered hidden to protect them (x):
    # one bar, for the 45 answered
    expect(page.locator("#outcome svg rect")).to_have_count(1)
    expect(page.locator("#outcome svg")).to_contain_text("<5")
    expect(page.locator("#outcome")).to_contain_text("<5: fewer than 5 calls")
    expect(page.locator("#outcome")).to_contain_text("x: 5 calls or more")
    expect(page.locator("#categories svg rect")).to_have_count(2)  # child: 3 calls, no bar
    shot(page, "statistics-en")
    month = records["month"]
    with page.expect_download() as downloading:
        page.click("#language a.download")
    download = downloading.value
    assert download.suggested_filename == f"calls-by-language-{month}.csv"
    expected = CliRunner().invoke(main, ["report", "--month", month, "--by", "language",
                                         "--format", "csv"])
    assert expected.exit_code == 0, expected.output
    assert Path(download.path()).read_bytes() == expected.stdout_bytes


def test_statistics_in_kazakh_and_russian_with_the_month_picker(
        console: Console, page: Page, records: dict[str, Any]) -> None:
    log_in(page, console, "asel")
    page.goto(f"{console.url}/statistics")
    expect(page.locator("html")).to_have_attribute("lang", "kk")
    expect(page.locator("#service tbody tr")).to_have_count(2)
    shot(page, "statistics-kk")
    log_out(page)
    log_in(page, console, "sabina")
    page.goto(f"{console.url}/statistics")
    expect(page.locator("html")).to_have_attribute("lang", "ru")
    shot(page, "statistics-ru")
    month = dt.date.fromisoformat(records["month"] + "-01")
    earlier = (month - dt.timedelta(days=1)).strftime("%Y-%m")
    page.fill("#from", earlier)
    page.fill("#to", records["month"])
    page.click("form.months button[type=submit]")
    expect(page).to_have_url(f"{console.url}/statistics?from={earlier}&to={records['month']}")
    expect(page.locator("#language tfoot")).to_contain_text("56")
    page.goto(f"{console.url}/statistics?from=1999-01")
    expect(page.locator(".message.error")).to_be_visible()
    expect(page.locator("section.figure")).to_have_count(0)
    shot(page, "statistics-bad-month-ru")
