"""The route and emergency steps: connect the caller, trying each destination in order."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from ivr.engine.model import DialResult
from ivr.engine.steps.base import (
    CONNECTED_STATUSES,
    PROMPTS,
    RING_SECONDS,
    STEP_ID,
    Exit,
    ParseContext,
    Step,
    register,
)
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
    takes the call. Between attempts the caller hears the `hold` prompts, never silence.
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

    @classmethod
    def parse(cls, raw: Node, ctx: ParseContext) -> Step:
        ring = raw.get("ring", "one")
        if ring not in ("one", "all"):
            ctx.problem(raw.line_of("ring"), _("'ring' must be 'one' (one phone at a time) or 'all'"))
        return cls(
            ctx.step,
            raw.line,
            ctx.prompts(raw, "prompts"),
            ctx.names(raw, "try"),
            raw.line_of("try"),
            ctx.prompts(raw, "hold"),
            ctx.number(raw, "ring_seconds", 25, RING_SECONDS),
            ring == "all",
            ctx.text(raw, "then"),
            raw.line_of("then"),
        )

    def exits(self) -> tuple[Exit, ...]:
        return (Exit(self.then, self.then_line, "then", silent=True),)

    def prompt_refs(self) -> tuple[str, ...]:
        return self.prompts + self.hold

    def enter(self, turn: Turn) -> str | None:
        state = turn.state
        state.step = self.id
        state.emergency = state.emergency or self.EMERGENCY
        return self._dial_next(turn, self.prompts)

    def _dial_next(self, turn: Turn, prompts: tuple[str, ...]) -> str | None:
        """Ring the next phone(s), after `prompts`; or go on to `then` when none is left."""
        legs = self._next_legs(turn)
        if not legs:
            turn.state.exhausted = True
            return self.then
        turn.say(prompts)
        turn.dial(legs, self.ring_seconds)
        return None

    def _next_legs(self, turn: Turn) -> list[Leg]:
        """The phones to ring next: as the log says they were rung, when this is a replay of
        a live moment; else asked of routing now (and noted for the log)."""
        recorded = turn.recorded_choice()
        if recorded is not None:
            found = (leg_of(turn.routing, leg, turn.flow.numbers) for leg in recorded)
            return [leg for leg in found if leg is not None]
        chosen = self._choose(turn)
        turn.decided(tuple(leg.id for leg in chosen))
        return chosen

    def _choose(self, turn: Turn) -> list[Leg]:
        query = turn.query()
        for target in self.targets:
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
        legs = self._next_legs(turn)
        if not legs:  # nothing left to ring here: the safe path reaches the national line
            raise FlowRuntimeError(f"route '{self.id}' has nothing left to ring")
        turn.dial(legs, self.ring_seconds)

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
            turn.hangup()
            return None
        if result.status == "canceled":  # the caller hung up while it rang
            turn.hangup()
            return None
        return self._dial_next(turn, self.hold)


@register
@dataclass(frozen=True)
class Emergency(Route):
    """A route that marks the call as an emergency; its prompt tells the caller about 102/112."""

    TYPE = "emergency"
    REQUIRED = ("prompts", "try", "then")
    EMERGENCY = True
