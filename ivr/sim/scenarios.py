"""Running flow scenarios (`ivr test`): each a call at a fixed clock, through the real router.

Each scenario runs through the real webhooks, call log and flow, as `ivr call` does, so a
scenario that passes is a call that will go that way. Each is the first call of its own day:
before it, the rotation and the busy marks are forgotten. The router is given by the caller
(`SimRouter`), on its own Redis: scenarios never touch a live router's state.

`hears` lists the prompts in the order heard, a prompt played in several languages in a row
counting once; `main_menu@ru` also checks the language. Every expectation is compared
exactly, so a flow that changes its behaviour fails the scenarios that describe it.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from ivr.engine.model import Event
from ivr.library.pipeline import number_names
from ivr.library.scenarios import TIME_FORMAT, Scenario
from ivr.library.snapshot import Snapshot
from ivr.library.versions import flow_of
from ivr.records.record import record_from_log
from ivr.sim.simulator import Client, SimulatedCall, Transcript, answer, press


@dataclass(frozen=True)
class SimRouter:
    """A router of its own to run simulated calls against."""

    client: Client
    auth_token: str
    set_time: Callable[[float], None]  # the clock of every event from now on
    reset: Callable[[], None]  # a new day: no operator busy, the rotation from its start
    log_of: Callable[[str], tuple[str, list[Event]]]  # a call's key and log, by its CallSid


@dataclass(frozen=True)
class Outcome:
    scenario: Scenario
    failures: tuple[str, ...]
    transcript: Transcript | None = None

    @property
    def passed(self) -> bool:
        return not self.failures


def heard_prompts(transcript: Transcript) -> list[str]:
    """The prompts heard, in order; a prompt played in several languages in a row counts once."""
    heard: list[str] = []
    run: set[str | None] = set()
    for item in transcript.heard:
        if heard and heard[-1].split("@")[0] == item.prompt and item.language not in run:
            run.add(item.language)  # the same prompt in the next language
            continue
        run = {item.language}
        heard.append(f"{item.prompt}@{item.language}")
    return heard


def _matches_hears(expected: list[str], heard: list[str]) -> bool:
    if len(expected) != len(heard):
        return False
    return all(
        want == got if "@" in want else want == got.split("@")[0]
        for want, got in zip(expected, heard, strict=True)
    )


class Runner:
    def __init__(self, snapshot: Snapshot, router: SimRouter) -> None:
        self.snapshot = snapshot
        self.router = router
        self.names = number_names(snapshot)

    def run(self, scenario: Scenario) -> Outcome:
        tz = self.snapshot.routing.roster.timezone
        moment = dt.datetime.strptime(scenario.at, TIME_FORMAT).replace(tzinfo=tz)
        self.router.reset()
        self.router.set_time(moment.timestamp())
        sid = "CA" + secrets.token_hex(16)
        sim = SimulatedCall(self.router.client, self.router.auth_token, self.snapshot.catalogue,
                            call_sid=sid, caller=scenario.caller, to=scenario.to, mark=True)
        transcript = sim.run(press(scenario.press), answer(scenario.answers))
        key, events = self.router.log_of(sid)
        record = record_from_log(key, events, lambda start: flow_of(self.snapshot, start))
        actual: dict[str, Any] = {
            "hears": heard_prompts(transcript),
            "dials": [",".join(self.names.get(n, n) for n in number.split(","))
                      for number, _ in transcript.dialled],
            "connected": self.names.get(transcript.connected_to or "", transcript.connected_to)
            or "nobody",
            **(record.payload() if record else {}),
        }
        return Outcome(scenario, tuple(self._compare(scenario.expect, actual)), transcript)

    def _compare(self, expect: Mapping[str, Any], actual: Mapping[str, Any]) -> Iterator[str]:
        for key, want in expect.items():
            got = actual.get(key)
            if key == "hears":
                wanted = [str(w) for w in want]
                if not _matches_hears(wanted, list(got or [])):
                    yield f"hears: expected {wanted}, heard {[g.split('@')[0] for g in got or []]}"
            elif key == "dials":
                wanted = [str(w) for w in (want if isinstance(want, list) else [want])]
                if wanted != got:
                    yield f"dials: expected {wanted}, dialled {got}"
            elif want != got:
                yield f"{key}: expected {want!r}, got {got!r}"
