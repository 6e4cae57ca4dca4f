"""Operators' categories for a call, posted after it ends to a small signed endpoint.

    POST /api/tags
    X-IVR-Timestamp: 1765688700          (seconds since 1970, UTC)
    X-IVR-Signature: <hex HMAC-SHA256 of "<timestamp>.<raw body>" under IVR_TAGS_SECRET>
    {"operator": "aigerim", "at": "2026-11-22T14:05:00+05:00",
     "categories": ["psychological", "physical"]}

`at` is any moment during or shortly after the call: the operator's latest call that started
before it is tagged. A call may carry several categories; tagging again adds, never repeats.
The timestamp is inside the signature and must be within IVR_TAGS_WINDOW seconds of the
router's clock, so a signed request someone kept cannot be replayed later. The operators'
console, a bot or a supervisor (`ivr tag`) posts it; the endpoint is off until IVR_TAGS_SECRET
is set. Every bad request gets a 4xx with a sentence; only a database that cannot be reached
gets 503, which a client retries.
"""

from __future__ import annotations

import hmac
import json
import logging
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Response, jsonify, request

from ivr.records.store import RecordStore, StoreError
from ivr.records.tags import SIGNATURE_HEADER, TIMESTAMP_HEADER, signature, tag_call
from ivr.web.context import voice

bp = Blueprint("tags", __name__, url_prefix="/api")
log = logging.getLogger("ivr.tags")
MAX_BODY_BYTES = 64 * 1024  # a tagging request is a few hundred bytes


def _answer(body: dict[str, Any], status: int) -> tuple[Response, int]:
    return jsonify(body), status


def _fresh(stamp: str, now: float, window: float) -> bool:
    if not (stamp.isascii() and stamp.isdigit()) or len(stamp) > 12:
        return False
    return abs(int(stamp) - now) <= window


@bp.post("/tags")
def post_tags() -> tuple[Response, int]:
    ctx = voice()
    settings = ctx.settings
    if not settings.tags_secret:
        return _answer({"error": "tagging is off: set IVR_TAGS_SECRET"}, 404)
    if (request.content_length or 0) > MAX_BODY_BYTES:
        return _answer({"error": f"the body is over {MAX_BODY_BYTES} bytes"}, 413)
    body = request.get_data()[:MAX_BODY_BYTES + 1]
    if len(body) > MAX_BODY_BYTES:
        return _answer({"error": f"the body is over {MAX_BODY_BYTES} bytes"}, 413)
    stamp = request.headers.get(TIMESTAMP_HEADER, "")
    given = request.headers.get(SIGNATURE_HEADER, "")
    if not hmac.compare_digest(given, signature(settings.tags_secret, body, stamp)):
        return _answer({"error": f"bad or missing {SIGNATURE_HEADER}"}, 403)
    if not _fresh(stamp, ctx.clock(), settings.tags_window_seconds):
        return _answer({"error": f"{TIMESTAMP_HEADER} is not within "
                                 f"{settings.tags_window_seconds:.0f} s of the router's clock"}, 403)
    try:
        data = json.loads(body)
        if not isinstance(data, dict):
            raise StoreError("the body must be a JSON object")
        store = RecordStore(settings.database_url)
        if not store.ready():
            raise LookupError("no call is stored yet (records arrive within a minute of the "
                              "call's end)")
        key, added = tag_call(store, data)
    except (ValueError, RecursionError, StoreError) as exc:  # JSON errors are ValueErrors
        why = str(exc) if isinstance(exc, StoreError) else "the body is not valid JSON"
        return _answer({"error": why}, 400)
    except LookupError as exc:
        return _answer({"error": str(exc.args[0])}, 404)
    except sa.exc.SQLAlchemyError as exc:
        log.error("tagging: the records database cannot be reached (%s)", type(exc).__name__)
        return _answer({"error": "the records database cannot be reached; try again"}, 503)
    return _answer({"call": key, "added": added}, 200)
