"""Step types: one small frozen dataclass each, registered by the YAML keyword that names it.

A step type declares its keys, parses itself, lists its exits for the load-time graph checks, and
acts on a `Turn` at run time. Adding a step type touches this module (and its tests) only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, TypeVar

from ivr.engine.model import DialResult
from ivr.yamlsrc import Node, Problem

if TYPE_CHECKING:
    from ivr.engine.turn import Turn

DTMF_KEYS = "0123456789*#"
MENU_TIMEOUT = (5, 8)  # seconds: long enough to decide, short enough not to feel abandoned
MAX_RETRIES = 3
MAX_CHOICES = 4  # besides 0, which always reaches a person (ISO/IEC 13714)
RING_SECONDS = (5, 600)  # Twilio's limits for <Dial timeout>
CONNECTED_STATUSES = frozenset({"completed", "answered"})


class StaleEvent(Exception):
    """An event that does not fit the step the call is waiting in (a replayed webhook)."""


@dataclass
class ParseContext:
    file: str
    step: str
    languages: tuple[str, ...]
    problems: list[Problem]

    def problem(self, line: int, message: str) -> None:
        self.problems.append(Problem(self.file, line, self.step, message))

    def text(self, raw: Node, key: str, default: str = "") -> str:
        value = raw.get(key, default)
        if not isinstance(value, str) or not value:
            self.problem(raw.line_of(key), f"'{key}' must name a step")
            return default
        return value

    def number(self, raw: Node, key: str, default: int, bounds: tuple[int, int]) -> int:
        value = raw.get(key, default)
        low, high = bounds
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            self.problem(raw.line_of(key), f"'{key}' must be a whole number from {low} to {high}")
            return default
        return value

    def prompts(self, raw: Node, key: str) -> tuple[str, ...]:
        value = raw.get(key, [])
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list) or not all(isinstance(i, str) and i for i in items):
            self.problem(raw.line_of(key), f"'{key}' must be a prompt id or a list of prompt ids")
            return ()
        return tuple(items)

    def names(self, raw: Node, key: str) -> tuple[str, ...]:
        value = raw.get(key, [])
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list) or not items or not all(isinstance(i, str) for i in items):
            self.problem(raw.line_of(key), f"'{key}' must be a list of names")
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
    KEYS: ClassVar[tuple[str, ...]] = ()
    REQUIRED: ClassVar[tuple[str, ...]] = ()  # keys a step of this type cannot do without
    CONNECTS: ClassVar[bool] = False  # reaching this step puts the caller through to a person

    id: str
    line: int

    @classmethod
    def parse(cls, raw: Node, ctx: ParseContext) -> Step:
        raise NotImplementedError

    def exits(self) -> tuple[Exit, ...]:
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

    def repeat(self, turn: Turn) -> None:
        """Give the current instruction again (after a stale or duplicated webhook)."""
        turn.hangup()


STEP_TYPES: dict[str, type[Step]] = {}
S = TypeVar("S", bound=type[Step])


def register(cls: S) -> S:
    STEP_TYPES[cls.TYPE] = cls
    return cls


@register
@dataclass(frozen=True)
class Say(Step):
    TYPE = "say"
    KEYS = ("prompts", "next")
    REQUIRED = ("prompts", "next")
    prompts: tuple[str, ...] = ()
    next: str = ""
    next_line: int = 0

    @classmethod
    def parse(cls, raw: Node, ctx: ParseContext) -> Step:
        return cls(ctx.step, raw.line, ctx.prompts(raw, "prompts"), ctx.text(raw, "next"),
                   raw.line_of("next"))

    def exits(self) -> tuple[Exit, ...]:
        return (Exit(self.next, self.next_line, "next", silent=True),)

    def prompt_refs(self) -> tuple[str, ...]:
        return self.prompts

    def enter(self, turn: Turn) -> str | None:
        turn.say(self.prompts)
        return self.next


@register
@dataclass(frozen=True)
class Language(Step):
    TYPE = "language"
    KEYS = ("language", "next")
    REQUIRED = ("language", "next")
    language: str = ""
    next: str = ""
    next_line: int = 0

    @classmethod
    def parse(cls, raw: Node, ctx: ParseContext) -> Step:
        language = raw.get("language")
        if language not in ctx.languages:
            ctx.problem(raw.line_of("language"),
                        f"'language' must be one of the flow's languages: {', '.join(ctx.languages)}")
        return cls(ctx.step, raw.line, str(language), ctx.text(raw, "next"), raw.line_of("next"))

    def exits(self) -> tuple[Exit, ...]:
        return (Exit(self.next, self.next_line, "next", silent=True),)

    def enter(self, turn: Turn) -> str | None:
        turn.state.language = self.language
        return self.next


@register
@dataclass(frozen=True)
class Goto(Step):
    TYPE = "goto"
    KEYS = ("to",)
    REQUIRED = ("to",)
    to: str = ""

    @classmethod
    def parse(cls, raw: Node, ctx: ParseContext) -> Step:
        return cls(ctx.step, raw.line, ctx.text(raw, "to"))

    def exits(self) -> tuple[Exit, ...]:
        return (Exit(self.to, self.line, "to", silent=True),)

    def enter(self, turn: Turn) -> str | None:
        return self.to


@register
@dataclass(frozen=True)
class Hangup(Step):
    TYPE = "hangup"
    KEYS = ("prompts",)
    prompts: tuple[str, ...] = ()

    @classmethod
    def parse(cls, raw: Node, ctx: ParseContext) -> Step:
        return cls(ctx.step, raw.line, ctx.prompts(raw, "prompts"))

    def prompt_refs(self) -> tuple[str, ...]:
        return self.prompts

    def enter(self, turn: Turn) -> str | None:
        turn.say(self.prompts)
        turn.hangup()
        return None


@dataclass(frozen=True)
class Retry:
    """What a menu does on silence or a wrong key: say `prompts`, ask again, then go to `then`."""

    prompts: tuple[str, ...]
    retries: int
    then: str
    line: int

    @classmethod
    def parse(cls, raw: Node, key: str, ctx: ParseContext) -> Retry:
        value = raw.get(key)
        line = raw.line_of(key)
        if not isinstance(value, Node):
            ctx.problem(line, f"'{key}' must be a mapping with 'retries' and 'then'")
            return cls((), 0, "", line)
        for extra in set(value) - {"prompts", "retries", "then"}:
            ctx.problem(value.line_of(extra),
                        f"unknown key '{extra}' in '{key}' (allowed: prompts, retries, then)")
        if "retries" not in value:
            ctx.problem(line, f"'{key}' needs 'retries', a bound on how often the menu repeats")
        if "then" not in value:
            ctx.problem(line, f"'{key}' needs 'then': where the caller goes when retries run out")
        retries = ctx.number(value, "retries", 0, (0, MAX_RETRIES))
        then = ctx.text(value, "then") if "then" in value else ""
        return cls(ctx.prompts(value, "prompts"), retries, then, value.line_of("then"))


@register
@dataclass(frozen=True)
class Menu(Step):
    TYPE = "menu"
    KEYS = ("prompts", "timeout", "options", "no_input", "wrong_key")
    REQUIRED = ("prompts", "options", "no_input", "wrong_key")
    prompts: tuple[str, ...] = ()
    timeout: int = 6
    options: tuple[tuple[str, str, int], ...] = ()  # (key, target, line)
    no_input: Retry = Retry((), 0, "", 0)
    wrong_key: Retry = Retry((), 0, "", 0)

    @classmethod
    def parse(cls, raw: Node, ctx: ParseContext) -> Step:
        options: list[tuple[str, str, int]] = []
        raw_options = raw.get("options")
        if isinstance(raw_options, Node):
            for key, target in raw_options.items():
                line = raw_options.line_of(key)
                if len(key) != 1 or key not in DTMF_KEYS:
                    ctx.problem(line, f"'{key}' is not a phone key: use one of 0-9, * or #")
                elif not isinstance(target, str):
                    ctx.problem(line, f"option '{key}' must name a step")
                else:
                    options.append((key, target, line))
            choices = [k for k, _, _ in options if k != "0"]
            if len(choices) > MAX_CHOICES:
                ctx.problem(raw.line_of("options"),
                            f"this menu offers {len(choices)} choices besides 0; callers remember "
                            f"at most {MAX_CHOICES}: split it into two menus")
        else:
            ctx.problem(raw.line_of("options"), "'options' must map keys to steps, e.g. '1: talk'")
        return cls(
            ctx.step, raw.line, ctx.prompts(raw, "prompts"),
            ctx.number(raw, "timeout", 6, MENU_TIMEOUT), tuple(options),
            Retry.parse(raw, "no_input", ctx), Retry.parse(raw, "wrong_key", ctx),
        )

    def exits(self) -> tuple[Exit, ...]:
        keys = tuple(Exit(target, line, f"key {key}", silent=False)
                     for key, target, line in self.options)
        return (*keys,
                Exit(self.no_input.then, self.no_input.line, "no_input", silent=True),
                Exit(self.wrong_key.then, self.wrong_key.line, "wrong_key", silent=False))

    def prompt_refs(self) -> tuple[str, ...]:
        return self.prompts + self.no_input.prompts + self.wrong_key.prompts

    def enter(self, turn: Turn) -> str | None:
        turn.state.step = self.id
        turn.state.no_input = turn.state.wrong_key = 0
        self.repeat(turn)
        return None

    def repeat(self, turn: Turn) -> None:
        turn.say(self.prompts)
        turn.gather(self.timeout)

    def on_digits(self, turn: Turn, digits: str) -> str | None:
        key = digits[:1]
        if key:
            for option, target, _ in self.options:
                if option == key:
                    return target
            if key in turn.flow.anywhere:
                return turn.flow.anywhere[key]
        state = turn.state
        retry = self.wrong_key if key else self.no_input
        count = state.wrong_key + 1 if key else state.no_input + 1
        if key:
            state.wrong_key = count
        else:
            state.no_input = count
        if count > retry.retries:
            # A caller who cannot use the menu may be unable to speak: treat them as silent.
            state.silent = True
            return retry.then
        turn.say(retry.prompts)
        self.repeat(turn)
        return None


@register
@dataclass(frozen=True)
class Route(Step):
    """Connect the caller, trying each destination in order until one answers."""

    TYPE = "route"
    KEYS = ("prompts", "try", "hold", "ring_seconds", "then")
    REQUIRED: ClassVar[tuple[str, ...]] = ("try", "then")
    CONNECTS = True
    EMERGENCY: ClassVar[bool] = False
    prompts: tuple[str, ...] = ()
    targets: tuple[str, ...] = ()
    targets_line: int = 0
    hold: tuple[str, ...] = ()
    ring_seconds: int = 25
    then: str = ""
    then_line: int = 0

    @classmethod
    def parse(cls, raw: Node, ctx: ParseContext) -> Step:
        return cls(
            ctx.step, raw.line, ctx.prompts(raw, "prompts"), ctx.names(raw, "try"),
            raw.line_of("try"), ctx.prompts(raw, "hold"),
            ctx.number(raw, "ring_seconds", 25, RING_SECONDS), ctx.text(raw, "then"),
            raw.line_of("then"),
        )

    def exits(self) -> tuple[Exit, ...]:
        return (Exit(self.then, self.then_line, "then", silent=True),)

    def prompt_refs(self) -> tuple[str, ...]:
        return self.prompts + self.hold

    def enter(self, turn: Turn) -> str | None:
        state = turn.state
        state.step = self.id
        state.leg = 0
        state.emergency = state.emergency or self.EMERGENCY
        turn.say(self.prompts)
        self.repeat(turn)
        return None

    def repeat(self, turn: Turn) -> None:
        turn.dial(self.targets[turn.state.leg], self.ring_seconds)

    def on_dial(self, turn: Turn, result: DialResult) -> str | None:
        state = turn.state
        if result.status in CONNECTED_STATUSES and result.bridged is not False:
            state.connected_to = self.targets[state.leg]
            turn.hangup()
            return None
        if result.status == "canceled":  # the caller hung up while it rang
            turn.hangup()
            return None
        state.leg += 1
        if state.leg < len(self.targets):
            turn.say(self.hold)
            self.repeat(turn)
            return None
        state.exhausted = True
        return self.then


@register
@dataclass(frozen=True)
class Emergency(Route):
    """A route that marks the call as an emergency; its prompt tells the caller about 102/112."""

    TYPE = "emergency"
    REQUIRED = ("prompts", "try", "then")
    EMERGENCY = True
