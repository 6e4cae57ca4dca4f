"""Kazakhstan's regions: names, crisis-centre lines and opening hours, and how a call's region
is found.

The region comes from the number dialled (each region's trunk or DID arrives as its own `To`),
failing that from the landline code of the caller's number (a hint, used once and discarded;
mobile numbers carry no region), failing that from the caller's choice in the region menu.
`ivr.library.regions` reads `regions.yaml` into these objects.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

import phonenumbers

from ivr.routing.roster import WEEKDAYS


@dataclass(frozen=True)
class Hours:
    days: frozenset[str]
    start: int
    end: int


@dataclass(frozen=True)
class Region:
    id: str
    names: Mapping[str, str]
    lines: tuple[str, ...]
    hours: tuple[Hours, ...] = ()  # empty: always open
    entry_numbers: tuple[str, ...] = ()
    landline_prefixes: tuple[str, ...] = ()
    line: int = 0

    def is_open(self, local: dt.datetime, holiday: bool) -> bool:
        if not self.hours:
            return True
        day = "holiday" if holiday else WEEKDAYS[local.weekday()]
        minute = local.hour * 60 + local.minute
        return any(day in h.days and h.start <= minute < h.end for h in self.hours)


@dataclass(frozen=True)
class Regions:
    file: str
    version: str
    regions: Mapping[str, Region]
    groups: tuple[tuple[str, tuple[str, ...]], ...]

    def by_number(self, to: str) -> Region | None:
        return next((r for r in self.regions.values() if to and to in r.entry_numbers), None)

    def by_landline(self, caller: str) -> Region | None:
        """The region a Kazakh landline number's code points to; None for mobiles and others."""
        try:
            number = phonenumbers.parse(caller)
        except phonenumbers.NumberParseException:
            return None
        if phonenumbers.region_code_for_number(number) != "KZ":
            return None
        if phonenumbers.number_type(number) != phonenumbers.PhoneNumberType.FIXED_LINE:
            return None
        national = phonenumbers.national_significant_number(number)
        best: tuple[int, Region] | None = None
        for region in self.regions.values():
            for prefix in region.landline_prefixes:
                if national.startswith(prefix) and (best is None or len(prefix) > best[0]):
                    best = (len(prefix), region)
        return best[1] if best else None

    def without_lines(self) -> list[Region]:
        return [r for r in self.regions.values() if not r.lines]
