"""Counters the whole deployment shares, in Redis: what the metrics report as totals.

A call stored (by outcome), a call the sweep recorded, a refused publication: each is counted
where it happens, in whichever process that is (the worker, `ivr publish`), so the totals are
the same whichever web host's metrics are read, and a call is counted once, as its row is.
"""

from __future__ import annotations

import redis

from ivr.calls.keys import Keys


def count(client: redis.Redis, keys: Keys, name: str, label: str = "") -> None:
    client.hincrby(keys.counter(name), label, 1)


def counts(client: redis.Redis, keys: Keys, name: str) -> dict[str, int]:
    raw: dict[bytes, bytes] = client.hgetall(keys.counter(name))  # type: ignore[assignment]
    return {field.decode(): int(value) for field, value in raw.items()}
