"""Kazakhstan's regions: names, crisis-centre lines and opening hours, and how a call's region
is found.

The region comes from the number dialled (each region's trunk or DID arrives as its own `To`),
failing that from the landline code of the caller's number (a hint, used once and discarded;
mobile numbers carry no region), failing that from the caller's choice in the region menu.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import phonenumbers

from ivr.i18n import _
from ivr.numbers import dialable_problem
from ivr.routing.fields import WEEKDAYS, Fields
from ivr.yamlsrc import LoadError, Node, Problem, load_yaml, suggest

REGION_KEYS = ("kk", "ru", "lines", "hours", "entry_numbers", "landline_prefixes")
MAX_GROUP = 5  # choices per level of the region menu


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


def _hours(parser: Fields, node: Node, key: str) -> tuple[Hours, ...]:
    value = node.get(key, "always")
    if value == "always":
        return ()
    if not isinstance(value, list) or not all(isinstance(h, Node) for h in value):
        parser.problem(node.line_of(key), _("'hours' must be 'always' or a list of {days, from, to}"))
        return ()
    hours = []
    for entry in value:
        parser.keys(entry, ("days", "from", "to"), ("days", "from", "to"), _("opening hours"))
        start, end = parser.minutes(entry, "from"), parser.minutes(entry, "to")
        days = parser.days(entry)
        if start is not None and end is not None:
            if end <= start:
                parser.problem(entry.line, _("opening hours must end after they start on the same day"))
            hours.append(Hours(days, start, end))
    return tuple(hours)


def load_regions(path: Path, label: str | None = None) -> Regions:
    name = label or path.name
    data = load_yaml(path, name)
    parser = Fields(name)
    raw = data.get("regions")
    regions: dict[str, Region] = {}
    if not isinstance(raw, Node) or not raw:
        raise LoadError([Problem(name, data.line, "", _("expected a 'regions:' mapping of region ids"))])
    for region_id, node in raw.items():
        if not isinstance(node, Node):
            parser.problem(
                raw.line_of(region_id),
                _("region '{region_id}' must be a mapping").format(region_id=region_id),
            )
            continue
        parser.keys(node, REGION_KEYS, ("kk", "ru"), _("region '{region_id}'").format(region_id=region_id))
        lines = tuple(str(n) for n in node.get("lines", []) or [])
        for number in lines:
            why = dialable_problem(number)
            if why:
                parser.problem(
                    node.line_of("lines"),
                    _("region '{region_id}': {why}").format(region_id=region_id, why=why),
                )
        prefixes = tuple(str(p) for p in node.get("landline_prefixes", []) or [])
        for prefix in prefixes:
            if not prefix.isdigit():
                parser.problem(
                    node.line_of("landline_prefixes"),
                    _(
                        "region '{region_id}': landline prefix '{prefix}' must be "
                        "digits of the national number, e.g. '7172'"
                    ).format(region_id=region_id, prefix=prefix),
                )
        regions[region_id] = Region(
            id=region_id,
            names={k: str(node.get(k, "")) for k in ("kk", "ru")},
            lines=lines,
            hours=_hours(parser, node, "hours"),
            entry_numbers=tuple(str(n) for n in node.get("entry_numbers", []) or []),
            landline_prefixes=prefixes,
            line=raw.line_of(region_id),
        )
    groups = _groups(parser, data, regions)
    for key in data:
        if key not in ("regions", "menu"):
            parser.problem(
                data.line_of(key), _("unknown key '{key}'; allowed: regions, menu").format(key=key)
            )
    if parser.problems:
        raise LoadError(parser.problems)
    return Regions(name, hashlib.sha256(path.read_bytes()).hexdigest()[:12], regions, groups)


def _groups(
    parser: Fields, data: Node, regions: Mapping[str, Region]
) -> tuple[tuple[str, tuple[str, ...]], ...]:
    menu = data.get("menu", Node())
    if not isinstance(menu, Node):
        parser.problem(data.line_of("menu"), _("'menu' must map keys to lists of regions"))
        return ()
    if len(menu) > MAX_GROUP:
        parser.problem(
            menu.line,
            _("the region menu offers {len_menu} groups; at most {MAX_GROUP}").format(
                len_menu=len(menu), MAX_GROUP=MAX_GROUP
            ),
        )
    groups = []
    listed: set[str] = set()
    for key, members in menu.items():
        line = menu.line_of(key)
        if key not in "123456789" or len(key) != 1:
            parser.problem(line, _("'{key}' is not a key from 1 to 9").format(key=key))
        if not isinstance(members, list) or not members or len(members) > MAX_GROUP:
            parser.problem(
                line, _("group {key} must list 1 to {MAX_GROUP} regions").format(key=key, MAX_GROUP=MAX_GROUP)
            )
            continue
        for member in members:
            if member not in regions:
                parser.problem(
                    line,
                    _("unknown region '{member}'{hint}").format(
                        member=member, hint=suggest(str(member), list(regions))
                    ),
                )
        listed.update(members)
        groups.append((key, tuple(members)))
    for region_id in regions:
        if menu and region_id not in listed:
            parser.problem(
                regions[region_id].line,
                _(
                    "region '{region_id}' is in no group of the region menu, so a caller could not choose it"
                ).format(region_id=region_id),
            )
    return tuple(groups)
