"""YAML that remembers where each value came from, and the problems we report about it.

Supervisors edit the YAML by hand, so every message points at a file and line. PyYAML's
SafeLoader knows the line of every node; this loader keeps it on the mappings it builds and
refuses a key written twice (PyYAML would silently keep the last one, hiding a menu option).
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode

from ivr.i18n import _


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong in a file, in plain words: `file:line[:column]: step: message`."""

    file: str
    line: int
    step: str
    message: str
    column: int = 0

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" + (f":{self.column}" if self.column else "")
        return f"{where}: {self.step}: {self.message}" if self.step else f"{where}: {self.message}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "line": self.line,
            "column": self.column or None,
            "step": self.step or None,
            "message": self.message,
        }


def with_columns(problems: Sequence[Problem]) -> list[Problem]:
    """Give each problem the column where its line's content starts: where the key is, in the
    block-style YAML supervisors write."""
    texts: dict[str, list[str]] = {}
    found = []
    for problem in problems:
        if problem.file not in texts:
            try:
                texts[problem.file] = Path(problem.file).read_text("utf-8").splitlines()
            except (OSError, UnicodeDecodeError):
                texts[problem.file] = []
        lines = texts[problem.file]
        column = problem.column
        if not column and 0 < problem.line <= len(lines):
            text = lines[problem.line - 1]
            column = len(text) - len(text.lstrip()) + 1 + (2 if text.lstrip().startswith("- ") else 0)
        found.append(replace(problem, column=column))
    return found


class LoadError(Exception):
    """Raised with every problem found, so a supervisor fixes them all in one pass."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class Node(dict[str, Any]):
    """A YAML mapping with the line of the mapping itself and of each key (1-based)."""

    line: int = 0
    key_lines: dict[str, int]

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.line)


class _Loader(yaml.SafeLoader):
    duplicates: list[tuple[str, int]]

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> Node:  # type: ignore[override]
        result = Node()
        result.line = node.start_mark.line + 1
        result.key_lines = {}
        for key_node, value_node in node.value:
            key = str(self.construct_object(key_node, deep=True))
            line = key_node.start_mark.line + 1
            if key in result.key_lines:
                self.duplicates.append((key, line))
            result.key_lines[key] = line
            result[key] = self.construct_object(value_node, deep=True)
        return result


_Loader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _Loader.construct_mapping,
)


def load_yaml(path: Path, label: str | None = None) -> Node:
    """Parse one YAML file whose top level is a mapping; raise LoadError with its line on failure."""
    name = label or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise LoadError([Problem(name, 1, "", _("cannot read the file ({exc})").format(exc=exc))]) from exc
    loader = _Loader(text)
    loader.duplicates = []
    try:
        data = loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else 1
        raise LoadError(
            [Problem(name, line, "", _("this is not valid YAML: {problem}").format(problem=exc.problem))]
        ) from exc
    finally:
        loader.dispose()
    problems = [
        Problem(name, line, "", _("the key '{key}' is written twice; keep one").format(key=key))
        for key, line in loader.duplicates
    ]
    if not isinstance(data, Node):
        problems.append(Problem(name, 1, "", _("the file must be a mapping of keys to values")))
    if problems:
        raise LoadError(problems)
    assert isinstance(data, Node)
    return data


def suggest(word: str, choices: Sequence[str]) -> str:
    """' (did you mean 'x'?)' for the closest choice, or nothing."""
    close = difflib.get_close_matches(word, choices, n=1)
    return _(" (did you mean '{word}'?)").format(word=close[0]) if close else ""
