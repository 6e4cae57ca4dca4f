"""The console's rules, through Flask's test client against real Redis and the records
database: logging in, the throttle, sessions and their idle timeout, roles, CSRF, languages,
the audit log, and what it never shows. The same rules in a real browser:
`test_console_browser.py`."""

from __future__ import annotations

import datetime as dt
import html
import re
from dataclasses import replace

import pytest
import redis
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from ivr.calls.keys import Keys
from ivr.console import audit
from ivr.console.accounts import AccountError, Accounts
from ivr.console.app import create_console
from ivr.console.throttle import PAUSE, paused_until
from ivr.records.store import RecordStore
from ivr.settings import ConfigError, Settings
from tests.conftest import Clock
from tests.console_helpers import PASSWORD, Browser, add_account, console_settings

WRONG = "The name or the password is not right."
PAUSED = "Too many failed logins"


@pytest.fixture
def console_app(settings: Settings, clock: Clock) -> Flask:
    return create_console(console_settings(settings), clock)


@pytest.fixture
def browser(console_app: Flask) -> Browser:
    return Browser(console_app.test_client())


@pytest.fixture
def accounts(settings: Settings) -> Accounts:
    store = RecordStore(settings.database_url)
    store.upgrade()
    return Accounts(store)


@pytest.fixture
def staff(settings: Settings) -> None:
    add_account(settings.database_url, "sabina", "supervisor")
    add_account(settings.database_url, "aigerim", "consultant", language="kk")
    add_account(settings.database_url, "olga", "consultant", language="ru")
    add_account(settings.database_url, "viktor", "viewer")


def audit_rows(settings: Settings) -> list[tuple[str, str, str]]:
    rows = audit.recent(RecordStore(settings.database_url).engine, limit=1000)
    return [(row.user, row.action, row.detail) for row in reversed(rows)]


# --- logging in ------------------------------------------------------------------------------

@pytest.mark.usefixtures("staff")
def test_the_right_password_opens_the_home_page_with_the_name_and_role(
        browser: Browser, settings: Settings) -> None:
    reply = browser.login("Sabina")  # names are not case-sensitive
    assert reply.status_code == 302
    assert reply.headers["Location"] == "/"
    home = browser.page("/")
    assert "Hello, sabina" in home
    assert "You are logged in as: Supervisor." in home
    assert ("sabina", "login", "") in audit_rows(settings)


@pytest.mark.usefixtures("staff")
def test_a_wrong_password_and_an_unknown_name_get_the_same_sentence(browser: Browser) -> None:
    wrong = browser.login("sabina", "not the password at all")
    unknown = browser.login("nobody", "not the password at all")
    for reply in (wrong, unknown):
        assert reply.status_code == 200
        assert WRONG in reply.get_data(as_text=True)
    assert browser.client.get("/").status_code == 302  # still logged out


@pytest.mark.usefixtures("staff")
def test_the_sixth_try_in_a_row_is_paused_even_with_the_right_password(
        browser: Browser, clock: Clock) -> None:
    for _ in range(5):
        assert WRONG in browser.login("sabina", "guess guess guess").get_data(as_text=True)
    assert browser.login("sabina", "guess guess guess").status_code == 429
    paused = browser.login("sabina")
    assert paused.status_code == 429
    text = paused.get_data(as_text=True)
    assert f"{PAUSED}: logins for this name or from this computer are paused. Try again in 15 " \
           "minutes." in text
    assert WRONG not in text
    clock.now += PAUSE - 60
    assert "Try again in 1 minute." in browser.login("sabina").get_data(as_text=True)
    clock.now += 61
    assert browser.login("sabina").status_code == 302  # the pause is over


@pytest.mark.usefixtures("staff")
def test_a_name_without_an_account_is_paused_the_same_way(browser: Browser) -> None:
    for _ in range(5):
        browser.login("nobody", "guess guess guess")
    assert PAUSED in browser.login("nobody", "guess guess guess").get_data(as_text=True)
    assert browser.login("sabina").status_code == 302  # another name is not paused


@pytest.mark.usefixtures("staff")
def test_thirty_failures_from_one_address_pause_every_name_from_it(browser: Browser) -> None:
    for number in range(30):
        browser.login(f"guess{number % 7}x{number}", "guess guess guess")
    assert browser.login("sabina").status_code == 429
    other = Browser(browser.client.application.test_client())  # another browser, same address
    assert other.login("olga").status_code == 429


