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

import hmac
import json
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from ivr.records.store import RecordStore, StoreError
from ivr.records.tags import signature, tag_call

bp = Blueprint("tags", __name__, url_prefix="/api")


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
