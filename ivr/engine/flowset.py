"""Everything a running router needs from `flows/`: the prompt catalogue and every call flow.

`prompts.yaml` is the catalogue, `roster.yaml` and `regions.yaml` feed routing; every other
`*.yaml` file in the folder is a call flow. A call
runs the flow whose `entry_numbers` list the number dialled, or else the default flow.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ivr.engine.flow import Flow, load_flow
from ivr.prompts import Catalogue, load_catalogue
from ivr.yamlsrc import LoadError, Problem

CATALOGUE_FILE = "prompts.yaml"
NOT_FLOWS = frozenset({CATALOGUE_FILE, "roster.yaml", "regions.yaml"})


@dataclass(frozen=True)
class FlowSet:
    catalogue: Catalogue
    flows: Mapping[str, Flow]
    default: str

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


def load_flowset(flows_dir: Path, audio_dir: Path, default: str) -> FlowSet:
    """Load and check the whole folder; raise LoadError with every problem in every file."""
    catalogue_path = flows_dir / CATALOGUE_FILE
    if not catalogue_path.is_file():
        raise LoadError([Problem(str(catalogue_path), 1, "", "the prompt catalogue is missing")])
    catalogue = load_catalogue(catalogue_path, audio_dir, display_path(catalogue_path))
    problems: list[Problem] = []
    flows: dict[str, Flow] = {}
    for path in sorted(flows_dir.glob("*.yaml")):
        if path.name in NOT_FLOWS:
            continue
        label = display_path(path)
        try:
            flow = load_flow(path, catalogue, label)
        except LoadError as exc:
            problems.extend(exc.problems)
            continue
        if flow.name in flows:
            problems.append(Problem(label, 1, "", f"another file already defines flow '{flow.name}'"))
        flows[flow.name] = flow
    if not problems and default not in flows:
        problems.append(Problem(display_path(flows_dir), 1, "",
                                f"the default flow '{default}' is not defined (IVR_DEFAULT_FLOW)"))
    if problems:
        raise LoadError(problems)
    return FlowSet(catalogue=catalogue, flows=flows, default=default)