def test_failures_count_within_fifteen_minutes_and_pause_fifteen_from_the_fifth() -> None:
    minute = 60.0
    assert paused_until([0, 1, 2, 3], 5) == 0
    assert paused_until([0, 1, 2, 3, 4 * minute], 5) == 4 * minute + PAUSE
    assert paused_until([0, 4 * minute, 8 * minute, 12 * minute, 16 * minute], 5) == 0


@pytest.mark.usefixtures("staff")
def test_the_throttle_keeps_no_typed_name_in_redis(browser: Browser, settings: Settings) -> None:
    browser.login("my secret password typed as a name", "x" * 12)
    client = redis.Redis.from_url(settings.redis_url or "")
    keys = b" ".join(client.keys(f"{settings.redis_prefix}console:*"))
    assert keys
    assert b"secret" not in keys
    assert b"console:failures:name:" in keys
    assert b"console:failures:from:127.0.0.1" in keys


@pytest.mark.usefixtures("staff")
def test_without_redis_logins_are_refused_with_a_sentence(settings: Settings,
                                                          clock: Clock) -> None:
    away = console_settings(settings, redis_url="redis://127.0.0.1:1/0")
    reply = Browser(create_console(away, clock).test_client()).login("sabina")
    assert reply.status_code == 503
    text = reply.get_data(as_text=True)
    assert "Logging in is not possible just now: the console cannot reach Redis" in text
    assert "Traceback" not in text


def test_without_its_database_the_console_says_so(settings: Settings, clock: Clock) -> None:
    away = console_settings(settings, database_url="postgresql://nobody@127.0.0.1:1/none")
    browser = Browser(create_console(away, clock).test_client())
    assert browser.client.get("/login").status_code == 200  # the page itself needs no database
    reply = browser.login("sabina")
    assert reply.status_code == 503
    assert "cannot reach the records database just now" in reply.get_data(as_text=True)


@pytest.mark.usefixtures("staff")
def test_after_logging_in_only_pages_of_this_console_are_opened(browser: Browser) -> None:
    assert browser.login("sabina", next_path="/users").headers["Location"] == "/users"
    browser.client.post("/logout", data={"csrf_token": browser.token("/")})
    for elsewhere in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        assert browser.login("sabina", next_path=elsewhere).headers["Location"] == "/"
        browser.client.post("/logout", data={"csrf_token": browser.token("/")})


def test_a_page_asks_for_a_login_first(browser: Browser) -> None:
    reply = browser.client.get("/users")
    assert reply.status_code == 302
    assert reply.headers["Location"] == "/login?next=/users"


# --- sessions --------------------------------------------------------------------------------

@pytest.mark.usefixtures("staff")
def test_logging_out_ends_the_session(browser: Browser, settings: Settings) -> None:
    browser.login("sabina")
    reply = browser.client.post("/logout", data={"csrf_token": browser.token("/")})
    assert reply.headers["Location"] == "/login"
    assert "You are logged out." in browser.page("/login")
    assert browser.client.get("/").status_code == 302
    assert ("sabina", "logout", "") in audit_rows(settings)


@pytest.mark.usefixtures("staff")
def test_a_session_unused_for_the_idle_time_ends_with_a_sentence(browser: Browser,
                                                                 clock: Clock) -> None:
    browser.login("sabina")
    clock.now += 29 * 60
    assert browser.client.get("/").status_code == 200  # activity: the half hour starts again
    clock.now += 29 * 60
    assert browser.client.get("/").status_code == 200
    clock.now += 31 * 60
    reply = browser.client.get("/")
    assert reply.headers["Location"].startswith("/login")
    assert "You were logged out after 30 minutes without activity." in browser.page("/login")


@pytest.mark.usefixtures("staff")
def test_a_page_that_reloads_itself_is_not_activity(browser: Browser, clock: Clock) -> None:
    browser.login("sabina")
    for _ in range(4):
        clock.now += 10 * 60
        browser.client.get("/?auto=1")
    assert browser.client.get("/").status_code == 302


@pytest.mark.usefixtures("staff")
def test_a_reset_password_or_a_removed_account_ends_its_sessions(
        console_app: Flask, accounts: Accounts) -> None:
    first, second = Browser(console_app.test_client()), Browser(console_app.test_client())
    first.login("olga")
    second.login("viktor")
    accounts.reset("olga", "a fresh passphrase 2026", "test@host")
    accounts.remove("viktor", "test@host")
    for browser, sentence in ((first, "Сеанс завершён: ваш пароль изменили"),  # in her language
                              (second, "Your session has ended: your password was changed")):
        assert browser.client.get("/").status_code == 302
        assert sentence in browser.page("/login")


