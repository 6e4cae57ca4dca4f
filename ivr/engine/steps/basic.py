"""The simple step types: say, language, goto, hangup."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ivr.engine.steps.base import Exit, ParseContext, Step, register
from ivr.i18n import _
from ivr.yamlsrc import Node

if TYPE_CHECKING:
    from ivr.engine.turn import Turn


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
    KEYS = ("language", "next")
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
