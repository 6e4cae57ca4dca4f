"""The console's Roster and Availability pages: a supervisor's change to the roster goes form →
preview (the diff, the gaps it closes and opens, or the checks' problems) → publish, against the
version previewed; a consultant marks themselves away and back. Through Flask's test client, and
in a real browser against the Procfile's console process, with calls routed by the real router
on the same Redis before and after.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Callable

import pytest
import redis
from flask import Flask
from playwright.sync_api import Page, expect

from ivr.calls.keys import Keys
from ivr.calls.presence import Presence
from ivr.clock import zone
from ivr.console.app import create_console
from ivr.library.files import FolderSource
from ivr.library.pipeline import Options
from ivr.library.publish import publish
from ivr.library.roster_edits import Absence, AddAbsence
from ivr.library.roster_publish import publish_edit
from ivr.library.snapshot import ROSTER_FILE
from ivr.library.store import SnapshotStore
from ivr.settings import PROJECT_ROOT, Settings
from tests.conftest import Clock, Phone, make_app
from tests.console_browser import Console, log_in, log_out, shot
from tests.console_helpers import TOKEN, Browser, add_account, console_settings
from tests.test_console import audit_rows

ALMATY = zone("Asia/Almaty")
ASET, OLGA, BOTA = "+77010000301", "+77010000302", "+77010000303"
# Kazakh by day only (aset); Russian around the clock (olga); bota speaks Kazakh and has no
# shift yet: a Kazakh caller at night reaches only the Russian-speaking olga.
NIGHT_GAP = """\
# The test roster: Kazakh has no one at night.
timezone: Asia/Almaty
operators:
  aset: {name: Асет, phone: "+77010000301", languages: [kk]}
  olga: {name: Olga, phone: "+77010000302", languages: [ru]}
  bota: {name: Бота, phone: "+77010000303", languages: [kk]}
weekly:
  - {who: aset, days: daily, from: "08:00", to: "20:00"}
  - {who: olga, days: daily, from: "00:00", to: "24:00"}
"""
AIGERIM, MARAT = "+77010000401", "+77010000402"
TWO_ON_DUTY = """\
timezone: Asia/Almaty
operators:
  aigerim: {name: Айгерим, phone: "+77010000401", languages: [kk, ru]}
  marat: {name: Марат, phone: "+77010000402", languages: [kk, ru]}
weekly:
  - {who: [aigerim, marat], days: daily, from: "00:00", to: "24:00"}
