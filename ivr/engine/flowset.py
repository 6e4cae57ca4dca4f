"""Everything a running router needs from `flows/`: the prompt catalogue and every call flow.

`prompts.yaml` is the catalogue, `roster.yaml` and `regions.yaml` feed routing; every other
`*.yaml` file in the folder is a call flow. A call
runs the flow whose `entry_numbers` list the number dialled, or else the default flow.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ivr.engine.flow import Flow, load_flow
from ivr.i18n import _
from ivr.prompts import Catalogue, ExtraPrompt, load_catalogue
from ivr.routing import REGIONS_FILE, ROSTER_FILE, Routing, load_routing
from ivr.routing.regions import load_regions
from ivr.yamlsrc import LoadError, Problem

CATALOGUE_FILE = "prompts.yaml"
NOT_FLOWS = frozenset({CATALOGUE_FILE, ROSTER_FILE, REGIONS_FILE})


@dataclass(frozen=True)
class FlowSet:
    catalogue: Catalogue
    flows: Mapping[str, Flow]
    default: str
    routing: Routing

    @property
    def version(self) -> str:
        parts = [self.catalogue.version, self.routing.version, *(f.version for f in self.flows.values())]
        return hashlib.sha256("-".join(parts).encode()).hexdigest()[:12]

    def for_number(self, to: str) -> Flow:
        for flow in self.flows.values():
            if to in flow.entry_numbers:
                return flow
        return self.flows[self.default]

    @property
    def national_numbers(self) -> tuple[str, ...]:
        """The default flow's national and emergency lines: the safe path's destinations."""
        numbers = self.flows[self.default].numbers
        return tuple(numbers[k] for k in ("national", "emergency") if k in numbers)


def display_path(path: Path) -> str:
    """A path as a supervisor would type it: relative to the current folder when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def load_flowset(flows_dir: Path, audio_dir: Path, default: str, today: dt.date | None = None) -> FlowSet:
    """Load and check the whole folder; raise LoadError with every problem in every file."""
    for required in (CATALOGUE_FILE, REGIONS_FILE, ROSTER_FILE):
        if not (flows_dir / required).is_file():
            raise LoadError([Problem(display_path(flows_dir / required), 1, "", _("the file is missing"))])
    regions = load_regions(flows_dir / REGIONS_FILE, display_path(flows_dir / REGIONS_FILE))
    names = {f"region.{r.id}": ExtraPrompt(regions.file, r.line, r.names) for r in regions.regions.values()}
    catalogue_path = flows_dir / CATALOGUE_FILE
    catalogue = load_catalogue(catalogue_path, audio_dir, display_path(catalogue_path), names)
    problems: list[Problem] = []
    flows: dict[str, Flow] = {}
    groups = tuple(key for key, _ in regions.groups)
    for path in sorted(flows_dir.glob("*.yaml")):
        if path.name in NOT_FLOWS:
            continue
        label = display_path(path)
        try:
            flow = load_flow(path, catalogue, label, groups)
        except LoadError as exc:
            problems.extend(exc.problems)
            continue
        if flow.name in flows:
            problems.append(
                Problem(label, 1, "", _("another file already defines flow '{name}'").format(name=flow.name))
            )
        flows[flow.name] = flow
    if not problems and default not in flows:
        problems.append(
            Problem(
                display_path(flows_dir),
                1,
                "",
                _("the default flow '{default}' is not defined (IVR_DEFAULT_FLOW)").format(default=default),
            )
        )
    languages = tuple(sorted({lang for flow in flows.values() for lang in flow.languages}))
    try:
        routing = load_routing(
            flows_dir / ROSTER_FILE, display_path(flows_dir / ROSTER_FILE), regions, languages, today
        )
    except LoadError as exc:
        problems.extend(exc.problems)
    if problems:
        raise LoadError(problems)
    return FlowSet(catalogue=catalogue, flows=flows, default=default, routing=routing)
