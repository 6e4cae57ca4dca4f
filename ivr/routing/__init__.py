"""Routing: the duty roster, the regions, who is on duty when, and who to ring next.

Pure data and functions over it: the library builds a `Routing` from `roster.yaml` and
`regions.yaml`; the engine's `route` step asks `ivr.routing.targets.candidates` with a small
`Query` and gets `Leg`s back. Nothing here knows the engine, Flask, Twilio or Redis.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass

from ivr.routing.duty import DutyIndex
from ivr.routing.legs import Leg, Query
from ivr.routing.regions import Regions
from ivr.routing.roster import Roster

__all__ = ["DutyIndex", "Leg", "Query", "Regions", "Roster", "Routing"]


@dataclass(frozen=True)
class Routing:
    roster: Roster
    regions: Regions
    duty: DutyIndex

    @property
    def version(self) -> str:
        return f"{self.roster.version}-{self.regions.version}"

    @functools.cached_property
    def regions_of(self) -> Mapping[str, tuple[str, ...]]:
        """The regions each operator covers first (only those who cover any)."""
        return {op: o.regions for op, o in self.roster.operators.items() if o.regions}
