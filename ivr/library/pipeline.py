"""The check pipeline: the one way a snapshot comes into being, and the one verdict on files.

    files ─▶ parse (ivr.library.yamlfile) ─▶ one-file readers (flows, prompts, recordings,
    roster, regions, scenarios) ─▶ cross-file checks ─▶ schema (a last net) ─▶ Snapshot

`ivr check`, `ivr publish`, `ivr status`, a router starting on an empty store, and every router
process loading a published version all call `check`, so the same files get the same problems
(with the same lines and columns) wherever they are checked. Results of the costly one-file
stages are kept by content hash, so loading a version whose roster did not change does not read
the roster again.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from functools import partial
from pathlib import PurePosixPath
from typing import TypeVar

from ivr.engine.flow import Flow
from ivr.i18n import _
from ivr.library.catalogue import AUDIO_SUFFIXES, Catalogue, ExtraPrompt, Recording, read_catalogue
from ivr.library.crosschecks import (
    languages_spoken,
    operators_regions,
    safe_path_prompts,
    whisper_prompts,
)
from ivr.library.files import SCENARIOS, Source
from ivr.library.flows import read_flow
from ivr.library.recordings import MANIFEST, format_problem, read_manifest, text_problem
from ivr.library.regions import read_regions
from ivr.library.roster import read_roster
from ivr.library.scenarios import Scenario, read_scenarios
from ivr.library.schemas import schema_problems
from ivr.library.snapshot import (
    CATALOGUE_FILE,
    NOT_FLOWS,
    REGIONS_FILE,
    ROSTER_FILE,
    Snapshot,
    digest,
    version_of,
)
from ivr.library.trees import encode
from ivr.library.yamlfile import parse
from ivr.routing import DutyIndex, Regions, Roster, Routing
from ivr.settings import Settings
from ivr.source import LoadError, Node, Problem

T = TypeVar("T")


@dataclass(frozen=True)
class Options:
    """What a verdict depends on besides the files: settings every host shares."""

    default_flow: str = "hotline150"  # IVR_DEFAULT_FLOW
    fallback_numbers: tuple[str, ...] = ()  # IVR_FALLBACK_NUMBERS

    @classmethod
    def of(cls, settings: Settings) -> Options:
        return cls(settings.default_flow, settings.fallback_numbers)


@dataclass(frozen=True)
class Verdict:
    problems: tuple[Problem, ...]
    snapshot: Snapshot | None = None
    catalogue: Catalogue | None = None  # when prompts.yaml could be read (for the audio tools)

    @property
    def ok(self) -> bool:
        return not self.problems


class _Memo:
    """A small least-recently-used memory of one stage's results, by the content they read."""

    def __init__(self, size: int = 48) -> None:
        self._items: OrderedDict[tuple[str, ...], object] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def get(self, key: tuple[str, ...], make: Callable[[], T]) -> T:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]  # type: ignore[return-value]
        value = make()
        with self._lock:
            self._items[key] = value
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return value


_PARSED, _ROSTERS, _DUTY, _SCHEMA = _Memo(), _Memo(8), _Memo(8), _Memo()


def _attempt(make: Callable[[], T]) -> T | LoadError:
    try:
        return make()
    except LoadError as exc:
        return exc


def build(source: Source, options: Options) -> Snapshot:
    """The snapshot of `source`; LoadError with every problem when it does not pass."""
    verdict = check(source, options)
    if verdict.snapshot is None:
        raise LoadError(list(verdict.problems))
    return verdict.snapshot


def check(source: Source, options: Options, require_recordings: bool = True) -> Verdict:
    """Check every file of `source`; the snapshot when nothing is wrong.

    `require_recordings=False` is for the audio tools only, which list missing recordings
    themselves: a verdict without recordings is never published."""
    return _Run(source, options).check(require_recordings)


