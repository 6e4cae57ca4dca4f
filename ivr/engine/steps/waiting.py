"""The waiting line of a route: when every consultant who could take the call is busy.

A route with `wait:` does not give up on its `operators` while someone who could take the call
is on duty. The caller joins the line instead: they hear that every consultant is busy and
their place in it, then a soft hold sound; every few seconds the hold loop asks the router
again (a `Tick`), and as soon as a consultant whose turn it is to take this caller is free
(`ivr.routing.line`), their phone rings, with the whisper and press-1 as ever. A consultant
who does not take the call costs the caller nothing: they keep their place. Every
`announce_every` seconds the caller hears their place again and a word of reassurance. After
`max_seconds`, or at once when the line is full or the wait predicted for the caller is longer
than that, the route goes on to its other targets. 0 keeps the caller waiting (it tells them
their place again); 9, and any key the flow sends elsewhere from every menu, leaves the line.

    wait: {max_seconds: 300, announce_every: 45, capacity: 10}
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ivr.i18n import _
from ivr.routing.legs import Leg, operator_leg
from ivr.routing.line import DECLINE_PAUSE_SECONDS
from ivr.routing.targets import leg_of
from ivr.source import Node

if TYPE_CHECKING:
    from ivr.engine.steps.base import ParseContext
    from ivr.engine.turn import Turn

JOINED, REASSURE, HOLD_TONE = "wait_all_busy", "wait_reassure", "hold_tone"
PLACES = tuple(f"wait_place_{n}" for n in range(1, 10))
PLACE_MORE = "wait_place_more"
PROMPTS = (JOINED, REASSURE, HOLD_TONE, *PLACES, PLACE_MORE)
QUIET_SECONDS = 1  # after the hold sound, before the next poll: keys still count
WAIT_CHOICE = "wait"  # the decision, in the call's log, that the caller waits in line
BOUNDS = {"max_seconds": (30, 1800), "announce_every": (20, 300), "capacity": (1, 200)}
SCHEMA: Mapping[str, Any] = {
    "type": "object", "additionalProperties": False,
    "description": "Callers wait in line when every consultant who could take them is busy",
    "properties": {key: {"type": "integer", "minimum": low, "maximum": high}
                   for key, (low, high) in BOUNDS.items()},
}


class Waiting(list[Leg]):
    """`Route`'s answer "nobody to ring now: wait in line" (an empty list of legs that is
    not "nobody at all")."""


WAITING = Waiting()


@dataclass(frozen=True)
class Wait:
    max_seconds: int = 300
    announce_every: int = 45
    capacity: int = 10

    @classmethod
    def parse(cls, raw: Node, ctx: ParseContext) -> Wait | None:
        value = raw.get("wait")
        if value is None:
            return None
        if not isinstance(value, Node):
            ctx.problem(raw.line_of("wait"), _(
                "'wait' must be a mapping such as {max_seconds: 300, announce_every: 45}"))
            return None
        for key in value:
            if key not in BOUNDS:
                ctx.problem(value.line_of(key), _(
                    "unknown key '{key}' in 'wait' (allowed: {allowed})").format(
                        key=key, allowed=", ".join(BOUNDS)))
        found = {key: ctx.number(value, key, getattr(cls, key), bounds)
                 for key, bounds in BOUNDS.items()}
        return cls(**found)


def declined_now(turn: Turn) -> frozenset[str]:
    """Consultants who did not take this call a short while ago: not offered it again yet."""
    return frozenset(op for op, at in turn.state.declined.items()
                     if turn.now - at < DECLINE_PAUSE_SECONDS)


def offer_or_wait(wait: Wait, turn: Turn) -> list[Leg]:
    """The consultant to ring now, WAITING, or [] when the line is not for this call (nobody
    on duty could take it, the line is full, or the wait would be too long): then the route
    goes on to its next targets."""
    state = turn.state
    line = turn.line(declined_now(turn))
    if line.offer is not None:
        leg = leg_of(turn.routing, operator_leg(line.offer), turn.flow.numbers)
        if leg is not None:
            return [leg]
    if line.could_take == 0:
        state.line_done = True  # nobody on duty for this call: no line, as if no wait
        return []
    if state.line_since is None:
        predicted = (line.ahead + 1) * line.talk_seconds / line.could_take
        if line.ahead >= wait.capacity or predicted > wait.max_seconds:
            state.line_done = True  # full, or too long a wait ahead: go on at once
            return []
    return WAITING


def hold(wait: Wait, turn: Turn, prompts: tuple[str, ...] = (), poll: bool = False) -> None:
    """Keep the caller in line: on joining, that every consultant is busy and their place;
    every `announce_every` seconds, a word of reassurance and their place again; the hold
    sound in between. A poll that only holds changes nothing and is not kept."""
    state = turn.state
    now = turn.now
    # An announcement takes the hold sound's place in its round, so no round of the hold loop
    # lasts much longer than the sound or the announcement: a consultant who becomes free is
    # offered at the next poll, within seconds.
    if state.line_since is None:
        state.line_since = state.announced_at = now
        turn.say([JOINED, *_place(turn)])
    elif now - state.announced_at >= wait.announce_every:
        state.announced_at = now
        turn.say([REASSURE, *_place(turn)])
    else:
        turn.say([*prompts, HOLD_TONE])
        if poll:
            turn.unchanged()
    turn.hold(QUIET_SECONDS)


def tell_place(turn: Turn) -> None:
    """0 while waiting: the caller wants a person, which is what they are waiting for."""
    turn.state.announced_at = turn.now
    turn.say([*_place(turn), HOLD_TONE])
    turn.hold(QUIET_SECONDS)


def _place(turn: Turn) -> list[str]:
    if turn.live.line is None and not turn.live.newest:
        return []  # a replay: what was said then is not needed
    line = turn.line(declined_now(turn))
    place = line.ahead + 1
    return [PLACES[place - 1] if place <= len(PLACES) else PLACE_MORE]


def leave(turn: Turn, at: float | None = None) -> None:
    """The caller leaves the line (answered, sent on, or gone elsewhere): count the time."""
    state = turn.state
    if state.line_since is not None:
        moment = turn.now if at is None else at
        state.line_seconds = (state.line_seconds or 0.0) + max(0.0, moment - state.line_since)
        state.line_since = None
