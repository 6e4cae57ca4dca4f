"""What the console's tests share: settings, accounts made as `ivr users add` makes them, and a
small helper that fills in forms with their CSRF token, as a browser would."""

from __future__ import annotations

import html
import re
from dataclasses import replace

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from ivr.console.accounts import Accounts
from ivr.records.store import RecordStore
from ivr.settings import Settings

SECRET = "console-test-secret-" + "s" * 32
PASSWORD = "correct horse battery staple"
TOKEN = re.compile(r'<input[^>]*name="(?:[a-z]+-)?csrf_token"[^>]*value="([^"]+)"')


def console_settings(settings: Settings, **changes: object) -> Settings:
    return replace(settings, console_secret=SECRET, **changes)  # type: ignore[arg-type]


def add_account(database_url: str, name: str, role: str, language: str = "en",
                operator: str | None = None, password: str = PASSWORD) -> None:
    store = RecordStore(database_url)
    store.upgrade()
    Accounts(store).add(name, role, password, "test@host", operator or (
        name if role == "consultant" else None), language)


class Browser:
    """A test client that sends each form with the token of the page it came from, from a
    browser set to English (a logged-in person sees their account's language)."""

    def __init__(self, client: FlaskClient, language: str = "en") -> None:
        self.client = client
        client.environ_base["HTTP_ACCEPT_LANGUAGE"] = language

    def token(self, path: str) -> str:
        page = self.client.get(path).get_data(as_text=True)
        found = TOKEN.search(page)
        assert found, page
        return found.group(1)

    def post(self, path: str, data: dict[str, str], form_page: str | None = None,
             headers: dict[str, str] | None = None) -> TestResponse:
        token = self.token(form_page or path)
        prefix = next((k.split("-")[0] + "-" for k in data if "-" in k), "")
        return self.client.post(path, data={**data, f"{prefix}csrf_token": token},
                                headers=headers or {})

    def login(self, name: str, password: str = PASSWORD, next_path: str = "") -> TestResponse:
        path = "/login" + (f"?next={next_path}" if next_path else "")
        return self.post(path, {"name": name, "password": password}, form_page="/login")

    def page(self, path: str) -> str:
        """The page's text as a person reads it (entities such as &#39; decoded)."""
        return html.unescape(self.client.get(path).get_data(as_text=True))
