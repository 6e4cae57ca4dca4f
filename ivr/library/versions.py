"""Published versions for processes that do not serve calls, and a call's flow in a version.

A worker settling the spool, or a simulation, needs the flow a call ran on; it loads that
version from the store when asked (checked by the same pipeline), and keeps it for the run.
"""

from __future__ import annotations

from ivr.engine.flow import Flow
from ivr.engine.model import Start
from ivr.library.files import MemorySource
from ivr.library.pipeline import Options, build
from ivr.library.snapshot import Snapshot
from ivr.library.store import SnapshotStore, StoreError
from ivr.routing import Routing
from ivr.source import LoadError


def flow_of(snapshot: Snapshot | None, start: Start) -> tuple[Flow, Routing] | None:
    """The flow and routing a call runs on, from the version it started on."""
    if snapshot is None or start.flow not in snapshot.flows:
        return None
    return snapshot.flows[start.flow], snapshot.routing


class StoredVersions:
    """Published versions loaded on demand, for processes that do not serve calls (a worker
    settling the spool): each version is read from the store and checked once."""

    def __init__(self, store: SnapshotStore, options: Options) -> None:
        self.store = store
        self.options = options
        self._loaded: dict[str, Snapshot | None] = {}

    def snapshot(self, version: str) -> Snapshot | None:
        if version not in self._loaded:
            try:
                self._loaded[version] = build(MemorySource(self.store.files(version)), self.options)
            except (LoadError, StoreError):
                self._loaded[version] = None
        return self._loaded[version]

    def __call__(self, start: Start) -> tuple[Flow, Routing] | None:
        version = start.published or self.store.current() or ""
        return flow_of(self.snapshot(version) if version else None, start)
