"""The line at this moment, as a supervisor's board shows it: counts and consultants' states.

Read from the marks the webhooks keep anyway (`active`, `busy`, `holds`, each call's `legs`,
the waiting line, the away marks), in two round trips, never from the calls' logs: the board
needs how many callers are where and which consultant is ringing or talking, and nothing that
could tell one caller from another. A call is *connected* when a consultant accepted it,
*waiting* when it is in the line, and otherwise *in the menus* (which includes calls being put
through to a crisis centre's or the national line, which the marks do not tell apart).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import redis

from ivr.calls.keys import Keys
from ivr.calls.line import Line
from ivr.calls.presence import Presence

RINGING, TALKING = "ringing", "talking"


@dataclass(frozen=True)
class Board:
    at: float
    in_menus: int
    waiting: int
    longest_wait_seconds: float  # of the caller at the head of the line (0: nobody waits)
    connected: int
    consultants: dict[str, str]  # consultant id: `ringing` or `talking`
    away: dict[str, float]  # consultant id: when they are back


def read_board(client: redis.Redis, keys: Keys,
               clock: Callable[[], float] = time.time) -> Board:
    now = clock()
    pipe = client.pipeline(transaction=False)
    pipe.zcard(keys.active)
    pipe.zrangebyscore(keys.busy, f"({now}", "+inf")
    pipe.hgetall(keys.holds)
    active, busy, holds = pipe.execute()
    held: dict[str, str] = {op.decode(): call.decode() for op, call in holds.items()
                            if op in set(busy)}
    calls = sorted(set(held.values()))
    pipe = client.pipeline(transaction=False)
    for call in calls:
        pipe.hgetall(keys.legs(call))
    accepted: set[str] = set()
    for call, legs in zip(calls, pipe.execute(), strict=True):
        if any(state == b"accepted" for state in legs.values()):
            accepted.add(call)
    consultants = {op: TALKING if call in accepted else RINGING for op, call in held.items()}
    line = Line(client, keys, clock).read()
    waiting = len(line.members)
    longest = max((max(0.0, line.at - m.joined) for m in line.members), default=0.0)
    connected = len(accepted)
    return Board(now, max(0, int(active) - waiting - connected), waiting, longest, connected,
                 dict(sorted(consultants.items())), Presence(client, keys, clock).marks())
