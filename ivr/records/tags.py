"""Operators' categories for a call, set after it ends.

`at` is any moment during or shortly after the call: the operator's latest call that started
before it is tagged. A call may carry several categories; tagging again adds, never repeats.
The signed endpoint `/api/tags` (`ivr.web.tags`) and `ivr tag` both come here.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from typing import Any

from ivr.records.store import RecordStore, StoreError


def signature(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def tag_call(store: RecordStore, data: dict[str, Any]) -> tuple[str, int]:
    """Find the call and add its categories; raise StoreError with a plain sentence."""
    categories = data.get("categories")
    if not isinstance(categories, list) or not categories:
        raise StoreError("'categories' must be a non-empty list")
    key = data.get("call")
    if not key:
        operator, at = data.get("operator"), data.get("at")
        if not isinstance(operator, str) or not isinstance(at, str):
            raise StoreError("give 'call', or 'operator' and 'at'")
        try:
            moment = dt.datetime.fromisoformat(at.replace("Z", "+00:00"))
        except ValueError as exc:
            raise StoreError("'at' must be an ISO 8601 time with its offset") from exc
        if moment.tzinfo is None:
            raise StoreError("'at' must carry its offset, e.g. +05:00")
        key = store.find_call(operator, moment.astimezone(dt.UTC).replace(tzinfo=None))
        if key is None:
            raise LookupError("no call of that operator started in the 6 hours before 'at' "
                              "(records arrive within a minute of the call's end)")
    return str(key), store.tag(str(key), [str(c) for c in categories])
