"""Messages for supervisors in their language, through gettext.

English is written in the code; other languages come from `ivr/locale/<lang>/LC_MESSAGES/
ivr.mo`, compiled from the `.po` file beside it with Babel (see the README). The language is
chosen by IVR_MESSAGES (`en`, `ru`) or `ivr --lang`; a message without a translation stays in
English.
"""

from __future__ import annotations

import gettext
from pathlib import Path

LOCALE_DIR = Path(__file__).parent / "locale"
LANGUAGES = ("en", "ru")
_translation: gettext.NullTranslations = gettext.NullTranslations()


def set_language(language: str | None) -> None:
    global _translation
    if not language or language == "en":
        _translation = gettext.NullTranslations()
        return
    _translation = gettext.translation("ivr", LOCALE_DIR, languages=[language], fallback=True)


def _(message: str) -> str:
    return _translation.gettext(message)


def N_(message: str) -> str:
    """Mark a message for extraction where it is defined; translate it with `_` where used."""
    return message
