"""The call record: what is kept about a call once it ends, and how it reaches the worker.

A record holds no phone number and no CallSid: the call is known by its keyed pseudonym, the
caller by a pseudonym whose secret is discarded every month, the menu path by step ids (never
raw digits), the destination by its type. The web process enqueues it by dotted path, so it
never imports worker code; the job id is derived from the pseudonym, so a repeated status
callback cannot enqueue it twice. When Redis is unreachable the end of the call is spooled to
a local file and settled later (`settle_spooled`).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from redis import Redis
from rq import Queue, Retry
from rq.exceptions import DuplicateJobError

from ivr.engine import replay
from ivr.engine.flow import Flow
from ivr.engine.model import CallState, Ended, Event, Start
from ivr.routing import Routing

# The flow and routing a call ran on, given the flow's name and the version the call began on.
Versions = Callable[[Start], tuple[Flow, Routing] | None]

STORE_JOB = "workers.records.store_call_record"
UNANSWERED_CALL = frozenset({"busy", "failed", "no-answer"})
RETRY_INTERVALS = (10, 60, 300, 1800, 3600)  # seconds; then the job waits among failed jobs
KEEP_FAILED_SECONDS = 30 * 24 * 3600


@dataclass(frozen=True)
class CallRecord:
    call_key: str
    caller_key: str | None  # None when the number was withheld
    started_at: str  # UTC, to the minute
    duration_seconds: int | None
    answer_seconds: int | None
    entry: str  # the number dialled: the hotline's or a regional line's, never the caller's
    flow: str
    flow_version: str
    language: str | None
    region: str | None
    region_source: str  # dialled, hint, chosen or unknown
    menu_path: tuple[str, ...]
    silent: bool
    emergency: bool
    destination: str | None  # operators, regional, national, emergency
    operator: str | None  # the operator's roster id (staff, never a caller)
    outcome: str

    def payload(self) -> dict[str, Any]:
        data = asdict(self)
        data["menu_path"] = list(self.menu_path)
        return data


def outcome(flow: Flow, state: CallState) -> str:
    if state.connected_to:
        return "connected"
    if state.end_status in UNANSWERED_CALL:
        return "failed"
    if state.exhausted:
        return "no-one-answered"
    step = flow.steps.get(state.step)
    if step is not None and step.CONNECTS:
        return "caller-hung-up-while-connecting"
    return "caller-hung-up-in-menu"


def _minute(seconds: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:00Z", time.gmtime(seconds))


def build_record(key: str, flow: Flow, state: CallState) -> CallRecord:
    return CallRecord(
        call_key=key, caller_key=state.caller_key, started_at=_minute(state.started_at),
        duration_seconds=state.duration,
        answer_seconds=None if state.answered_after is None else round(state.answered_after),
        entry=state.to[:32], flow=state.flow, flow_version=state.version,
        language=state.language, region=state.region,
        region_source=state.region_source if state.region else "unknown",
        menu_path=tuple(state.path), silent=state.silent, emergency=state.emergency,
        destination=state.connected_to, operator=state.operator, outcome=outcome(flow, state),
    )


def record_from_log(key: str, events: Sequence[Event], versions: Versions) -> CallRecord | None:
    """The record of a call from its log, which must end with the call's end; None when the
    log has no start or its version is not to be had."""
    if not events or not isinstance(events[0], Start):
        return None
    found = versions(events[0])
    if found is None:
        return None
    flow, routing = found
    state, _ = replay(flow, events, routing)
    return build_record(key, flow, state)


def lost_log_record(key: str, status: str, duration: int | None, ended_at: float) -> CallRecord:
    """All that is known of a call whose log was lost with Redis: when and how long."""
    started = ended_at - (duration or 0)
    return CallRecord(
        call_key=key, caller_key=None, started_at=_minute(started), duration_seconds=duration,
        answer_seconds=None, entry="", flow="unknown", flow_version="", language=None,
        region=None, region_source="unknown", menu_path=(), silent=False, emergency=False,
        destination=None, operator=None,
        outcome="failed" if status in UNANSWERED_CALL else "unknown",
    )


def enqueue_record(connection: Redis, queue_name: str, record: CallRecord,
                   intervals: Sequence[int] = RETRY_INTERVALS) -> None:
    """Queue the record once; a second callback for the same call is a no-op."""
    queue = Queue(queue_name, connection=connection)
    with contextlib.suppress(DuplicateJobError):
        queue.enqueue(
            STORE_JOB, kwargs={"record": record.payload()}, job_id=f"record-{record.call_key}",
            unique=True, retry=Retry(max=len(intervals), interval=list(intervals)),
            failure_ttl=KEEP_FAILED_SECONDS,
        )


def spool_entry(key: str, ended: Ended) -> dict[str, Any]:
    return {"call_key": key, "status": ended.status, "duration": ended.duration,
            "ended_at": ended.at}


def settle_spooled(entry: dict[str, Any], events: Sequence[Event], versions: Versions
                   ) -> CallRecord:
    """The record for a spooled call end: from its log if Redis still has it, else minimal."""
    ended = Ended(entry["status"], entry["duration"], entry["ended_at"])
    record = record_from_log(entry["call_key"], [*events, ended], versions) if events else None
    return record or lost_log_record(entry["call_key"], ended.status, ended.duration, ended.at)
