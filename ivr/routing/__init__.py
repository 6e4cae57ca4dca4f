"""Routing data: the duty roster, the regions, and the index of who is on duty when.

`load_routing` reads `roster.yaml` and `regions.yaml` from the flows folder and checks them
against each other. The engine's `route` step asks the registered targets in
`ivr.routing.targets` for the phones to ring.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from ivr.i18n import _
from ivr.routing.duty import DutyIndex
from ivr.routing.regions import Regions
from ivr.routing.roster import Roster, load_roster
from ivr.yamlsrc import LoadError, Problem, suggest

ROSTER_FILE = "roster.yaml"
REGIONS_FILE = "regions.yaml"


@dataclass(frozen=True)
class Routing:
    roster: Roster
    regions: Regions
    duty: DutyIndex

    @property
    def version(self) -> str:
        return f"{self.roster.version}-{self.regions.version}"


def load_routing(
    roster_path: Path,
    roster_label: str,
    regions: Regions,
    languages: tuple[str, ...],
    today: dt.date | None = None,
) -> Routing:
    """Load the roster and check it against the regions and the flows' languages, each of which
    needs at least one active operator."""
    roster = load_roster(roster_path, roster_label)
    problems: list[Problem] = []
    for op in roster.operators.values():
        for region in op.regions:
            if region not in regions.regions:
                problems.append(
                    Problem(
                        roster.file,
                        op.line,
                        "",
                        _("operator '{id}': unknown region '{region}'{hint}").format(
                            id=op.id, region=region, hint=suggest(region, list(regions.regions))
                        ),
                    )
                )
    spoken = {lang for op in roster.operators.values() if op.active for lang in op.languages}
    for language in languages:
        if language not in spoken:
            problems.append(
                Problem(
                    roster.file,
                    1,
                    "",
                    _("no active operator speaks '{language}', a language of the call flows").format(
                        language=language
                    ),
                )
            )
    if problems:
        raise LoadError(problems)
    return Routing(roster, regions, DutyIndex(roster, today))
