"""Reading flow scenarios: supervisors' test cases for their flows, run by `ivr test`.

A scenario is a call at a fixed local time: the number dialled, the caller's number (for a
landline region hint), the keys pressed, how each phone answers, and what must happen. A
scenario may also have several callers (`callers:`), each coming in `after` so many seconds,
talking `talks` seconds once answered, and doing something `while_waiting` in line:

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

CALL_KEYS = ("to", "caller", "press", "answers", "talks", "after", "while_waiting", "expect")
SCENARIO_KEYS = ("name", "at", *CALL_KEYS, "callers")
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
    "waited",
    "place",
)
WHILE_WAITING_KEYS = ("after", "press", "hangs_up")
ANSWERS = ("completed", "answered", "declined", "busy", "no-answer", "failed", "canceled")
DEFAULT_CALLER = "+77011234567"  # a mobile: no region hint
DEFAULT_TALK_SECONDS = 30
TIME_FORMAT = "%Y-%m-%d %H:%M"


@dataclass(frozen=True)
class WhileWaiting:
    """What a caller does once they have waited `after` seconds in line: press a key, or hang
    up; by default they wait on."""

    after: float
    press: str | None = None
    hangs_up: bool = False


@dataclass(frozen=True)
class Caller:
    """One call of a scenario."""

    line: int
    to: str
    caller: str
    press: tuple[str | None, ...]
    answers: tuple[str, ...]
    talks: float = DEFAULT_TALK_SECONDS  # seconds each conversation lasts
    after: float = 0  # seconds after the scenario's time that this call comes in
    while_waiting: WhileWaiting | None = None
    expect: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Scenario:
    file: str
    line: int
    name: str
    at: str
    callers: tuple[Caller, ...]


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


def _unknown_keys(file: str, node: Node, title: str, allowed: tuple[str, ...],
                  problems: list[Problem]) -> None:
    for key in node:
        if key not in allowed:
            problems.append(Problem(file, node.line_of(key), title, _(
                "unknown key '{key}'{hint}").format(key=key, hint=suggest(key, allowed))))


def _scenario(file: str, node: Node, problems: list[Problem]) -> Scenario:
    title = str(node.get("name", f"line {node.line}"))
    _unknown_keys(file, node, title, SCENARIO_KEYS, problems)
    at = str(node.get("at", ""))
    try:
        dt.datetime.strptime(at, TIME_FORMAT)
    except ValueError:
        problems.append(Problem(file, node.line_of("at"), title, _(
            "'at' must be a local time such as \"2026-12-14 10:00\"")))
    callers = node.get("callers")
    if callers is None:
        return Scenario(file, node.line, title, at, (_caller(file, node, title, problems),))
    if not isinstance(callers, list) or not callers or \
            not all(isinstance(c, Node) for c in callers):
        problems.append(Problem(file, node.line_of("callers"), title, _(
            "'callers' must list the calls, each a mapping such as {press: [1, 1]}")))
        return Scenario(file, node.line, title, at, ())
    for key in CALL_KEYS:
        if key in node:
            problems.append(Problem(file, node.line_of(key), title, _(
                "with 'callers', '{key}' belongs to each caller").format(key=key)))
    found = []
    for item in callers:
        _unknown_keys(file, item, title, CALL_KEYS, problems)
        found.append(_caller(file, item, title, problems))
    return Scenario(file, node.line, title, at, tuple(found))


def _caller(file: str, node: Node, title: str, problems: list[Problem]) -> Caller:
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
    answers = node.get("answers", []) or []
    if not isinstance(answers, list) or any(a not in ANSWERS for a in answers):
        problems.append(Problem(file, node.line_of("answers"), title, _(
            "'answers' must list how each phone answers: {known}").format(known=", ".join(ANSWERS))))
        answers = []
    return Caller(
        line=node.line,
        to=str(node.get("to", "150")),
        caller=str(node.get("caller", DEFAULT_CALLER)),
        press=tuple(None if k in (None, "") else str(k) for k in keys),
        answers=tuple(str(a) for a in answers),
        talks=_seconds(file, node, "talks", DEFAULT_TALK_SECONDS, title, problems),
        after=_seconds(file, node, "after", 0, title, problems),
        while_waiting=_while_waiting(file, node, title, problems),
        expect=dict(expect),
    )


def _seconds(file: str, node: Node, key: str, default: float, title: str,
             problems: list[Problem]) -> float:
    value = node.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 86400:
        problems.append(Problem(file, node.line_of(key), title, _(
            "'{key}' must be a number of seconds").format(key=key)))
        return default
    return float(value)


def _while_waiting(file: str, node: Node, title: str,
                   problems: list[Problem]) -> WhileWaiting | None:
    value = node.get("while_waiting")
    if value is None:
        return None
    if not isinstance(value, Node) or "after" not in value or \
            ("press" in value) == bool(value.get("hangs_up")):
        problems.append(Problem(file, node.line_of("while_waiting"), title, _(
            "'while_waiting' says what the caller does after some seconds in line: "
            "{after: 30, press: 9} or {after: 60, hangs_up: true}")))
        return None
    _unknown_keys(file, value, title, WHILE_WAITING_KEYS, problems)
    press = value.get("press")
    return WhileWaiting(_seconds(file, value, "after", 0, title, problems),
                        None if press in (None, "") else str(press), bool(value.get("hangs_up")))
