"""Phone numbers the router may dial: full international (E.164) numbers only.

Twilio cannot dial short numbers such as 102, 112 or 150 from Kazakhstan, and +7 is shared with
Russia, so every number is checked with libphonenumber rather than by its look.
"""

from __future__ import annotations

from functools import lru_cache

import phonenumbers

from ivr.i18n import _


def dialable_problem(number: object) -> str | None:
    """Why a number cannot be dialled through Twilio, or None if it can."""
    text = str(number)
    kind = _classify(text)
    if kind == "short":
        return _(
            "'{text}' is not a full international number; Twilio dials only numbers such "
            "as +77172000000 (102, 112 and 150 cannot be dialled through Twilio)"
        ).format(text=text)
    if kind == "unparsable":
        return _("'{text}' is not a phone number").format(text=text)
    if kind == "invalid":
        return _(
            "'{text}' is not a valid number in E.164 form (+ country code and digits, no spaces)"
        ).format(text=text)
    return None


@lru_cache(maxsize=65536)  # a roster of thousands is checked at every load of a version
def _classify(text: str) -> str | None:
    if not text.startswith("+"):
        return "short"
    try:
        parsed = phonenumbers.parse(text)
    except phonenumbers.NumberParseException:
        return "unparsable"
    if not phonenumbers.is_valid_number(parsed) or text != phonenumbers.format_number(
        parsed, phonenumbers.PhoneNumberFormat.E164
    ):
        return "invalid"
    return None
