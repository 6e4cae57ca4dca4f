"""Failed logins, counted in the Redis every console host shares, pause guessing.

Five failures for one name within 15 minutes pause logins for that name for 15 minutes from the
fifth; thirty from one client address do the same for that address. The name counts whether an
account has it or not, and the page says the same either way, so the pause tells no one which
names exist.

An attempt is counted as a failure before its password is checked and forgiven only when it
succeeds: a burst of guesses sent at once, across threads and hosts, is held to the limit as
well as guesses sent one after another. While Redis cannot be reached logins are refused
(`ThrottleUnavailable`): without the count, guessing would be unlimited.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import cast

import redis

from ivr.calls.keys import Keys

WINDOW = 15 * 60.0  # failures this close together count together
PAUSE = 15 * 60.0  # how long logins stay paused after the limit is reached
NAME_LIMIT = 5
ADDRESS_LIMIT = 30
log = logging.getLogger("ivr.console")


class ThrottleUnavailable(Exception):
    """Redis cannot be reached: failed logins cannot be counted, so none is allowed."""


@dataclass(frozen=True)
class Attempt:
    """One login attempt, already counted as a failure unless `paused_for` refused it."""

    keys: tuple[str, ...]  # the name's count, then the address's
    token: str
    at: float
    paused_for: float  # seconds until logins may be tried again; 0 when this one may go on


def paused_until(times: Sequence[float], limit: int) -> float:
    """When the pause that these failure times (sorted) caused ends; 0 for no pause."""
    until = 0.0
    for last in range(limit - 1, len(times)):
        if times[last] - times[last - limit + 1] <= WINDOW:
            until = max(until, times[last] + PAUSE)
    return until


def name_digest(name: str) -> str:
    """A name as the count's key holds it (a password typed in the name field stays out of
    Redis)."""
    return hashlib.sha256(name.strip().lower().encode()).hexdigest()[:32]


class Throttle:
    def __init__(self, client: redis.Redis, keys: Keys,
                 clock: Callable[[], float] = time.time) -> None:
        self.client = client
        self.keys = keys
        self.clock = clock

    def begin(self, name: str, address: str) -> Attempt:
        """Count an attempt for `name` from `address`, unless logins are paused for either."""
        now = self.clock()
        token = f"{now:.6f}:{secrets.token_hex(6)}"
        limits = ((self.keys.console_failures(name_digest(name)), NAME_LIMIT),
                  (self.keys.console_failures_from(address or "unknown"), ADDRESS_LIMIT))
        horizon = now - WINDOW - PAUSE
        try:
            with self.client.pipeline(transaction=True) as pipe:
                for key, _limit in limits:
                    pipe.zremrangebyscore(key, "-inf", horizon)
                    pipe.zrangebyscore(key, horizon, "+inf", withscores=True)
                    pipe.zadd(key, {token: now})
                    pipe.expire(key, int(WINDOW + PAUSE) + 60)
                replies = pipe.execute()
        except redis.RedisError as exc:
            raise ThrottleUnavailable(type(exc).__name__) from exc
        until = 0.0
        for index, (_key, limit) in enumerate(limits):
            earlier = sorted(float(score) for _member, score in replies[index * 4 + 1])
            until = max(until, paused_until(earlier, limit))
        attempt = Attempt(tuple(key for key, _limit in limits), token, now,
                          max(0.0, until - now))
        if attempt.paused_for:
            self.forgive(attempt)  # a refused attempt is no failure
        return attempt

    def succeeded(self, attempt: Attempt) -> None:
        """The password was right: the name's failures are forgotten, and this attempt is no
        failure from its address."""
        self._uncount(attempt, clear_name=True)

    def failed(self, attempt: Attempt) -> None:
        """The attempt stays counted; the log says so when it starts a pause (without the
        name, which may be a mistyped password)."""
        try:
            for key, limit, what in ((attempt.keys[0], NAME_LIMIT, "for one name"),
                                     (attempt.keys[1], ADDRESS_LIMIT, "from one address")):
                found = cast("list[tuple[bytes, float]]",
                             self.client.zrange(key, 0, -1, withscores=True))
                times = sorted(float(score) for _member, score in found)
                if abs(paused_until(times, limit) - (attempt.at + PAUSE)) < 1e-3:
                    log.warning("logins %s are paused for %d minutes after %d failures", what,
                                PAUSE // 60, limit)
        except redis.RedisError:
            pass  # the failure is counted already, or Redis is away: nothing more to do

    def forgive(self, attempt: Attempt) -> None:
        """The attempt was no failure (refused while paused, or the database was away)."""
        self._uncount(attempt, clear_name=False)

    def _uncount(self, attempt: Attempt, clear_name: bool) -> None:
        try:
            with self.client.pipeline(transaction=True) as pipe:
                if clear_name:
                    pipe.delete(attempt.keys[0])
                for key in attempt.keys:
                    pipe.zrem(key, attempt.token)
                pipe.execute()
        except redis.RedisError:
            log.warning("a login attempt stays counted as a failure: Redis could not be reached")
