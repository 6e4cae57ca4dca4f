"""RQ jobs: store one call record.

A plain function enqueued by dotted path. It opens the store named by DATABASE_URL in the
worker's environment (creating or migrating the schema the first time in a process), so the
payload carries only the record itself.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from ivr.settings import Settings
from ivr.store import RecordStore

_ready: set[str] = set()


def store_call_record(record: dict[str, Any]) -> bool:
    """Insert the record; return False when it was stored already (a replayed job)."""
    settings = Settings.from_env()
    store = RecordStore(settings.database_url)
    if settings.database_url not in _ready:
        store.upgrade()
        _ready.add(settings.database_url)
    return store.insert(record, dt.timedelta(days=settings.repeat_window_days))
