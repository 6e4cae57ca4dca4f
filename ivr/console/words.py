"""Names the pages share, in the reader's language: the languages callers speak, and a moment
or a stretch of time on the line's clock."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask_babel import format_datetime, lazy_gettext

CALL_LANGUAGES: dict[str, Any] = {"kk": lazy_gettext("Kazakh"), "ru": lazy_gettext("Russian"),
                                  "en": lazy_gettext("English")}


def language_name(code: str | None) -> str:
    return str(CALL_LANGUAGES.get(code or "", code or "—"))


def moment(at: dt.datetime) -> str:
    """A moment as the line's staff read it: 'Tue 15 Dec 20:00' in their language, in the
    line's time zone (the console's Babel time zone, Asia/Almaty)."""
    return str(format_datetime(at, "EEE d MMM HH:mm"))


def stretch(start: dt.datetime, end: dt.datetime) -> str:
    return f"{moment(start)} – {moment(end)}"