class _Run:
    def __init__(self, source: Source, options: Options) -> None:
        self.source = source
        self.options = options
        self.names = source.names()
        self.problems: list[Problem] = list(getattr(source, "problems", []))
        self.files: dict[str, bytes] = {}
        self.trees: dict[str, Node] = {}
        self.hashes: dict[str, str] = {}

    # --- reading ----------------------------------------------------------------------------
    def read(self, name: str) -> bytes | None:
        try:
            data = self.source.read(name)
        except LoadError as exc:
            self.problems.extend(exc.problems)
            return None
        self.files[name] = data
        self.hashes[name] = digest(data)
        return data

    def tree(self, name: str) -> Node | None:
        data = self.read(name)
        if data is None:
            return None
        result = _PARSED.get((name, self.hashes[name]), lambda: _attempt(lambda: parse(data, name)))
        if isinstance(result, LoadError):
            self.problems.extend(result.problems)
            return None
        self.trees[name] = result
        return result

    def recording(self, language: str, prompt_id: str) -> Recording | None:
        for suffix in AUDIO_SUFFIXES:
            path = f"audio/{language}/{prompt_id}{suffix}"
            if path not in self.names:
                continue
            data = self.read(path)
            if data is None:
                return Recording(path.removeprefix("audio/"), "0" * 12)  # its problem is listed
            why = format_problem(path, data)
            if why:
                self.problems.append(Problem(path, 1, "", why))
            sha = self.hashes[path]
            return Recording(path.removeprefix("audio/"), sha[:12], sha)
        return None

    # --- the stages ---------------------------------------------------------------------------
    def check(self, require_recordings: bool) -> Verdict:
        for required in (CATALOGUE_FILE, REGIONS_FILE, ROSTER_FILE):
            if required not in self.names:
                self.problems.append(Problem(required, 1, "", _("the file is missing")))
        for name in self.names:
            if name.endswith(".yaml"):
                self.tree(name)
        regions = self.regions()
        catalogue = self.catalogue(regions, require_recordings)
        flows = self.flows(catalogue, regions)
        roster = self.roster()
        scenarios = self.scenarios()
        self.cross_file(catalogue, flows, roster, regions)
        self.schemas()
        problems = _with_columns(self.problems, self.files)
        if problems or catalogue is None or roster is None or regions is None:
            return Verdict(tuple(sorted(set(problems))), None, catalogue)
        duty = _DUTY.get((self.hashes[ROSTER_FILE],), lambda: DutyIndex(roster))
        snapshot = Snapshot(version_of(self.files), dict(self.files), catalogue, flows,
                            self.options.default_flow, Routing(roster, regions, duty),
                            tuple(scenarios))
        return Verdict((), snapshot, catalogue)

    def regions(self) -> Regions | None:
        node = self.trees.get(REGIONS_FILE)
        if node is None:
            return None
        result = _attempt(lambda: read_regions(node, REGIONS_FILE, self.hashes[REGIONS_FILE][:12]))
        if isinstance(result, LoadError):
            self.problems.extend(result.problems)
            return None
        return result

    def catalogue(self, regions: Regions | None, require_recordings: bool) -> Catalogue | None:
        node = self.trees.get(CATALOGUE_FILE)
        if node is None:
            return None
        names = {f"region.{r.id}": ExtraPrompt(regions.file, r.line, r.names)
                 for r in regions.regions.values()} if regions else {}
        catalogue, problems = read_catalogue(node, CATALOGUE_FILE, self.hashes[CATALOGUE_FILE],
                                             names, self.recording, require_recordings)
        self.problems.extend(problems)
        manifest, problems = read_manifest(self.trees.get(MANIFEST))
        self.problems.extend(problems)
        for prompt in catalogue.prompts.values():
            for language, recording in sorted(prompt.recordings.items()):
                why = text_problem(recording.relpath, prompt.texts[language], manifest)
                if why:
                    file = regions.file if regions and prompt.id.startswith("region.") \
                        else CATALOGUE_FILE
                    line = (prompt.text_lines or {}).get(language, prompt.line)
                    self.problems.append(Problem(file, line, prompt.id, why))
        return catalogue

    def flows(self, catalogue: Catalogue | None, regions: Regions | None) -> dict[str, Flow]:
        flows: dict[str, Flow] = {}
        if catalogue is None:
            return flows
        groups = tuple(key for key, _ in regions.groups) if regions else ()
        failed = False
        for name, node in self.trees.items():
            if not name.startswith("flows/") or name.startswith(f"{SCENARIOS}/") or name in NOT_FLOWS:
                continue
            result = _attempt(partial(read_flow, node, name, self.hashes[name], catalogue, groups))
            if isinstance(result, LoadError):
                self.problems.extend(result.problems)
                failed = True
                continue
            if result.name in flows:
                kept, copy = flows[result.name], result
                if PurePosixPath(copy.file).stem == copy.name != PurePosixPath(kept.file).stem:
                    kept, copy = copy, kept  # `hotline150.yaml` is the flow; the other a copy
                flows[result.name] = kept
                self.problems.append(Problem(copy.file, 1, "", _(
                    "another file ({other}) already defines flow '{name}'; if this file is a "
                    "copy, delete it or move it out of the folder").format(
                        other=kept.file, name=copy.name)))
                continue
            flows[result.name] = result
        flow_files = [n for n in self.names if n.startswith("flows/") and n.endswith(".yaml")
                      and not n.startswith(f"{SCENARIOS}/") and n not in NOT_FLOWS]
        default = self.options.default_flow
        if not failed and default not in flows and set(flow_files) <= set(self.trees):
            self.problems.append(Problem("flows", 1, "", _(
                "the default flow '{default}' is not defined (IVR_DEFAULT_FLOW)").format(
                    default=default)))
        return flows

    def roster(self) -> Roster | None:
        node = self.trees.get(ROSTER_FILE)
        if node is None:
            return None
        sha = self.hashes[ROSTER_FILE]
        result = _ROSTERS.get((sha,), lambda: _attempt(lambda: read_roster(node, ROSTER_FILE,
                                                                           sha[:12])))
        if isinstance(result, LoadError):
            self.problems.extend(result.problems)
            return None
        return result

    def scenarios(self) -> list[Scenario]:
        found: list[Scenario] = []
        for name, node in self.trees.items():
            if name.startswith(f"{SCENARIOS}/"):
                scenarios, problems = read_scenarios(node, name)
                found += scenarios
                self.problems.extend(problems)
        return found

    def cross_file(self, catalogue: Catalogue | None, flows: Mapping[str, Flow],
                   roster: Roster | None, regions: Regions | None) -> None:
        languages = sorted({lang for flow in flows.values() for lang in flow.languages})
        if roster is not None and regions is not None:
            self.problems.extend(operators_regions(roster, regions))
        if roster is not None:
            self.problems.extend(languages_spoken(roster, languages))
        if catalogue is not None:
            self.problems.extend(safe_path_prompts(catalogue))
            if roster is not None and regions is not None and flows:
                self.problems.extend(whisper_prompts(catalogue, roster, regions, languages))
        default = flows.get(self.options.default_flow)
        if default is not None and not self.options.fallback_numbers and not any(
                k in default.numbers for k in ("national", "emergency")):
            self.problems.append(Problem(default.file, 1, "", _(
                "the safe path needs a 'national' number in the default flow (or "
                "IVR_FALLBACK_NUMBERS)")))

    def schemas(self) -> None:
        """The schemas catch what the readers leave, in files the readers found no fault in."""
        with_problems = {p.file for p in self.problems}
        for name, node in self.trees.items():
            if name == MANIFEST or name in with_problems:
                continue
            self.problems.extend(_SCHEMA.get((name, self.hashes[name]),
                                             partial(schema_problems, node, name)))


