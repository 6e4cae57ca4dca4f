"""The call record: what is kept about a call once it ends, and how it reaches the worker.

A record holds no phone number and no CallSid: the call is known by its keyed pseudonym, the
caller by a pseudonym whose secret is discarded every month, the menu path by step ids (never
raw digits), the destination by its type. The web process enqueues it by dotted path, so it
never imports worker code; the job id is derived from the pseudonym, so a repeated status
callback cannot enqueue it twice. When Redis is unreachable the end of the call is spooled to
a local file and settled later (`settle_spooled`).

A call that went through the safe path says why (`fault`: redis, exception, version, request,
fallback) and what the caller met there; `closed_by` says whether Twilio's final status closed
the record or the sweep did, for a call whose status never came.
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

from ivr.calls.log import encode
from ivr.engine import replay
from ivr.engine.flow import Flow
from ivr.engine.model import CallState, Ended, Event, Fault, SafeDial, Start
from ivr.routing import Routing

# The flow and routing a call ran on, given the flow's name and the version the call began on.
Versions = Callable[[Start], tuple[Flow, Routing] | None]

STORE_JOB = "workers.records.store_call_record"
UNANSWERED_CALL = frozenset({"busy", "failed", "no-answer"})
CONNECTED = frozenset({"completed", "answered"})
MAX_DURATION = 7 * 24 * 3600  # longer is no call: Twilio ends every call within four hours
AMEND_JOB = "workers.records.amend_call_record"
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
    destination: str | None  # operators, regional, national, emergency, safe_path
    operator: str | None  # the operator's roster id (staff, never a caller)
    outcome: str
    fault: str | None = None  # why the call took the safe path, if it did
    closed_by: str = "status"  # Twilio's final status, or the sweep
    line_seconds: int | None = None  # time in a waiting line, if the caller joined one
    route_wait_seconds: int | None = None  # from reaching the consultants to answered or gone

    def payload(self) -> dict[str, Any]:
        data = asdict(self)
        data["menu_path"] = list(self.menu_path)
        return data


def seconds_of(text: str) -> int | None:
    """Twilio's CallDuration as a number of seconds, or None (unknown) for anything a call
    cannot last: not digits, or longer than a week."""
    if not (text.isascii() and text.isdigit()) or len(text) > 7:
        return None
    seconds = int(text)
    return seconds if seconds <= MAX_DURATION else None


@dataclass(frozen=True)
class SafePath:
    """What the events outside the flow say: the first fault, and the safe path's lines."""

    fault: str | None
    dials: tuple[str, ...]  # each line's status, in order

    @classmethod
    def of(cls, events: Sequence[Event]) -> SafePath:
        faults = [e.cause for e in events if isinstance(e, Fault)]
        return cls(faults[0] if faults else None,
                   tuple(e.status for e in events if isinstance(e, SafeDial)))

    @property
    def connected(self) -> bool:
        return any(status in CONNECTED for status in self.dials)

    def outcome(self) -> tuple[str, str | None] | None:
        """The outcome and destination when the safe path explains the end of the call."""
        if self.connected:
            return "connected", "safe_path"
        if self.dials and self.dials[-1] != "canceled":
            return "no-one-answered", None
        if self.fault is not None:
            return "caller-hung-up-while-connecting", None
        return None


def outcome(flow: Flow, state: CallState) -> str:
    if state.connected_to:
        return "connected"
    if state.end_status in UNANSWERED_CALL:
        return "failed"
    if state.line_since is not None:
        return "caller-hung-up-while-waiting"
    if state.exhausted:
        return "no-one-answered"
    step = flow.steps.get(state.step)
    if step is not None and step.CONNECTS:
        return "caller-hung-up-while-connecting"
    return "caller-hung-up-in-menu"