"""
NIGHT = {"who": "bota", "days": "daily", "start": "20:00", "end": "08:00"}
MEANWHILE = "Someone published a newer version meanwhile; look again and redo the change."


def publish_roster(settings: Settings, roster: str) -> str:
    """Publish the working folders with `roster` as `ivr publish` does; the version in force."""
    (settings.flows_dir / "roster.yaml").write_text(roster)
    store = snapshot_store(settings)
    publish(store, FolderSource(settings.flows_dir, settings.audio_dir), Options.of(settings),
            "test")
    version = store.current()
    assert version
    return version


def snapshot_store(settings: Settings) -> SnapshotStore:
    return SnapshotStore(redis.Redis.from_url(settings.redis_url or ""),
                         Keys(settings.redis_prefix))


def presence(settings: Settings, clock: Callable[[], float]) -> Presence:
    return Presence(redis.Redis.from_url(settings.redis_url or ""), Keys(settings.redis_prefix),
                    clock)


def kazakh_caller(router: Flask, settings: Settings, answers: list[str] | None = None
                  ) -> list[str]:
    """The numbers the router rings for a caller who chooses Kazakh, then a consultant."""
    return [number for dialled in Phone(router, settings).call(["1", "1"], answers or []).numbers
            for number in dialled.split(",")]


# --- through the test client ------------------------------------------------------------------
@pytest.fixture
def console_app(settings: Settings, clock: Clock) -> Flask:
    return create_console(console_settings(settings), clock)


@pytest.fixture
def supervisor(console_app: Flask, settings: Settings) -> Browser:
    add_account(settings.database_url, "sabina", "supervisor")
    browser = Browser(console_app.test_client())
    browser.login("sabina")
    return browser


def consultant(console_app: Flask, settings: Settings, name: str = "aigerim") -> Browser:
    add_account(settings.database_url, name, "consultant")
    browser = Browser(console_app.test_client())
    browser.login(name)
    return browser


def send(browser: Browser, path: str, data: dict[str, str | list[str]],
         token: bool = True) -> tuple[int, str]:
    """Post a form as the page would (with the session's CSRF token); the status and the text."""
    fields = dict(data)
    if token:
        found = TOKEN.search(browser.client.get("/").get_data(as_text=True))
        assert found
        fields["csrf_token"] = found.group(1)
    reply = browser.client.post(path, data=fields)
    return reply.status_code, html.unescape(reply.get_data(as_text=True))


def test_the_roster_page_lists_the_operators_shifts_and_absences(
        supervisor: Browser, settings: Settings) -> None:
    publish_roster(settings, NIGHT_GAP.replace(
        "weekly:", "away:\n  - {who: aset, from: 2026-12-20, to: 2026-12-21, why: leave}\n"
                   "weekly:"))
    page = supervisor.page("/roster")
    for shown in ("<code>bota</code>", "Бота", BOTA, "Kazakh", "aset — Асет", "Every day",
                  "20:00", "Sun 20 Dec 2026", "Mon 21 Dec 2026", "leave",
                  'href="/roster/weekly/edit?key=1"', 'href="/roster/weekly/edit"'):
        assert shown in page
    form = supervisor.page("/roster/weekly/edit?key=1")  # olga's shift, to change
    ticked = re.findall(r'<input checked [^>]*name="who"[^>]*value="([a-z]+)"', form)
    assert ticked == ["olga"]
    assert 'name="start" placeholder="08:00" required type="text" value="00:00"' in form


def test_a_night_shift_is_previewed_with_the_gaps_it_closes_then_published(
        supervisor: Browser, settings: Settings) -> None:
    before = publish_roster(settings, NIGHT_GAP)
    status, preview = send(supervisor, "/roster/weekly/preview", {**NIGHT, "version": before})
    assert status == 200
    assert "Closes: Kazakh, Mon 14 Dec 20:00 – Tue 15 Dec 08:00" in preview  # from now on
    assert "Closes: Kazakh, Mon 14 Dec 00:00" not in preview  # the night before is gone
    assert "Opens:" not in preview
    assert '<span class="added">+  - {who: bota, days: daily, from: "20:00", to: "08:00"}' \
        in preview
    assert snapshot_store(settings).current() == before  # a preview publishes nothing

    status, _ = send(supervisor, "/roster/weekly/publish", {**NIGHT, "version": before,
                                                            "message": "Bota covers the nights"})
    assert status == 302
    store = snapshot_store(settings)
    after = store.current()
    assert after != before
    entry = store.history()[-1]
    assert (entry.by, entry.message, entry.previous) == (
        "sabina (console)", "Bota covers the nights", before)
    assert "bota, days: daily" in store.files(after or "")[ROSTER_FILE].decode()
    page = supervisor.page("/roster")
    assert f"Published: version {after[:12] if after else ''} is in force." in page
    assert "now reads the same" in page
    assert "{who: bota, days: daily" in (settings.flows_dir / "roster.yaml").read_text()
    assert ("sabina", "roster.publish",
            f"weekly shift added: bota daily 20:00-08:00 · {before[:12]} → "
            f"{after[:12] if after else ''} · why: Bota covers the nights") in audit_rows(settings)


def test_the_working_copy_with_someone_elses_edit_is_left_and_the_page_says_so(
        supervisor: Browser, settings: Settings) -> None:
    before = publish_roster(settings, NIGHT_GAP)
    pending = NIGHT_GAP.replace("name: Olga", "name: Olga K.")
    (settings.flows_dir / "roster.yaml").write_text(pending)
    send(supervisor, "/roster/weekly/publish", {**NIGHT, "version": before, "message": "nights"})
    page = supervisor.page("/roster")
    assert "Published: version" in page
    assert "was left as it is" in page
    assert "ivr status shows the difference; merge this change into it by hand" in page
    assert (settings.flows_dir / "roster.yaml").read_text() == pending


def test_a_bad_phone_shows_the_checks_problem_with_the_file_and_line(
        supervisor: Browser, settings: Settings) -> None:
    version = publish_roster(settings, NIGHT_GAP)
    status, page = send(supervisor, "/roster/operators/preview", {
        "version": version, "operator": "dina", "name": "Дина", "phone": "87010000204",
        "languages": "kk", "active": "y"})
    assert status == 200
    assert "The checks find a problem in the roster with this change" in page
    assert "flows/roster.yaml:7:3: operator 'dina': " in page
    assert "'87010000204' is not a full international number" in page
    assert "such as +77172000000" in page  # the fix
    assert '7 │   dina: {name: Дина, phone: "87010000204", languages: [kk]}' in page
    assert "/roster/operators/publish" not in page  # no Publish button
    status, page = send(supervisor, "/roster/operators/publish", {
        "version": version, "operator": "dina", "name": "Дина", "phone": "87010000204",
        "languages": "kk", "active": "y", "message": "Dina joins"})
    assert status == 422
    assert "The checks refused the publication; nothing was published" in page
    assert snapshot_store(settings).current() == version
    assert ("sabina", "roster.refused", "operator added: dina [kk]: refused by the checks at "
            "flows/roster.yaml:7") in audit_rows(settings)


def test_a_form_with_a_mistake_comes_back_with_a_sentence(supervisor: Browser,
                                                          settings: Settings) -> None:
    version = publish_roster(settings, NIGHT_GAP)
    status, page = send(supervisor, "/roster/weekly/preview", {
        "version": version, "who": "bota", "days": "some", "start": "8", "end": "20:00"})
    assert status == 400
    assert "Write the time as hours and minutes, such as 08:00" in page
    assert "Tick the days of the shift." in page
    status, page = send(supervisor, "/roster/weekly/publish", {**NIGHT, "version": version})
    assert status == 400
    assert "Say why, in a few words" in page
    assert snapshot_store(settings).current() == version


def test_a_stale_preview_is_not_published(supervisor: Browser, settings: Settings) -> None:
    previewed = publish_roster(settings, NIGHT_GAP)
    send(supervisor, "/roster/weekly/preview", {**NIGHT, "version": previewed})
    store = snapshot_store(settings)
    other = publish_edit(store, store.files(previewed), AddAbsence(Absence(
        ("aset",), dt.date(2026, 12, 20), dt.date(2026, 12, 21))), Options.of(settings),
        "dana@host", "leave")  # another supervisor, meanwhile
    status, page = send(supervisor, "/roster/weekly/publish", {**NIGHT, "version": previewed,
                                                               "message": "nights"})
    assert status == 409
    assert MEANWHILE in page
    assert store.current() == other.snapshot.version
    assert any(row[1] == "roster.refused" and row[2].startswith("weekly shift added: bota")
               for row in audit_rows(settings))
    status, page = send(supervisor, "/roster/weekly/preview", {**NIGHT, "version": previewed})
    assert status == 409
    assert MEANWHILE in page


def test_removing_an_operator_on_duty_offers_to_keep_them_without_ringing_them(
        supervisor: Browser, settings: Settings) -> None:
    version = publish_roster(settings, NIGHT_GAP)
    status, page = send(supervisor, "/roster/operators/preview",
                        {"version": version, "key": "aset", "remove": "1"})
    assert status == 409
    assert "'aset' is still named in the shifts or absences on line(s) 8 of roster.yaml" in page
    assert "Keep them on the list without ringing them (active: false)" in page
    instead = dict(re.findall(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)">',
                              page.split("Keep them on the list")[0].rsplit("<form", 1)[1]))
    del instead["csrf_token"]
    assert instead == {"version": version, "key": "aset", "remove": "", "operator": "aset",
                       "name": "Асет", "phone": ASET, "languages": "kk"}
    status, page = send(supervisor, "/roster/operators/preview", instead)
    assert status == 200
    assert "active: false" in page
    assert "Opens: Kazakh, Mon 14 Dec 10:00 – Mon 14 Dec 20:00" in page


