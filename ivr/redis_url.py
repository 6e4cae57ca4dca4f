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


def connect(url: str, timeout: float | None = None) -> redis.Redis:
    options: dict[str, Any] = {}
    if timeout is not None:
        options = {"socket_timeout": timeout, "socket_connect_timeout": timeout}
    if not url.startswith(SENTINEL):
        return redis.Redis.from_url(url, **options)
    parts = urlsplit(url)
    hosts = parts.netloc.rsplit("@", 1)[-1]
    password = unquote(parts.password) if parts.password else None
    sentinels = []
    for host in hosts.split(","):
        name, _, port = host.rpartition(":")
        sentinels.append((name or host, int(port) if port.isdigit() else 26379))
    path = [p for p in parts.path.split("/") if p]
    if not path:
        raise ValueError("a Sentinel REDIS_URL names the master: redis+sentinel://host:26379/mymaster")
    service, db = path[0], int(path[1]) if len(path) > 1 else 0
    sentinel = Sentinel(sentinels, sentinel_kwargs=options, **options)  # type: ignore[no-untyped-call, unused-ignore]
    client: redis.Redis = sentinel.master_for(  # type: ignore[no-untyped-call, unused-ignore]
        service, db=db, password=password, **options)
    return client
