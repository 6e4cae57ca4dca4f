"""The route and emergency steps: connect the caller, trying each destination in order."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from ivr.engine.model import DialResult
from ivr.engine.steps import waiting
from ivr.engine.steps.base import (
    CONNECTED_STATUSES,
    PROMPTS,
    RING_SECONDS,
    STEP_ID,
    Exit,
    ParseContext,
    StaleEvent,
    Step,
    register,
)
from ivr.engine.steps.waiting import Wait
from ivr.engine.turn import FlowRuntimeError
from ivr.i18n import _
from ivr.routing.legs import Leg, kind_of, operator_of
from ivr.routing.targets import candidates, leg_of
from ivr.source import Node

if TYPE_CHECKING:
    from ivr.engine.turn import Turn


@register
@dataclass(frozen=True)
class Route(Step):
    """Connect the caller, trying each target in order until someone answers.

    A target may give several phones (the on-duty operators): by default they ring one at a
    time, each for `ring_seconds`; with `ring: all` they ring together and the first to accept
    takes the call. Between attempts the caller hears the `hold` prompts, never silence. With
    `wait:`, a caller whom no free consultant can take waits in line for one
    (`ivr.engine.steps.waiting`) before the route goes on to its other targets.
    """

    TYPE = "route"
    SCHEMA: ClassVar[Mapping[str, Mapping[str, Any]]] = {
        "prompts": PROMPTS,
        "try": {"type": "array", "minItems": 1, "items": {"type": "string"},
                "description": "operators, regional, or names from the flow's numbers"},
        "hold": PROMPTS,
        "ring_seconds": {"type": "integer", "minimum": RING_SECONDS[0],
                         "maximum": RING_SECONDS[1]},
        "ring": {"enum": ["one", "all"]},
        "wait": waiting.SCHEMA,
        "then": STEP_ID,
    }
    REQUIRED: ClassVar[tuple[str, ...]] = ("try", "then")
    CONNECTS = True
    EMERGENCY: ClassVar[bool] = False
    prompts: tuple[str, ...] = ()
    targets: tuple[str, ...] = ()
    targets_line: int = 0
    hold: tuple[str, ...] = ()
    ring_seconds: int = 25
    ring_all: bool = False
    then: str = ""
    then_line: int = 0
    wait: Wait | None = None

    @classmethod
    def parse(cls, raw: Node, ctx: ParseContext) -> Step:
        ring = raw.get("ring", "one")
        if ring not in ("one", "all"):
            ctx.problem(raw.line_of("ring"), _("'ring' must be 'one' (one phone at a time) or 'all'"))
        targets = ctx.names(raw, "try")
        wait = Wait.parse(raw, ctx)
        if wait is not None and "operators" not in targets:
            ctx.problem(raw.line_of("wait"), _(
                "'wait' is a line for consultants: add 'operators' to 'try', or remove 'wait'"))
        if wait is not None and ring == "all":
            ctx.problem(raw.line_of("wait"), _(
                "a route with 'wait' offers each free consultant to the caller whose turn it "
                "is, one at a time: remove 'ring: all' or 'wait'"))
        return cls(
            ctx.step,
            raw.line,
            ctx.prompts(raw, "prompts"),
            targets,
            raw.line_of("try"),
            ctx.prompts(raw, "hold"),
            ctx.number(raw, "ring_seconds", 25, RING_SECONDS),
            ring == "all",
            ctx.text(raw, "then"),
            raw.line_of("then"),
            wait,
        )

    def exits(self) -> tuple[Exit, ...]:
        return (Exit(self.then, self.then_line, "then", silent=True),)

    def prompt_refs(self) -> tuple[str, ...]:
        return self.prompts + self.hold + (waiting.PROMPTS if self.wait else ())

    @property
    def for_consultants(self) -> bool:
        """A route to the consultants (not the emergency path): its figures are the line's."""
        return not self.EMERGENCY and "operators" in self.targets

    def enter(self, turn: Turn) -> str | None:
        state = turn.state
        state.step = self.id
        state.emergency = state.emergency or self.EMERGENCY
        state.line_done, state.declined = False, {}
        if self.for_consultants and state.route_reached_at is None:
            state.route_reached_at = turn.now
        return self._dial_next(turn, self.prompts)

    def _dial_next(self, turn: Turn, prompts: tuple[str, ...], poll: bool = False) -> str | None:
        """Ring the next phone(s), after `prompts`; wait in line; or go on to `then` when
        nothing is left."""
        legs = self._next_legs(turn)
        if isinstance(legs, waiting.Waiting) and self.wait is not None:
            # Back in line after a phone that did not take the call: say so (`hold`); a
            # newcomer hears the line's own words, and a poll only the hold sound.
            back = turn.state.line_since is not None and not poll
            waiting.hold(self.wait, turn, prompts if back else (), poll)
            return None
        if turn.state.line_done or not legs:
            waiting.leave(turn)  # past the line: on to the other targets (an offer keeps it)
        if not legs:
            turn.state.exhausted = True
            self._left(turn)
            return self.then
        turn.say(prompts)
        turn.dial(legs, self.ring_seconds)
        return None

    def _next_legs(self, turn: Turn) -> list[Leg]:
        """The phones to ring next (or WAITING): as the log says they were rung, when this is a
        replay of a live moment; else asked of routing now (and noted for the log)."""
        recorded = turn.recorded_choice()
        if recorded is not None:
            if recorded == (waiting.WAIT_CHOICE,):
                return waiting.WAITING
            found = (leg_of(turn.routing, leg, turn.flow.numbers) for leg in recorded)
            return [leg for leg in found if leg is not None]
        chosen = self._choose(turn)
        turn.decided((waiting.WAIT_CHOICE,) if isinstance(chosen, waiting.Waiting)
                     else tuple(leg.id for leg in chosen))
        return chosen

    def _choose(self, turn: Turn) -> list[Leg]:
        query = turn.query()
        for target in self.targets:
            if target == "operators" and self.wait is not None:
                if turn.state.line_done:
                    continue
                offered = waiting.offer_or_wait(self.wait, turn)
                if offered or isinstance(offered, waiting.Waiting):
                    return offered
                continue
            legs = candidates(turn.routing, target, query, turn.flow.numbers)
            first = next(legs, None)
            if first is None:
                continue
            chosen = [first]
            for leg in legs if self.ring_all else ():  # the rest of the first tier, together
                if leg.tier != first.tier:
                    break
                chosen.append(leg)
            return chosen
        return []

    def repeat(self, turn: Turn) -> None:
        if self.wait is not None and turn.state.line_since is not None:
            waiting.hold(self.wait, turn)  # a stale webhook while waiting: hold on
            return
        legs = self._next_legs(turn)
        if not legs or isinstance(legs, waiting.Waiting):
            # nothing left to ring here: the safe path reaches the national line
            raise FlowRuntimeError(f"route '{self.id}' has nothing left to ring")
        turn.dial(legs, self.ring_seconds)

    def on_tick(self, turn: Turn) -> str | None:
        """A poll from the hold loop: ring the consultant whose turn it is, hold on, or, after
        `max_seconds`, go on to the other targets."""
        state = turn.state
        if self.wait is None or state.line_since is None:
            raise StaleEvent(self.id)
        if turn.now - state.line_since >= self.wait.max_seconds:
            waiting.leave(turn)
            state.line_done = True
            return self._dial_next(turn, self.hold)
        return self._dial_next(turn, self.prompts, poll=True)

    def on_digits(self, turn: Turn, digits: str) -> str | None:
        """A key while waiting: 9 (or any key the flow sends elsewhere from every menu) leaves
        the line for that step; 0 and any other key keep the caller's place."""
        state = turn.state
        if self.wait is None or state.line_since is None:
            raise StaleEvent(self.id)
        target = turn.flow.anywhere.get(digits[:1])
        if target is not None and target != self.id:
            waiting.leave(turn)
            self._left(turn)
            return target
        waiting.tell_place(turn)
        return None

    def on_dial(self, turn: Turn, result: DialResult) -> str | None:
        state = turn.state
        rung = result.legs or state.ringing  # the action URL names the legs; else our own note
        state.tried.extend(leg for leg in rung if leg not in state.tried)
        needs_accept = any(operator_of(leg) for leg in rung)
        accepted = state.accepted in rung if needs_accept else True
        if result.status in CONNECTED_STATUSES and result.bridged is not False and accepted:
            leg = (state.accepted or "") if needs_accept else (rung[0] if rung else "")
            state.connected_to = kind_of(leg)
            state.operator = operator_of(leg)
            answered = (state.accepted_at if needs_accept else None) or \
                result.at - (result.talked or 0)
            state.answered_after = max(0.0, answered - state.started_at)
            waiting.leave(turn, answered)
            self._left(turn, answered)
            turn.hangup()
            return None
        if result.status == "canceled":  # the caller hung up while it rang
            turn.hangup()
            return None
        for operator in filter(None, map(operator_of, rung)):  # not taken: not again soon
            state.declined[operator] = turn.now
        return self._dial_next(turn, self.hold)  # a caller in line keeps their place

    def _left(self, turn: Turn, at: float | None = None) -> None:
        state = turn.state
        if self.for_consultants and state.route_left_at is None:
            state.route_left_at = turn.now if at is None else at


@register
@dataclass(frozen=True)
class Emergency(Route):
    """A route that marks the call as an emergency; its prompt tells the caller about 102/112."""

    TYPE = "emergency"
    REQUIRED = ("prompts", "try", "then")
    EMERGENCY = True