def test_a_removed_shift_is_previewed_with_the_gap_it_opens(supervisor: Browser,
                                                            settings: Settings) -> None:
    version = publish_roster(settings, NIGHT_GAP)
    status, page = send(supervisor, "/roster/weekly/preview",
                        {"version": version, "key": "0", "remove": "1"})
    assert status == 200
    assert "Preview: Remove a weekly shift" in page
    assert "Opens: Kazakh, Mon 14 Dec 10:00 – Tue 15 Dec 08:00" not in page  # no one by night
    assert "Opens: Kazakh, Mon 14 Dec 10:00 – Mon 14 Dec 20:00" in page
    assert '<span class="removed">-  - {who: aset' in page


def test_an_entry_that_is_not_there_is_said_and_a_made_up_one_refused(
        supervisor: Browser, settings: Settings) -> None:
    version = publish_roster(settings, NIGHT_GAP)
    status, page = send(supervisor, "/roster/weekly/preview", {**NIGHT, "version": version,
                                                               "key": "7"})
    assert status == 409
    assert "'weekly' has no entry 8 (it has 2); look again." in page
    status, _ = send(supervisor, "/roster/weekly/preview",
                     {"version": version, "key": "first", "remove": "1"})
    assert status == 400
    reply = supervisor.client.get("/roster/weekly/edit?key=7")
    assert reply.headers["Location"] == "/roster"
    assert "That entry is no longer in the roster in force" in supervisor.page("/roster")
    assert supervisor.client.get("/roster/nothing/edit").status_code == 404


