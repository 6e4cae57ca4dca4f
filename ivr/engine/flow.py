"""A call flow as the engine runs it: typed steps, checked as a whole graph when loaded.

`ivr.library.flows` reads a flow file into this, and the library refuses any flow a caller
could get stuck in; the engine only runs flows that were checked.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ivr.engine.steps import Step


@dataclass(frozen=True)
class Flow:
    name: str
    file: str
    version: str
    languages: tuple[str, ...]
    start: str
    numbers: Mapping[str, str]
    anywhere: Mapping[str, str]
    steps: Mapping[str, Step]
    entry_numbers: tuple[str, ...] = ()
