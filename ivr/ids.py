"""Ids that supervisors choose and the router carries into URLs, its call log and its store.

An operator's id travels in the whisper URL Twilio calls (`op:<id>`), a region's in the dial
result's URL and in every record of that region, a number's name in records' `destination`.
An id outside this rule would be refused by the URL check on the operator's leg (the operator
hears the whisper, presses 1, and is hung up on, call after call) or by a column of the store
(every record of that region lost). So the library refuses such ids when they are written, and
the store's columns are at least `MAX_ID` long.
"""

from __future__ import annotations

import re

from ivr.i18n import _

MAX_ID = 32
ID_PATTERN = rf"[A-Za-z0-9][A-Za-z0-9_-]{{0,{MAX_ID - 1}}}"
_ID = re.compile(rf"^{ID_PATTERN}$")


def id_problem(value: object) -> str | None:
    """Why `value` cannot be an id, or None when it can."""
    text = str(value)
    if _ID.match(text):
        return None
    if len(text) > MAX_ID:
        return _("'{text}…' is longer than {max} characters; use a shorter id").format(
            text=text[:MAX_ID], max=MAX_ID)
    return _("'{text}' cannot be an id: use Latin letters, digits, '_' and '-' (for example "
             "'aigerim' or 'almaty_city'), starting with a letter or digit").format(text=text)