def test_only_supervisors_open_the_roster(console_app: Flask, settings: Settings) -> None:
    version = publish_roster(settings, NIGHT_GAP)
    browser = consultant(console_app, settings)
    assert browser.client.get("/roster").status_code == 403
    assert browser.client.get("/roster/weekly/edit").status_code == 403
    status, _ = send(browser, "/roster/weekly/publish", {**NIGHT, "version": version,
                                                         "message": "mine"})
    assert status == 403
    assert 'href="/roster"' not in browser.page("/")
    assert snapshot_store(settings).current() == version


def test_a_roster_form_without_its_csrf_token_is_refused(supervisor: Browser,
                                                         settings: Settings) -> None:
    version = publish_roster(settings, NIGHT_GAP)
    for path in ("/roster/weekly/preview", "/roster/weekly/publish", "/away/mark", "/away/back"):
        status, page = send(supervisor, path, {**NIGHT, "version": version, "message": "x",
                                               "until": "60", "operator": "bota"}, token=False)
        assert status == 400
        assert "The form's security token is missing or out of date" in page
    assert snapshot_store(settings).current() == version


def test_without_a_version_in_force_the_roster_page_says_so(supervisor: Browser) -> None:
    page = supervisor.page("/roster")
    assert "No version is in force that the console can read" in page
    assert supervisor.client.get("/roster/weekly/edit").headers["Location"] == "/roster"


def test_a_consultant_marks_themselves_away_and_back(console_app: Flask, settings: Settings,
                                                     clock: Clock) -> None:
    publish_roster(settings, TWO_ON_DUTY)
    browser = consultant(console_app, settings)
    page = browser.page("/away")
    assert "You are not marked away" in page
    assert "By the roster you are on duty now, for more than a day to come." in page
    assert 'value="shift"' not in page  # no end of the shift within a day
    status, page = send(browser, "/away/mark", {"until": "120"})
    assert status == 302
    assert presence(settings, clock).marks() == {"aigerim": clock.now + 7200}
    page = browser.page("/away")
    assert "You are marked away until Mon 14 Dec 12:00" in page
    status, _ = send(browser, "/away/back", {"operator": "aigerim"})
    assert status == 302
    assert presence(settings, clock).marks() == {}
    assert "You are back" in browser.page("/away")
    rows = audit_rows(settings)
    assert ("aigerim", "presence.away", "aigerim until 2026-12-14 12:00") in rows
    assert ("aigerim", "presence.back", "aigerim") in rows


