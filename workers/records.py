"""RQ jobs: store one call record, or bring one up to date.

A plain function enqueued by dotted path. `ivr worker` hands it the process's settings once
(`configure`); a worker started some other way (a stock `rq worker`) reads them from the
environment. It opens the store named by DATABASE_URL (creating or migrating the schema the
first time in a process), so the payload carries only the record itself.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

from ivr.calls.counts import count
from ivr.calls.keys import Keys
from ivr.records.store import RecordStore
from ivr.settings import Settings

_settings: Settings | None = None
_ready: set[str] = set()


def configure(settings: Settings) -> None:
    """The settings every job of this process uses."""
    global _settings
    _settings = settings


def store_call_record(record: dict[str, Any], prefix: str | None = None) -> bool:
    """Insert the record; return False when it was stored already (a replayed job). A call
    stored is counted, by outcome, under the router's `prefix` in the job's Redis (the
    metrics' `ivr_calls_total`), once, as the row itself."""
    from rq import get_current_job

    settings = _settings or Settings.from_env()
    store = RecordStore(settings.database_url)
    if settings.database_url not in _ready:
        store.upgrade()
        _ready.add(settings.database_url)
    stored = store.insert(record, dt.timedelta(days=settings.repeat_window_days))
    job = get_current_job()
    if stored and prefix is not None and job is not None:
        count(job.connection, Keys(prefix), "calls", str(record.get("outcome", "unknown")))
    return stored


def amend_call_record(call_key: str, prefix: str) -> bool:
    """Rebuild a stored record from its call's whole log (marks settled from a spool after the
    record was made), read under `prefix` from the Redis this job came from; LookupError, and
    so a retry, while the record is not stored yet."""
    from rq import get_current_job

    from ivr.records.maintenance import amend

    settings = replace(_settings or Settings.from_env(), redis_prefix=prefix)
    if settings.database_url not in _ready:
        RecordStore(settings.database_url).upgrade()
        _ready.add(settings.database_url)
    job = get_current_job()
    return amend(settings, call_key, job.connection if job else None)
