"""RQ job: store one call record.

A plain function enqueued by dotted path. It opens the store named by DATABASE_URL in the
worker's environment, so the payload carries only the record itself.
"""

from __future__ import annotations

from typing import Any

from ivr.settings import Settings
from workers.store import RecordStore


def store_call_record(record: dict[str, Any]) -> bool:
    """Insert the record; return False when it was stored already (a replayed job)."""
    store = RecordStore.from_url(Settings.from_env().database_url)
    try:
        return store.insert(record)
    finally:
        store.close()
