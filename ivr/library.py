"""The flows, prompts, roster and regions in force, reloaded when their files change.

Supervisors edit files on disk; within a couple of seconds new calls use the new version,
without a restart, while calls in progress finish on the version they started with (recent
versions stay in memory, keyed by their content hash). A version that does not load is
refused: the last good one stays in force, and the refusal is logged with every problem
(`ivr check` shows the same problems).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

from ivr.engine import FlowSet
from ivr.yamlsrc import LoadError, Problem

log = logging.getLogger("ivr.library")
CHECK_EVERY_SECONDS = 2.0
KEEP_VERSIONS = 16  # a call lasts minutes; supervisors rarely publish 16 versions in that time


def fingerprint(*folders: Path) -> tuple[tuple[str, int, int], ...]:
    """What changes when a supervisor saves a file: names, sizes and modification times."""
    entries = []
    for folder in folders:
        for path in sorted(folder.rglob("*")):
            try:
                if path.is_file():
                    stat = path.stat()
                    entries.append((str(path), stat.st_size, stat.st_mtime_ns))
            except OSError:  # removed while we looked: the next look sees the folder settled
                continue
    return tuple(entries)


class Library:
    def __init__(self, load: Callable[[], FlowSet], folders: tuple[Path, ...],
                 every: float = CHECK_EVERY_SECONDS) -> None:
        self._load = load
        self._folders = folders
        self._every = every
        self._lock = threading.Lock()
        self._seen = fingerprint(*folders)
        self._flows = load()  # at start-up a failure is fatal: there is no last good version
        self._versions: dict[str, FlowSet] = {self._flows.version: self._flows}
        self._checked = time.monotonic()
        self.loaded_at = time.time()
        self.refused: list[Problem] = []

    def current(self) -> FlowSet:
        if time.monotonic() - self._checked >= self._every:
            self.reload()
        return self._flows

    def version(self, version: str) -> FlowSet:
        """The version a call started on, if this process still has it; else the one in force."""
        return self._versions.get(version) or self.current()

    def reload(self, force: bool = False) -> bool:
        """Load the files again if they changed; True if a new version is now in force."""
        with self._lock:
            self._checked = time.monotonic()
            seen = fingerprint(*self._folders)
            if seen == self._seen and not force:
                return False
            self._seen = seen
            try:
                flows = self._load()
            except LoadError as exc:
                self.refused = exc.problems
                log.error("refused the edited flows; the last good version stays in force:\n%s",
                          "\n".join(str(p) for p in exc.problems))
                return False
            except Exception:  # a half-copied file, a folder being replaced: try again later
                self._seen = ()
                log.exception("could not load the edited flows; the last good version stays")
                return False
            self._flows, self.refused, self.loaded_at = flows, [], time.time()
            self._versions[flows.version] = flows
            while len(self._versions) > KEEP_VERSIONS:
                del self._versions[next(iter(self._versions))]
            log.info("loaded flows version %s", flows.version)
            return True
