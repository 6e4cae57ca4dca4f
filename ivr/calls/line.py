"""The waiting line in Redis, shared by every web host, so it is one line and survives any
web process's restart.

- `line`: waiting calls (by key) scored by when they joined: first come, first served;
- `line:info`: what the line needs of each: language, region, rotation, the version and flow
  the call runs on, the consultants not to offer it now, until when an offered phone rings
  for it. Nothing that identifies a caller;
- `line:seen`: when each waiting call last asked (every poll of its hold loop). A call not
  heard of for a minute while no phone rings for it (Twilio dropped it without a status)
  leaves the line by itself, so it never holds up the callers behind it;
- `talk`: a running mean of how long conversations last, to predict a newcomer's wait.

Which consultant goes to whom is decided by `ivr.routing.line.assign`, the same on every host.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import redis

from ivr.calls.keys import Keys
from ivr.engine.turn import LineView
from ivr.fastjson import dumps, loads
from ivr.routing import Routing
from ivr.routing.legs import Query
from ivr.routing.line import Waiter, assign, could_take

STALE_SECONDS = 60.0  # a waiting call asks every few seconds; a minute's silence: it is gone
TALK_WEIGHT = 0.05  # each conversation's share of the running mean
RING_MARGIN_SECONDS = 30  # an offered phone's ring is over by then, whatever Twilio says

# KEYS: talk. ARGV: seconds, weight. The running mean of conversations' lengths.
_TALK = """
local mean = tonumber(redis.call('HGET', KEYS[1], 'mean') or '')
local x, w = tonumber(ARGV[1]), tonumber(ARGV[2])
if mean == nil then mean = x else mean = mean + w * (x - mean) end
redis.call('HSET', KEYS[1], 'mean', mean)
return tostring(mean)
"""


@dataclass(frozen=True)
class Member:
    """A waiting call, as the line keeps it."""

    call: str
    joined: float
    language: str | None = None
    region: str | None = None
    rotation: int = 0
    published: str = ""
    flow: str = ""
    declined: dict[str, float] = field(default_factory=dict)  # consultant: not before
    ringing_until: float = 0.0

    def info(self) -> str:
        return dumps({"lang": self.language, "region": self.region, "rot": self.rotation,
                      "ver": self.published, "flow": self.flow, "declined": self.declined,
                      "ringing": self.ringing_until})

    @classmethod
    def of(cls, call: str, joined: float, raw: bytes | None) -> Member:
        try:
            data = loads(raw or b"{}")
            return cls(call, joined, data.get("lang"), data.get("region"),
                       int(data.get("rot", 0)), str(data.get("ver", "")),
                       str(data.get("flow", "")),
                       {str(k): float(v) for k, v in dict(data.get("declined") or {}).items()},
                       float(data.get("ringing", 0.0)))
        except (ValueError, TypeError, AttributeError):
            return cls(call, joined)  # a damaged entry still keeps its place


@dataclass(frozen=True)
class Snapshot:
    """The line at one moment: who waits, who is busy, how long conversations last."""

    members: tuple[Member, ...]
    busy: frozenset[str]
    talk_seconds: float
    at: float


class Line:
    def __init__(self, client: redis.Redis, keys: Keys,
                 clock: Callable[[], float] = time.time) -> None:
        self.client = client
        self.keys = keys
        self.clock = clock
        self._talk = client.register_script(_TALK)

    def read(self, touch: str | None = None) -> Snapshot:
        """The line now, in one round trip; `touch` notes that this waiting call asked."""
        now = self.clock()
        keys = self.keys
        pipe = self.client.pipeline(transaction=False)
        if touch:
            pipe.zadd(keys.line_seen, {touch: now}, xx=True)
        pipe.zrange(keys.line, 0, -1, withscores=True)
        pipe.hgetall(keys.line_info)
        pipe.zrangebyscore(keys.busy, f"({now}", "+inf")
        pipe.hget(keys.talk, "mean")
        pipe.zrangebyscore(keys.line_seen, "-inf", now - STALE_SECONDS)
        *_, ranked, infos, busy, talk, quiet = pipe.execute()
        members = [Member.of(m.decode(), float(score), infos.get(m)) for m, score in ranked]
        gone = {m.decode() for m in quiet}
        stale = [m for m in members if m.call in gone and m.ringing_until < now]
        if stale:
            self._forget([m.call for m in stale])
        return Snapshot(tuple(m for m in members if m not in stale),
                        frozenset(b.decode() for b in busy), float(talk or 0.0), now)

    def view(self, snapshot: Snapshot, call: str, query: Query, declined: frozenset[str],
             routing: Routing, routing_of: Callable[[Member], Routing | None]) -> LineView:
        """The line as `call` sees it: whose turn it is, the callers ahead of it (all of them
        when it has not joined yet: it would join at the end), and how many consultants on
        duty could take it."""
        me = next((m for m in snapshot.members if m.call == call), None)
        joined = me.joined if me is not None else snapshot.at
        waiters = [Waiter(call, joined, routing, query, declined)]
        for member in snapshot.members:
            if member.call == call:
                continue
            theirs = routing_of(member) or routing
            waiters.append(Waiter(
                member.call, member.joined, theirs,
                replace(query, language=member.language, region=member.region,
                        rotation=member.rotation),
                frozenset(op for op, until in member.declined.items() if until > snapshot.at),
                member.ringing_until > snapshot.at))
        # Every consultant on duty may take any caller (other languages after their own), so
        # it is one line: the caller's place counts everyone ahead of them.
        ahead = sum(1 for m in snapshot.members
                    if m.call != call and (me is None or (m.joined, m.call) < (joined, call)))
        offer = assign(waiters, snapshot.busy).get(call)
        return LineView(offer, ahead, could_take(routing, query), snapshot.talk_seconds)

    def keep(self, member: Member) -> None:
        """The call waits: join at its time, or bring what the line knows of it up to date."""
        pipe = self.client.pipeline(transaction=True)
        pipe.zadd(self.keys.line, {member.call: member.joined}, nx=True)
        pipe.hset(self.keys.line_info, member.call, member.info())
        pipe.zadd(self.keys.line_seen, {member.call: self.clock()})
        pipe.execute()

    def leave(self, call: str) -> None:
        self._forget([call])

    def _forget(self, calls: list[str]) -> None:
        pipe = self.client.pipeline(transaction=True)
        pipe.zrem(self.keys.line, *calls)
        pipe.hdel(self.keys.line_info, *calls)
        pipe.zrem(self.keys.line_seen, *calls)
        pipe.execute()

    def note_talk(self, seconds: float) -> None:
        """A conversation of `seconds`, into the running mean that predicts waits."""
        self._talk(keys=[self.keys.talk], args=[seconds, TALK_WEIGHT])
