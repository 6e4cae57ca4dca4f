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
rings one phone at a time takes one leg, however many operators are on duty. Membership tests
are on sets, so a roster of thousands on duty costs little more per call than a roster of ten.
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


def _rotated(ids: Sequence[str], by: int) -> list[str]:
    if not ids:
        return []
    shift = by % len(ids)
    return [*ids[shift:], *ids[:shift]]


@register("operators")
def operators(routing: Routing, query: Query) -> Iterator[Leg]:
    roster = routing.roster.operators
    segment = routing.duty.on_duty(query.at)
    on_duty = segment.ordered
    matched = on_duty if query.language is None else segment.by_language.get(query.language, ())
    if query.away:  # rare and few: filtering here keeps the common path as it is
        on_duty = tuple(op for op in on_duty if op not in query.away)
        matched = tuple(op for op in matched if op not in query.away)
    in_matched = set(matched)
    local = [op for op in matched if query.region and query.region in roster[op].regions]
    in_local = set(local)
    # The whole order is fixed for the call (by its rotation number), then filtered, so the
    # hunt moves on around the circle; operators covering the caller's region come first.
    ordered = [*_rotated(local, query.rotation),
               *_rotated([op for op in matched if op not in in_local], query.rotation)]
    others = _rotated([op for op in on_duty if op not in in_matched], query.rotation)
    return (_operator(routing, op, 0 if op in in_matched else 1)
            for op in [*ordered, *others] if op not in query.busy)


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
