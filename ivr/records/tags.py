"""Operators' categories for a call, set after it ends.

`at` is any moment during or shortly after the call: the operator's latest call that started
before it is tagged. A call may carry several categories; tagging again adds, never repeats.
The signed endpoint `/api/tags` (`ivr.web.tags`) and `ivr tag` both come here.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import time
from typing import Any

from ivr.records.store import RecordStore, StoreError

SIGNATURE_HEADER = "X-IVR-Signature"
TIMESTAMP_HEADER = "X-IVR-Timestamp"
EARLIEST = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)  # no call of this router is older
LATEST = dt.datetime(2200, 1, 1, tzinfo=dt.UTC)


def signature(secret: str, body: bytes, timestamp: str) -> str:
    """The signature of a tagging request: the timestamp is signed with the body, so neither
    can be changed, and the router refuses a timestamp outside its window."""
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def signed_headers(secret: str, body: bytes, now: float | None = None) -> dict[str, str]:
    """The headers a client sends with `body` (for scripts, bots and the tests)."""
    stamp = str(int(time.time() if now is None else now))
    return {TIMESTAMP_HEADER: stamp, SIGNATURE_HEADER: signature(secret, body, stamp),
            "Content-Type": "application/json"}


def tag_call(store: RecordStore, data: dict[str, Any]) -> tuple[str, int]:
    """Find the call and add its categories; raise StoreError with a plain sentence."""
    categories = data.get("categories")
    if not isinstance(categories, list) or not categories or len(categories) > 20:
        raise StoreError("'categories' must be a list of 1 to 20 categories")
    if not all(isinstance(c, str) for c in categories):
        raise StoreError("each category must be a name, such as \"psychological\"")
    key = data.get("call")
    if key is not None and (not isinstance(key, str) or len(key) > 64):
        raise StoreError("'call' must be a call's key, as in reports and exports")
    if not key:
        operator, at = data.get("operator"), data.get("at")
        if not isinstance(operator, str) or not isinstance(at, str) or len(operator) > 64:
            raise StoreError("give 'call', or 'operator' and 'at'")
        try:
            moment = dt.datetime.fromisoformat(at.replace("Z", "+00:00"))
        except ValueError as exc:
            raise StoreError("'at' must be an ISO 8601 time with its offset") from exc
        if moment.tzinfo is None:
            raise StoreError("'at' must carry its offset, e.g. +05:00")
        try:
            utc = moment.astimezone(dt.UTC)
        except OverflowError as exc:
            raise StoreError("'at' is not a time any call could have") from exc
        if not EARLIEST <= utc < LATEST:
            raise StoreError("'at' is not a time any call could have")
        key = store.find_call(operator, utc.replace(tzinfo=None))
        if key is None:
            raise LookupError("no call of that operator started in the 6 hours before 'at' "
                              "(records arrive within a minute of the call's end)")
    return str(key), store.tag(str(key), categories)
