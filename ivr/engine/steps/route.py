"""The route and emergency steps: connect the caller, trying each destination in order."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from ivr.engine.model import DialResult
from ivr.engine.steps.base import CONNECTED_STATUSES, RING_SECONDS, Exit, ParseContext, Step, register
from ivr.yamlsrc import Node

if TYPE_CHECKING:
    from ivr.engine.turn import Turn


@register
@dataclass(frozen=True)
class Route(Step):
    """Connect the caller, trying each destination in order until one answers."""

    TYPE = "route"
    KEYS = ("prompts", "try", "hold", "ring_seconds", "then")
    REQUIRED: ClassVar[tuple[str, ...]] = ("try", "then")
    CONNECTS = True
    EMERGENCY: ClassVar[bool] = False
    prompts: tuple[str, ...] = ()
    targets: tuple[str, ...] = ()
    targets_line: int = 0
    hold: tuple[str, ...] = ()
    ring_seconds: int = 25
    then: str = ""
    then_line: int = 0

    @classmethod
    def parse(cls, raw: Node, ctx: ParseContext) -> Step:
        return cls(
            ctx.step, raw.line, ctx.prompts(raw, "prompts"), ctx.names(raw, "try"),
            raw.line_of("try"), ctx.prompts(raw, "hold"),
            ctx.number(raw, "ring_seconds", 25, RING_SECONDS), ctx.text(raw, "then"),
            raw.line_of("then"),
        )

    def exits(self) -> tuple[Exit, ...]:
        return (Exit(self.then, self.then_line, "then", silent=True),)

    def prompt_refs(self) -> tuple[str, ...]:
        return self.prompts + self.hold

    def enter(self, turn: Turn) -> str | None:
        state = turn.state
        state.step = self.id
        state.leg = 0
        state.emergency = state.emergency or self.EMERGENCY
        turn.say(self.prompts)
        self.repeat(turn)
        return None

    def repeat(self, turn: Turn) -> None:
        turn.dial(self.targets[turn.state.leg], self.ring_seconds)

    def on_dial(self, turn: Turn, result: DialResult) -> str | None:
        state = turn.state
        if result.status in CONNECTED_STATUSES and result.bridged is not False:
            state.connected_to = self.targets[state.leg]
            turn.hangup()
            return None
        if result.status == "canceled":  # the caller hung up while it rang
            turn.hangup()
            return None
        state.leg += 1
        if state.leg < len(self.targets):
            turn.say(self.hold)
            self.repeat(turn)
            return None
        state.exhausted = True
        return self.then


@register
@dataclass(frozen=True)
class Emergency(Route):
    """A route that marks the call as an emergency; its prompt tells the caller about 102/112."""

    TYPE = "emergency"
    REQUIRED = ("prompts", "try", "then")
    EMERGENCY = True
