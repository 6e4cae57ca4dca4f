"""RQ jobs: store one call record.

A plain function enqueued by dotted path. `ivr worker` hands it the process's settings once
(`configure`); a worker started some other way (a stock `rq worker`) reads them from the
environment. It opens the store named by DATABASE_URL (creating or migrating the schema the
first time in a process), so the payload carries only the record itself.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from ivr.records.store import RecordStore
from ivr.settings import Settings

_settings: Settings | None = None
_ready: set[str] = set()


def configure(settings: Settings) -> None:
    """The settings every job of this process uses."""
    global _settings
    _settings = settings


def store_call_record(record: dict[str, Any]) -> bool:
    """Insert the record; return False when it was stored already (a replayed job)."""
    settings = _settings or Settings.from_env()
    store = RecordStore(settings.database_url)
    if settings.database_url not in _ready:
        store.upgrade()
        _ready.add(settings.database_url)
    return store.insert(record, dt.timedelta(days=settings.repeat_window_days))


def note_fault(call_key: str, cause: str) -> bool:
    """Add the fault to a stored record that has none yet; LookupError (the job is retried)
    while the record is not stored yet."""
    settings = _settings or Settings.from_env()
    store = RecordStore(settings.database_url)
    if settings.database_url not in _ready:
        store.upgrade()
        _ready.add(settings.database_url)
    return store.add_fault(call_key, cause)
