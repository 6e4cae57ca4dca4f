"""Running a flow: the state of a call is the fold of its events.

Every webhook appends its event to the call's log and reads the whole log back in the same Redis
round trip; `replay` then rebuilds the state from the first event and returns the reply to the
newest one. Replaying a handful of events costs microseconds, and it means no second write is
needed per webhook and two web instances behave exactly like one.
"""

from __future__ import annotations

from collections.abc import Sequence

from ivr.engine.flow import Flow
from ivr.engine.model import CallState, DialResult, Digits, Ended, Event, Reply, Start
from ivr.engine.steps import StaleEvent
from ivr.engine.turn import FlowRuntimeError, Turn

MAX_HOPS = 64  # steps entered in one turn; load checks make loops impossible, this is a backstop


def _run(turn: Turn, step_id: str | None) -> None:
    for _ in range(MAX_HOPS):
        if step_id is None:
            return
        step = turn.flow.steps[step_id]
        turn.state.path.append(step.id)
        step_id = step.enter(turn)
    raise FlowRuntimeError(f"more than {MAX_HOPS} steps in one turn")


def begin(flow: Flow, start: Start) -> tuple[CallState, Reply]:
    state = CallState(flow=flow.name, version=flow.version, to=start.to, started_at=start.at)
    turn = Turn(flow, state)
    _run(turn, flow.start)
    return state, turn.reply()


def resume(flow: Flow, state: CallState, event: Event) -> Reply:
    """Advance a call by one event and return what Twilio should do next."""
    turn = Turn(flow, state)
    if isinstance(event, Ended):
        state.finished = True
        state.end_status = event.status
        state.duration = event.duration
        turn.hangup()
        return turn.reply()
    if state.finished:
        turn.hangup()
        return turn.reply()
    step = flow.steps[state.step]
    if isinstance(event, Start):  # Twilio asked twice for the same call: answer as before
        step.repeat(turn)
        return turn.reply()
    try:
        if isinstance(event, Digits):
            _run(turn, step.on_digits(turn, event.digits))
        elif isinstance(event, DialResult):
            _run(turn, step.on_dial(turn, event))
    except StaleEvent:
        # A webhook the current step does not expect (a replay, or out of order): repeat the
        # instruction in force instead of guessing.
        turn = Turn(flow, state)
        step.repeat(turn)
    return turn.reply()


def replay(flow: Flow, events: Sequence[Event]) -> tuple[CallState, Reply]:
    """Rebuild a call from its log; the reply answers the last event."""
    if not events or not isinstance(events[0], Start):
        raise FlowRuntimeError("the call's log does not begin with its start")
    state, reply = begin(flow, events[0])
    for event in events[1:]:
        reply = resume(flow, state, event)
    return state, reply
