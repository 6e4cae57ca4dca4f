"""One webhook's worth of engine work: the state being advanced and the reply being built."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ivr.engine.model import CallState, Dial, Gather, Hangup, Hold, Instruction, Reply, Speech
from ivr.routing.legs import Leg, Query

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from ivr.engine.flow import Flow
    from ivr.routing import Routing


class FlowRuntimeError(Exception):
    """The flow could not produce a reply; the web layer answers with the safe TwiML instead."""


class NeedsLine(Exception):
    """A route with a waiting line needs to see the line to decide: the web layer reads it
    and asks again (only the newest event of a call ever needs it). It carries what the line
    needs of this call: its query and the consultants not to offer it now."""

    def __init__(self, query: Query, declined: frozenset[str]) -> None:
        super().__init__("the waiting line is needed")
        self.query = query
        self.declined = declined


@dataclass(frozen=True)
class LineView:
    """The waiting line as one call sees it at this moment (read from the shared store)."""

    offer: str | None = None  # the consultant whose turn it is to take this call, if any
    ahead: int = 0  # callers ahead of this call (all who wait, if it has not joined yet)
    could_take: int = 0  # consultants on duty now who could take this call, busy or not
    talk_seconds: float = 0.0  # how long conversations last lately (0: not known yet)


@dataclass(frozen=True)
class Live:
    """What the engine may know of the world when it handles one event.

    `at` is the event's own time, so replaying a call's log gives the same roster answers.
    `busy` (operators already on a call) and the waiting line are only known for the newest
    event; older events take the decisions the log recorded (`Routed`).
    """

    at: dt.datetime
    busy: frozenset[str] = frozenset()
    newest: bool = False
    line: LineView | None = None
    away: frozenset[str] = frozenset()  # consultants marked away now (`ivr.calls.presence`)


class Turn:
    """Collects what the caller will hear and the single instruction that ends the reply."""

    def __init__(self, flow: Flow, state: CallState, live: Live,
                 routing: Routing | None = None,
                 recorded: Sequence[tuple[str, ...]] | None = None) -> None:
        self.flow = flow
        self.state = state
        self.live = live
        self.routing = routing
        self.speech: list[Speech] = []
        self.then: Instruction | None = None
        self.recorded = list(recorded) if recorded is not None else None
        self.decisions: list[tuple[str, ...]] = []  # made now, for the log
        self.changed = True

    @property
    def now(self) -> float:
        return self.live.at.timestamp()

    def line(self, declined: frozenset[str] = frozenset()) -> LineView:
        """The waiting line now; NeedsLine when the web layer has not read it yet. A replay of
        an older event without a recorded decision sees an empty line."""
        if self.live.line is not None:
            return self.live.line
        if self.live.newest:
            raise NeedsLine(self.query(), declined)
        return LineView()

    def recorded_choice(self) -> tuple[str, ...] | None:
        """The legs a route rang at this point when the call was live, if the log says."""
        if self.recorded:
            return tuple(self.recorded.pop(0))
        return None

    def decided(self, legs: tuple[str, ...]) -> None:
        self.decisions.append(legs)

    def query(self) -> Query:
        """What routing may know of this call: nothing of the engine's mutable state."""
        state = self.state
        return Query(at=self.live.at, language=state.language, region=state.region,
                     rotation=state.rotation, tried=frozenset(state.tried), busy=self.live.busy,
                     away=self.live.away)

    def say(self, prompts: Iterable[str]) -> None:
        """Queue prompts in the caller's language, or in every flow language before one is chosen."""
        languages = (self.state.language,) if self.state.language else self.flow.languages
        for prompt in prompts:
            self.speech.extend(Speech(prompt, language) for language in languages)

    def gather(self, timeout: int) -> None:
        self.then = Gather(timeout)

    def dial(self, legs: Iterable[Leg], timeout: int) -> None:
        dial = Dial(tuple(legs), timeout)
        self.state.ringing = tuple(leg.id for leg in dial.legs)
        self.then = dial

    def hold(self, timeout: int) -> None:
        self.then = Hold(timeout)

    def hangup(self) -> None:
        self.then = Hangup()

    def unchanged(self) -> None:
        """This event changed nothing worth keeping (a poll of the line that only holds)."""
        self.changed = False

    def reply(self) -> Reply:
        if self.then is None:
            raise FlowRuntimeError(f"step '{self.state.step}' gave no instruction")
        return Reply(tuple(self.speech), self.then, tuple(self.decisions), self.changed)
