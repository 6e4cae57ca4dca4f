"""Reading a call flow: YAML into typed steps, then checked as a whole graph.

Loading collects every problem before giving up, so a supervisor sees all of them at once, each
as `file:line: step: sentence`. A flow that loads is one no caller can get stuck in.
"""

from __future__ import annotations

import hashlib

from ivr.engine.flow import Flow
from ivr.engine.steps import DTMF_KEYS, STEP_TYPES, ParseContext, Route, Step
from ivr.i18n import _
from ivr.languages import LANGUAGE_NAMES, language_codes
from ivr.library.catalogue import Catalogue
from ivr.library.graph_checks import check_graph
from ivr.numbers import dialable_problem
from ivr.routing.targets import known_targets
from ivr.source import LoadError, Node, Problem, suggest

FLOW_KEYS = ("flow", "description", "languages", "start", "numbers", "anywhere", "steps", "entry_numbers")


def _parse_step(step_id: str, raw: object, line: int, ctx: ParseContext) -> Step | None:
    if not isinstance(raw, Node):
        ctx.problem(line, _("a step must be a mapping with a 'type'"))
        return None
    kind = raw.get("type")
    if not isinstance(kind, str) or kind not in STEP_TYPES:
        known = sorted(STEP_TYPES)
        ctx.problem(
            raw.line_of("type"),
            _("unknown step type '{kind}'{hint}; known types: {known}").format(
                kind=kind, hint=suggest(str(kind), known), known=", ".join(known)
            ),
        )
        return None
    cls = STEP_TYPES[kind]
    allowed = ("type", *cls.keys())
    for key in raw:
        if key not in allowed:
            ctx.problem(
                raw.line_of(key),
                _("unknown key '{key}' for a {kind} step{hint}; allowed: {allowed}").format(
                    key=key, kind=kind, hint=suggest(key, allowed), allowed=", ".join(allowed)
                ),
            )
    missing = [key for key in cls.REQUIRED if key not in raw]
    for key in missing:
        ctx.problem(raw.line, _("a {kind} step needs '{key}'").format(kind=kind, key=key))
    return None if missing else cls.parse(raw, ctx)


def _mapping(data: Node, key: str, ctx: ParseContext) -> Node:
    value = data.get(key, Node())
    if not isinstance(value, Node):
        ctx.problem(data.line_of(key), _("'{key}' must be a mapping").format(key=key))
        return Node()
    return value


def read_flow(data: Node, name: str, seed: str, catalogue: Catalogue,
              region_groups: tuple[str, ...] = ()) -> Flow:
    """The flow in `data` (a parsed flow file), checked against the catalogue; `seed` (a hash
    of the file) starts its version. LoadError lists every problem."""
    problems: list[Problem] = []
    ctx = ParseContext(name, "", (), problems, region_groups)
    for key in data:
        if key not in FLOW_KEYS:
            ctx.problem(
                data.line_of(key),
                _("unknown key '{key}'{hint}; allowed: {FLOW_KEYS}").format(
                    key=key, hint=suggest(key, FLOW_KEYS), FLOW_KEYS=", ".join(FLOW_KEYS)
                ),
            )
    for key in ("flow", "languages", "start", "steps"):
        if key not in data:
            ctx.problem(data.line, _("the flow needs '{key}'").format(key=key))
    if "flow" in data:
        ctx.ident(data.line_of("flow"), data["flow"], _("flow name"))
    languages = language_codes(data.get("languages"))
    if languages is None:
        ctx.problem(
            data.line_of("languages"),
            _("'languages' must list language codes from: {LANGUAGE_NAMES}").format(
                LANGUAGE_NAMES=", ".join(LANGUAGE_NAMES)
            ),
        )
    ctx.languages = languages or ()

    numbers = _mapping(data, "numbers", ctx)
    for target, number in numbers.items():
        ctx.ident(numbers.line_of(target), target, _("number name"))
        why = dialable_problem(number)
        if why:
            ctx.problem(numbers.line_of(target), _("number '{target}': {why}").format(target=target, why=why))
    anywhere = _mapping(data, "anywhere", ctx)
    for key in anywhere:
        if len(key) != 1 or key not in DTMF_KEYS:
            ctx.problem(
                anywhere.line_of(key), _("'{key}' is not a phone key: use 0-9, * or #").format(key=key)
            )

    steps: dict[str, Step] = {}
    raw_steps = _mapping(data, "steps", ctx)
    for step_id, raw in raw_steps.items():
        ctx.step = step_id
        ctx.ident(raw_steps.line_of(step_id), step_id, _("step id"))
        step = _parse_step(step_id, raw, raw_steps.line_of(step_id), ctx)
        if step is not None:
            steps[step_id] = step
    ctx.step = ""

    start = str(data.get("start", ""))
    if raw_steps and start not in raw_steps:
        ctx.problem(
            data.line_of("start"),
            _("'start' names a step that does not exist: '{start}'{hint}").format(
                start=start, hint=suggest(start, list(raw_steps))
            ),
        )
    for key, target in anywhere.items():
        if not isinstance(target, str) or target not in raw_steps:
            ctx.problem(
                anywhere.line_of(key),
                _("key {key} leads to a step that does not exist: '{target}'{hint}").format(
                    key=key, target=target, hint=suggest(str(target), list(raw_steps))
                ),
            )

    for step in steps.values():
        ctx.step = step.id
        for prompt in step.prompt_refs():
            if prompt not in catalogue.prompts:
                ctx.problem(
                    step.line,
                    _("prompt '{prompt}' is not in {file}{hint}").format(
                        prompt=prompt, file=catalogue.file, hint=suggest(prompt, list(catalogue.prompts))
                    ),
                )
                continue
            for language in ctx.languages:
                if language not in catalogue.prompts[prompt].texts:
                    ctx.problem(
                        step.line,
                        _("prompt '{prompt}' has no {language_name} text in {file}").format(
                            prompt=prompt, language_name=_(LANGUAGE_NAMES[language]), file=catalogue.file
                        ),
                    )
        if isinstance(step, Route):
            known = known_targets(list(numbers))
            for target in step.targets:
                if target not in known:
                    ctx.problem(
                        step.targets_line,
                        _(
                            "'{target}' is neither a routing target "
                            "nor one of the flow's numbers{hint}; "
                            "known: {known}"
                        ).format(target=target, hint=suggest(target, known), known=", ".join(known)),
                    )
    ctx.step = ""

    if steps:
        deep = not problems and len(steps) == len(raw_steps)
        problems.extend(check_graph(name, start, steps, dict(anywhere), set(raw_steps), deep=deep))
    entry = data.get("entry_numbers", [])
    if not isinstance(entry, list) or not all(isinstance(n, str | int) for n in entry):
        ctx.problem(data.line_of("entry_numbers"), _("'entry_numbers' must be a list of numbers"))
        entry = []
    if problems:
        raise LoadError(problems)
    version = hashlib.sha256((seed + catalogue.version).encode()).hexdigest()[:12]
    return Flow(
        name=str(data["flow"]),
        file=name,
        version=version,
        languages=ctx.languages,
        start=start,
        numbers={k: str(v) for k, v in numbers.items()},
        anywhere=dict(anywhere),
        steps=steps,
        entry_numbers=tuple(str(n) for n in entry),
    )
