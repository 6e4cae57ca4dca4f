"""Call state in Redis: an append-only event log per call, one round trip per webhook.

The key is a keyed HMAC of the CallSid, so Redis never holds Twilio's identifier, and the log
holds only what the engine needs: the number dialled (the hotline's), menu keys, and dial
outcomes. Nothing about the caller. Each log expires a few hours after its last event.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import redis

from ivr.engine.model import DialResult, Digits, Ended, Event, Start

KEY_PREFIX = "ivr:call:"


def call_key(secret: bytes, call_sid: str) -> str:
    """A pseudonym for a call: stable for its webhooks, meaningless without the secret."""
    return hmac.new(secret, b"call:" + call_sid.encode(), hashlib.sha256).hexdigest()[:32]


def encode(event: Event) -> str:
    data: dict[str, Any]
    if isinstance(event, Start):
        data = {"k": "start", "f": event.flow, "v": event.version, "to": event.to, "at": event.at}
    elif isinstance(event, Digits):
        data = {"k": "digits", "d": event.digits}
    elif isinstance(event, DialResult):
        data = {"k": "dial", "s": event.status, "b": event.bridged}
    else:
        data = {"k": "end", "s": event.status, "dur": event.duration}
    return json.dumps(data, separators=(",", ":"))


def decode(raw: bytes | str) -> Event:
    data = json.loads(raw)
    kind = data["k"]
    if kind == "start":
        return Start(data["f"], data["v"], data["to"], float(data["at"]))
    if kind == "digits":
        return Digits(data["d"])
    if kind == "dial":
        return DialResult(data["s"], data["b"])
    return Ended(data["s"], data["dur"])


class CallLog:
    def __init__(self, client: redis.Redis, ttl_seconds: int) -> None:
        self.client = client
        self.ttl = ttl_seconds

    def append(self, key: str, event: Event) -> list[Event]:
        """Append an event and return the whole log, atomically, in one round trip."""
        name = KEY_PREFIX + key
        pipe = self.client.pipeline(transaction=True)
        pipe.rpush(name, encode(event))
        pipe.expire(name, self.ttl)
        pipe.lrange(name, 0, -1)
        _, _, raw = pipe.execute()
        return [decode(item) for item in raw]
