"""The Now and Coverage pages as a supervisor on shift sees them, while calls go on: who is on
duty, who talks, a caller waiting, gaps ahead; never a caller's number."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Browser as Chromium
from playwright.sync_api import expect

from ivr.console.app import create_console
from ivr.settings import PROJECT_ROOT, Settings
from tests.conftest import CALLER, Clock, make_app, republish
from tests.console_browser import Console, log_in, shot
from tests.console_helpers import Browser, add_account, console_settings
from tests.test_line import TWO_CONSULTANTS, Caller, place_calls

CALL_SID = re.compile(r"CA[0-9a-f]{32}")


@pytest.fixture
def line_flows(flows_dir: Path) -> Path:
    """The shipped flow with its waiting line; Saule (kk) and Marat (kk, ru) on duty all day."""
    shutil.copy(PROJECT_ROOT / "flows" / "hotline150.yaml", flows_dir / "hotline150.yaml")
    (flows_dir / "roster.yaml").write_text(TWO_CONSULTANTS)
    return flows_dir


def pages_while_calls_go_on(router: Flask, settings: Settings, clock: Clock,
                            look: Callable[[], None], after: float = 60) -> None:
    """Two Kazakh callers, both consultants on calls, a third caller waiting; `look` runs once,
    `after` seconds into the calls."""
    looked: list[bool] = []

    def host() -> Flask:
        if not looked and clock.now > start + after:
            looked.append(True)
            look()
        return router

    start = clock.now
    place_calls(router, settings, clock, [Caller(talk=120, host=host),
                                          Caller(after=2, talk=120, host=host),
                                          Caller(after=6, host=host)])
    assert looked


def test_now_shows_who_talks_and_who_waits_and_no_caller(settings: Settings, line_flows: Path,
                                                         clock: Clock) -> None:
    router = make_app(settings, clock)  # publishes the working folders: the version in force
    add_account(settings.database_url, "sabina", "supervisor")
    add_account(settings.database_url, "saule", "consultant")
    supervisor = Browser(create_console(console_settings(settings), clock).test_client())
    supervisor.login("sabina")
    seen: list[str] = []
    pages_while_calls_go_on(router, settings, clock, lambda: seen.append(supervisor.page("/now")))
    (now,) = seen
    assert re.search(r"<strong>1</strong> waiting", now)
    assert re.search(r"<strong>2</strong> talking to a consultant", now)
    assert "Saule <span class=\"state\">on a call</span>" in now
    assert "Marat <span class=\"state\">on a call</span>" in now
    assert "Version in force:" in now
    assert CALLER not in now
    assert not CALL_SID.search(now)
    after = supervisor.page("/now")
    assert re.search(r"<strong>0</strong> waiting", after)
    assert "Saule <span class=\"state\">free</span>" in after


def test_consultants_and_viewers_cannot_open_now_or_coverage(settings: Settings,
                                                             line_flows: Path,
                                                             clock: Clock) -> None:
    make_app(settings, clock)
    console = create_console(console_settings(settings), clock)
    for name, role in (("saule", "consultant"), ("viktor", "viewer")):
        add_account(settings.database_url, name, role)
        browser = Browser(console.test_client())
        browser.login(name)
        for path in ("/now", "/coverage"):
            assert browser.client.get(path).status_code == 403


def test_coverage_names_the_first_gap_and_marks_it(settings: Settings, flows_dir: Path,
                                                   clock: Clock) -> None:
    shutil.copy(PROJECT_ROOT / "flows" / "roster.yaml", flows_dir / "roster.yaml")
    make_app(settings, clock)  # the shipped example roster, Monday 14 December 2026 10:00
    add_account(settings.database_url, "sabina", "supervisor")
    supervisor = Browser(create_console(console_settings(settings), clock).test_client())
    supervisor.login("sabina")
    coverage = supervisor.page("/coverage")
    assert "The first gap: Kazakh, Tue 15 Dec 20:00 – Wed 16 Dec 08:00" in coverage
    assert coverage.count('class="none"') >= 12


def test_the_now_page_shows_a_waiting_caller_in_a_browser(
        settings: Settings, line_flows: Path, chromium: Chromium,
        start_console: Callable[..., Console]) -> None:
    clock = Clock(dt.datetime.now(dt.UTC) - dt.timedelta(seconds=70))  # on the console's time
    router = make_app(settings, clock)
    for language in ("ru", "kk", "en"):  # three supervisors watching, one per language
        add_account(settings.database_url, f"boss_{language}", "supervisor", language=language)
    console = start_console()  # after the accounts: one process at a time makes the tables
    pages = {}
    for language in ("ru", "kk", "en"):
        pages[language] = chromium.new_context(viewport={"width": 1100, "height": 700}).new_page()
        log_in(pages[language], console, f"boss_{language}")

    def look() -> None:
        for language, page in pages.items():
            page.goto(f"{console.url}/now")
            expect(page.locator(".figures li").nth(1)).to_contain_text("1")
            expect(page.locator(".person.talking")).to_have_count(3)  # Marat under kk and ru
            shot(page, f"now-{language}")
        expect(pages["ru"].locator("h1")).to_have_text("Линия сейчас")

    pages_while_calls_go_on(router, settings, clock, look)
    shutil.copy(PROJECT_ROOT / "flows" / "roster.yaml", line_flows / "roster.yaml")
    republish(router, settings)  # the shipped example roster, which leaves gaps
    for language, page in pages.items():
        page.goto(f"{console.url}/coverage")
        expect(page.locator(".message.error")).to_be_visible()  # the first gap, named
        expect(page.locator(".grid td.none").first).to_be_visible()
        shot(page, f"coverage-{language}")
        page.context.close()


def test_flows_show_the_diagram_and_history_and_put_a_version_back(
        settings: Settings, flows_dir: Path, clock: Clock) -> None:
    router = make_app(settings, clock)
    store = router.extensions["ivr.voice"].library.store
    first = store.current()
    roster = flows_dir / "roster.yaml"
    roster.write_text(roster.read_text() + "\n# a comment: a new version\n")
    second = republish(router, settings).snapshot.version
    add_account(settings.database_url, "sabina", "supervisor")
    add_account(settings.database_url, "saule", "consultant")
    console_app = create_console(console_settings(settings), clock)
    supervisor = Browser(console_app.test_client())
    supervisor.login("sabina")
    flows = supervisor.page("/flows")
    assert f"What callers hear now: version {second}." in flows
    assert '<img class="diagram" src="/flows/hotline150.svg"' in flows
    svg = supervisor.client.get("/flows/hotline150.svg")
    assert svg.mimetype == "image/svg+xml"
    assert b"<svg" in svg.data
    assert supervisor.post("/flows/rollback", {"version": first, "why": ""},
                           form_page="/flows").status_code == 400
    answer = supervisor.post("/flows/rollback", {"version": first, "why": "the comment was wrong"},
                             form_page="/flows")
    assert answer.status_code == 302
    assert store.current() == first
    entry = store.history(1)[0]
    assert (entry.by, entry.message, entry.kind) == ("sabina (console)", "the comment was wrong",
                                                     "rollback")
    assert f"Version {first} is in force again." in supervisor.page("/flows")
    consultant = Browser(console_app.test_client())
    consultant.login("saule")
    assert consultant.client.get("/flows").status_code == 403
    assert consultant.client.get("/flows/hotline150.svg").status_code == 403
