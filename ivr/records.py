"""The call record: what is kept about a call once it ends, and how it reaches the worker.

A record holds no phone number and no CallSid: the call is known by its keyed pseudonym, the
menu path by step ids (never raw digits), the destination by its name in the flow. The web
process enqueues it by dotted path, so it never imports worker code; the job id is derived from
the pseudonym, so a repeated status callback cannot enqueue it twice.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import asdict, dataclass
from typing import Any

from redis import Redis
from rq import Queue, Retry
from rq.exceptions import DuplicateJobError

from ivr.engine.flow import Flow
from ivr.engine.model import CallState

STORE_JOB = "workers.records.store_call_record"
UNANSWERED_CALL = frozenset({"busy", "failed", "no-answer"})
RETRY_INTERVALS = [10, 60, 300, 1800, 3600]  # seconds; then the job waits in the failed registry
KEEP_FAILED_SECONDS = 30 * 24 * 3600


@dataclass(frozen=True)
class CallRecord:
    call_key: str
    started_at: str  # UTC, to the minute
    duration_seconds: int | None
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
    answer_seconds: int | None
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


def build_record(key: str, flow: Flow, state: CallState) -> CallRecord:
    started = time.strftime("%Y-%m-%dT%H:%M:00Z", time.gmtime(state.started_at))
    return CallRecord(
        call_key=key, started_at=started, duration_seconds=state.duration, flow=state.flow,
        flow_version=state.version, language=state.language, region=state.region,
        region_source=state.region_source if state.region else "unknown",
        menu_path=tuple(state.path), silent=state.silent, emergency=state.emergency,
        destination=state.connected_to, operator=state.operator,
        answer_seconds=None if state.answered_after is None else round(state.answered_after),
        outcome=outcome(flow, state),
    )


def enqueue_record(connection: Redis, queue_name: str, record: CallRecord) -> None:
    """Queue the record once; a second callback for the same call is a no-op."""
    queue = Queue(queue_name, connection=connection)
    with contextlib.suppress(DuplicateJobError):
        queue.enqueue(
            STORE_JOB, kwargs={"record": record.payload()}, job_id=f"record-{record.call_key}",
            unique=True, retry=Retry(max=len(RETRY_INTERVALS), interval=RETRY_INTERVALS),
            failure_ttl=KEEP_FAILED_SECONDS,
        )
