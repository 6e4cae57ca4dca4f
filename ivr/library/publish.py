"""Publishing: checking the working folders and putting the result in force on every host.

`publish` runs the check pipeline on the working folders and, only if they pass, stores the
snapshot and puts it in force; a refusal is kept in the store with its problems for `ivr
status`. `rollback` puts an earlier version in force again, after checking it anew. Every web
process learns of the new version in the background (`ivr.library.live`); calls in progress
finish on the version they started with.
"""

from __future__ import annotations

import getpass
import socket
import time
from collections.abc import Mapping
from dataclasses import dataclass

from ivr.library.changes import describe
from ivr.library.files import MemorySource, Source
from ivr.library.pipeline import Options, check, parse_trees, parsed
from ivr.library.schemas import fingerprint
from ivr.library.snapshot import Snapshot, digest
from ivr.library.store import Publication, SnapshotStore, StoreError, in_force_since
from ivr.source import LoadError


@dataclass(frozen=True)
class Outcome:
    snapshot: Snapshot
    publication: Publication | None  # None: that version was already in force


def who() -> str:
    """The person publishing, as `user@host`, for the history."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return f"{user}@{socket.gethostname()}"


def _previous_files(store: SnapshotStore) -> tuple[str | None, dict[str, bytes] | None]:
    previous = store.current()
    if previous is None:
        return None, None
    try:
        return previous, store.files(previous)
    except StoreError:
        return previous, None


def _prune(store: SnapshotStore, keep_seconds: float) -> None:
    store.prune(also_keep=frozenset(in_force_since(store.history(), time.time() - keep_seconds)))


def note_checked(store: SnapshotStore, files: Mapping[str, bytes]) -> None:
    """Note that the schemas found nothing wrong in these files (a version that passed), so a
    router loading them need not run the schemas again under the same schemas."""
    store.note_schema_passed(fingerprint(), [digest(data) for name, data in files.items()
                                             if name.endswith(".yaml")])


def publish(store: SnapshotStore, source: Source, options: Options, by: str, message: str = "",
            keep_seconds: float = 6 * 3600, expected: str | None = None) -> Outcome:
    """Check `source` and put it in force; LoadError (kept in the store) when it does not pass.

    `expected` is the version `source` was made from, when it was (a change made in the console
    to the version then in force); StoreError when another version is in force by now. Without
    it, the version in force when the checks began is expected."""
    verdict = check(source, options)
    if verdict.snapshot is None:
        store.refuse(by, list(verdict.problems))
        raise LoadError(list(verdict.problems))
    snapshot = verdict.snapshot
    previous, old = _previous_files(store)
    summary = describe(old, snapshot.files, parsed)
    publication = store.publish(snapshot.files, by, message, summary,
                                expected=previous if expected is None else expected,
                                trees=parse_trees(snapshot.files))
    note_checked(store, snapshot.files)
    if publication is not None:
        _prune(store, keep_seconds)
    return Outcome(snapshot, publication)


def rollback(store: SnapshotStore, version: str, options: Options, by: str, message: str = "",
             keep_seconds: float = 6 * 3600) -> Outcome:
    """Put an earlier version in force again. StoreError when its files are no longer kept;
    LoadError when today's checks refuse it."""
    files = store.files(version)
    snapshot = check(MemorySource(files), options)
    if snapshot.snapshot is None:
        raise LoadError(list(snapshot.problems))
    previous, old = _previous_files(store)
    summary = describe(old, files, parsed)
    publication = store.publish(files, by, message or f"rollback to {version}", summary,
                                kind="rollback", expected=previous)
    if publication is not None:
        _prune(store, keep_seconds)
    return Outcome(snapshot.snapshot, publication)
