"""Call state in Redis: an append-only event log per call, one round trip per webhook.

The key is a keyed HMAC of the CallSid (`ivr.calls.pseudonyms`), so Redis never holds Twilio's
identifier, and the log holds only what the engine needs: the number dialled (the hotline's),
the region, the caller's rotating pseudonym, menu keys and dial outcomes. Never the caller's
number. Each log expires a few hours after its last event.

Besides the log, each webhook keeps (in the same round trip):
- the deliveries already applied, by Twilio's idempotency token or else a fingerprint of the
  request, so a webhook delivered twice is answered as before and applied once;
- the call's place in `active` (by its last activity), from which calls whose final status
  never comes are swept into a record (`ivr.records.sweep`);
- who is busy: an operator is reserved while their phone rings for a call, and busy while on
  it; `holds` says which call holds each, so only that call's leg ending frees them, and every
  mark lapses by itself if that end never comes.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import redis

from ivr.calls.keys import Keys
from ivr.engine.checkpoint import Checkpoint
from ivr.engine.model import (
    Accepted,
    DialResult,
    Digits,
    Ended,
    Event,
    Fault,
    Rotation,
    Routed,
    SafeDial,
    Start,
    Tick,
)
from ivr.fastjson import dumps, loads

EVENT_TAGS: dict[str, type[Event]] = {"start": Start, "rot": Rotation, "digits": Digits,
                                      "dial": DialResult, "acc": Accepted, "end": Ended,
                                      "fault": Fault, "safe": SafeDial, "routed": Routed,
                                      "tick": Tick}
TAG_OF = {cls: tag for tag, cls in EVENT_TAGS.items()}
BUSY_SECONDS = 4 * 3600  # an operator on a call: Twilio ends any call after four hours
RING_MARGIN_SECONDS = 30  # a ringing phone's reservation outlives its ring by this much


def encode(event: Event) -> str:
    # vars(), not dataclasses.asdict: events are flat, and asdict's deep copy is slow
    return dumps({"k": TAG_OF[type(event)], **vars(event)})


def decode(raw: bytes | str) -> Event:
    """The event an entry of a log holds. Events never change, and each webhook reads its call's
    log again, so each process keeps the entries it has decoded lately."""
    found = _DECODED.get(raw)
    if found is None:
        found = _decode(raw)
        if len(_DECODED) >= DECODED_KEPT:
            _DECODED.clear()
        _DECODED[raw] = found
    return found


def _decode(raw: bytes | str) -> Event:
    data = loads(raw)
    cls = EVENT_TAGS[data.pop("k")]
    if "legs" in data:
        data["legs"] = tuple(data["legs"])
    if "choices" in data:
        data["choices"] = tuple(tuple(choice) for choice in data["choices"])
    return cls(**data)


DECODED_KEPT = 4096  # entries: the logs of a few hundred calls in progress
_DECODED: dict[bytes | str, Event] = {}


# KEYS: log, rotation, busy, seen, active, holds, legs, line, line info, line seen, away,
# checkpoint.
# ARGV: event, ttl, now, turn, delivery (or ''), kind ('end', 'dial' or ''), call key, then the
# operators whose legs the event ends.
# turn: '1' a call's start takes the next rotation number; 'peek' a simulated start is given
# the number the next real call would take, and the counter does not move; '0' other events.
_APPEND = """
local ENDED = '#ended'
local log, rotation, busy, seen, active, holds, legs =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7]
local ttl, now, call = ARGV[2], ARGV[3], ARGV[7]
local repeated = 0
if ARGV[5] ~= '' then
  if redis.call('HSETNX', seen, ARGV[5], now) == 0 then repeated = 1 end
  redis.call('EXPIRE', seen, ttl)
end
if repeated == 0 then
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
  for i = 8, #ARGV do
    if redis.call('HGET', holds, ARGV[i]) == call then
      redis.call('ZREM', busy, ARGV[i])
      redis.call('HDEL', holds, ARGV[i])
    end
  end
  if ARGV[6] == 'dial' then redis.call('DEL', legs) end  -- no phone rings for it any more
  if ARGV[6] == 'end' then
    redis.call('ZREM', active, call)
    redis.call('ZREM', KEYS[8], call)  -- a caller who hangs up leaves the waiting line
    redis.call('HDEL', KEYS[9], call)
    redis.call('ZREM', KEYS[10], call)
    redis.call('HSET', seen, ENDED, now)
    redis.call('EXPIRE', seen, ttl)
  elseif redis.call('HEXISTS', seen, ENDED) == 0 then
    redis.call('ZADD', active, now, call)
  end
end
redis.call('ZREMRANGEBYSCORE', busy, '-inf', now)
redis.call('EXPIRE', log, ttl)
local from, checkpoint = 0, ''
if ARGV[6] ~= 'end' then  -- the end needs the whole log, for the call's record
  checkpoint = redis.call('GET', KEYS[12]) or ''
  if checkpoint ~= '' then
    from = tonumber(string.match(checkpoint, '^%d+'))
    redis.call('EXPIRE', KEYS[12], ttl)
  end
