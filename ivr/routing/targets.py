"""Route targets: who to ring next for a call, registered by the name a flow's `try:` uses.

- `operators`: on-duty operators who speak the caller's language (those who cover the caller's
  region first), in an order that rotates from call to call, skipping operators already on a
  call and those already tried; then on-duty operators of the other language.
- `regional`: the caller's region's crisis-centre line(s), when the region is known and the
  centre is open.
- any name in the flow's `numbers` (`national`, `emergency`, ...): that fixed line.

Operators hear a whisper and must press 1 before the caller is bridged; fixed lines and
regional centres are bridged when they answer.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from ivr.engine.model import Leg

if TYPE_CHECKING:
    from ivr.engine.turn import Turn

Target = Callable[["Turn"], list[Leg]]
TARGETS: dict[str, Target] = {}
NEEDS_ROUTING = frozenset({"operators", "regional"})


def register(name: str) -> Callable[[Target], Target]:
    def add(target: Target) -> Target:
        TARGETS[name] = target
        return target

    return add


def known_targets(flow_numbers: Sequence[str]) -> list[str]:
    return sorted({*TARGETS, *flow_numbers})


def candidates(name: str, turn: Turn) -> list[Leg]:
    """Untried legs of target `name`, in the order to ring them."""
    fixed = [Leg(f"line:{name}", name, turn.flow.numbers[name])] if name in turn.flow.numbers else []
    legs = TARGETS[name](turn) if name in TARGETS else fixed
    return [leg for leg in legs if leg.id not in turn.state.tried]


def _rotated(ids: list[str], by: int) -> list[str]:
    if not ids:
        return ids
    shift = by % len(ids)
    return ids[shift:] + ids[:shift]


@register("operators")
def operators(turn: Turn) -> list[Leg]:
    routing, state = turn.routing, turn.state
    if routing is None:
        return []
    roster = routing.roster.operators
    on_duty = sorted(routing.duty.on_duty(turn.live.at).operators)
    language = state.language
    matched = [op for op in on_duty if language is None or language in roster[op].languages]
    others = [op for op in on_duty if op not in matched]
    local = [op for op in matched if state.region and state.region in roster[op].regions]
    # The whole order is fixed for the call (by its rotation number), then filtered, so the
    # hunt moves on around the circle; operators covering the caller's region come first.
    ordered = (_rotated(local, state.rotation)
               + _rotated([op for op in matched if op not in local], state.rotation))
    return [Leg(f"op:{op}", "operators", roster[op].phone, whisper=True, operator=op,
                tier=0 if op in matched else 1)
            for op in ordered + _rotated(others, state.rotation) if op not in turn.live.busy]


@register("regional")
def regional(turn: Turn) -> list[Leg]:
    routing, state = turn.routing, turn.state
    if routing is None or state.region is None:
        return []
    region = routing.regions.regions.get(state.region)
    if region is None:
        return []
    local = turn.live.at.astimezone(routing.roster.timezone)
    if not region.is_open(local, routing.roster.holiday_name(local.date()) is not None):
        return []
    return [Leg(f"regional:{region.id}:{n}", "regional", number)
            for n, number in enumerate(region.lines)]
