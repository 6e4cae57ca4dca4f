"""The region menu: asked only when the call's region is not known yet.

Two levels, each within five keys: first a group of regions (cities, north, east and centre,
south, west), then a region within the group, as listed in `regions.yaml`. The group prompts
are `region_group_<key>` in the prompt catalogue. A caller who stays silent or keeps pressing
wrong keys goes on with the region unknown; 0 and 9 work as in every menu.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from ivr.engine.steps.base import (
    MENU_TIMEOUT,
    PROMPTS,
    RETRY,
    STEP_ID,
    TIMEOUT,
    Exit,
    ParseContext,
    Step,
    register,
)
from ivr.engine.steps.menu import STAY, Menu, Retry
from ivr.i18n import _
from ivr.source import Node

if TYPE_CHECKING:
    from ivr.engine.turn import Turn


@register
@dataclass(frozen=True)
class RegionMenu(Menu):
    TYPE = "region_menu"
    SCHEMA: ClassVar[Mapping[str, Mapping[str, Any]]] = {
        "prompts": PROMPTS, "timeout": TIMEOUT, "next": STEP_ID, "no_input": RETRY,
        "wrong_key": RETRY}
    REQUIRED: ClassVar[tuple[str, ...]] = ("prompts", "next", "no_input", "wrong_key")
    next: str = ""
    next_line: int = 0
    group_prompts: tuple[str, ...] = ()

    @classmethod
    def parse(cls, raw: Node, ctx: ParseContext) -> Step:
        groups = ctx.region_groups
        if not groups:
            ctx.problem(raw.line, _("a region menu needs the 'menu' groups of regions.yaml"))
        return cls(
            ctx.step,
            raw.line,
            ctx.prompts(raw, "prompts"),
            ctx.number(raw, "timeout", 6, MENU_TIMEOUT),
            (),
            Retry.parse(raw, "no_input", ctx),
            Retry.parse(raw, "wrong_key", ctx),
            ctx.text(raw, "next"),
            raw.line_of("next"),
            tuple(f"region_group_{key}" for key in groups),
        )

    def exits(self) -> tuple[Exit, ...]:
        return (Exit(self.next, self.next_line, "next", silent=False), *super().exits())

    def prompt_refs(self) -> tuple[str, ...]:
        return super().prompt_refs() + self.group_prompts

    def enter(self, turn: Turn) -> str | None:
        if turn.state.region or turn.routing is None:
            return self.next
        turn.state.region_group = None
        return super().enter(turn)

    def repeat(self, turn: Turn) -> None:
        group = turn.state.region_group
        turn.say([f"region_group_{group}"] if group else self.prompts)
        turn.gather(self.timeout)

    def pick(self, turn: Turn, key: str) -> str | None:
        state = turn.state
        groups = dict(turn.routing.regions.groups) if turn.routing else {}
        if state.region_group is None:
            if key not in groups:
                return None
            state.region_group = key
            state.no_input = state.wrong_key = 0
            self.repeat(turn)
            return STAY
        members = groups.get(state.region_group, ())
        index = int(key) - 1 if key.isdigit() else -1
        if not 0 <= index < len(members):
            return None
        state.region, state.region_source = members[index], "chosen"
        return self.next