end
return {redis.call('LRANGE', log, from, -1), redis.call('ZRANGE', busy, 0, -1), repeated,
        redis.call('HKEYS', legs), redis.call('ZRANGEBYSCORE', KEYS[11], '(' .. now, '+inf'),
        checkpoint}
"""

# KEYS: log, busy, legs, away, checkpoint. ARGV: now. A call's log after its checkpoint, who is
# busy and away now, and its legs, changing nothing.
_PEEK = """
local checkpoint, from = redis.call('GET', KEYS[5]) or '', 0
if checkpoint ~= '' then from = tonumber(string.match(checkpoint, '^%d+')) end
return {redis.call('LRANGE', KEYS[1], from, -1),
        redis.call('ZRANGEBYSCORE', KEYS[2], '(' .. ARGV[1], '+inf'),
        redis.call('HKEYS', KEYS[3]),
        redis.call('ZRANGEBYSCORE', KEYS[4], '(' .. ARGV[1], '+inf'), checkpoint}
"""

# KEYS: busy, holds, legs, the whisper token's key, log.
# ARGV: now, until, ttl, call key, reserve ('1'/'0'), the Routed event, then (operator, leg)
# pairs. What the routes decided for a call, with the operators' legs about to ring: note them
# as ringing (only a ringing leg can accept), map the whisper URL's token to the call, reserve
# every operator or none of them, and append the decision to the call's log. Returns the
# operators another call holds (ringing or talking); then nothing is written, and the caller
# should choose other phones.
_ROUTED = """
local busy, holds, legs, token, log = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local now, call, reserve = tonumber(ARGV[1]), ARGV[4], ARGV[5] == '1'
local taken = {}
if reserve then
  for i = 7, #ARGV, 2 do
    local until_ = tonumber(redis.call('ZSCORE', busy, ARGV[i]) or '0')
    if until_ > now and redis.call('HGET', holds, ARGV[i]) ~= call then
      table.insert(taken, ARGV[i])
    end
  end
  if #taken > 0 then return taken end
end
for i = 7, #ARGV, 2 do
  if reserve then
    redis.call('ZADD', busy, ARGV[2], ARGV[i])
    redis.call('HSET', holds, ARGV[i], call)
  end
  if redis.call('HGET', legs, ARGV[i + 1]) ~= 'accepted' then
    redis.call('HSET', legs, ARGV[i + 1], 'ringing')
  end
end
if #ARGV >= 7 then
  redis.call('EXPIRE', legs, ARGV[3])
  redis.call('SET', token, call, 'EX', ARGV[3])
end
redis.call('RPUSH', log, ARGV[6])
redis.call('EXPIRE', log, ARGV[3])
return taken
"""

# KEYS: log, legs, busy, holds. ARGV: event, leg, operator (or ''), until, ttl, call key.
# An operator's "1" counts only while their leg rings for this call: then the call is theirs
# and they are busy until their leg ends. A repeated "1" changes nothing; a late one is refused.
_ACCEPT = """
local log, legs, busy, holds = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local state = redis.call('HGET', legs, ARGV[2])
if state == 'accepted' then return 'again' end
if state ~= 'ringing' then return 'late' end
redis.call('HSET', legs, ARGV[2], 'accepted')
redis.call('RPUSH', log, ARGV[1])
redis.call('EXPIRE', log, ARGV[5])
if ARGV[3] ~= '' then
  redis.call('ZADD', busy, ARGV[4], ARGV[3])
  redis.call('HSET', holds, ARGV[3], ARGV[6])
end
return 'accepted'
"""

# KEYS: log, seen, active. ARGV: event (or '' to close the call), ttl, now, call key.
_NOTE = """
local log, seen, active = KEYS[1], KEYS[2], KEYS[3]
if ARGV[1] == '' then
  redis.call('ZREM', active, ARGV[4])
  redis.call('HSET', seen, '#ended', ARGV[3])
  redis.call('EXPIRE', seen, ARGV[2])
  return 0
end
redis.call('RPUSH', log, ARGV[1])
redis.call('EXPIRE', log, ARGV[2])
if redis.call('HEXISTS', seen, '#ended') == 0 then redis.call('ZADD', active, ARGV[3], ARGV[4]) end
return 1
"""


@dataclass(frozen=True)
class Appended:
    events: list[Event]  # the whole log, or its entries after `since` when there is one
    busy: frozenset[str]  # operators reserved or on a call now
    repeated: bool  # the same delivery came before: nothing was applied this time
    own_legs: frozenset[str]  # this call's legs still ringing or accepted
    away: frozenset[str] = frozenset()  # consultants marked away now
    since: Checkpoint | None = None  # the call's latest checkpoint (`ivr.engine.checkpoint`)

    @property
    def length(self) -> int:
        """Entries in the call's whole log."""
        return (self.since.covered if self.since else 0) + len(self.events)


def _appended(raw: list[bytes], busy: list[bytes], repeated: int, legs: list[bytes],
              away: list[bytes], checkpoint: bytes) -> Appended:
    return Appended([decode(item) for item in raw], frozenset(b.decode() for b in busy),
                    bool(repeated), frozenset(leg.decode() for leg in legs),
                    frozenset(a.decode() for a in away),
                    Checkpoint.decode(checkpoint) if checkpoint else None)


