"""Pictures of a flow: Mermaid text (GitHub and most editors draw it) and Graphviz DOT.

Steps are coloured by type; the arrows that put a caller through to a person are thick, and
the emergency path is red, so a supervisor sees at a glance where every caller can end up.

The words of the picture ("call", "in every menu", "key 0", the kind of each step, the waiting
line of a route) are in the supervisor's language, translated each time a picture is drawn;
step names, route targets and the YAML keys that label the other arrows (`next`, `then`,
`no_input`, ...) are data and stay as written in the flow.
"""

from __future__ import annotations

import shutil
import subprocess

from ivr.engine.flow import Flow
from ivr.engine.steps import Emergency, Hangup, Menu, Route, Step
from ivr.i18n import N_, _

COLOURS = {  # fill, border
    "menu": ("#dbeafe", "#1d4ed8"), "region_menu": ("#dbeafe", "#1d4ed8"),
    "route": ("#dcfce7", "#15803d"), "emergency": ("#fee2e2", "#b91c1c"),
    "hangup": ("#e5e7eb", "#374151"), "say": ("#fef9c3", "#a16207"),
    "language": ("#f3e8ff", "#7e22ce"), "goto": ("#f1f5f9", "#64748b"),
}
ANYWHERE = "any_menu"
KINDS = {  # the kind of a step under its name, by type; a type not here is shown as it is
    "menu": N_("(menu)"), "region_menu": N_("(region_menu)"), "hangup": N_("(hangup)"),
    "say": N_("(say)"), "language": N_("(language)"), "goto": N_("(goto)"),
}
ROUTES = {"route": N_("(route: {targets})"), "emergency": N_("(emergency: {targets})")}


def _label(step: Step) -> str:
    if isinstance(step, Route):
        wait = step.wait
        waiting = _("line ≤ {seconds} s").format(seconds=wait.max_seconds) if wait else ""
        targets = " → ".join(f"{target} ⏳ {waiting}" if target == "operators" and wait
                             else target for target in step.targets)
        kind = ROUTES.get(step.TYPE)
        detail = _(kind).format(targets=targets) if kind else f"({step.TYPE}: {targets})"
    else:
        kind = KINDS.get(step.TYPE)
        detail = _(kind) if kind else f"({step.TYPE})"
    return f"{step.id}\\n{detail}"


def _strong(flow: Flow, target: str) -> bool:
    return isinstance(flow.steps.get(target), Route)


def _key(key: str) -> str:
    return _("key {key}").format(key=key)


def mermaid(flow: Flow) -> str:
    call, every_menu = _("call"), _("in every menu")
    lines = ["flowchart TD"]
    for step in flow.steps.values():
        text = _label(step).replace("\\n", "<br/>")
        if isinstance(step, Menu):
            lines.append(f'    {step.id}{{{{"{text}"}}}}')
        elif isinstance(step, Route):
            lines.append(f'    {step.id}[["{text}"]]')
        elif isinstance(step, Hangup):
            lines.append(f'    {step.id}(["{text}"])')
        else:
            lines.append(f'    {step.id}["{text}"]')
    lines.append(f'    start(("{call}")) --> {flow.start}')
    if flow.anywhere:
        lines.append(f'    {ANYWHERE}(("{every_menu}"))')
        for key, target in flow.anywhere.items():
            arrow = "==>" if _strong(flow, target) else "-->"
            lines.append(f'    {ANYWHERE} {arrow}|"{_key(key)}"| {target}')
    for step in flow.steps.values():
        for exit_ in step.exits():
            arrow = "==>" if _strong(flow, exit_.target) else "-.->" if exit_.silent else "-->"
            lines.append(f'    {step.id} {arrow}|"{exit_.label}"| {exit_.target}')
    for kind, (fill, border) in COLOURS.items():
        lines.append(f"    classDef {kind} fill:{fill},stroke:{border},stroke-width:2px")
    for step in flow.steps.values():
        lines.append(f"    class {step.id} {step.TYPE}")
    emergency = [i for i, line in enumerate(_edges(flow)) if line]
    if emergency:
        lines.append(f"    linkStyle {','.join(map(str, emergency))} stroke:#b91c1c,stroke-width:3px")
    return "\n".join(lines) + "\n"


def _edges(flow: Flow) -> list[bool]:
    """For each arrow in Mermaid's order: does it lead into an emergency step?"""
    into = [isinstance(flow.steps.get(flow.start), Emergency)]
    into += [isinstance(flow.steps.get(t), Emergency) for t in flow.anywhere.values()]
    into += [isinstance(flow.steps.get(e.target), Emergency)
             for step in flow.steps.values() for e in step.exits()]
    return into


def dot(flow: Flow) -> str:
    call, every_menu = _("call"), _("in every menu")
    lines = ["digraph flow {", '  rankdir=TB; node [fontname="Helvetica", style=filled];',
             f'  start [shape=circle, label="{call}", fillcolor="#ffffff"];',
             f"  start -> {flow.start};"]
    for step in flow.steps.values():
        fill, border = COLOURS.get(step.TYPE, ("#ffffff", "#000000"))
        shape = ("hexagon" if isinstance(step, Menu) else "box3d" if isinstance(step, Route)
                 else "oval" if isinstance(step, Hangup) else "box")
        lines.append(f'  {step.id} [label="{_label(step)}", shape={shape}, fillcolor="{fill}", '
                     f'color="{border}", penwidth=2];')
    if flow.anywhere:
        lines.append(f'  {ANYWHERE} [label="{every_menu}", shape=note, fillcolor="#ffffff"];')
        for key, target in flow.anywhere.items():
            lines.append(f'  {ANYWHERE} -> {target} [label="{_key(key)}"{_edge(flow, target)}];')
    for step in flow.steps.values():
        for exit_ in step.exits():
            style = ", style=dashed" if exit_.silent and not _strong(flow, exit_.target) else ""
            lines.append(f'  {step.id} -> {exit_.target} [label="{exit_.label}"'
                         f"{_edge(flow, exit_.target)}{style}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _edge(flow: Flow, target: str) -> str:
    if isinstance(flow.steps.get(target), Emergency):
        return ', color="#b91c1c", penwidth=3'
    return ", penwidth=3" if _strong(flow, target) else ""


def render(flow: Flow, fmt: str) -> bytes:
    """SVG or PNG through Graphviz's `dot`; raise FileNotFoundError when it is not installed."""
    binary = shutil.which("dot")
    if binary is None:
        raise FileNotFoundError(
            _("Graphviz is not installed (Debian/Ubuntu: apt-get install graphviz)"))
    return subprocess.run([binary, f"-T{fmt}"], input=dot(flow).encode(), check=True,
                          capture_output=True).stdout


def graphviz_found() -> bool:
    """Whether `render` can draw (Graphviz's `dot` is installed)."""
    return shutil.which("dot") is not None