@pytest.mark.usefixtures("staff")
def test_a_name_added_again_does_not_bring_back_the_old_sessions(
        browser: Browser, accounts: Accounts) -> None:
    browser.login("viktor")
    accounts.remove("viktor", "test@host")
    accounts.add("viktor", "viewer", PASSWORD, "test@host")
    assert browser.client.get("/").status_code == 302


@pytest.mark.usefixtures("staff")
def test_the_cookie_is_secure_http_only_and_same_site(browser: Browser) -> None:
    reply = browser.login("sabina")
    cookie = reply.headers["Set-Cookie"]
    assert cookie.startswith("__Host-ivr-console=")
    for flag in ("Secure", "HttpOnly", "SameSite=Strict", "Path=/"):
        assert flag in cookie
    assert "Domain" not in cookie


def test_every_page_forbids_framing_outside_scripts_caching_and_referrers(
        browser: Browser) -> None:
    reply = browser.client.get("/login")
    assert reply.headers["Content-Security-Policy"].startswith("default-src 'self'")
    assert reply.headers["X-Frame-Options"] == "DENY"
    assert reply.headers["Referrer-Policy"] == "no-referrer"
    assert reply.headers["Cache-Control"] == "no-store"
    assert "http" not in re.sub(r'href="/[^"]*"', "", reply.get_data(as_text=True)).replace(
        "http-equiv", "")  # nothing from elsewhere: no CDN, no external link
    with browser.client.get("/static/console.css") as style:
        assert style.status_code == 200


def test_a_fault_in_the_code_is_a_sentence_and_never_a_traceback(
        console_app: Flask, caplog: pytest.LogCaptureFixture) -> None:
    def broken() -> str:
        raise RuntimeError("a bug")

    console_app.add_url_rule("/broken", "broken", broken)
    browser = Browser(console_app.test_client())
    reply = browser.client.get("/broken")
    assert reply.status_code == 500
    text = html.unescape(reply.get_data(as_text=True))
    assert "Something went wrong on the console's side" in text
    assert "Traceback" not in text
    assert "a bug" not in text
    assert "a console page failed" in caplog.text  # for the technician
    missing = browser.client.get("/no-such-page")
    assert missing.status_code == 404
    assert "The console has no page at this address." in missing.get_data(as_text=True)


def test_the_console_refuses_to_start_without_a_long_secret(settings: Settings) -> None:
    for secret in ("", "short"):
        with pytest.raises(ConfigError, match="IVR_CONSOLE_SECRET must be set to at least 32"):
            create_console(replace(settings, console_secret=secret))
    with pytest.raises(ConfigError, match="REDIS_URL is not set"):
        create_console(console_settings(settings, redis_url=None))


def test_idle_minutes_are_read_from_the_environment() -> None:
    assert Settings.from_env({"IVR_CONSOLE_IDLE_MINUTES": "15"}).console_idle_minutes == 15
    assert Settings.from_env({}).console_idle_minutes == 30
    with pytest.raises(ConfigError, match="IVR_CONSOLE_IDLE_MINUTES must be a number of minutes"):
        Settings.from_env({"IVR_CONSOLE_IDLE_MINUTES": "soon"})
    assert Settings.from_env({"IVR_CONSOLE_INSECURE_COOKIES": "1"}).console_insecure_cookies


# --- roles -----------------------------------------------------------------------------------

@pytest.mark.usefixtures("staff")
def test_a_consultant_gets_a_403_page_in_their_language_for_supervisor_pages(
        browser: Browser) -> None:
    browser.login("aigerim")  # Kazakh
    reply = browser.client.get("/users")
    assert reply.status_code == 403
    text = reply.get_data(as_text=True)
    assert '<html lang="kk">' in text
    assert "Бұл бет сіздің рөліңізге ашық емес" in text


@pytest.mark.usefixtures("staff")
def test_each_role_sees_the_pages_it_may_open(console_app: Flask) -> None:
    seen = {}
    for name in ("sabina", "olga", "viktor"):
        browser = Browser(console_app.test_client())
        browser.login(name)
        seen[name] = browser.page("/")
    assert 'href="/users"' in seen["sabina"]
    assert 'href="/users"' not in seen["olga"]
    assert 'href="/users"' not in seen["viktor"]
    assert "Ваш идентификатор в графике дежурств: olga." in seen["olga"]


