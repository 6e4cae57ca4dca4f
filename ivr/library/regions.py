"""Reading `regions.yaml` into the regions routing uses, with every problem's line.

Region ids travel in URLs and in every record of their region, so they must follow `ivr.ids`.
The `menu` groups the regions for the two-level region menu: at most five groups of at most
five regions, every region in a group.
"""

from __future__ import annotations

from collections.abc import Mapping

from ivr.i18n import _
from ivr.library.fields import Fields
from ivr.numbers import dialable_problem
from ivr.routing.regions import Hours, Region, Regions
from ivr.source import LoadError, Node, Problem, suggest

REGION_KEYS = ("kk", "ru", "lines", "hours", "entry_numbers", "landline_prefixes")
MAX_GROUP = 5  # choices per level of the region menu


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


def read_regions(data: Node, name: str, version: str) -> Regions:
    """The regions in `data` (the parsed `regions.yaml`); LoadError listing every problem."""
    parser = Fields(name)
    raw = data.get("regions")
    regions: dict[str, Region] = {}
    if not isinstance(raw, Node) or not raw:
        raise LoadError([Problem(name, data.line, "", _("expected a 'regions:' mapping of region ids"))])
    for region_id, node in raw.items():
        parser.ident(raw.line_of(region_id), region_id, _("region id"))
        if not isinstance(node, Node):
            parser.problem(
                raw.line_of(region_id),
                _("region '{region_id}' must be a mapping").format(region_id=region_id),
            )
            continue
        parser.keys(node, REGION_KEYS, ("kk", "ru"), _("region '{region_id}'").format(region_id=region_id))
        lines = _strings(parser, node, "lines")
        for number in lines:
            why = dialable_problem(number)
            if why:
                parser.problem(
                    node.line_of("lines"),
                    _("region '{region_id}': {why}").format(region_id=region_id, why=why),
                )
        prefixes = _strings(parser, node, "landline_prefixes")
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
            names={k: parser.text(node, k) for k in ("kk", "ru")},
            lines=lines,
            hours=_hours(parser, node, "hours"),
            entry_numbers=_strings(parser, node, "entry_numbers"),
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
    return Regions(name, version, regions, groups)


def _strings(parser: Fields, node: Node, key: str) -> tuple[str, ...]:
    value = node.get(key, []) or []
    if not isinstance(value, list) or not all(isinstance(v, str | int) and not isinstance(v, bool)
                                              for v in value):
        parser.problem(node.line_of(key), _("'{key}' must be a list").format(key=key))
        return ()
    return tuple(str(v) for v in value)


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
        if (not isinstance(members, list) or not members or len(members) > MAX_GROUP
                or not all(isinstance(m, str) for m in members)):
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
