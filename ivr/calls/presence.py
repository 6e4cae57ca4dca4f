"""Consultants who marked themselves away: off duty now, until a time, whatever the roster says.

The roster is published through the checks and changes by the version; a consultant who must
step away for an hour cannot wait for a supervisor's publication, and must not be rung
meanwhile. So the mark lives beside the busy marks, in one sorted set (`Keys.away`, scored by
when the consultant is back), and every webhook reads it in the round trip it makes anyway:
routing leaves the consultant out of those on duty (`Query.away`) from the next webhook on,
and a waiting line does not wait for them. A mark lapses by itself at its time, so one
forgotten never keeps a consultant off the line for good.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import redis

from ivr.calls.keys import Keys

LONGEST_SECONDS = 24 * 3600  # a longer absence belongs in the roster, where supervisors see it


class Presence:
    def __init__(self, client: redis.Redis, keys: Keys,
                 clock: Callable[[], float] = time.time) -> None:
        self.client = client
        self.keys = keys
        self.clock = clock

    def away(self, operator: str, until: float) -> float:
        """Mark `operator` away until `until` (seconds since the epoch), at most a day from
        now; returns the time the mark lapses."""
        now = self.clock()
        until = min(until, now + LONGEST_SECONDS)
        if until <= now:
            raise ValueError("the time to be back must be later than now")
        pipe = self.client.pipeline(transaction=True)
        pipe.zremrangebyscore(self.keys.away, "-inf", now)
        pipe.zadd(self.keys.away, {operator: until})
        pipe.execute()
        return until

    def back(self, operator: str) -> bool:
        """End `operator`'s mark; False when there was none."""
        return bool(self.client.zrem(self.keys.away, operator))

    def marks(self) -> dict[str, float]:
        """Every consultant away now, and when each is back."""
        now = self.clock()
        found: list[tuple[bytes, float]] = self.client.zrangebyscore(  # type: ignore[assignment]
            self.keys.away, f"({now}", "+inf", withscores=True)
        return {member.decode(): float(score) for member, score in found}