class CallLog:
    """Calls' event logs and the shared marks around them (names in `ivr.calls.keys`)."""

    def __init__(self, client: redis.Redis, ttl_seconds: int, keys: Keys,
                 clock: Callable[[], float] = time.time) -> None:
        self.client = client
        self.ttl = ttl_seconds
        self.keys = keys
        self.clock = clock
        self._append = client.register_script(_APPEND)
        self._routed = client.register_script(_ROUTED)
        self._accept = client.register_script(_ACCEPT)
        self._note = client.register_script(_NOTE)
        self._peek = client.register_script(_PEEK)

    def log_key(self, key: str) -> str:
        return self.keys.call(key)

    def append(self, key: str, event: Event, release: Sequence[str] = (),
               delivery: str = "") -> Appended:
        """Append an event unless `delivery` (an idempotency token or a fingerprint of the
        request) was applied before; free the operators whose legs ended; return the log (after
        the call's checkpoint, or whole for its end) and who is busy now, atomically. A call's
        start takes the next rotation number; a simulated one only looks at it."""
        turn = ("peek" if event.simulated else "1") if isinstance(event, Start) else "0"
        kind = "end" if isinstance(event, Ended) else "dial" if isinstance(event, DialResult) else ""
        return _appended(*self._append(
            keys=[self.log_key(key), self.keys.rotation, self.keys.busy, self.keys.seen(key),
                  self.keys.active, self.keys.holds, self.keys.legs(key), self.keys.line,
                  self.keys.line_info, self.keys.line_seen, self.keys.away,
                  self.keys.checkpoint(key)],
            args=[encode(event), self.ttl, self.clock(), turn, delivery, kind, key, *release],
        ))

    def note(self, key: str, event: Event) -> None:
        """Add a mark to a call's log (a fault, a line of the safe path) outside the flow. A
        call that has not ended is kept among the active ones, so the sweep records it even
        when its start never reached Redis and its final status never comes."""
        self._note(keys=[self.log_key(key), self.keys.seen(key), self.keys.active],
                   args=[encode(event), self.ttl, self.clock(), key])

    def close(self, key: str) -> None:
        """The call's end was settled elsewhere (from the spool): nothing left to sweep."""
        self._note(keys=[self.log_key(key), self.keys.seen(key), self.keys.active],
                   args=["", self.ttl, self.clock(), key])

    def peek(self, key: str) -> Appended:
        """The log after the call's checkpoint and who is busy now, changing nothing (a poll
        of the waiting line, an operator's whisper)."""
        raw, busy, legs, away, checkpoint = self._peek(
            keys=[self.log_key(key), self.keys.busy, self.keys.legs(key), self.keys.away,
                  self.keys.checkpoint(key)], args=[self.clock()])
        return _appended(raw, busy, 0, legs, away, checkpoint)

    def read(self, key: str) -> list[Event]:
        """The whole log (a call's record, the sweep)."""
        return [decode(item) for item in self.client.lrange(self.log_key(key), 0, -1)]

    def keep(self, key: str, checkpoint: Checkpoint) -> None:
        """Store the call's latest checkpoint; it lasts as long as the call's log."""
        self.client.set(self.keys.checkpoint(key), checkpoint.encode(), ex=self.ttl)

    def routed(self, key: str, decision: Routed, legs: Sequence[tuple[str, str]],
               ring_seconds: int, token: str, reserve: bool = True) -> set[str]:
        """What the routes decided for this call, and the operators' legs ((operator, leg id)
        pairs) about to ring, whose whisper URLs carry `token`: reserve the operators while
        their phones ring (unless `reserve` is off: a simulation), and log the decision.
        Returns the operators another call holds; then nothing is written, and the caller
        should choose other phones."""
        now = self.clock()
        args: list[str | float] = [now, now + ring_seconds + RING_MARGIN_SECONDS, self.ttl, key,
                                   "1" if reserve else "0", encode(decision)]
        for operator, leg in legs:
            args += [operator, leg]
        taken = self._routed(keys=[self.keys.busy, self.keys.holds, self.keys.legs(key),
                                   self.keys.leg_token(token), self.log_key(key)], args=args)
        return {t.decode() for t in taken}

    def call_of(self, token: str) -> str | None:
        """The call a whisper URL's token stands for, while that call lasts."""
        found = self.client.get(self.keys.leg_token(token))
        return found.decode() if isinstance(found, bytes) else found

    def accept(self, key: str, event: Accepted, operator: str | None) -> str:
        """Record an operator's "1" if their leg still rings for this call: `accepted`, `again`
        (a repeated "1") or `late` (the leg had ended, or never rang). `operator` None (a fixed
        line, a simulation) marks nobody busy."""
        result = self._accept(
            keys=[self.log_key(key), self.keys.legs(key), self.keys.busy, self.keys.holds],
            args=[encode(event), event.leg, operator or "", self.clock() + BUSY_SECONDS,
                  self.ttl, key])
        return result.decode() if isinstance(result, bytes) else str(result)
