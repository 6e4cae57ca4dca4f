"""The languages callers may speak, and which of them a Twilio voice can read aloud.

No Twilio voice speaks Kazakh, so every Kazakh prompt must be a recording; Russian (and
English) texts can be read by `<Say>` with the voice named here.
"""

from __future__ import annotations

from collections.abc import Mapping

from ivr.i18n import N_

LANGUAGE_NAMES: Mapping[str, str] = {"kk": N_("Kazakh"), "ru": N_("Russian"), "en": N_("English")}
SAY_VOICES: Mapping[str, tuple[str, str]] = {  # language: (voice, language tag)
    "ru": ("Polly.Tatyana", "ru-RU"),
    "en": ("Polly.Joanna", "en-US"),
}


def language_codes(value: object) -> tuple[str, ...] | None:
    """A non-empty list of known language codes as a tuple, or None if it is not one."""
    if isinstance(value, list) and value and all(isinstance(v, str) and v in LANGUAGE_NAMES
                                                 for v in value):
        return tuple(value)
    return None
