"""The record pipeline's maintenance: failed jobs, the spool, the schema and retention.

Plain functions over Settings; the `ivr` commands wrap them and the tests call them directly.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import time
from typing import Any

import redis
from rq import Queue
from rq.job import Job
from rq.registry import FailedJobRegistry

from ivr.calls.counts import count
from ivr.calls.keys import Keys
from ivr.calls.log import CallLog, decode
from ivr.calls.pseudonyms import CallerKeys, month_of
from ivr.engine.model import Ended, Event, Start, event_time
from ivr.library.pipeline import Options
from ivr.library.store import SnapshotStore
from ivr.library.versions import StoredVersions
from ivr.records.record import (
    CallRecord,
    Versions,
    enqueue_amend,
    enqueue_record,
    lost_log_record,
    rebuild,
    record_from_log,
    settle_spooled,
)
from ivr.records.spool import BadEntry, Spool
from ivr.records.store import RecordStore
from ivr.redis_url import connect
from ivr.settings import Settings

log = logging.getLogger("ivr.records")
CALL_KEY = re.compile(r"^[0-9a-f]{32}$")


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


_versions: dict[tuple[str, str], StoredVersions] = {}


def versions_for(settings: Settings, connection: redis.Redis) -> StoredVersions:
    """The published versions, loaded once per process as calls need them."""
    key = (settings.redis_url or "", settings.redis_prefix)
    if key not in _versions:
        _versions[key] = StoredVersions(SnapshotStore(connection, Keys(settings.redis_prefix)),
                                        Options.of(settings))
    return _versions[key]


def amend(settings: Settings, call_key: str, connection: redis.Redis | None = None) -> bool:
    """Bring a stored record up to date with its call's whole log (the job of
    `enqueue_amend`); False when the log is gone or holds no end yet."""
    connection = connection or _redis(settings)
    calls = CallLog(connection, settings.call_ttl_seconds, Keys(settings.redis_prefix))
    record = rebuild(call_key, calls.read(call_key), versions_for(settings, connection))
    if record is None:
        return False
    return RecordStore(settings.database_url).amend(record.payload())


def replay_spool(settings: Settings) -> int:
    """Settle what was kept while Redis was unreachable: marks go to their calls' logs (and a
    fault to a record already stored), ends become records."""
    connection = _redis(settings)
    keys = Keys(settings.redis_prefix)
    versions = versions_for(settings, connection)
    calls = CallLog(connection, settings.call_ttl_seconds, keys)

    def settle(entry: dict[str, Any]) -> None:
        key = entry.get("call_key")
        if not isinstance(key, str) or not CALL_KEY.match(key):
            raise BadEntry("no call key")
        if entry.get("kind") == "event":
            try:
                event = decode(str(entry["event"]))
            except (KeyError, ValueError, TypeError) as exc:
                raise BadEntry("not an event") from exc
            calls.note(key, event)
            seen = calls.read(key)
            if any(isinstance(e, Ended) for e in seen):  # its record may be stored without it
                enqueue_amend(connection, settings.queue_name, key, settings.redis_prefix,
                              len(seen), settings.retry_intervals)
            return
        try:
            record = settle_spooled(entry, calls.read(key), versions)
        except (KeyError, ValueError, TypeError) as exc:
            raise BadEntry("not a call's end") from exc
        enqueue_record(connection, settings.queue_name, record, settings.redis_prefix,
                           settings.retry_intervals)
        calls.close(key)

    settled = Spool(settings.spool_dir).replay(settle)
    if settled:
        log.info("spool: %d entr%s settled into the call logs and records", settled,
                 "y" if settled == 1 else "ies")
    return settled


# KEYS: active. ARGV: call key, the last moment of activity that counts as stale.
# Take a call off `active` once its record is queued, unless it moved again meanwhile.
_DONE = """
local seen = tonumber(redis.call('ZSCORE', KEYS[1], ARGV[1]) or '-1')
if seen < 0 or seen > tonumber(ARGV[2]) then return 0 end
redis.call('ZREM', KEYS[1], ARGV[1])
return 1
"""


def sweep(settings: Settings, now: float | None = None) -> int:
    """Record every call whose log has not changed for IVR_SWEEP_AFTER seconds and whose final
    status never came (not configured, or Twilio could not deliver it). The record says so
    (`closed_by` sweep); a status that comes later finds it stored and adds nothing.

    The record is queued before the call leaves `active`, so a sweeper that dies half-way
    leaves the call for the next sweep; two sweepers queue one job (its id is the call's)."""
    connection = _redis(settings)
    keys = Keys(settings.redis_prefix)
    versions = versions_for(settings, connection)
    calls = CallLog(connection, settings.call_ttl_seconds, keys)
    done = connection.register_script(_DONE)
    stale_before = (now if now is not None else time.time()) - settings.sweep_after_seconds
    swept = 0
    stale: list[tuple[bytes, float]] = connection.zrangebyscore(  # type: ignore[assignment]
        keys.active, "-inf", stale_before, withscores=True)
    for member, seen in stale:
        key = member.decode()
        events = calls.read(key)
        simulated = bool(events) and isinstance(events[0], Start) and events[0].simulated
        outcome = ""
        if not simulated:  # `ivr call --url` without its status: no record, as ever
            record = _swept_record(key, events, float(seen), versions)
            enqueue_record(connection, settings.queue_name, record, settings.redis_prefix,
                           settings.retry_intervals)
            outcome = record.outcome
        if done(keys=[keys.active], args=[key, stale_before]) and not simulated:
            log.warning("no final status came for a call; the sweep recorded it (%s)", outcome)
            count(connection, keys, "swept")
            swept += 1
    if swept:
        log.info("sweep: %d call(s) without a final status recorded", swept)
    return swept


def _swept_record(key: str, events: list[Event], seen: float, versions: Versions) -> CallRecord:
    """The record of a call whose status never came: from its log, ended at its last event;
    with what little is known when the log is gone or cannot be replayed."""
    last = max((event_time(e) for e in events), default=seen) or seen
    try:
        record = record_from_log(key, [*events, Ended("unknown", None, last)], versions,
                                 closed_by="sweep")
    except Exception:
        log.exception("a swept call's log could not be replayed; it is recorded as unknown")
        record = None
    return record or lost_log_record(key, "unknown", None, last, events, closed_by="sweep")


def purge(settings: Settings, now: dt.datetime | None = None) -> tuple[int, int]:
    """Delete records older than the retention window and caller-key secrets of past months."""
    now = now or dt.datetime.now(dt.UTC)
    store = RecordStore(settings.database_url)
    store.upgrade()
    before = (now - dt.timedelta(days=settings.retention_days)).replace(tzinfo=None)
    rows = store.purge(before)
    secrets = 0
    if settings.redis_url:
        keys = CallerKeys(_redis(settings), Keys(settings.redis_prefix), lambda: now.timestamp(),
                          settings.hmac_secret)
        secrets = keys.discard_before(month_of(now))
    return rows, secrets
