"""Connecting to Redis from REDIS_URL, including through Redis Sentinel.

`redis://`, `rediss://` and `unix://` URLs are passed to redis-py as they are. A Sentinel URL
names the sentinels and the monitored master, and every connection goes to whichever server
the sentinels say is the master now, so a failover needs no restart:

    redis+sentinel://[:password@]host1:26379,host2:26379,host3:26379/mymaster[/db]

(RQ supports Sentinel; it does not support Redis Cluster.)
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote, urlsplit

import redis
from redis.sentinel import Sentinel

SENTINEL = "redis+sentinel://"


class RedisUrlError(ValueError):
    """REDIS_URL cannot name a Redis: the message says what a right one looks like."""


def connect(url: str, timeout: float | None = None) -> redis.Redis:
    options: dict[str, Any] = {}
    if timeout is not None:
        options = {"socket_timeout": timeout, "socket_connect_timeout": timeout}
    if not url.startswith(SENTINEL):
        try:
            return redis.Redis.from_url(url, **options)
        except ValueError as exc:
            raise RedisUrlError(f"REDIS_URL is not a Redis URL ({exc}): use redis://host:6379/0, "
                                "rediss://…, unix:///path/redis.sock or "
                                "redis+sentinel://host:26379/mymaster") from exc
    parts = urlsplit(url)
    hosts = parts.netloc.rsplit("@", 1)[-1]
    password = unquote(parts.password) if parts.password else None
    sentinels = []
    for host in hosts.split(","):
        name, _, port = host.rpartition(":")
        sentinels.append((name or host, int(port) if port.isdigit() else 26379))
    path = [p for p in parts.path.split("/") if p]
    if not path:
        raise RedisUrlError("a Sentinel REDIS_URL names the master: "
                            "redis+sentinel://host:26379/mymaster")
    if len(path) > 1 and not path[1].isdigit():
        raise RedisUrlError("a Sentinel REDIS_URL ends with the master's name and, optionally, a "
                            "database number: redis+sentinel://host:26379/mymaster/0")
    service, db = path[0], int(path[1]) if len(path) > 1 else 0
    sentinel = Sentinel(sentinels, sentinel_kwargs=options, **options)  # type: ignore[no-untyped-call, unused-ignore]
    client: redis.Redis = sentinel.master_for(  # type: ignore[no-untyped-call, unused-ignore]
        service, db=db, password=password, **options)
    return client


def persistence_problem(client: redis.Redis) -> str | None:
    """A sentence when Redis keeps nothing on disk (queued records, the waiting line and the
    published versions would be lost with a restart); None when it does, or cannot say."""
    try:
        config: dict[str, str] = client.config_get("appendonly")  # type: ignore[assignment]
        config.update(client.config_get("save"))  # type: ignore[arg-type]
    except (redis.RedisError, ValueError):
        return None  # a managed Redis may not allow CONFIG: nothing to tell
    if str(config.get("appendonly", "")).lower() == "yes" or str(config.get("save", "")).strip():
        return None
    return ("Redis keeps nothing on disk (appendonly no, no save points): a restart of Redis "
            "would lose queued records, waiting callers' places and the published versions. "
            "Turn on AOF (appendonly yes) for production.")
