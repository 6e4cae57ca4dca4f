"""The console in a real browser: logging in and out, the login pause, roles, CSRF, languages,
an account's own changes, and the idle timeout.

Each test saves a screenshot of every page it sees, in Kazakh, Russian or English, to
test-artifacts/screenshots/ (kept after the run, for a person to look at).
"""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Callable

from playwright.sync_api import BrowserContext, Page, expect

from ivr.settings import Settings
from tests.conftest import Clock, make_app
from tests.console_browser import CHROMIUM, Console, log_in, log_out, shot
from tests.console_helpers import PASSWORD, add_account


def test_chromium_is_there_for_the_browser_tests() -> None:
    """What CI needs, said plainly when it is missing."""
    assert CHROMIUM.exists(), "install Chromium: apt-get install chromium"
    assert shutil.which(str(CHROMIUM))


def test_logging_in_and_out(console: Console, page: Page, context: BrowserContext) -> None:
    for language in ("kk", "ru", "en"):
        page.goto(f"{console.url}/login?lang={language}")
        expect(page.locator("html")).to_have_attribute("lang", language)
        shot(page, f"login-{language}")
    log_in(page, console, "viktor")
    expect(page).to_have_url(f"{console.url}/")
    expect(page.locator("h1")).to_have_text("Hello, viktor")
    shot(page, "home-en")
    (cookie,) = context.cookies()
    assert cookie["name"] == "__Host-ivr-console"
    assert (cookie["secure"], cookie["httpOnly"], cookie["sameSite"]) == (True, True, "Strict")
    log_out(page)
    expect(page).to_have_url(f"{console.url}/login")
    expect(page.locator(".message")).to_have_text("You are logged out.")
    shot(page, "logged-out-en")
    page.goto(f"{console.url}/account")
    expect(page).to_have_url(re.compile(r"/login\?next=/account$"))


def test_a_wrong_password_and_then_the_pause(console: Console, page: Page) -> None:
    log_in(page, console, "sabina", "not the right password", language="ru")
    expect(page.locator(".message.error")).to_have_text("Имя пользователя или пароль неверны.")
    shot(page, "wrong-password-ru")
    for _ in range(4):
        log_in(page, console, "sabina", "not the right password")
    log_in(page, console, "sabina")  # the sixth try in a row, with the right password
    expect(page.locator(".message.error")).to_contain_text(
        "Слишком много неудачных попыток входа")
    expect(page.locator(".message.error")).to_contain_text("через 15 минут")
    expect(page).to_have_url(f"{console.url}/login")
    shot(page, "paused-ru")
    log_in(page, console, "nobody", "any password at all", language="kk")  # not paused yet
    expect(page.locator(".message.error")).to_have_text("Пайдаланушы аты немесе құпиясөз қате.")
    shot(page, "wrong-password-kk")


def test_a_consultant_cannot_open_supervisor_pages(console: Console, page: Page) -> None:
    log_in(page, console, "aigerim")
    expect(page.locator("html")).to_have_attribute("lang", "kk")
    expect(page.locator("nav a[href='/users']")).to_have_count(0)
    reply = page.goto(f"{console.url}/users")
    assert reply is not None
    assert reply.status == 403
    expect(page.locator("h1")).to_have_text("Сіздің рөліңізге арналмаған")
    shot(page, "forbidden-kk")


def test_a_form_without_its_csrf_token_is_refused(console: Console, page: Page) -> None:
    page.goto(f"{console.url}/login?lang=ru")
    page.evaluate("document.querySelector('input[name=csrf_token]').remove()")
    page.fill("input[name=name]", "sabina")
    page.fill("input[name=password]", PASSWORD)
    with page.expect_response(lambda response: response.request.method == "POST") as posted:
        page.click("button[type=submit]")
    assert posted.value.status == 400
    expect(page.locator("h1")).to_have_text("Форма не принята")
    shot(page, "no-csrf-token-ru")
    page.goto(f"{console.url}/")
    expect(page).to_have_url(re.compile(r"/login"))  # not logged in


def test_every_page_in_kazakh_russian_and_english(console: Console, page: Page,
                                                  context: BrowserContext,
                                                  settings: Settings) -> None:
    make_app(settings, Clock())  # a version in force: every page has something to show
    add_account(settings.database_url, "dana", "supervisor", language="kk")
    add_account(settings.database_url, "john", "supervisor", language="en")
    people = (("aigerim", "kk", "consultant"), ("viktor", "en", "viewer"),
              ("dana", "kk", ""), ("sabina", "ru", ""), ("john", "en", ""))
    for name, language, role in people:  # supervisors see every page; the others, theirs
        log_in(page, console, name)
        expect(page.locator("html")).to_have_attribute("lang", language)
        links = page.locator("header nav a")  # every page this person may open
        paths = [links.nth(n).get_attribute("href") or "" for n in range(links.count())]
        for path, title in [*((path, path.strip("/") or "home") for path in paths),
                            ("/no-such-page", "not-found")]:
            page.goto(f"{console.url}{path}")
            expect(page.locator("html")).to_have_attribute("lang", language)
            shot(page, "-".join(filter(None, ("page", title, role, language))))
        log_out(page)
    page.goto(f"{console.url}/no-such-page?lang=kk")
    expect(page.locator("h1")).to_have_text("Мұндай бет жоқ")


def test_a_person_changes_their_password_and_language(console: Console, page: Page) -> None:
    log_in(page, console, "viktor")
    page.goto(f"{console.url}/account")
    page.fill("#password-current", PASSWORD)
    page.fill("#password-new", "short")
    page.fill("#password-repeat", "short")
    page.click("form[action='/account/password'] button[type=submit]")
    expect(page.locator(".message.error")).to_have_text("A password needs at least 12 characters.")
    shot(page, "account-short-password-en")
    page.select_option("#language-language", "kk")
    page.click("form[action='/account/language'] button[type=submit]")
    expect(page.locator("html")).to_have_attribute("lang", "kk")
    expect(page.locator(".message.done")).to_have_text("Сақталды: консоль тілі енді — Қазақша.")
    shot(page, "account-language-kk")


def test_an_idle_session_ends(start_console: Callable[..., Console], settings: Settings,
                              page: Page) -> None:
    add_account(settings.database_url, "sabina", "supervisor", language="ru")
    console = start_console(IVR_CONSOLE_IDLE_MINUTES="0.05")  # 3 seconds
    log_in(page, console, "sabina")
    expect(page).to_have_url(f"{console.url}/")
    time.sleep(3.5)
    page.goto(f"{console.url}/account")
    expect(page).to_have_url(re.compile(r"/login\?next=/account$"))
    expect(page.locator(".message")).to_contain_text("Вы были неактивны 1 минуту")
    shot(page, "idle-timeout-ru")