def _minute(seconds: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:00Z", time.gmtime(seconds))


def build_record(key: str, flow: Flow, state: CallState, safe: SafePath = SafePath(None, ()),
                 closed_by: str = "status") -> CallRecord:
    # The destination is the last one the caller reached: the safe path comes after the flow,
    # so a line of it that answered wins; otherwise it explains a call the flow did not connect.
    result, destination = outcome(flow, state), state.connected_to
    taken = safe.outcome() if safe.connected or not state.connected_to else None
    if taken is not None:
        result, destination = taken
    return CallRecord(
        call_key=key, caller_key=state.caller_key, started_at=_minute(state.started_at),
        duration_seconds=state.duration,
        answer_seconds=None if state.answered_after is None else round(state.answered_after),
        entry=state.to[:32], flow=state.flow, flow_version=state.version,
        language=state.language, region=state.region,
        region_source=state.region_source if state.region else "unknown",
        menu_path=tuple(state.path), silent=state.silent, emergency=state.emergency,
        destination=destination, operator=state.operator, outcome=result, fault=safe.fault,
        closed_by=closed_by, **_waits(state),
    )


def _waits(state: CallState) -> dict[str, int | None]:
    """How long the caller waited: in line, and at the consultants' route until answered."""
    end = state.ended_at if state.ended_at is not None else state.started_at + (state.duration or 0)
    line = state.line_seconds
    if state.line_since is not None:  # still in line when the call ended
        line = (line or 0.0) + max(0.0, end - state.line_since)
    route = None
    if state.route_reached_at is not None:
        left = state.route_left_at if state.route_left_at is not None else end
        route = max(0.0, left - state.route_reached_at)
    return {"line_seconds": None if line is None else round(line),
            "route_wait_seconds": None if route is None else round(route)}


def record_from_log(key: str, events: Sequence[Event], versions: Versions,
                    closed_by: str = "status") -> CallRecord | None:
    """The record of a call from its log, which must end with the call's end; None when the
    log has no start or its version is not to be had."""
    if not events or not isinstance(events[0], Start):
        return None
    found = versions(events[0])
    if found is None:
        return None
    flow, routing = found
    return build_record(key, flow, _final_state(flow, events, routing), SafePath.of(events),
                        closed_by)


def _final_state(flow: Flow, events: Sequence[Event], routing: Routing) -> CallState:
    """The call's state at its end. When an event made the flow fail (the caller was then
    answered by the safe path, and the fault is in the log), the state is the one before
    that event, ended as the call ended."""
    try:
        state, _ = replay(flow, events, routing)
        return state
    except Exception:
        ends = [e for e in events if isinstance(e, Ended)]
        before = [e for e in events if not isinstance(e, Ended)]
        for keep in range(len(before) - 1, 0, -1):
            with contextlib.suppress(Exception):
                state, _ = replay(flow, [*before[:keep], *ends[-1:]], routing)
                return state
        raise


def lost_log_record(key: str, status: str, duration: int | None, ended_at: float,
                    events: Sequence[Event] = (), closed_by: str = "status") -> CallRecord:
    """All that is known of a call whose log was lost with Redis, or never began (Redis was
    away when it came in): when, how long, and what the safe path did."""
    started = ended_at - (duration or 0)
    safe = SafePath.of(events)
    taken = safe.outcome()
    result, destination = taken if taken else (
        "failed" if status in UNANSWERED_CALL else "unknown", None)
    return CallRecord(
        call_key=key, caller_key=None, started_at=_minute(started), duration_seconds=duration,
        answer_seconds=None, entry="", flow="unknown", flow_version="", language=None,
        region=None, region_source="unknown", menu_path=(), silent=False, emergency=False,
        destination=destination, operator=None, outcome=result, fault=safe.fault,
        closed_by=closed_by,
    )


def enqueue_record(connection: Redis, queue_name: str, record: CallRecord, prefix: str,
                   intervals: Sequence[int] = RETRY_INTERVALS) -> None:
    """Queue the record once; a second callback for the same call is a no-op. `prefix` names
    the router's keys, where the worker counts the calls it stores (for the metrics)."""
    queue = Queue(queue_name, connection=connection)
    with contextlib.suppress(DuplicateJobError):
        queue.enqueue(
            STORE_JOB, kwargs={"record": record.payload(), "prefix": prefix},
            job_id=f"record-{record.call_key}",
            unique=True, retry=Retry(max=len(intervals), interval=list(intervals)),
            failure_ttl=KEEP_FAILED_SECONDS,
        )


def spool_entry(key: str, ended: Ended) -> dict[str, Any]:
    """A call's end, kept while Redis is away."""
    return {"call_key": key, "status": ended.status, "duration": ended.duration,
            "ended_at": ended.at}


def spool_event(key: str, event: Event) -> dict[str, Any]:
    """A mark for a call's log (a fault, a line of the safe path), kept while Redis is away."""
    return {"kind": "event", "call_key": key, "event": encode(event)}


def settle_spooled(entry: dict[str, Any], events: Sequence[Event], versions: Versions
                   ) -> CallRecord:
    """The record for a spooled call end: from its log if Redis still has it, else minimal."""
    ended = Ended(str(entry["status"]), _duration(entry.get("duration")),
                  float(entry["ended_at"]))
    record = record_from_log(entry["call_key"], [*events, ended], versions) if events and \
        isinstance(events[0], Start) else None
    return record or lost_log_record(entry["call_key"], ended.status, ended.duration, ended.at,
                                     events)


def _duration(value: object) -> int | None:
    return seconds_of(str(value)) if value is not None else None


def enqueue_amend(connection: Redis, queue_name: str, key: str, prefix: str, seen: int,
                  intervals: Sequence[int] = RETRY_INTERVALS) -> None:
    """Queue an amendment of a call's record: the worker rebuilds it from the call's whole log
    (under `prefix`, in the Redis of the queue) when it runs, so amendments can run in any
    order and the last one run is the truth. `seen` (the log's length now) tells apart the
    amendments of one call."""
    queue = Queue(queue_name, connection=connection)
    with contextlib.suppress(DuplicateJobError):
        queue.enqueue(AMEND_JOB, kwargs={"call_key": key, "prefix": prefix},
                      job_id=f"amend-{key}-{seen}",
                      unique=True, retry=Retry(max=len(intervals), interval=list(intervals)),
                      failure_ttl=KEEP_FAILED_SECONDS)


def rebuild(key: str, events: Sequence[Event], versions: Versions) -> CallRecord | None:
    """The record of an ended call from its whole log, marks that came after its end included
    (a fault settled late from a spool); None while the log holds no end."""
    ended = next((e for e in reversed(events) if isinstance(e, Ended)), None)
    if ended is None:
        return None
    record = record_from_log(key, events, versions) if isinstance(events[0], Start) else None
    return record or lost_log_record(key, ended.status, ended.duration, ended.at, events)
