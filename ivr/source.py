"""Where a value came from in a supervisor's file, and what is wrong with it.

Supervisors edit YAML by hand, so every message points at a file and line. This leaf module
holds the vocabulary every layer shares: a `Node` (a mapping that remembers the line of each
key), a `Problem` (`file:line[:column]: step: sentence`) and `LoadError` (every problem at
once). Reading YAML into Nodes, with its limits, is `ivr.library.yaml`.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ivr.i18n import _
from ivr.ids import id_problem


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


class Collector:
    """Collects the problems found while reading one file (and one step of it, when known)."""

    file: str
    step: str
    problems: list[Problem]

    def problem(self, line: int, message: str) -> None:
        self.problems.append(Problem(self.file, line, self.step, message))

    def ident(self, line: int, value: object, what: str) -> None:
        """Refuse an id that cannot travel in URLs and the store (see ivr.ids)."""
        why = id_problem(value)
        if why:
            self.problem(line, _("{what}: {why}").format(what=what, why=why))


class LoadError(Exception):
    """Raised with every problem found, so a supervisor fixes them all in one pass."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = sorted(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class Node(dict[str, Any]):
    """A YAML mapping with the line of the mapping itself and of each key (1-based)."""

    line: int = 0
    key_lines: dict[str, int]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.key_lines = {}

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.line)


def suggest(word: str, choices: Sequence[str]) -> str:
    """' (did you mean 'x'?)' for the closest choice, or nothing."""
    close = difflib.get_close_matches(word, choices, n=1)
    return _(" (did you mean '{word}'?)").format(word=close[0]) if close else ""