@pytest.mark.usefixtures("staff")
def test_the_accounts_page_lists_roles_and_no_password(browser: Browser) -> None:
    browser.login("sabina")
    page = browser.page("/users")
    for name in ("sabina", "aigerim", "olga", "viktor"):
        assert f"<td>{name}</td>" in page
    assert "argon2" not in page
    assert "account.add" in page  # the latest changes


# --- CSRF ------------------------------------------------------------------------------------

@pytest.mark.usefixtures("staff")
def test_a_form_without_its_csrf_token_is_refused_with_a_sentence(browser: Browser) -> None:
    browser.client.get("/login")
    refused = browser.client.post("/login", data={"name": "sabina", "password": PASSWORD})
    assert refused.status_code == 400
    assert "The form's security token is missing or out of date" in html.unescape(
        refused.get_data(as_text=True))
    browser.login("olga")  # Russian
    for path in ("/logout", "/account/password", "/account/language"):
        reply = browser.client.post(path, data={"language-language": "en"})
        assert reply.status_code == 400
        assert "Форма не принята" in reply.get_data(as_text=True)
    assert browser.client.get("/").status_code == 200  # still logged in


@pytest.mark.usefixtures("staff")
def test_a_token_from_another_session_is_refused(console_app: Flask) -> None:
    mine, theirs = Browser(console_app.test_client()), Browser(console_app.test_client())
    theirs.login("olga")
    stolen = theirs.token("/account")
    mine.client.get("/login")
    reply = mine.client.post("/login", data={"name": "olga", "password": PASSWORD,
                                             "csrf_token": stolen})
    assert reply.status_code == 400


# --- the person's own account ----------------------------------------------------------------

@pytest.mark.usefixtures("staff")
def test_changing_the_password_says_what_is_wrong_in_sentences(
        browser: Browser, settings: Settings) -> None:
    browser.login("viktor")

    def change(current: str, new: str, repeat: str) -> tuple[int, str]:
        reply = browser.post("/account/password", {"password-current": current,
                                                   "password-new": new,
                                                   "password-repeat": repeat},
                             form_page="/account")
        return reply.status_code, browser.page("/account") if reply.status_code == 302 \
            else html.unescape(reply.get_data(as_text=True))

    assert "The current password is not right." in change("wrong one", "a" * 12, "a" * 12)[1]
    assert "A password needs at least 12 characters." in change(PASSWORD, "short", "short")[1]
    assert "The password must not contain the account's name." in change(
        PASSWORD, "my name is Viktor", "my name is Viktor")[1]
    assert "The two new passwords are not the same." in change(PASSWORD, "b" * 12, "c" * 12)[1]
    status, page = change(PASSWORD, "a brand new password", "a brand new password")
    assert status == 302
    assert "Your password is changed." in page
    assert browser.client.get("/").status_code == 200  # this session goes on
    assert Browser(browser.client.application.test_client()).login(
        "viktor", "a brand new password").status_code == 302
    assert ("viktor", "account.password", "viktor") in audit_rows(settings)


@pytest.mark.usefixtures("staff")
def test_the_language_of_the_pages_is_the_persons_own(browser: Browser,
                                                      settings: Settings) -> None:
    browser.login("viktor")
    assert '<html lang="en">' in browser.page("/")
    reply = browser.post("/account/language", {"language-language": "kk"}, form_page="/account")
    assert reply.status_code == 302
    page = browser.page("/account")
    assert '<html lang="kk">' in page
    assert "Сақталды: консоль тілі енді — Қазақша." in page
    assert ("viktor", "account.language", "viktor: kk") in audit_rows(settings)
    refused = browser.post("/account/language", {"language-language": "de"}, form_page="/account")
    assert refused.status_code == 400


def test_the_login_page_speaks_the_chosen_or_the_browsers_language(
        console_app: Flask) -> None:
    def page(path: str, languages: str = "") -> str:
        client: FlaskClient = console_app.test_client()
        headers = {"Accept-Language": languages} if languages else {}
        return client.get(path, headers=headers).get_data(as_text=True)

    assert '<html lang="ru">' in page("/login")  # no preference: Russian
    assert '<html lang="kk">' in page("/login", "kk-KZ,kk;q=0.9,ru;q=0.8")
    assert '<html lang="en">' in page("/login", "en-GB,en;q=0.9")
    assert '<html lang="kk">' in page("/login?lang=kk", "en")
    assert "Кіру" in page("/login?lang=kk")
    assert "Вход" in page("/login?lang=ru")
    assert 'href="/login?next=%2Fusers&amp;lang=kk"' in page("/login?next=/users")


