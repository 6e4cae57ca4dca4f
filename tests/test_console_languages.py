"""The console speaks Kazakh, Russian and English: every message in its code and templates has a
Kazakh and a Russian translation, the compiled catalogues are current, and no page shown in
Kazakh or Russian leaves an English sentence on it."""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from pathlib import Path

import pytest
from babel.messages.catalog import Message
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from flask import Flask, url_for

from ivr.console.app import create_console
from ivr.console.languages import TRANSLATIONS
from ivr.console.nav import NAV
from ivr.settings import Settings
from tests.conftest import Clock, make_app
from tests.console_helpers import Browser, add_account, console_settings

CONSOLE = Path(TRANSLATIONS).parent
KEYWORDS = {**DEFAULT_KEYWORDS, "lazy_gettext": None, "N_": None}
PLACEHOLDER = re.compile(r"%\([a-z_]+\)s|\{[a-z_]+\}")


def extracted() -> dict[str, str | tuple[str, ...]]:
    """Every message of the console, as `pybabel extract -F ivr/console/babel.cfg` finds it."""
    found = extract_from_dir(str(CONSOLE), method_map=[("**.py", "python"),
                                                       ("templates/**.html", "jinja2")],
                             keywords=KEYWORDS)
    return {(m[0] if isinstance(m, tuple) else m): m for _f, _l, m, _c, _x in found}


def catalogue(language: str) -> Path:
    return TRANSLATIONS / language / "LC_MESSAGES" / "console.po"


@pytest.mark.parametrize("language", ["kk", "ru"])
def test_every_console_message_has_a_translation(language: str) -> None:
    with catalogue(language).open("rb") as po:
        messages = {(m.id[0] if isinstance(m.id, tuple) else m.id): m
                    for m in read_po(po, locale=language) if m.id}
    wanted = extracted()
    missing = [key for key in wanted if key not in messages]
    assert missing == [], "run pybabel extract and update (see the README), then translate"
    for key, original in wanted.items():
        message = messages[key]
        forms = message.string if isinstance(message.string, tuple) else (message.string,)
        assert all(forms), f"{language}: no translation of {key!r}"
        assert "fuzzy" not in message.flags, f"{language}: {key!r} is fuzzy"
        sources = original if isinstance(original, tuple) else (original,)
        for form in forms:
            assert set(PLACEHOLDER.findall(form)) == set(PLACEHOLDER.findall(sources[-1])), \
                f"{language}: {key!r} keeps other placeholders: {form!r}"


@pytest.mark.parametrize("language", ["kk", "ru"])
def test_the_compiled_console_catalogues_are_current(language: str) -> None:
    po, mo = catalogue(language), catalogue(language).with_suffix(".mo")
    def pairs(messages: Iterable[Message]) -> dict[object, object]:
        return {_frozen(m.id): _frozen(m.string) for m in messages if m.id}

    with mo.open("rb") as binary, po.open("rb") as text:
        compiled, written = pairs(read_mo(binary)), pairs(read_po(text, locale=language))
    assert compiled == written, "run pybabel compile -D console -d ivr/console/translations"


def _frozen(value: object) -> object:
    return tuple(value) if isinstance(value, list | tuple) else value


# --- every page in Kazakh and Russian --------------------------------------------------------

def navigation(app: Flask) -> list[str]:
    """The address of every page in the console's navigation."""
    with app.test_request_context():
        return [url_for(item.endpoint) for item in NAV]


ENGLISH = [key for key in extracted() if len(key.split()) >= 2 and not key.startswith("'")]


@pytest.fixture
def console_app(settings: Settings) -> Flask:
    make_app(settings, Clock())  # publishes the working folders: every page has content
    for language in ("kk", "ru"):
        add_account(settings.database_url, f"boss_{language}", "supervisor", language=language)
        add_account(settings.database_url, f"aigul_{language}", "consultant", language=language)
    return create_console(console_settings(settings), Clock())


@pytest.mark.parametrize("language", ["kk", "ru"])
def test_every_page_is_in_the_persons_language(console_app: Flask, language: str) -> None:
    pages = {}
    anonymous = Browser(console_app.test_client(), language)
    pages["login"] = anonymous.page(f"/login?lang={language}")
    pages["wrong password"] = html.unescape(anonymous.login(
        f"boss_{language}", "not the password").get_data(as_text=True))
    supervisor = Browser(console_app.test_client(), "en")  # the account's language wins
    supervisor.login(f"boss_{language}")
    for path in [*navigation(console_app), "/no-such-page"]:  # every page of the console
        pages[path] = supervisor.page(path)
    pages["no token"] = html.unescape(supervisor.client.post("/account/password").get_data(
        as_text=True))
    consultant = Browser(console_app.test_client(), "en")
    consultant.login(f"aigul_{language}")
    pages["403"] = consultant.page("/users")
    for path in ("/away", "/calls"):
        pages[f"{path} (consultant)"] = consultant.page(path)
    for name, page in pages.items():
        assert f'<html lang="{language}">' in page, name
        text = re.sub(r"<[^>]+>", " ", page)
        left = [english for english in ENGLISH if english in text]
        assert left == [], (name, left)
