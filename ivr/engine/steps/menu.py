"""The menu step: one key, with bounded repeats on silence and on wrong keys."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from ivr.engine.steps.base import (
    DTMF_KEYS,
    MAX_CHOICES,
    MAX_RETRIES,
    MENU_TIMEOUT,
    PROMPTS,
    RETRY,
    STEP_ID,
    TIMEOUT,
    Exit,
    ParseContext,
    Step,
    register,
)
from ivr.i18n import _
from ivr.source import Node

if TYPE_CHECKING:
    from ivr.engine.turn import Turn

STAY = ""  # from `pick`: the key was taken and the menu has asked its next question


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
            ctx.problem(line, _("'{key}' must be a mapping with 'retries' and 'then'").format(key=key))
            return cls((), 0, "", line)
        for extra in set(value) - {"prompts", "retries", "then"}:
            ctx.problem(
                value.line_of(extra),
                _("unknown key '{extra}' in '{key}' (allowed: prompts, retries, then)").format(
                    extra=extra, key=key
                ),
            )
        if "retries" not in value:
            ctx.problem(
                line, _("'{key}' needs 'retries', a bound on how often the menu repeats").format(key=key)
            )
        if "then" not in value:
            ctx.problem(
                line, _("'{key}' needs 'then': where the caller goes when retries run out").format(key=key)
            )
        retries = ctx.number(value, "retries", 0, (0, MAX_RETRIES))
        then = ctx.text(value, "then") if "then" in value else ""
        return cls(ctx.prompts(value, "prompts"), retries, then, value.line_of("then"))


@register
@dataclass(frozen=True)
class Menu(Step):
    TYPE = "menu"
    SCHEMA: ClassVar[Mapping[str, Mapping[str, Any]]] = {
        "prompts": PROMPTS, "timeout": TIMEOUT,
        "options": {"type": "object", "propertyNames": {"pattern": "^[0-9*#]$"},
                    "additionalProperties": STEP_ID, "maxProperties": MAX_CHOICES + 1},
        "no_input": RETRY, "wrong_key": RETRY,
    }
    REQUIRED: ClassVar[tuple[str, ...]] = ("prompts", "options", "no_input", "wrong_key")
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
                    ctx.problem(line, _("'{key}' is not a phone key: use one of 0-9, * or #").format(key=key))
                elif not isinstance(target, str):
                    ctx.problem(line, _("option '{key}' must name a step").format(key=key))
                else:
                    options.append((key, target, line))
            choices = [k for k, _, _ in options if k != "0"]
            if len(choices) > MAX_CHOICES:
                ctx.problem(
                    raw.line_of("options"),
                    _(
                        "this menu offers {len_choices} choices besides 0; callers "
                        "remember at most {MAX_CHOICES}: split it into two menus"
                    ).format(len_choices=len(choices), MAX_CHOICES=MAX_CHOICES),
                )
        else:
            ctx.problem(raw.line_of("options"), _("'options' must map keys to steps, e.g. '1: talk'"))
        return cls(
            ctx.step,
            raw.line,
            ctx.prompts(raw, "prompts"),
            ctx.number(raw, "timeout", 6, MENU_TIMEOUT),
            tuple(options),
            Retry.parse(raw, "no_input", ctx),
            Retry.parse(raw, "wrong_key", ctx),
        )

    def exits(self) -> tuple[Exit, ...]:
        keys = tuple(
            Exit(target, line, _("key {key}").format(key=key), silent=False)
            for key, target, line in self.options
        )
        return (
            *keys,
            Exit(self.no_input.then, self.no_input.line, "no_input", silent=True),
            Exit(self.wrong_key.then, self.wrong_key.line, "wrong_key", silent=False),
        )

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

    def pick(self, turn: Turn, key: str) -> str | None:
        """The step a key leads to, STAY when the menu asks again itself, None if not offered."""
        return next((target for option, target, _ in self.options if option == key), None)

    def on_digits(self, turn: Turn, digits: str) -> str | None:
        key = digits[:1]
        if key:
            target = self.pick(turn, key)
            if target is None:
                target = turn.flow.anywhere.get(key)
            if target == STAY:
                return None
            if target is not None:
                return target
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
