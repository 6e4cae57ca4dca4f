"""Who is offered to whom when callers wait in line for a consultant.

First come, first served, by language: consultants who speak a caller's language go to the
callers of that language in the order they joined; only then does a consultant who is free
take a waiting caller of another language (as `operators` rings other-language operators
after the caller's own). For each caller, the consultants are taken in the order the
`operators` target gives them (those covering the caller's region first, rotating from call to
call). A consultant who did not take a call while its caller waited is not offered that call
again for a while; a caller whose offered phone is ringing is passed over meanwhile.

Pure: the web layer reads the line from Redis and asks `assign` for every webhook that needs
it, on every host alike, so the same line gives the same answer everywhere.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from ivr.routing import Routing
from ivr.routing.legs import Query
from ivr.routing.targets import on_duty_for, operators

DECLINE_PAUSE_SECONDS = 60.0  # a consultant who did not take a call is not offered it again before


@dataclass(frozen=True)
class Waiter:
    call: str
    joined: float
    routing: Routing  # the version the call runs on
    query: Query  # its language, region and rotation, at the moment of asking
    declined: frozenset[str] = frozenset()  # consultants not to offer it now
    ringing: bool = False  # a consultant's phone rings for this caller now


def assign(waiters: Sequence[Waiter], busy: frozenset[str]) -> dict[str, str]:
    """The consultant each waiting caller is offered now (callers left out get nobody)."""
    taken = set(busy)
    offered: dict[str, str] = {}
    in_order = sorted(waiters, key=lambda w: (w.joined, w.call))
    for tier in (0, 1):  # the caller's own language first, then the others
        for waiter in in_order:
            if waiter.call in offered or waiter.ringing:
                continue
            query = replace(waiter.query, busy=frozenset(taken), tried=frozenset())
            for leg in operators(waiter.routing, query):
                if leg.tier == tier and leg.operator and leg.operator not in waiter.declined:
                    offered[waiter.call] = leg.operator
                    taken.add(leg.operator)
                    break
    return offered


def could_take(routing: Routing, query: Query) -> int:
    """How many consultants on duty now could take the call, busy or not."""
    return on_duty_for(routing, query)
