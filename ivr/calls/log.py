"""Call state in Redis: an append-only event log per call, one round trip per webhook.

The key is a keyed HMAC of the CallSid (`ivr.calls.pseudonyms`), so Redis never holds Twilio's
identifier, and the log holds only what the engine needs: the number dialled (the hotline's),
the region, the caller's rotating pseudonym, menu keys and dial outcomes. Never the caller's
number. Each log expires a few hours after its last event.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import redis

from ivr.calls.keys import Keys
from ivr.engine.model import Accepted, DialResult, Digits, Ended, Event, Rotation, Start

EVENT_TAGS: dict[str, type[Event]] = {"start": Start, "rot": Rotation, "digits": Digits,
                                      "dial": DialResult, "acc": Accepted, "end": Ended}
TAG_OF = {cls: tag for tag, cls in EVENT_TAGS.items()}


def encode(event: Event) -> str:
    # vars(), not dataclasses.asdict: events are flat, and asdict's deep copy is slow
    return json.dumps({"k": TAG_OF[type(event)], **vars(event)}, separators=(",", ":"))


def decode(raw: bytes | str) -> Event:
    data = json.loads(raw)
    cls = EVENT_TAGS[data.pop("k")]
    if "legs" in data:
        data["legs"] = tuple(data["legs"])
    return cls(**data)


# One round trip per webhook: append the event (and, for a new call, its rotation number),
# release operators whose leg has ended, and read back the log and who is busy now. ARGV[4]:
# '1' a call's start takes the next rotation number; 'peek' a simulated start is given the
# number the next real call would take, and the counter does not move; '0' any other event.
_APPEND = """
local log, rotation, busy = KEYS[1], KEYS[2], KEYS[3]
local is_new = ARGV[4] ~= '0' and redis.call('EXISTS', log) == 0
redis.call('RPUSH', log, ARGV[1])
if is_new then
  local number
  if ARGV[4] == '1' then
    number = redis.call('INCR', rotation)
  else
    number = (tonumber(redis.call('GET', rotation)) or 0) + 1
  end
  redis.call('RPUSH', log, '{"k":"rot","number":' .. number .. '}')
end
for i = 5, #ARGV do redis.call('ZREM', busy, ARGV[i]) end
redis.call('ZREMRANGEBYSCORE', busy, '-inf', ARGV[3])
redis.call('EXPIRE', log, ARGV[2])
return {redis.call('LRANGE', log, 0, -1), redis.call('ZRANGE', busy, 0, -1)}
"""
BUSY_SECONDS = 4 * 3600  # an operator's busy mark outlives any call; released when it ends


class CallLog:
    """Calls' event logs, the rotation counter and the busy set (names in `ivr.calls.keys`)."""

    def __init__(self, client: redis.Redis, ttl_seconds: int, keys: Keys,
                 clock: Callable[[], float] = time.time) -> None:
        self.client = client
        self.ttl = ttl_seconds
        self.keys = keys
        self.clock = clock
        self._append = client.register_script(_APPEND)

    def log_key(self, key: str) -> str:
        return self.keys.call(key)

    def append(self, key: str, event: Event, release: tuple[str, ...] = ()
               ) -> tuple[list[Event], frozenset[str]]:
        """Append an event; return the whole log and the operators busy now, atomically.

        A call's start takes the next rotation number; a simulated one only looks at it."""
        turn = ("peek" if event.simulated else "1") if isinstance(event, Start) else "0"
        raw, busy = self._append(
            keys=[self.log_key(key), self.keys.rotation, self.keys.busy],
            args=[encode(event), self.ttl, self.clock(), turn, *release],
        )
        return [decode(item) for item in raw], frozenset(b.decode() for b in busy)

    def read(self, key: str) -> list[Event]:
        return [decode(item) for item in self.client.lrange(self.log_key(key), 0, -1)]

    def accept(self, key: str, event: Accepted, operator: str | None) -> None:
        """Record an operator's accept and mark them busy until their leg ends (no mark for
        `operator` None: a fixed line, or a simulated call)."""
        pipe = self.client.pipeline(transaction=True)
        pipe.rpush(self.log_key(key), encode(event))
        pipe.expire(self.log_key(key), self.ttl)
        if operator:
            pipe.zadd(self.keys.busy, {operator: self.clock() + BUSY_SECONDS})
        pipe.execute()
