"""Route targets: who to ring next for a call, registered by the name a flow's `try:` uses.

- `operators`: on-duty operators who speak the caller's language (those who cover the caller's
  region first), in an order that rotates from call to call, skipping operators already on a
  call and those already tried; then on-duty operators of the other language.
- `regional`: the caller's region's crisis-centre line(s), when the region is known and the
  centre is open.
- any name in the flow's `numbers` (`national`, `emergency`, ...): that fixed line.

Operators hear a whisper and must press 1 before the caller is bridged; fixed lines and
regional centres are bridged when they answer. Each target takes the routing tables and a
`Query` and yields legs in the order to ring them, made only as they are asked for: a route that
rings one phone at a time takes one leg, however many operators are on duty. The order before
rotation (region first, the rest of the language, everyone else) is kept on the duty segment
(`Segment.order`), made by the first call of a segment and reused by every later one, and the
waiting line counts who could take a call without listing them (`on_duty_for`): a roster of
10,000 costs a routed webhook about what a roster of ten does (`bench/routed.py`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence

from ivr.routing import Routing
from ivr.routing.legs import LINE, OPERATOR, REGIONAL, Leg, Query, line_leg, operator_leg, regional_leg

Target = Callable[[Routing, Query], Iterable[Leg]]
TARGETS: dict[str, Target] = {}


def register(name: str) -> Callable[[Target], Target]:
    def add(target: Target) -> Target:
        TARGETS[name] = target
        return target

    return add


def known_targets(flow_numbers: Sequence[str]) -> list[str]:
    return sorted({*TARGETS, *flow_numbers})


def candidates(routing: Routing | None, name: str, query: Query,
               numbers: Mapping[str, str]) -> Iterator[Leg]:
    """Untried legs of target `name`, in the order to ring them."""
    legs: Iterable[Leg] = ()
    if name in TARGETS:
        legs = TARGETS[name](routing, query) if routing is not None else ()
    elif name in numbers:
        legs = (Leg(line_leg(name), name, numbers[name]),)
    return (leg for leg in legs if leg.id not in query.tried)


def leg_of(routing: Routing | None, leg_id: str, numbers: Mapping[str, str]) -> Leg | None:
    """The leg an id names, in this version's roster, regions and numbers (None when it names
    nothing there): a replay rings what the live call rang."""
    prefix, _, rest = leg_id.partition(":")
    if prefix == OPERATOR and routing is not None:
        operator = routing.roster.operators.get(rest)
        return _operator(routing, rest, 0) if operator is not None else None
    if prefix == LINE:
        return Leg(leg_id, rest, numbers[rest]) if rest in numbers else None
    if prefix == REGIONAL and routing is not None:
        region_id, _, n = rest.rpartition(":")
        region = routing.regions.regions.get(region_id)
        if region is not None and n.isdigit() and int(n) < len(region.lines):
            return Leg(leg_id, "regional", region.lines[int(n)])
    return None


def _operator(routing: Routing, operator: str, tier: int) -> Leg:
    return Leg(operator_leg(operator), "operators", routing.roster.operators[operator].phone,
               whisper=True, operator=operator, tier=tier)


def _rotated(ids: Sequence[str], by: int) -> Iterator[str]:
    if ids:
        shift = by % len(ids)
        yield from ids[shift:]
        yield from ids[:shift]


@register("operators")
def operators(routing: Routing, query: Query) -> Iterator[Leg]:
    segment = routing.duty.on_duty(query.at)
    order = segment.order(query.language, query.region, routing.regions_of)
    local, rest, others = order.local, order.rest, order.others
    if query.away:  # rare and few: filtering here keeps the common path as it is
        local, rest, others = (tuple(op for op in part if op not in query.away)
                               for part in (local, rest, others))
    # The whole order is fixed for the call (by its rotation number), then filtered, so the
    # hunt moves on around the circle; operators covering the caller's region come first.
    # Legs are made only as the route asks for them.
    skip = query.busy
    for tier, part in ((0, _rotated(local, query.rotation)), (0, _rotated(rest, query.rotation)),
                       (1, _rotated(others, query.rotation))):
        for op in part:
            if op not in skip:
                yield _operator(routing, op, tier)


def on_duty_for(routing: Routing, query: Query) -> int:
    """How many consultants on duty could take the call, busy or not: everyone on duty (other
    languages after the caller's own) who has not marked themselves away."""
    on_duty = routing.duty.on_duty(query.at).operators
    return len(on_duty) - len(on_duty & query.away)


@register("regional")
def regional(routing: Routing, query: Query) -> list[Leg]:
    if query.region is None:
        return []
    region = routing.regions.regions.get(query.region)
    if region is None:
        return []
    local = query.at.astimezone(routing.roster.timezone)
    if not region.is_open(local, routing.roster.holiday_name(local.date()) is not None):
        return []
    return [Leg(regional_leg(region.id, n), "regional", number)
            for n, number in enumerate(region.lines)]