# --- accounts and their audit ----------------------------------------------------------------

def test_account_rules_are_sentences(accounts: Accounts) -> None:
    accounts.add("sabina", "supervisor", PASSWORD, "root@host")
    cases = {
        ("sabina", "supervisor", None): "there is already an account named 'sabina'",
        ("Bad Name", "viewer", None): "'bad name' cannot be an account name",
        ("zhanna", "boss", None): "'boss' is not a role",
        ("zhanna", "consultant", None): "a consultant needs their id in the duty roster",
        ("zhanna", "consultant", "id with spaces"): "cannot be a roster id",
    }
    for (name, role, operator), sentence in cases.items():
        with pytest.raises(AccountError, match=re.escape(sentence)):
            accounts.add(name, role, PASSWORD, "root@host", operator)
    with pytest.raises(AccountError, match="is the last supervisor"):
        accounts.remove("sabina", "root@host")
    with pytest.raises(AccountError, match="there is no account named 'nobody'"):
        accounts.reset("nobody", PASSWORD, "root@host")


def test_a_hash_with_old_parameters_is_renewed_at_login(settings: Settings,
                                                       accounts: Accounts) -> None:
    from argon2 import PasswordHasher

    cheap = Accounts(RecordStore(settings.database_url), hasher=PasswordHasher(
        time_cost=1, memory_cost=8 * 1024, parallelism=1))
    cheap.add("olga", "consultant", PASSWORD, "root@host", "olga")

    def stored() -> str:
        with accounts.engine.connect() as db:
            return str(db.execute(sa.text("SELECT password_hash FROM console_users")).scalar())

    before = stored()
    assert "m=8192" in before
    assert accounts.verify("olga", PASSWORD) is not None
    assert stored() != before
    assert "m=8192" not in stored()
    assert accounts.verify("olga", PASSWORD) is not None


def test_the_tables_and_the_audit_log_on_sqlite_and_postgresql(database_url: str) -> None:
    store = RecordStore(database_url)
    assert store.upgrade() == "0004"
    clock = Clock()
    accounts = Accounts(store, clock)
    accounts.add("sabina", "supervisor", PASSWORD, "root@host", language="kk")
    accounts.add("olga", "consultant", PASSWORD, "root@host", operator="olga")
    accounts.reset("olga", "another long password", "sabina")
    accounts.remove("olga", "sabina")
    assert [a.name for a in accounts.all()] == ["sabina"]
    rows = [(e.user, e.action, e.detail) for e in reversed(audit.recent(store.engine))]
    assert rows == [
        ("root@host", "account.add", "sabina: role supervisor, operator -, language kk"),
        ("root@host", "account.add", "olga: role consultant, operator olga, language ru"),
        ("sabina", "account.reset", "olga"),
        ("sabina", "account.remove", "olga: role consultant"),
    ]
    (entry, *_rest) = audit.recent(store.engine)
    assert entry.at == dt.datetime.fromtimestamp(clock.now, dt.UTC).replace(tzinfo=None)


def test_the_console_tables_have_no_place_for_a_callers_data(accounts: Accounts) -> None:
    with accounts.engine.connect() as db:
        columns = {c["name"] for table in ("console_users", "console_audit")
                   for c in sa.inspect(db).get_columns(table)}
    assert columns == {"name", "role", "operator", "language", "password_hash", "created_at",
                       "changed_at", "session_epoch", "id", "at", "user", "action", "detail"}


def test_the_webhook_app_does_not_mount_the_console(app: Flask) -> None:
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    paths = {rule.rule for rule in app.url_map.iter_rules()}
    assert not any(endpoint.startswith("console.") for endpoint in endpoints)
    assert not paths & {"/login", "/logout", "/account", "/users"}


def test_the_throttle_keys_live_under_the_prefix() -> None:
    keys = Keys("ivr:")
    assert keys.console_failures("abc") == "ivr:console:failures:name:abc"
    assert keys.console_failures_from("10.0.0.1") == "ivr:console:failures:from:10.0.0.1"
