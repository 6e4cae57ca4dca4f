"""The console's Statistics page, through Flask's test client: the figures of `ivr report` for a
month or a period, hidden cells marked as the command marks them and drawn without a bar, its
footnotes in the reader's language, CSV files identical to `ivr report --format csv`, and a
sentence (never a 500) for a month that cannot be shown. In a real browser:
`test_console_records_browser.py`."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask

from ivr.cli import main
from ivr.console.app import create_console
from ivr.records.store import RecordStore
from ivr.settings import Settings
from tests.conftest import Clock
from tests.console_helpers import Browser, add_account, console_settings
from tests.test_console_calls import insert, logged_in

NOVEMBER = "2026-11-10T09:00:00Z"  # the clock is 14 December 2026: the last full month


@pytest.fixture
def store(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> RecordStore:
    monkeypatch.setenv("DATABASE_URL", settings.database_url)  # what `ivr report` reads
    monkeypatch.delenv("IVR_MESSAGES", raising=False)
    store = RecordStore(settings.database_url)
    store.upgrade()
    return store


@pytest.fixture
def console_app(settings: Settings, store: RecordStore) -> Flask:
    add_account(settings.database_url, "sabina", "supervisor")
    add_account(settings.database_url, "aigerim", "consultant")
    add_account(settings.database_url, "viktor", "viewer")
    add_account(settings.database_url, "vera", "viewer", language="ru")
    add_account(settings.database_url, "asel", "viewer", language="kk")
    return create_console(console_settings(settings), Clock())


def fill(store: RecordStore, started: str, count: int, **fields: Any) -> list[str]:
    return [insert(store, started, **fields)["call_key"] for _ in range(count)]


@pytest.fixture
def november(store: RecordStore) -> None:
    """A month with a small cell (3 calls hung up in the menu) and a cell of 16 hidden only to
    protect it, categories, and calls that reached the consultants."""
    answered = fill(store, NOVEMBER, 25, language="kk", route_wait_seconds=12)
    fill(store, NOVEMBER, 15, language="ru", region="ulytau", route_wait_seconds=40)
    fill(store, NOVEMBER, 16, language="ru", outcome="no-one-answered", route_wait_seconds=90)
    fill(store, NOVEMBER, 3, language="ru", outcome="caller-hung-up-in-menu", operator=None)
    fill(store, "2026-12-02T09:00:00Z", 7, language="kk")  # December: not in November's figures
    for key in answered[:12]:
        store.tag(key, ["psychological"])
    for key in answered[:2]:
        store.tag(key, ["shelter"])


def section(page: str, key: str) -> str:
    found = re.search(rf'<section class="figure" id="{key}">(.*?)</section>', page, re.DOTALL)
    assert found, page
    return found.group(1)


def rows_of(part: str) -> list[str]:
    return [" ".join(html.unescape(re.sub(r"<[^>]+>", " ", row)).split())
            for row in re.findall(r"<tr>(.*?)</tr>", part.split("<svg")[0], re.DOTALL)]


def bars(part: str) -> tuple[int, list[str]]:
    """How many bars the table's chart draws, and the texts after them."""
    svg = part[part.index("<svg"):part.index("</svg>")]
    texts = [html.unescape(t) for t in re.findall(r"<text [^>]*>([^<]*)</text>", svg)]
    return svg.count("<rect"), texts[1::2]


@pytest.mark.usefixtures("november")
def test_a_viewer_sees_last_months_figures_with_small_cells_hidden(console_app: Flask) -> None:
    browser = logged_in(console_app, "viktor")
    reply = browser.client.get("/statistics")
    assert reply.status_code == 200
    page = reply.get_data(as_text=True)
    assert "<h1>Statistics: November 2026</h1>" in page
    outcomes = section(page, "outcome")
    assert rows_of(outcomes) == ["Outcome Calls Share", "Hung up in the menu <5 —",
                                 "Answered 40 67.8%", "No one answered x —",
                                 "Total 59 100.0%"]  # in the report's order, by id
    assert bars(outcomes) == (1, ["<5", "40", "x"])  # hidden cells: the mark, no bar
    notes = [html.unescape(n) for n in re.findall(r'<p class="note">(.*?)</p>', outcomes)]
    assert notes == [
        "<5: fewer than 5 calls, hidden so that no caller can be recognised.",
        "x: 5 calls or more, hidden so that a cell under 5 cannot be worked out from the "
        "totals."]
    assert rows_of(section(page, "language")) == ["Language Calls Share", "Kazakh 25 42.4%",
                                                  "Russian 34 57.6%", "Total 59 100.0%"]
    assert 'class="note"' not in section(page, "language")
    assert rows_of(section(page, "region"))[1:] == ["astana 44 74.6%", "ulytau 15 25.4%",
                                                    "Total 59 100.0%"]
    categories = section(page, "categories")
    assert rows_of(categories)[1:] == ["Psychological violence 12 100.0%",
                                       "Shelter request <5 —", "Calls with a category 12 —"]
    assert bars(categories) == (1, ["12", "<5"])
    assert "<5: fewer than 5 calls" in html.unescape(categories)
    service = section(page, "service")
    assert rows_of(service) == [
        "Month and language Offered Answered within 20 s Answered within 60 s "
        "Speed of answer (s) Abandoned Longest wait (s)",
        "November 2026 · Kazakh 25 100.0% 100.0% 12 0.0% 12",
        "November 2026 · Russian 31 0.0% 48.4% 40 0.0% 90"]
    assert bars(service) == (2, ["25", "31"])


