"""A local spool for call records that could not be queued because Redis was unreachable.

The web process appends one JSON line per call to `records.jsonl` in the spool folder (an
O_APPEND write of one line, flushed to disk, so concurrent web workers do not interleave).
Replaying renames the file first, so new lines go to a fresh file while the old one is worked
through, and deletes it only when every line was handled: a failed replay loses nothing and a
repeated one stores nothing twice (records are idempotent).

A writer holds a shared lock on the file while it appends, and appends only if the file it
holds is still `records.jsonl`; a replayer takes the exclusive lock on the file it renamed
before reading it. So a line written by a web process that opened the file just before it was
renamed is either in what the replayer reads, or goes to the fresh file: never lost.

A line that cannot be read (torn by a crash, or damaged) or an entry its handler finds
malformed (`BadEntry`) is set aside in `quarantine.jsonl`, and the replay goes on: one bad line
never holds back the records after it. Any other failure (Redis away again) leaves that entry
and the ones after it for the next replay.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

try:
    import fcntl
except ImportError:  # Windows: no web process runs there, but the `ivr` command does
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger("ivr.spool")
SPOOL_FILE = "records.jsonl"
QUARANTINE_FILE = "quarantine.jsonl"


class BadEntry(ValueError):
    """An entry that can never be handled: it is set aside, not retried."""


class Spool:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def add(self, entry: dict[str, Any]) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        line = (json.dumps(entry, separators=(",", ":")) + "\n").encode()
        path = self.folder / SPOOL_FILE
        while True:
            descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                _lock(descriptor, shared=True)
                try:
                    current = os.stat(path).st_ino == os.fstat(descriptor).st_ino
                except FileNotFoundError:
                    current = False
                if current:  # not renamed by a replayer meanwhile: append here
                    os.write(descriptor, line)
                    os.fsync(descriptor)
                    return
            finally:
                os.close(descriptor)  # (closing releases the lock)

    def pending(self) -> int:
        return sum(len(p.read_bytes().splitlines()) for p in self._files())

    def _files(self) -> list[Path]:
        if not self.folder.is_dir():
            return []
        return sorted(self.folder.glob("records*.jsonl*"))

    def replay(self, handle: Callable[[dict[str, Any]], None]) -> int:
        """Hand every spooled entry to `handle`; return how many were handled.

        An entry whose handling raises stays in the spool, with every entry after it.
        """
        current = self.folder / SPOOL_FILE
        if current.exists():
            current.rename(self.folder / f"records.{os.getpid()}.{current.stat().st_mtime_ns}"
                           ".jsonl.replaying")
        handled = 0
        for path in self._files():
            if path.name == SPOOL_FILE:
                continue
            try:
                descriptor = os.open(path, os.O_RDONLY)
            except FileNotFoundError:  # another replayer finished it
                continue
            try:
                _lock(descriptor, shared=False)  # writers that opened it before the rename
                if os.fstat(descriptor).st_nlink == 0:
                    continue
                handled += self._replay_file(path, handle)
            finally:
                os.close(descriptor)
        return handled

    def _replay_file(self, path: Path, handle: Callable[[dict[str, Any]], None]) -> int:
        lines = [line for line in path.read_bytes().splitlines() if line.strip()]
        handled = 0
        for index, line in enumerate(lines):
            try:
                entry = json.loads(line.decode("utf-8"))
                if not isinstance(entry, dict):
                    raise BadEntry("not an entry")
                handle(entry)
            except (UnicodeDecodeError, json.JSONDecodeError, BadEntry):
                self._quarantine(line)
                continue
            except Exception:
                path.write_bytes(b"".join(rest + b"\n" for rest in lines[index:]))
                raise
            handled += 1
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        return handled

    def _quarantine(self, line: bytes) -> None:
        with (self.folder / QUARANTINE_FILE).open("ab") as out:
            out.write(line.rstrip(b"\n") + b"\n")
        log.error("an unreadable entry of the spool was set aside in %s",
                  self.folder / QUARANTINE_FILE)

    def quarantined(self) -> int:
        path = self.folder / QUARANTINE_FILE
        return len(path.read_bytes().splitlines()) if path.exists() else 0


def _lock(descriptor: int, shared: bool) -> None:
    if fcntl is not None:
        fcntl.flock(descriptor, fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
