"""The simple step types: say, language, goto, hangup."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from ivr.engine.steps.base import PROMPTS, STEP_ID, Exit, ParseContext, Step, register
from ivr.i18n import _
from ivr.languages import LANGUAGE_NAMES
from ivr.source import Node

if TYPE_CHECKING:
    from ivr.engine.turn import Turn


@register
@dataclass(frozen=True)
class Say(Step):
    TYPE = "say"
    SCHEMA: ClassVar[Mapping[str, Mapping[str, Any]]] = {"prompts": PROMPTS, "next": STEP_ID}
    REQUIRED = ("prompts", "next")
    prompts: tuple[str, ...] = ()
    next: str = ""
    next_line: int = 0

    @classmethod
    def parse(cls, raw: Node, ctx: ParseContext) -> Step:
        return cls(
            ctx.step, raw.line, ctx.prompts(raw, "prompts"), ctx.text(raw, "next"), raw.line_of("next")
        )

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
    SCHEMA: ClassVar[Mapping[str, Mapping[str, Any]]] = {
        "language": {"enum": list(LANGUAGE_NAMES)}, "next": STEP_ID}
    REQUIRED = ("language", "next")
    language: str = ""
    next: str = ""
    next_line: int = 0

    @classmethod
    def parse(cls, raw: Node, ctx: ParseContext) -> Step:
        language = raw.get("language")
        if language not in ctx.languages:
            ctx.problem(
                raw.line_of("language"),
                _("'language' must be one of the flow's languages: {languages}").format(
                    languages=", ".join(ctx.languages)
                ),
            )
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
    SCHEMA: ClassVar[Mapping[str, Mapping[str, Any]]] = {"to": STEP_ID}
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
    SCHEMA: ClassVar[Mapping[str, Mapping[str, Any]]] = {"prompts": PROMPTS}
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
