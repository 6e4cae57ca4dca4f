"""The console's language: Kazakh, Russian or English (Flask-Babel, domain `console`).

English is written in the code and the templates; `translations/<lang>/LC_MESSAGES/console.po`
holds Kazakh and Russian (see the README's translation workflow). A logged-in person sees the
language of their account; before logging in, the language chosen with the switcher (`?lang=`,
kept in the session), else the browser's (Accept-Language), else Russian: most of the line's
staff read it, and the switcher offers Kazakh on every page.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlencode

from flask import Flask, g, request, session
from flask_babel import Babel, get_locale

from ivr.console.roles import DEFAULT_LANGUAGE, LANGUAGES
from ivr.i18n import set_language

DOMAIN = "console"
TRANSLATIONS = Path(__file__).parent / "translations"
NAMES = {"kk": "Қазақша", "ru": "Русский", "en": "English"}  # each in its own language
SESSION_KEY = "lang"


def chosen() -> str:
    """The language of this request's page."""
    account = g.get("account")
    if account is not None:
        return str(account.language)
    asked = request.args.get("lang")
    if asked in LANGUAGES:
        session[SESSION_KEY] = asked
        return asked
    kept = session.get(SESSION_KEY)
    if kept in LANGUAGES:
        return str(kept)
    return request.accept_languages.best_match(LANGUAGES) or DEFAULT_LANGUAGE


def init_app(app: Flask) -> None:
    Babel(app, locale_selector=chosen, default_domain=DOMAIN,
          default_translation_directories=str(TRANSLATIONS), default_timezone="Asia/Almaty")

    @app.context_processor
    def languages() -> dict[str, object]:
        return {"language_names": NAMES, "in_language": in_language,
                "current_language": str(get_locale() or DEFAULT_LANGUAGE)}


def speak() -> None:
    """Messages made by the shared code during this request (the checks' problems, the flow
    diagram's labels: `ivr.i18n`) in the page's language. Runs after the account is known."""
    set_language(str(get_locale() or DEFAULT_LANGUAGE))


def in_language(language: str) -> str:
    """This page's address in another language (the switcher's links keep `?next=`)."""
    return f"{request.path}?{urlencode({**request.args, SESSION_KEY: language})}"
