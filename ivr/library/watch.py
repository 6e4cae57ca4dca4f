"""The opt-in watcher: publish the working folders whenever they change (`ivr publish --watch`).

For a supervisor's own machine, or `python3 dev.py run`: edit a file, and within a couple of
seconds it is checked and, if it passes, published through the same `publish` as the command.
A refused edit is reported once, and the version in force stays. Production routers do not
need it: supervisors publish when they mean to.

What it prints is in the supervisor's language (`ivr --lang`, IVR_MESSAGES); the reason it
records in the history ("published by the watcher") is data, like `ivr publish -m`, and stays
in English.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import redis

from ivr.i18n import _
from ivr.library.files import FolderSource
from ivr.library.pipeline import Options
from ivr.library.publish import publish
from ivr.library.store import SnapshotStore, StoreError
from ivr.source import LoadError

CHECK_EVERY_SECONDS = 2.0


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


def watch(store: SnapshotStore, options: Options, flows_dir: Path, audio_dir: Path, by: str,
          say: Callable[[str], None], stop: threading.Event,
          every: float = CHECK_EVERY_SECONDS) -> None:
    """Publish the folders each time they change, until `stop` is set."""
    seen: tuple[tuple[str, int, int], ...] | None = None
    while not stop.is_set():
        now = fingerprint(flows_dir, audio_dir)
        if now != seen:
            seen = now
            try:
                outcome = publish(store, FolderSource(flows_dir, audio_dir), options, by,
                                  "published by the watcher")
            except LoadError as exc:
                say(_("refused: {count} problem(s); version in force unchanged:").format(
                    count=len(exc.problems)) + f"\n{exc}")
            except (redis.RedisError, StoreError) as exc:
                say(_("could not publish ({error}); trying again").format(
                    error=type(exc).__name__))
                seen = None
            else:
                if outcome.publication is not None:
                    say(_("published version {version}: {summary}").format(
                        version=outcome.snapshot.version, summary=outcome.publication.summary))
        stop.wait(every)