def test_away_until_the_end_of_the_shift_or_a_time_today(console_app: Flask,
                                                        settings: Settings,
                                                        clock: Clock) -> None:
    publish_roster(settings, TWO_ON_DUTY.replace('"00:00", to: "24:00"', '"08:00", to: "20:00"'))
    browser = consultant(console_app, settings)
    assert "the end of my shift, Mon 14 Dec 20:00" in browser.page("/away")
    send(browser, "/away/mark", {"until": "shift"})
    assert presence(settings, clock).marks() == {
        "aigerim": dt.datetime(2026, 12, 14, 20, 0, tzinfo=ALMATY).timestamp()}
    status, page = send(browser, "/away/mark", {"until": "time", "at": "09:30"})
    assert status == 400
    assert "That time has already passed today" in page
    status, page = send(browser, "/away/mark", {"until": "time", "at": ""})
    assert status == 400
    assert "Write the time you will be back" in page
    send(browser, "/away/mark", {"until": "time", "at": "13:15"})
    assert presence(settings, clock).marks() == {
        "aigerim": dt.datetime(2026, 12, 14, 13, 15, tzinfo=ALMATY).timestamp()}


def test_supervisors_see_every_mark_and_end_one_consultants_only_their_own(
        console_app: Flask, supervisor: Browser, settings: Settings, clock: Clock) -> None:
    publish_roster(settings, TWO_ON_DUTY)
    aigerim = consultant(console_app, settings)
    marks = presence(settings, clock)
    marks.away("marat", clock.now + 1800)
    status, _ = send(aigerim, "/away/back", {"operator": "marat"})
    assert status == 403
    page = supervisor.page("/away")
    assert "<td>Марат</td><td><code>marat</code></td><td>Mon 14 Dec 10:30</td>" in page
    status, _ = send(supervisor, "/away/back", {"operator": "marat"})
    assert status == 302
    assert marks.marks() == {}
    assert "marat is back" in supervisor.page("/away")
    assert ("sabina", "presence.back", "marat") in audit_rows(settings)
    add_account(settings.database_url, "viktor", "viewer")
    viewer = Browser(console_app.test_client())
    viewer.login("viktor")
    assert viewer.client.get("/away").status_code == 403


# --- in a real browser, with the router on the same Redis --------------------------------------
@pytest.fixture
def roster_console(start_console: Callable[..., Console], settings: Settings
                   ) -> Callable[[str], Console]:
    """The console process on the test Redis and database, with the test's working folder,
    after `roster` is published; supervisors and consultants in each language."""
    def start(roster: str) -> Console:
        publish_roster(settings, roster)
        for name, role, language, operator in (
                ("dinara", "supervisor", "kk", None), ("sabina", "supervisor", "ru", None),
                ("john", "supervisor", "en", None), ("aigerim", "consultant", "kk", "aigerim"),
                ("marat", "consultant", "ru", "marat"), ("saule", "consultant", "en", "saule")):
            add_account(settings.database_url, name, role, language=language, operator=operator)
        return start_console(IVR_FLOWS_DIR=str(settings.flows_dir),
                             IVR_AUDIO_DIR=str(settings.audio_dir))
    return start


def test_a_supervisor_adds_a_night_shift_sees_the_gap_close_publishes_and_routing_changes(
        roster_console: Callable[[str], Console], page: Page, settings: Settings) -> None:
    console = roster_console(NIGHT_GAP)
    router = make_app(settings, Clock(dt.datetime(2026, 12, 15, 23, 0, tzinfo=ALMATY)))
    assert kazakh_caller(router, settings)[0] == OLGA  # at 23:00 no one speaks Kazakh
    before = snapshot_store(settings).current()

    log_in(page, console, "john")
    page.goto(f"{console.url}/roster")
    shot(page, "roster-night-gap-en")
    page.click("a[href='/roster/weekly/edit']")
    page.check("input[name=who][value=bota]")
    page.select_option("#days", "daily")
    page.fill("#start", "20:00")
    page.fill("#end", "08:00")
    shot(page, "roster-form-night-shift-en")
    page.click("form.roster-form button[type=submit]")
    expect(page.locator("h1")).to_have_text("Preview: Add a weekly shift")
    closes = page.locator(".gaps li.closes").all_inner_texts()
    assert closes
    assert all(re.fullmatch(r"Closes: Kazakh, \w{3} \d+ \w{3} \d\d:\d\d – \w{3} \d+ \w{3} "
                            r"(08|00):00", line) for line in closes), closes
    assert any(re.search(r"20:00 – \w{3} \d+ \w{3} 08:00$", line) for line in closes), closes
    expect(page.locator(".gaps li.opens")).to_have_count(0)
    expect(page.locator("pre.diff .added")).to_have_text(
        '+  - {who: bota, days: daily, from: "20:00", to: "08:00"}')
    shot(page, "roster-preview-night-shift-en")
    page.click("form[action='/roster/weekly/publish'] button[type=submit]")
    expect(page.locator("#message-problem")).to_contain_text("Say why")  # required
    page.fill("#message", "Bota covers the nights from today")
    page.click("form[action='/roster/weekly/publish'] button[type=submit]")
    expect(page).to_have_url(f"{console.url}/roster")
    expect(page.locator(".message.done").first).to_contain_text("Published: version")
    expect(page.locator("table.roster").nth(1)).to_contain_text("bota — Бота")
    shot(page, "roster-published-en")

    store = snapshot_store(settings)
    assert store.current() != before
    assert store.history()[-1].by == "john (console)"
    router.extensions["ivr.voice"].library.refresh()  # as its background thread would
    call = Phone(router, settings).call(["1", "1"])  # Kazakh, then a consultant, at 23:00
    assert call.numbers[0] == BOTA
    assert call.connected_to == BOTA
    assert "bota, days: daily" in (settings.flows_dir / "roster.yaml").read_text()


