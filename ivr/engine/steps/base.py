"""Step types: one small frozen dataclass each, registered by the YAML keyword that names it.

A step type declares its keys and the JSON Schema fragment of each (editors complete and check
them; `ivr check` validates against them), parses itself, lists its exits for the load-time
graph checks, and acts on a `Turn` at run time. Adding a step type touches one module of this
package (and its tests) only: the package imports its modules, and each registers itself.
This module holds what every step type shares.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from ivr.engine.model import DialResult
from ivr.i18n import _
from ivr.source import Collector, Node, Problem

if TYPE_CHECKING:
    from ivr.engine.turn import Turn

DTMF_KEYS = "0123456789*#"
MENU_TIMEOUT = (5, 8)  # seconds: long enough to decide, short enough not to feel abandoned
MAX_RETRIES = 3
MAX_CHOICES = 4  # besides 0, which always reaches a person (ISO/IEC 13714)
RING_SECONDS = (5, 600)  # Twilio's limits for <Dial timeout>
CONNECTED_STATUSES = frozenset({"completed", "answered"})

# JSON Schema fragments that several step types use for their keys.
STEP_ID: Mapping[str, Any] = {"type": "string", "description": "The id of a step in this flow"}
PROMPTS: Mapping[str, Any] = {
    "anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}],
    "description": "A prompt id from flows/prompts.yaml, or a list of them"}
RETRY: Mapping[str, Any] = {
    "type": "object", "additionalProperties": False, "required": ["retries", "then"],
    "properties": {"prompts": PROMPTS,
                   "retries": {"type": "integer", "minimum": 0, "maximum": MAX_RETRIES},
                   "then": STEP_ID},
}
TIMEOUT: Mapping[str, Any] = {"type": "integer", "minimum": MENU_TIMEOUT[0],
                              "maximum": MENU_TIMEOUT[1]}


class StaleEvent(Exception):
    """An event that does not fit the step the call is waiting in (a replayed webhook)."""


@dataclass
class ParseContext(Collector):
    file: str
    step: str
    languages: tuple[str, ...]
    problems: list[Problem]
    region_groups: tuple[str, ...] = ()  # keys of the region menu's groups, from regions.yaml

    def text(self, raw: Node, key: str, default: str = "") -> str:
        value = raw.get(key, default)
        if not isinstance(value, str) or not value:
            self.problem(raw.line_of(key), _("'{key}' must name a step").format(key=key))
            return default
        return value

    def number(self, raw: Node, key: str, default: int, bounds: tuple[int, int]) -> int:
        value = raw.get(key, default)
        low, high = bounds
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            self.problem(
                raw.line_of(key),
                _("'{key}' must be a whole number from {low} to {high}").format(key=key, low=low, high=high),
            )
            return default
        return value

    def prompts(self, raw: Node, key: str) -> tuple[str, ...]:
        value = raw.get(key, [])
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list) or not all(isinstance(i, str) and i for i in items):
            self.problem(
                raw.line_of(key), _("'{key}' must be a prompt id or a list of prompt ids").format(key=key)
            )
            return ()
        return tuple(items)

    def names(self, raw: Node, key: str) -> tuple[str, ...]:
        value = raw.get(key, [])
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list) or not items or not all(isinstance(i, str) for i in items):
            self.problem(raw.line_of(key), _("'{key}' must be a list of names").format(key=key))
            return ()
        return tuple(items)


@dataclass(frozen=True)
class Exit:
    """An arrow in the flow graph. `silent` arrows are taken without the caller pressing a key."""

    target: str
    line: int
    label: str
    silent: bool


@dataclass(frozen=True)
class Step:
    TYPE: ClassVar[str] = ""
    SCHEMA: ClassVar[Mapping[str, Mapping[str, Any]]] = {}  # each key: its JSON Schema
    REQUIRED: ClassVar[tuple[str, ...]] = ()  # keys a step of this type cannot do without
    CONNECTS: ClassVar[bool] = False  # reaching this step puts the caller through to a person

    id: str
    line: int

    @classmethod
    def parse(cls, raw: Node, ctx: ParseContext) -> Step:
        raise NotImplementedError

    @classmethod
    def keys(cls) -> tuple[str, ...]:
        """The keys a step of this type may have besides `type`, in the order documented."""
        return tuple(cls.SCHEMA)

    def exits(self) -> tuple[Exit, ...]:
        """Every arrow out of this step; the graph checks follow each silent one."""
        return ()

    def prompt_refs(self) -> tuple[str, ...]:
        return ()

    def enter(self, turn: Turn) -> str | None:
        """Act on arrival. Return the next step's id, or None once an instruction is set."""
        raise NotImplementedError

    def on_digits(self, turn: Turn, digits: str) -> str | None:
        raise StaleEvent(self.id)

    def on_dial(self, turn: Turn, result: DialResult) -> str | None:
        raise StaleEvent(self.id)

    def on_tick(self, turn: Turn) -> str | None:
        """A poll from the hold loop: only a route with a waiting line expects one."""
        raise StaleEvent(self.id)

    def repeat(self, turn: Turn) -> None:
        """Give the current instruction again (after a stale or duplicated webhook)."""
        turn.hangup()


STEP_TYPES: dict[str, type[Step]] = {}
S = TypeVar("S", bound=type[Step])


def register(cls: S) -> S:
    STEP_TYPES[cls.TYPE] = cls
    return cls
