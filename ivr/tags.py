"""Operators' categories for a call, posted after it ends to a small signed endpoint.

    POST /api/tags
    X-IVR-Signature: <hex HMAC-SHA256 of the raw body under IVR_TAGS_SECRET>
    {"operator": "aigerim", "at": "2026-11-22T14:05:00+05:00",
     "categories": ["psychological", "physical"]}

`at` is any moment during or shortly after the call: the operator's latest call that started
before it is tagged. A call may carry several categories; tagging again adds, never repeats.
The operators' console, a bot or a supervisor (`ivr tag`) posts it; the endpoint is off until
IVR_TAGS_SECRET is set.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from ivr.store import RecordStore, StoreError

bp = Blueprint("tags", __name__, url_prefix="/api")


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


def _answer(body: dict[str, Any], status: int) -> tuple[Response, int]:
    return jsonify(body), status


@bp.post("/tags")
def post_tags() -> tuple[Response, int]:
    settings = current_app.extensions["ivr.voice"].settings
    if not settings.tags_secret:
        return _answer({"error": "tagging is off: set IVR_TAGS_SECRET"}, 404)
    body = request.get_data()
    given = request.headers.get("X-IVR-Signature", "")
    if not hmac.compare_digest(given, signature(settings.tags_secret, body)):
        return _answer({"error": "bad or missing X-IVR-Signature"}, 403)
    try:
        data = json.loads(body)
        if not isinstance(data, dict):
            raise StoreError("the body must be a JSON object")
        store = RecordStore(settings.database_url)
        key, added = tag_call(store, data)
    except (ValueError, StoreError) as exc:
        return _answer({"error": str(exc)}, 400)
    except LookupError as exc:
        return _answer({"error": str(exc.args[0])}, 404)
    return _answer({"call": key, "added": added}, 200)
