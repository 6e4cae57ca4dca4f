"""One webhook's worth of engine work: the state being advanced and the reply being built."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ivr.engine.model import CallState, Dial, Gather, Hangup, Instruction, Reply, Speech

if TYPE_CHECKING:
    from collections.abc import Iterable

    from ivr.engine.flow import Flow


class FlowRuntimeError(Exception):
    """The flow could not produce a reply; the web layer answers with the safe TwiML instead."""


class Turn:
    """Collects what the caller will hear and the single instruction that ends the reply."""

    def __init__(self, flow: Flow, state: CallState) -> None:
        self.flow = flow
        self.state = state
        self.speech: list[Speech] = []
        self.then: Instruction | None = None

    def say(self, prompts: Iterable[str]) -> None:
        """Queue prompts in the caller's language, or in every flow language before one is chosen."""
        languages = (self.state.language,) if self.state.language else self.flow.languages
        for prompt in prompts:
            self.speech.extend(Speech(prompt, language) for language in languages)

    def gather(self, timeout: int) -> None:
        self.then = Gather(timeout)

    def dial(self, target: str, timeout: int) -> None:
        self.state.dialled.append(target)
        self.then = Dial(target, self.flow.numbers[target], timeout)

    def hangup(self) -> None:
        self.then = Hangup()

    def reply(self) -> Reply:
        if self.then is None:
            raise FlowRuntimeError(f"step '{self.state.step}' gave no instruction")
        return Reply(tuple(self.speech), self.then)
