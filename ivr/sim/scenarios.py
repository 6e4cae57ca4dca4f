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
import heapq
import secrets
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from ivr.engine.model import Event
from ivr.i18n import _
from ivr.library.pipeline import number_names
from ivr.library.recordings import seconds
from ivr.library.scenarios import TIME_FORMAT, Caller, Scenario, WhileWaiting
from ivr.library.snapshot import Snapshot
from ivr.library.versions import flow_of
from ivr.records.record import record_from_log
from ivr.sim.simulator import HANG_UP, HOLD_TONE, Client, SimulatedCall, Transcript, answer, press


@dataclass(frozen=True)
class SimRouter:
    """A router of its own to run simulated calls against."""

    client: Client
    auth_token: str
    set_time: Callable[[float], None]  # the clock of every event from now on
    reset: Callable[[], None]  # a new day: no operator busy, the rotation from its start
    log_of: Callable[[str], tuple[str, list[Event]]]  # a call's key and log, by its CallSid
    occupy: Callable[[list[str], float], None]  # operators on other calls for so many seconds
    now: Callable[[], float]  # the router's clock


@dataclass(frozen=True)
class Outcome:
    scenario: Scenario
    failures: tuple[str, ...]
    transcript: Transcript | None = None

    @property
    def passed(self) -> bool:
        return not self.failures


def heard_prompts(transcript: Transcript) -> list[str]:
    """The prompts heard, in order; a prompt played in several languages in a row counts
    once, and so does the hold sound played over and over while a caller waits."""
    heard: list[str] = []
    run: set[str | None] = set()
    for item in transcript.heard:
        if heard and heard[-1].split("@")[0] == item.prompt and \
                (item.language not in run or item.prompt == HOLD_TONE):
            run.add(item.language)  # the same prompt in the next language, or the hold sound
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


def durations(snapshot: Snapshot) -> dict[str, float]:
    """How long each prompt plays (its longest recording), for the simulation's clock."""
    found: dict[str, float] = {}
    for prompt in snapshot.catalogue.prompts.values():
        for recording in prompt.recordings.values():
            length = seconds(snapshot.files.get(f"audio/{recording.relpath}", b""))
            if length is not None:
                found[prompt.id] = max(found.get(prompt.id, 0.0), length)
    return found


def while_waiting(plan: WhileWaiting | None) -> Callable[[float], str | None]:
    """A caller's action in line: nothing, until `plan.after` seconds have passed."""
    def act(waited: float) -> str | None:
        if plan is None or waited < plan.after:
            return None
        return HANG_UP if plan.hangs_up else plan.press
    return act


def together(calls: list[tuple[float, Iterator[float]]],
             set_time: Callable[[float], None]) -> None:
    """Run several calls on one clock: each (start, steps) sends its webhooks at their
    moments, in the order of the clock, whichever call they belong to."""
    waiting = [(start, n, steps) for n, (start, steps) in enumerate(calls)]
    heapq.heapify(waiting)
    while waiting:
        moment, n, steps = heapq.heappop(waiting)
        set_time(moment)
        delay = next(steps, None)
        if delay is not None:
            heapq.heappush(waiting, (moment + delay, n, steps))


PLACE_PREFIX = "wait_place_"


class Runner:
    def __init__(self, snapshot: Snapshot, router: SimRouter) -> None:
        self.snapshot = snapshot
        self.router = router
        self.names = number_names(snapshot)
        self.durations = durations(snapshot)

    def run(self, scenario: Scenario) -> Outcome:
        """Every caller of the scenario, on one clock from the scenario's time. The calls run
        on the router's own Redis, as real calls do there: who is busy, the waiting line and
        the rotation are shared between the scenario's callers, and forgotten after it."""
        tz = self.snapshot.routing.roster.timezone
        moment = dt.datetime.strptime(scenario.at, TIME_FORMAT).replace(tzinfo=tz).timestamp()
        self.router.reset()
        sims: list[tuple[Caller, SimulatedCall]] = []
        steps: list[tuple[float, Iterator[float]]] = []
        for caller in scenario.callers:
            sim = SimulatedCall(self.router.client, self.router.auth_token,
                                self.snapshot.catalogue, call_sid="CA" + secrets.token_hex(16),
                                caller=caller.caller, to=caller.to, durations=self.durations,
                                talk=caller.talks, while_waiting=while_waiting(caller.while_waiting))
            sims.append((caller, sim))
            steps.append((moment + caller.after,
                          sim.steps(press(caller.press), answer(caller.answers))))
        together(steps, self.router.set_time)
        failures: list[str] = []
        for n, (caller, sim) in enumerate(sims, start=1):
            found = self._compare(caller.expect, self._actual(sim))
            who = _("caller {number}: ").format(number=n) if len(sims) > 1 else ""
            failures += [f"{who}{failure}" for failure in found]
        return Outcome(scenario, tuple(failures), sims[-1][1].transcript if sims else None)

    def _actual(self, sim: SimulatedCall) -> dict[str, Any]:
        transcript = sim.transcript
        key, events = self.router.log_of(sim.params["CallSid"])
        record = record_from_log(key, events, lambda start: flow_of(self.snapshot, start))
        return {
            "hears": heard_prompts(transcript),
            "dials": [",".join(self.names.get(n, n) for n in number.split(","))
                      for number, _ in transcript.dialled],
            "connected": self.names.get(transcript.connected_to or "", transcript.connected_to)
            or "nobody",
            "waited": transcript.waited is not None,
            "place": next((int(h.prompt.rsplit("_", 1)[1]) for h in transcript.heard
                           if h.prompt and h.prompt.startswith(PLACE_PREFIX)
                           and h.prompt[-1].isdigit()), None),
            **(record.payload() if record else {}),
        }

    def _compare(self, expect: Mapping[str, Any], actual: Mapping[str, Any]) -> Iterator[str]:
        for key, want in expect.items():
            got = actual.get(key)
            if key == "hears":
                wanted = [str(w) for w in want]
                if not _matches_hears(wanted, list(got or [])):
                    yield _("hears: expected {expected}, heard {heard}").format(
                        expected=wanted, heard=[g.split("@")[0] for g in got or []])
            elif key == "dials":
                wanted = [str(w) for w in (want if isinstance(want, list) else [want])]
                if wanted != got:
                    yield _("dials: expected {expected}, dialled {dialled}").format(
                        expected=wanted, dialled=got)
            elif want != got:
                yield _("{key}: expected {expected}, got {got}").format(
                    key=key, expected=repr(want), got=repr(got))
