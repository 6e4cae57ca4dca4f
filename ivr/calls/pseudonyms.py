"""Keyed, rotating pseudonyms: a call is never known by its number or its CallSid.

- The call key is an HMAC of the CallSid under IVR_HMAC_SECRET: stable across a call's webhooks
  and meaningless without the secret.
- The caller key is an HMAC-SHA256 of the caller's normalised number under a random secret made
  for each calendar month (UTC) and kept only in Redis until the month is over. Once it is gone,
  last month's keys cannot be linked to a number or to this month's keys: a plain or salted hash
  would be reversed by trying the ~10^8 numbers of a prefix. Withheld numbers get no key.
- Redis holds the month's secret only wrapped: XORed with a pad derived from IVR_HMAC_SECRET
  and the month. A copy of Redis (a dump, an AOF file, a backup) holds only random bytes, so it
  cannot be used to test numbers against the keys in the call logs; and deleting the wrapped
  secret still makes the month's keys unlinkable, whoever keeps IVR_HMAC_SECRET.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import threading
from collections.abc import Callable

import phonenumbers
import redis

from ivr.calls.keys import Keys

WITHHELD = frozenset({"", "anonymous", "restricted", "unknown", "private", "unavailable",
                      "+266696687", "+86282452253", "+7"})
GRACE = dt.timedelta(days=1)


def call_key(secret: bytes, call_sid: str) -> str:
    """A pseudonym for a call: stable for its webhooks, meaningless without the secret. It keys
    the call's log and its record, and never appears in a URL Twilio sees."""
    return hmac.new(secret, b"call:" + call_sid.encode(), hashlib.sha256).hexdigest()[:32]


def url_token(secret: bytes, call_sid: str) -> str:
    """What stands for a call in the whisper URLs Twilio calls and logs: derived apart from the
    call's key, so Twilio's logs and the records cannot be joined without the secret."""
    return hmac.new(secret, b"url:" + call_sid.encode(), hashlib.sha256).hexdigest()[:32]


def normalise(number: str) -> str | None:
    """The caller's number in E.164, or None when it is withheld or not a real number."""
    text = number.strip()
    if text.lower() in WITHHELD:
        return None
    try:
        parsed = phonenumbers.parse(text, "KZ")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def month_of(at: dt.datetime) -> str:
    return at.astimezone(dt.UTC).strftime("%Y-%m")


def month_end(month: str) -> dt.datetime:
    year, number = (int(part) for part in month.split("-"))
    first = dt.datetime(year + number // 12, number % 12 + 1, 1, tzinfo=dt.UTC)
    return first


class CallerKeys:
    """Monthly caller-key secrets, shared by all web processes through Redis."""

    def __init__(self, client: redis.Redis, keys: Keys, clock: Callable[[], float],
                 wrapping: bytes) -> None:
        self.client = client
        self.keys = keys
        self.clock = clock
        self.wrapping = wrapping  # IVR_HMAC_SECRET
        self._cache: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def secret_key(self, month: str) -> str:
        return self.keys.caller_secret(month)

    def key(self, number: str) -> str | None:
        normal = normalise(number)
        if normal is None:
            return None
        month = month_of(dt.datetime.fromtimestamp(self.clock(), dt.UTC))
        return hmac.new(self._secret(month), normal.encode(), hashlib.sha256).hexdigest()[:32]

    def _secret(self, month: str) -> bytes:
        with self._lock:
            if month not in self._cache:
                name = self.secret_key(month)
                expires = int((month_end(month) + GRACE).timestamp())
                pad = hmac.new(self.wrapping, b"caller-secret:" + month.encode(),
                               hashlib.sha256).digest()
                pipe = self.client.pipeline(transaction=True)
                pipe.set(name, _xor(secrets.token_bytes(32), pad), nx=True, exat=expires)
                pipe.get(name)
                _, wrapped = pipe.execute()
                # older months are never needed again
                self._cache = {month: _xor(bytes(wrapped), pad)}
            return self._cache[month]

    def discard_before(self, month: str) -> int:
        """Delete every month's secret older than `month` (normally they have expired)."""
        old = [k for k in self.client.scan_iter(self.keys.caller_secrets)
               if k.decode().rsplit(":", 1)[-1] < month]
        return int(self.client.delete(*old)) if old else 0


def _xor(data: bytes, pad: bytes) -> bytes:
    return bytes(a ^ b for a, b in zip(data, pad, strict=False))
