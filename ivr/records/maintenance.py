"""The record pipeline's maintenance: failed jobs, the spool, the schema and retention.

Plain functions over Settings; the `ivr` commands wrap them and the tests call them directly.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import redis
from rq import Queue
from rq.job import Job
from rq.registry import FailedJobRegistry

from ivr.calls.keys import Keys
from ivr.calls.log import CallLog
from ivr.calls.pseudonyms import CallerKeys, month_of
from ivr.library.pipeline import Options
from ivr.library.store import SnapshotStore
from ivr.library.versions import StoredVersions
from ivr.records.record import enqueue_record, settle_spooled
from ivr.records.spool import Spool
from ivr.records.store import RecordStore
from ivr.redis_url import connect
from ivr.settings import Settings


def _redis(settings: Settings) -> redis.Redis:
    if not settings.redis_url:
        raise RuntimeError("REDIS_URL is not set")
    return connect(settings.redis_url)


def failed_jobs(settings: Settings) -> list[str]:
    """One line per failed record job: its id, when it failed and why (never its payload)."""
    connection = _redis(settings)
    registry = FailedJobRegistry(queue=Queue(settings.queue_name, connection=connection))
    lines = []
    for job_id in registry.get_job_ids():
        job = Job.fetch(job_id, connection=connection)
        result = job.latest_result()
        reason = (result.exc_string if result is not None else "") or ""
        last = reason.strip().splitlines()[-1] if reason.strip() else "unknown error"
        ended = job.ended_at.strftime("%Y-%m-%d %H:%M") if job.ended_at else "?"
        lines.append(f"{job_id}  failed {ended} UTC  {last[:160]}")
    return lines


def replay_failed(settings: Settings) -> int:
    """Put every failed record job back on the queue; the store ignores rows it already has."""
    connection = _redis(settings)
    registry = FailedJobRegistry(queue=Queue(settings.queue_name, connection=connection))
    count = 0
    for job_id in registry.get_job_ids():
        registry.requeue(job_id)
        count += 1
    return count


def replay_spool(settings: Settings) -> int:
    """Queue the records of calls that ended while Redis was unreachable."""
    connection = _redis(settings)
    keys = Keys(settings.redis_prefix)
    versions = StoredVersions(SnapshotStore(connection, keys), Options.of(settings))
    calls = CallLog(connection, settings.call_ttl_seconds, keys)

    def settle(entry: dict[str, Any]) -> None:
        record = settle_spooled(entry, calls.read(entry["call_key"]), versions)
        enqueue_record(connection, settings.queue_name, record, settings.retry_intervals)

    return Spool(settings.spool_dir).replay(settle)


def purge(settings: Settings, now: dt.datetime | None = None) -> tuple[int, int]:
    """Delete records older than the retention window and caller-key secrets of past months."""
    now = now or dt.datetime.now(dt.UTC)
    store = RecordStore(settings.database_url)
    store.upgrade()
    before = (now - dt.timedelta(days=settings.retention_days)).replace(tzinfo=None)
    rows = store.purge(before)
    secrets = 0
    if settings.redis_url:
        keys = CallerKeys(_redis(settings), Keys(settings.redis_prefix), lambda: now.timestamp())
        secrets = keys.discard_before(month_of(now))
    return rows, secrets
