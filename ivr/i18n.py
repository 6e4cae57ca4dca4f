"""Messages for supervisors in their language, through gettext.

English is written in the code; other languages come from `ivr/locale/<lang>/LC_MESSAGES/
ivr.mo`, compiled from the `.po` file beside it with Babel (see the README). The language is
chosen by IVR_MESSAGES (`en`, `ru`, `kk`) or `ivr --lang`; a message without a translation
stays in English. The help of the `ivr` commands goes through the same catalogues
(`ivr.cli.texts`).
"""

from __future__ import annotations

import functools
import gettext
from contextvars import ContextVar
from pathlib import Path

LOCALE_DIR = Path(__file__).parent / "locale"
LANGUAGES = ("en", "ru", "kk")
ENGLISH = gettext.NullTranslations()
# The language of the current context: the CLI sets it once; the console sets it for each
# request, so two people's pages in two languages never mix (a new thread starts in English).
_current: ContextVar[tuple[str, gettext.NullTranslations]] = ContextVar(
    "ivr_messages", default=("en", ENGLISH))


@functools.cache
def _catalogue(language: str) -> gettext.NullTranslations:
    return gettext.translation("ivr", LOCALE_DIR, languages=[language], fallback=True)


def set_language(language: str | None) -> None:
    chosen = language if language in LANGUAGES else "en"
    _current.set((chosen, ENGLISH if chosen == "en" else _catalogue(chosen)))


def current_language() -> str:
    """The language messages are in now (`en`, `ru`, `kk`)."""
    return _current.get()[0]


def _(message: str) -> str:
    return _current.get()[1].gettext(message)


def N_(message: str) -> str:
    """Mark a message for extraction where it is defined; translate it with `_` where used."""
    return message