def _with_columns(problems: Iterable[Problem], files: Mapping[str, bytes]) -> list[Problem]:
    """Give each problem the column where its line's content starts: where the key is, in the
    block-style YAML supervisors write."""
    lines: dict[str, list[str]] = {}
    found = []
    for problem in problems:
        if problem.file not in lines:
            data = files.get(problem.file, b"") if problem.file.endswith(".yaml") else b""
            lines[problem.file] = data.decode("utf-8-sig", "replace").splitlines()
        text_lines = lines[problem.file]
        column = problem.column
        if not column and 0 < problem.line <= len(text_lines):
            text = text_lines[problem.line - 1]
            column = len(text) - len(text.lstrip()) + 1 + (2 if text.lstrip().startswith("- ") else 0)
        found.append(replace(problem, column=column))
    return found


def number_names(snapshot: Snapshot) -> dict[str, str]:
    """What each number the router may dial is called in scenarios and transcripts."""
    names = {number: name for flow in snapshot.flows.values()
             for name, number in flow.numbers.items()}
    names.update({op.phone: op.id for op in snapshot.routing.roster.operators.values()})
    names.update({number: f"regional:{region.id}"
                  for region in snapshot.routing.regions.regions.values()
                  for number in region.lines})
    return names



def parsed(name: str, data: bytes) -> Node | None:
    """A YAML file of a version as the pipeline reads it (kept by content), or None."""
    result = _PARSED.get((name, digest(data)), lambda: _attempt(lambda: parse(data, name)))
    return None if isinstance(result, LoadError) else result


def remember(name: str, data: bytes, tree: Node) -> None:
    """Take `tree` as the parse of `data` (stored by the publisher that parsed it)."""
    _PARSED.get((name, digest(data)), lambda: tree)


def remember_schema_passed(name: str, data: bytes) -> None:
    """Take the schema's verdict on `data` as nothing wrong (noted by the publisher, under the
    same schemas)."""
    _SCHEMA.get((name, digest(data)), list)


def forget_parsed() -> None:
    """Let parse trees go (a router process keeps the versions, not the trees they came from)."""
    _PARSED.clear()


def parse_trees(files: Mapping[str, bytes]) -> dict[str, str]:
    """The parsed form of a version's YAML files, by content hash, for the store."""
    found = {}
    for name, data in files.items():
        tree = parsed(name, data) if name.endswith(".yaml") else None
        text = encode(tree) if tree is not None else None
        if text is not None:
            found[digest(data)] = text
    return found
