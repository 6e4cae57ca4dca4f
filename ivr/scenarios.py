"""Flow scenarios: supervisors' test cases for their flows, run by `ivr test`.

A scenario is a call at a fixed local time: the number dialled, the caller's number (for a
landline region hint), the keys pressed, how each phone answers, and what must happen. Each
runs through the real webhooks, call log and flow, as `ivr call` does, so a scenario that
passes is a call that will go that way.

    scenarios:
      - name: a Russian caller asks for a consultant
        at: "2026-12-14 10:00"          # local time (the roster's time zone)
        press: [2, 1]                    # one key per menu; "" is silence
        answers: [busy, completed]       # each phone rung: completed, declined, busy, ...
        expect:
          hears: [greeting, greeting_tail, main_menu, connecting, hold]
          dials: [dana, aigerim]         # operator ids, number names, or regional:<region>
          connected: aigerim             # or nobody
          outcome: connected             # any field of the call record

`hears` lists the prompts in the order heard, a prompt played in several languages in a row
counting once; `main_menu@ru` also checks the language. Every expectation is compared
exactly, so a flow that changes its behaviour fails the scenarios that describe it.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ivr.engine import FlowSet
from ivr.i18n import _
from ivr.pseudonyms import call_key
from ivr.records import record_from_log
from ivr.settings import Settings
from ivr.simulator import SimulatedCall, Transcript, answer, press
from ivr.yamlsrc import LoadError, Node, Problem, load_yaml, suggest

SCENARIO_KEYS = ("name", "at", "to", "caller", "press", "answers", "expect")
EXPECT_KEYS = (
    "hears",
    "dials",
    "connected",
    "outcome",
    "language",
    "region",
    "region_source",
    "silent",
    "emergency",
    "destination",
    "operator",
)
DEFAULT_CALLER = "+77011234567"  # a mobile: no region hint


@dataclass(frozen=True)
class Scenario:
    file: str
    line: int
    name: str
    at: str
    to: str
    caller: str
    press: tuple[str | None, ...]
    answers: tuple[str, ...]
    expect: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Outcome:
    scenario: Scenario
    failures: tuple[str, ...]
    transcript: Transcript | None = None

    @property
    def passed(self) -> bool:
        return not self.failures


def load_scenarios(folder: Path, label: str = "flows/scenarios") -> list[Scenario]:
    problems: list[Problem] = []
    found: list[Scenario] = []
    for path in sorted(folder.glob("*.yaml")) if folder.is_dir() else []:
        name = f"{label}/{path.name}"
        try:
            data = load_yaml(path, name)
        except LoadError as exc:
            problems.extend(exc.problems)
            continue
        defaults = data.get("defaults", Node())
        items = data.get("scenarios")
        if not isinstance(items, list):
            problems.append(Problem(name, data.line, "", _("expected 'scenarios:', a list")))
            continue
        for item in items:
            if not isinstance(item, Node):
                problems.append(
                    Problem(name, data.line_of("scenarios"), "", _("each scenario must be a mapping"))
                )
                continue
            merged = Node({**(defaults if isinstance(defaults, Node) else {}), **item})
            merged.line, merged.key_lines = item.line, item.key_lines
            found.append(_scenario(name, merged, problems))
    if problems:
        raise LoadError(problems)
    return found


def _scenario(file: str, node: Node, problems: list[Problem]) -> Scenario:
    title = str(node.get("name", f"line {node.line}"))
    for key in node:
        if key not in SCENARIO_KEYS:
            problems.append(
                Problem(
                    file,
                    node.line_of(key),
                    title,
                    _("unknown key '{key}'{hint}").format(key=key, hint=suggest(key, SCENARIO_KEYS)),
                )
            )
    expect = node.get("expect", Node())
    if not isinstance(expect, Node) or not expect:
        problems.append(Problem(file, node.line, title, _("a scenario needs 'expect:'")))
        expect = Node()
    for key in expect:
        if key not in EXPECT_KEYS:
            problems.append(
                Problem(
                    file,
                    expect.line_of(key),
                    title,
                    _("unknown expectation '{key}'{hint}; known: {EXPECT_KEYS}").format(
                        key=key, hint=suggest(key, EXPECT_KEYS), EXPECT_KEYS=", ".join(EXPECT_KEYS)
                    ),
                )
            )
    keys = node.get("press", [])
    keys = keys if isinstance(keys, list) else [keys]
    return Scenario(
        file=file,
        line=node.line,
        name=title,
        at=str(node.get("at", "")),
        to=str(node.get("to", "150")),
        caller=str(node.get("caller", DEFAULT_CALLER)),
        press=tuple(None if k in (None, "") else str(k) for k in keys),
        answers=tuple(str(a) for a in node.get("answers", []) or []),
        expect=dict(expect),
    )


def destination_names(flows: FlowSet) -> dict[str, str]:
    """What each number the router may dial is called in scenarios."""
    names = {number: name for flow in flows.flows.values() for name, number in flow.numbers.items()}
    names.update({op.phone: op.id for op in flows.routing.roster.operators.values()})
    names.update(
        {
            number: f"regional:{region.id}"
            for region in flows.routing.regions.regions.values()
            for number in region.lines
        }
    )
    return names


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
    """Runs each scenario on an app of its own (its own Redis keys: no operator is busy and
    the rotation starts afresh), at the scenario's time."""

    def __init__(self, settings: Settings, flows: FlowSet) -> None:
        self.settings = replace(
            settings,
            twilio_auth_token=secrets.token_hex(16),
            hmac_secret=settings.hmac_secret or secrets.token_bytes(32),
            public_base_url=None,
        )
        self.now = 0.0
        self.flows = flows
        self.names = destination_names(flows)

    def run(self, scenario: Scenario) -> Outcome:
        from ivr.app import create_app

        settings = replace(self.settings, redis_prefix=f"ivr-test:{secrets.token_hex(8)}:")
        self.app = create_app(settings, lambda: self.now, simulated=True)
        tz = self.flows.routing.roster.timezone
        try:
            moment = dt.datetime.strptime(scenario.at, "%Y-%m-%d %H:%M").replace(tzinfo=tz)
        except ValueError:
            return Outcome(scenario, ("'at' must be a local time such as \"2026-12-14 10:00\"",))
        self.now = moment.timestamp()
        sid = "CA" + secrets.token_hex(16)
        voice = self.app.extensions["ivr.voice"]
        sim = SimulatedCall(
            self.app.test_client(),
            self.settings.twilio_auth_token,
            voice.flows().catalogue,
            call_sid=sid,
            caller=scenario.caller,
            to=scenario.to,
        )
        transcript = sim.run(press(scenario.press), answer(scenario.answers))
        key = call_key(self.settings.hmac_secret, sid)
        record = record_from_log(key, voice.calls.read(key), voice.flows())
        actual: dict[str, Any] = {
            "hears": heard_prompts(transcript),
            "dials": [
                ",".join(self.names.get(n, n) for n in number.split(",")) for number, _ in transcript.dialled
            ],
            "connected": self.names.get(transcript.connected_to or "", transcript.connected_to) or "nobody",
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
                wanted = [str(w) for w in want]
                if wanted != got:
                    yield f"dials: expected {wanted}, dialled {got}"
            elif want != got:
                yield f"{key}: expected {want!r}, got {got!r}"