def test_a_consultant_marks_themselves_away_and_a_new_call_skips_them(
        roster_console: Callable[[str], Console], page: Page, settings: Settings) -> None:
    console = roster_console(TWO_ON_DUTY)
    router = make_app(settings, Clock(dt.datetime.now(ALMATY)))  # the console's own clock
    no_answers = ["no-answer"] * 4
    assert AIGERIM in kazakh_caller(router, settings, no_answers)

    log_in(page, console, "aigerim")
    page.goto(f"{console.url}/away")
    expect(page.locator("html")).to_have_attribute("lang", "kk")
    expect(page.locator(".status.present")).to_be_visible()
    page.check("input[name=until][value='60']")
    page.click("form[action='/away/mark'] button[type=submit]")
    expect(page.locator(".status.away")).to_be_visible()
    shot(page, "availability-away-kk")
    (until,) = presence(settings, lambda: dt.datetime.now(ALMATY).timestamp()).marks().values()
    assert 3500 < until - dt.datetime.now(ALMATY).timestamp() <= 3600

    rung = kazakh_caller(router, settings, no_answers)
    assert AIGERIM not in rung
    assert MARAT in rung
    assert kazakh_caller(router, settings)[0] == MARAT

    page.click("form[action='/away/back'] button[type=submit]")
    expect(page.locator(".status.present")).to_be_visible()
    assert AIGERIM in kazakh_caller(router, settings, no_answers)


def test_the_roster_preview_and_availability_pages_in_kazakh_russian_and_english(
        roster_console: Callable[[str], Console], page: Page) -> None:
    console = roster_console((PROJECT_ROOT / "flows" / "roster.yaml").read_text())
    for supervisor, consultant_, language in (("dinara", "aigerim", "kk"),
                                              ("sabina", "marat", "ru"),
                                              ("john", "saule", "en")):
        log_in(page, console, consultant_)
        page.goto(f"{console.url}/away")
        expect(page.locator("html")).to_have_attribute("lang", language)
        shot(page, f"availability-{language}")
        page.click("form[action='/away/mark'] button[type=submit]")
        expect(page.locator(".status.away")).to_be_visible()
        log_out(page)

        log_in(page, console, supervisor)
        page.goto(f"{console.url}/roster")
        expect(page.locator("html")).to_have_attribute("lang", language)
        expect(page.locator("table.roster")).to_have_count(4)
        shot(page, f"roster-{language}")
        page.click("a[href='/roster/weekly/edit?key=1']")
        page.check("input[name=who][value=marat]")
        shot(page, f"roster-form-{language}")
        page.click("form.roster-form button[type=submit]")
        expect(page.locator("pre.diff")).to_be_visible()
        shot(page, f"roster-preview-{language}")
        page.goto(f"{console.url}/away")
        expect(page.locator("td code", has_text=consultant_)).to_be_visible()
        shot(page, f"availability-supervisor-{language}")
        page.click(f"td.actions button[aria-label$=': {consultant_}']")
        expect(page.locator("td code", has_text=consultant_)).to_have_count(0)
        log_out(page)
