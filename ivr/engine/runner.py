"""Running a flow: the state of a call is the fold of its events.

Every webhook appends its event to the call's log and reads the whole log back in the same Redis
round trip; `replay` then rebuilds the state from the first event and returns the reply to the
newest one. Replaying a handful of events costs microseconds, and it means no second write is
needed per webhook and two web instances behave exactly like one. A long call replays from its
latest checkpoint (`ivr.engine.checkpoint`) instead of from its start.

Each event is replayed at its own time, so roster answers do not change on replay; who rang,
and who accepted, come from the events themselves.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence

from ivr.engine.checkpoint import Checkpoint
from ivr.engine.flow import Flow
from ivr.engine.model import (
    OUTSIDE_THE_FLOW,
    Accepted,
    CallState,
    DialResult,
    Digits,
    Ended,
    Event,
    Reply,
    Rotation,
    Routed,
    Start,
    Tick,
    event_time,
)
from ivr.engine.steps import StaleEvent
from ivr.engine.turn import FlowRuntimeError, LineView, Live, Turn
from ivr.routing import Routing

MAX_HOPS = 64  # steps entered in one turn; load checks make loops impossible, this is a backstop


def _run(turn: Turn, step_id: str | None) -> None:
    for _ in range(MAX_HOPS):
        if step_id is None:
            return
        step = turn.flow.steps[step_id]
        turn.state.path.append(step.id)
        step_id = step.enter(turn)
    raise FlowRuntimeError(f"more than {MAX_HOPS} steps in one turn")


def _moment(seconds: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, dt.UTC)


def begin(flow: Flow, start: Start, routing: Routing | None = None,
          busy: frozenset[str] = frozenset(), rotation: int = 0,
          recorded: Sequence[tuple[str, ...]] | None = None,
          live: Live | None = None) -> tuple[CallState, Reply]:
    state = CallState(flow=flow.name, version=flow.version, to=start.to, started_at=start.at,
                      region=start.region, region_source=start.region_source,
                      caller_key=start.caller_key, rotation=rotation)
    turn = Turn(flow, state, live or Live(_moment(start.at), busy), routing, recorded)
    _run(turn, flow.start)
    return state, turn.reply()


def resume(flow: Flow, state: CallState, event: Event, live: Live,
           routing: Routing | None = None,
           recorded: Sequence[tuple[str, ...]] | None = None) -> Reply | None:
    """Advance a call by one event. Returns what Twilio should do next, or None for events
    that do not come from the caller's own webhooks (they leave the last reply in force)."""
    if isinstance(event, Rotation):
        state.rotation = event.number
        return None
    if isinstance(event, Accepted):
        state.accepted, state.accepted_at = event.leg, event.at
        return None
    if isinstance(event, OUTSIDE_THE_FLOW):  # the safe path's marks: for the record only
        return None
    turn = Turn(flow, state, live, routing, recorded)
    if isinstance(event, Ended):
        state.finished = True
        state.ended_at = event.at
        state.end_status = event.status
        state.duration = event.duration
        turn.hangup()
        return turn.reply()
    if state.finished:
        turn.hangup()
        return turn.reply()
    step = flow.steps[state.step]
    try:
        if isinstance(event, Start):  # Twilio asked twice for the same call: answer as before
            raise StaleEvent(step.id)
        if isinstance(event, Digits):
            _run(turn, step.on_digits(turn, event.digits))
        elif isinstance(event, DialResult):
            _run(turn, step.on_dial(turn, event))
            if state.connected_to and state.answered_after is None:
                state.answered_after = max(0.0, event.at - state.started_at)
        elif isinstance(event, Tick):
            _run(turn, step.on_tick(turn))
    except StaleEvent:
        # A webhook the current step does not expect (a replay, or out of order): repeat the
        # instruction in force instead of guessing.
        turn = Turn(flow, state, live, routing, recorded)
        step.repeat(turn)
    return turn.reply()


def replay(flow: Flow, events: Sequence[Event], routing: Routing | None = None,
           busy: frozenset[str] = frozenset(), line: LineView | None = None,
           live: bool = False, away: frozenset[str] = frozenset(),
           since: Checkpoint | None = None,
           keep: Callable[[Checkpoint], None] | None = None,
           keep_at: int = 0) -> tuple[CallState, Reply]:
    """Rebuild a call from its log; the reply answers the last event from the caller's side.

    `busy` (operators on other calls now), `away` (consultants marked away now) and `line`
    (the waiting line as this call sees it) apply to the newest event only; `live` says the
    newest event is being answered now, so a decision that needs the line it was not given
    raises NeedsLine (a replay for a record or a whisper sees an empty line instead).

    With `since`, `events` are the log's entries after that checkpoint (`ivr.engine.
    checkpoint`), and the replay starts from its state. `keep` is handed the checkpoint just
    before the log's entry `keep_at` (the newest event from the caller's side) when the replay
    passes it.
    """
    if since is None:
        if not events or not isinstance(events[0], Start):
            raise FlowRuntimeError("the call's log does not begin with its start")
        start, offset = events[0], 0
    else:
        start, offset = since.start, since.covered
    if not any(not isinstance(e, OUTSIDE_THE_FLOW) for e in events):
        raise FlowRuntimeError("nothing in the call's log to answer after its checkpoint")
    last = offset + answering(events)
    routed = {e.turn: e.choices for e in events if isinstance(e, Routed)}

    def moment(index: int, at: float) -> Live:
        newest = index == last
        return Live(_moment(at), busy if newest else frozenset(), newest and live,
                    line if newest else None, away if newest else frozenset())

    reply: Reply | None
    if since is None:
        rotation = next((e.number for e in events[1:2] if isinstance(e, Rotation)), 0)
        state, reply = begin(flow, start, routing, rotation=rotation, recorded=routed.get(0),
                             live=moment(0, start.at))
        at, rest = start.at, enumerate(events[1:], start=1)
    else:
        state, reply, at, rest = since.call_state(), None, since.at, enumerate(events, offset)
    for index, event in rest:
        if keep is not None and index == keep_at:
            keep(Checkpoint.of(index, start, at, state))
        at = event_time(event) or at
        reply = resume(flow, state, event, moment(index, at), routing, routed.get(index)) or reply
    if reply is None:  # not reached: the entry after a checkpoint is the caller's
        raise FlowRuntimeError("no reply after the call's checkpoint")
    return state, reply


def answering(events: Sequence[Event]) -> int:
    """The place in the log of the event the call's current reply answers: the newest one
    from the caller's side (Routed records the decisions made for it under this number)."""
    return max(i for i, e in enumerate(events) if not isinstance(e, OUTSIDE_THE_FLOW))
