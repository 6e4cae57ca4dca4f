"""What every console view shares (`Console`, built once by the factory), and the database
failures the pages turn into a sentence instead of an error."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import redis
import sqlalchemy as sa
from flask import current_app

from ivr.calls.keys import Keys
from ivr.console.accounts import Accounts
from ivr.console.throttle import Throttle
from ivr.library.files import MemorySource
from ivr.library.pipeline import Options, build
from ivr.library.snapshot import Snapshot
from ivr.library.store import SnapshotStore, StoreError
from ivr.records.store import RecordStore
from ivr.settings import Settings
from ivr.source import LoadError

EXTENSION = "ivr.console"
# The database failures that mean "out of reach" (down, restarting, locked), said as such.
UNREACHABLE = (sa.exc.OperationalError, sa.exc.InterfaceError, sa.exc.TimeoutError)


class Unavailable(Exception):
    """Something the page needs cannot be reached: `what` is `database` or `redis`."""

    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.what = what


@dataclass(frozen=True)
class InForce:
    """The published version in force, as the routers serve it: its files (what a roster edit
    starts from) and its snapshot (the roster, regions and flows the pages show)."""

    version: str
    files: dict[str, bytes]
    snapshot: Snapshot


@dataclass
class Console:
    settings: Settings
    store: RecordStore
    accounts: Accounts
    throttle: Throttle
    redis: redis.Redis
    keys: Keys
    snapshots: SnapshotStore
    clock: Callable[[], float] = time.time  # seconds since the epoch; tests move it
    _schema: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _in_force: InForce | None = None

    def in_force(self) -> InForce | None:
        """The version in force now (None: nothing is published yet), checked by the same
        pipeline as everywhere; loaded once per version and kept until the next one."""
        try:
            version = self.snapshots.current()
            if version is None:
                return None
            kept = self._in_force
            if kept is not None and kept.version == version:
                return kept
            files = self.snapshots.files(version)
        except redis.RedisError as exc:
            raise Unavailable("redis") from exc
        except StoreError:
            return None
        try:
            snapshot = build(MemorySource(files), Options.of(self.settings))
        except LoadError:
            return None  # fails today's checks: the pages say nothing is in force they can read
        found = InForce(version, dict(files), snapshot)
        self._in_force = found
        return found

    def ensure_schema(self) -> None:
        """Create or migrate the tables once per process, at the first request that needs
        them (a database that was down at start is taken up when it comes back)."""
        if self._schema:
            return
        with self._lock:
            if not self._schema:
                try:
                    self.store.upgrade()
                except UNREACHABLE as exc:
                    raise Unavailable("database") from exc
                self._schema = True


def console() -> Console:
    found: Console = current_app.extensions[EXTENSION]
    return found
