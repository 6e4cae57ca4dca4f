"""REDIS_URL may name a Redis Sentinel: the router finds the master through it."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
import redis

from ivr.redis_url import connect
from ivr.settings import Settings
from ivr.sim.embedded_redis import redis_server_binary
from tests.conftest import OPERATOR, Clock, Phone, make_app


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_ping(port: int) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            if redis.Redis(port=port, socket_timeout=0.5).ping():
                return
        except redis.ConnectionError:
            time.sleep(0.05)
    raise AssertionError(f"nothing answered on port {port}")


@pytest.fixture
def sentinel_url(tmp_path: Path) -> Iterator[str]:
    """A real master and a real sentinel watching it, on free loopback ports."""
    master, sentinel = free_port(), free_port()
    config = tmp_path / "sentinel.conf"
    config.write_text(f"port {sentinel}\nbind 127.0.0.1\ndir {tmp_path}\n"
                      f"sentinel monitor ivr 127.0.0.1 {master} 1\n"
                      "sentinel down-after-milliseconds ivr 1000\n")
    processes = [
        subprocess.Popen([redis_server_binary(), "--port", str(master), "--bind", "127.0.0.1",
                          "--save", "", "--appendonly", "no", "--dir", str(tmp_path)],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
        subprocess.Popen([redis_server_binary(), str(config), "--sentinel"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
    ]
    try:
        wait_ping(master)
        wait_ping(sentinel)
        yield f"redis+sentinel://127.0.0.1:{sentinel}/ivr"
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=10)


def test_a_call_goes_through_redis_found_by_its_sentinel(settings: Settings,
                                                         sentinel_url: str) -> None:
    settings = replace(settings, redis_url=sentinel_url)
    phone = Phone(make_app(settings, Clock()), settings)
    call = phone.call(["2", "1"])
    assert call.connected_to == OPERATOR
    client = connect(sentinel_url)
    assert client.keys(settings.redis_prefix + "call:*")
    assert len(phone.store_records()) == 1  # the RQ worker reached the same master


def test_a_sentinel_url_without_a_master_name_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="names the master"):
        connect("redis+sentinel://127.0.0.1:26379")
