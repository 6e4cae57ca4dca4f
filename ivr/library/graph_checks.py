"""Whole-flow checks: the promises a flow must keep to every caller, proved at load time.

- every arrow leads to a step that exists;
- every step can be reached, and from every step a person or the end of the call can be reached;
- arrows taken without the caller pressing anything never form a loop (it would never end);
  every such arrow of a step is followed, not only the first;
- a caller who stays silent, or keeps pressing wrong keys, is put through to a person: from the
  start and from every menu, the arrows taken without a valid key reach a connecting step before
  any step that hangs up;
- a person is always one key away: 0 leads to a person from every menu.
"""

from __future__ import annotations

from collections.abc import Mapping

from ivr.engine.steps import Exit, Hangup, Menu, Step
from ivr.i18n import _
from ivr.source import Problem, suggest


def _missing_targets(file: str, steps: Mapping[str, Step], known: set[str]) -> list[Problem]:
    problems = []
    for step in steps.values():
        for arrow in step.exits():
            if arrow.target and arrow.target not in known:
                hint = suggest(arrow.target, sorted(known))
                problems.append(
                    Problem(
                        file,
                        arrow.line,
                        step.id,
                        _("'{label}' leads to a step that does not exist: '{target}'{hint}").format(
                            label=arrow.label, target=arrow.target, hint=hint
                        ),
                    )
                )
    return problems


def _reachable(roots: list[str], steps: Mapping[str, Step]) -> set[str]:
    seen: set[str] = set()
    todo = [r for r in roots if r in steps]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        todo.extend(a.target for a in steps[current].exits() if a.target in steps)
    return seen


def _silent(step: Step) -> list[Exit]:
    """The arrows a step takes without the caller pressing a valid key."""
    return [a for a in step.exits() if a.silent]


def _silent_loops(file: str, steps: Mapping[str, Step]) -> list[Problem]:
    """Every loop of silent arrows, each reported once, found by a depth-first walk."""
    problems: list[Problem] = []
    reported: set[str] = set()
    done: set[str] = set()
    for root in steps:
        if root in done:
            continue
        path = [root]
        todo = [iter([a.target for a in _silent(steps[root])])]
        while todo:
            target = next(todo[-1], None)
            if target is None:
                done.add(path.pop())
                todo.pop()
                continue
            if target not in steps or target in done:
                continue
            if target in path:
                loop = [*path[path.index(target):], target]
                if not reported & set(loop):
                    reported.update(loop)
                    problems.append(Problem(
                        file, steps[target].line, target,
                        "these steps loop without waiting for a key and without a bound: "
                        + " -> ".join(loop) + "; send one of them to a step that connects or ends"))
                continue
            path.append(target)
            todo.append(iter([a.target for a in _silent(steps[target])]))
    return problems


def _reaches_person(start: str, steps: Mapping[str, Step]) -> str | None:
    """Follow every arrow taken without a valid key; return a hang-up (or dead-end) step that
    can be met before a person, if any."""
    seen: set[str] = set()
    todo = [start]
    while todo:
        current = todo.pop()
        if current in seen or current not in steps:
            continue
        seen.add(current)
        step = steps[current]
        if step.CONNECTS:
            continue
        if isinstance(step, Hangup):
            return current
        arrows = _silent(step)  # in a menu, that is where silence leads
        if not arrows:
            return current
        todo.extend(reversed([a.target for a in arrows]))
    return None


def check_graph(
    file: str,
    start: str,
    steps: Mapping[str, Step],
    anywhere: Mapping[str, str],
    known: set[str],
    deep: bool = True,
) -> list[Problem]:
    """Check the graph; `known` holds every step id, including steps that failed to parse."""
    problems = _missing_targets(file, steps, known)
    if problems or not deep:
        return problems

    reachable = _reachable([start, *anywhere.values()], steps)
    for step in steps.values():
        if step.id not in reachable:
            problems.append(
                Problem(file, step.line, step.id, _("no caller can reach this step; link it or remove it"))
            )
    ends = {s.id for s in steps.values() if s.CONNECTS or isinstance(s, Hangup)}
    for step in steps.values():
        if not _reachable([step.id], steps) & ends:
            problems.append(
                Problem(
                    file,
                    step.line,
                    step.id,
                    _("this step has no way out: no path leads to a person or to the end of the call"),
                )
            )
    problems.extend(_silent_loops(file, steps))
    if problems:
        return problems

    stuck = _reaches_person(start, steps)
    if stuck:
        problems.append(
            Problem(
                file,
                steps[start].line,
                start,
                _(
                    "a caller who presses nothing is never put through to a "
                    "person (the call ends at '{stuck}'); connect silent callers"
                ).format(stuck=stuck),
            )
        )
    for step in steps.values():
        if not isinstance(step, Menu):
            continue
        zero = dict((key, target) for key, target, _ in step.options).get("0") or anywhere.get("0")
        if zero is None or _reaches_person(zero, steps):
            problems.append(
                Problem(
                    file,
                    step.line,
                    step.id,
                    _("key 0 must put the caller through to a person from every menu; add '0' to 'anywhere'"),
                )
            )
        for retry, what in (
            (step.no_input, _("stays silent")),
            (step.wrong_key, _("keeps pressing wrong keys")),
        ):
            stuck = _reaches_person(retry.then, steps)
            if stuck:
                problems.append(
                    Problem(
                        file,
                        retry.line,
                        step.id,
                        _(
                            "a caller who {what} here is never put through to a "
                            "person (the call ends at '{stuck}')"
                        ).format(what=what, stuck=stuck),
                    )
                )
    return problems