@pytest.mark.usefixtures("november")
def test_each_csv_is_the_same_as_ivr_reports(console_app: Flask) -> None:
    browser = logged_in(console_app, "viktor")
    page = browser.page("/statistics?from=2026-10&to=2026-11")
    for by, command, name in (
            ("outcome", ["--by", "outcome"], "calls-by-outcome-2026-10-to-2026-11.csv"),
            ("language", ["--by", "language"], "calls-by-language-2026-10-to-2026-11.csv"),
            ("region", ["--by", "region"], "calls-by-region-2026-10-to-2026-11.csv"),
            ("service", ["--service"], "service-2026-10-to-2026-11.csv")):
        link = f"/statistics.csv?by={by}&from=2026-10&to=2026-11"
        assert f'href="{link}"' in page.replace("&amp;", "&")
        expected = CliRunner().invoke(main, ["report", "--from", "2026-10", "--to", "2026-11",
                                             *command, "--format", "csv"])
        assert expected.exit_code == 0, expected.output
        reply = browser.client.get(link)
        assert reply.status_code == 200
        assert reply.mimetype == "text/csv"
        assert reply.headers["Content-Disposition"] == f'attachment; filename="{name}"'
        assert reply.data == expected.stdout_bytes  # byte for byte: csv's \r\n included
    one = browser.client.get("/statistics.csv?by=language&from=2026-11&to=2026-11")
    assert one.headers["Content-Disposition"] == 'attachment; filename="calls-by-language-2026-11.csv"'
    assert "<5" in browser.client.get("/statistics.csv?by=outcome&from=2026-11").get_data(
        as_text=True)


@pytest.mark.parametrize(("query", "sentence"), [
    ("from=2026-13", "Choose the months as year and month, for example 2026-11."),
    ("from=11.2026", "Choose the months as year and month, for example 2026-11."),
    ("from=٢٠٢٦-11", "Choose the months as year and month, for example 2026-11."),
    ("from=2026-11&to=<script>alert(1)</script>",
     "Choose the months as year and month, for example 2026-11."),
    ("from=1999-12", "The statistics begin with January 2000: choose a later month."),
    ("from=2026-11&to=2027-01", "January 2027 has not begun yet: choose this month or an "
                                "earlier one."),
    ("from=2026-11&to=2026-10", "The last month comes before the first: swap them."),
])
def test_a_month_that_cannot_be_shown_gets_a_sentence(console_app: Flask, query: str,
                                                     sentence: str) -> None:
    browser = logged_in(console_app, "viktor")
    for path in ("/statistics", "/statistics.csv"):
        reply = browser.client.get(f"{path}?{query}&by=language")
        assert reply.status_code == 400, (path, query)
        text = reply.get_data(as_text=True)
        assert sentence in html.unescape(text)
        assert "<script>" not in text
        assert 'class="figure"' not in text


def test_a_table_that_does_not_exist_is_not_downloaded(console_app: Flask) -> None:
    browser = logged_in(console_app, "viktor")
    for by in ("", "operator", "caller_key", "categories"):  # not a table of the page
        reply = browser.client.get(f"/statistics.csv?by={by}&from=2026-11")
        assert reply.status_code == 400
        assert "There is no such table to download." in reply.get_data(as_text=True)


@pytest.mark.usefixtures("november")
def test_a_period_of_months_and_this_month_so_far(console_app: Flask) -> None:
    browser = logged_in(console_app, "viktor")
    page = browser.page("/statistics?from=2026-10&to=2026-12")
    assert "<h1>Statistics: October 2026 to December 2026</h1>" in page
    assert rows_of(section(page, "language"))[-1] == "Total 66 100.0%"
    assert "<h1>Statistics: December 2026</h1>" in browser.page("/statistics?to=2026-12")
    assert "Statistics: January 2000" in browser.page("/statistics?from=2000-01")
    empty = browser.page("/statistics?from=2025-01")
    assert "No calls in this period." in empty
    assert "No call of this period has a category yet." in empty
    assert "No call reached the consultants in this period." in empty


@pytest.mark.usefixtures("november")
def test_the_footnotes_are_ivr_reports_in_the_readers_language(console_app: Flask) -> None:
    russian = logged_in(console_app, "vera").page("/statistics")
    assert "<5: меньше 5 звонков; скрыто, чтобы никого из абонентов нельзя было узнать." \
        in russian
    assert "x: 5 звонков или больше; скрыто" in russian
    assert ">Поступило<" in russian
    assert "ноябрь 2026" in russian
    kazakh = logged_in(console_app, "asel").page("/statistics")
    assert "<5: қоңыраулар саны 5 санынан кем" in kazakh
    assert ">Жетті<" in kazakh
    assert "Қараша 2026" in kazakh


@pytest.mark.usefixtures("november")
def test_a_supervisor_opens_statistics_too(console_app: Flask) -> None:
    supervisor = logged_in(console_app, "sabina")
    assert supervisor.client.get("/statistics").status_code == 200
    assert 'href="/statistics"' in supervisor.page("/")
    assert Browser(console_app.test_client()).client.get("/statistics").status_code == 302
