"""Reading flow scenarios: supervisors' test cases for their flows, run by `ivr test`.

A scenario is a call at a fixed local time: the number dialled, the caller's number (for a
landline region hint), the keys pressed, how each phone answers, and what must happen:

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

Scenario files are part of every version, so they are read and checked with the rest;
`ivr.sim.scenarios` runs them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ivr.i18n import _
from ivr.source import Node, Problem, suggest

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
ANSWERS = ("completed", "answered", "declined", "busy", "no-answer", "failed", "canceled")
DEFAULT_CALLER = "+77011234567"  # a mobile: no region hint
TIME_FORMAT = "%Y-%m-%d %H:%M"


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


def read_scenarios(data: Node, name: str) -> tuple[list[Scenario], list[Problem]]:
    """The scenarios of one file, and every problem in it."""
    problems: list[Problem] = []
    found: list[Scenario] = []
    defaults = data.get("defaults", Node())
    for key in data:
        if key not in ("defaults", "scenarios"):
            problems.append(Problem(name, data.line_of(key), "", _(
                "unknown key '{key}'; allowed: defaults, scenarios").format(key=key)))
    items = data.get("scenarios")
    if not isinstance(items, list):
        return [], [*problems, Problem(name, data.line, "", _("expected 'scenarios:', a list"))]
    for item in items:
        if not isinstance(item, Node):
            problems.append(
                Problem(name, data.line_of("scenarios"), "", _("each scenario must be a mapping"))
            )
            continue
        merged = Node({**(defaults if isinstance(defaults, Node) else {}), **item})
        merged.line, merged.key_lines = item.line, item.key_lines
        found.append(_scenario(name, merged, problems))
    return found, problems


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
    at = str(node.get("at", ""))
    try:
        dt.datetime.strptime(at, TIME_FORMAT)
    except ValueError:
        problems.append(Problem(file, node.line_of("at"), title, _(
            "'at' must be a local time such as \"2026-12-14 10:00\"")))
    keys = node.get("press", [])
    keys = keys if isinstance(keys, list) else [keys]
    answers = node.get("answers", []) or []
    if not isinstance(answers, list) or any(a not in ANSWERS for a in answers):
        problems.append(Problem(file, node.line_of("answers"), title, _(
            "'answers' must list how each phone answers: {known}").format(known=", ".join(ANSWERS))))
        answers = []
    return Scenario(
        file=file,
        line=node.line,
        name=title,
        at=at,
        to=str(node.get("to", "150")),
        caller=str(node.get("caller", DEFAULT_CALLER)),
        press=tuple(None if k in (None, "") else str(k) for k in keys),
        answers=tuple(str(a) for a in answers),
        expect=dict(expect),
    )
