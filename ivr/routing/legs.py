"""Legs, the phones a route rings, and the small query routing answers.

A leg's id names it in the URLs Twilio calls back (the whisper, the dial result) and in the
call's log: `op:<operator>`, `regional:<region>:<n>` or `line:<number name>`. The ids inside
come from supervisors' files, which the library refuses unless they follow `ivr.ids`, so every
leg the router makes matches `LEG_ID`, and a URL whose leg does not is not ours.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from ivr.ids import ID_PATTERN

OPERATOR, REGIONAL, LINE = "op", "regional", "line"
LEG_ID = re.compile(rf"^(?:(?:{OPERATOR}|{LINE}):{ID_PATTERN}|{REGIONAL}:{ID_PATTERN}:\d{{1,2}})$")


@dataclass(frozen=True)
class Leg:
    """One phone to ring. `kind` is the destination type kept in the call's record."""

    id: str
    kind: str
    number: str
    whisper: bool = False  # the person hears who is calling and presses 1 to accept
    operator: str | None = None
    tier: int = 0  # legs of one tier may ring together; a later tier only after them


@dataclass(frozen=True)
class Query:
    """What routing needs to know of a call to choose its next legs, and nothing more."""

    at: dt.datetime  # the moment of the event being handled (who is on duty then)
    language: str | None = None
    region: str | None = None
    rotation: int = 0  # the call's place in the stream of calls: who rings first rotates
    tried: frozenset[str] = frozenset()  # leg ids already rung for this call
    busy: frozenset[str] = frozenset()  # operators on another call now
    away: frozenset[str] = frozenset()  # on duty, but marked away for now: not on duty at all


def operator_leg(operator: str) -> str:
    return f"{OPERATOR}:{operator}"


def line_leg(name: str) -> str:
    return f"{LINE}:{name}"


def regional_leg(region: str, n: int) -> str:
    return f"{REGIONAL}:{region}:{n}"


def operator_of(leg_id: str) -> str | None:
    """The operator a leg rings, or None for a fixed line or a regional centre."""
    prefix, _, rest = leg_id.partition(":")
    return rest if prefix == OPERATOR else None


def kind_of(leg_id: str) -> str:
    """The destination type of a leg, for the call record: operators, regional or a number's
    name (national, emergency, ...)."""
    prefix, _, rest = leg_id.partition(":")
    kinds = {OPERATOR: "operators", REGIONAL: "regional", LINE: rest}
    return kinds.get(prefix) or "unknown"
