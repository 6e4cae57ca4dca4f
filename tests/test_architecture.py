"""The layout shows the architecture, and keeps it: imports go one way, every module imports on
its own in a fresh interpreter, and adding a step type is one module."""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from ivr.engine.steps import Exit, ParseContext, Step
from ivr.engine.turn import Turn
from ivr.library import schemas
from ivr.settings import PROJECT_ROOT
from ivr.source import LoadError, Node
from tests.conftest import load

LEAVES = {"settings", "i18n", "source", "ids", "numbers", "clock", "languages", "redis_url",
          "logs", "gunicorn_base", "gunicorn_access", "fastjson"}
BELOW = {  # what each package may import, besides itself and the leaf modules
    "routing": set(),
    "engine": {"routing"},
    "calls": {"engine", "routing"},
    "library": {"calls", "engine", "routing"},
    "records": {"library", "calls", "engine", "routing"},
    "sim": {"records", "library", "calls", "engine", "routing"},
    "web": {"records", "library", "calls", "engine", "routing"},
    "console": {"records", "library", "calls", "engine", "routing"},
    "cli": {"web", "console", "sim", "records", "library", "calls", "engine", "routing"},
}
PURE = {"engine", "routing"}
NOT_IN_PURE = ("flask", "werkzeug", "redis", "rq", "twilio", "sqlalchemy")


def modules() -> dict[str, Path]:
    found = {}
    for path in sorted((PROJECT_ROOT / "ivr").rglob("*.py")):
        parts = path.relative_to(PROJECT_ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


KNOWN = set(modules())


def top_level_imports(path: Path) -> list[str]:
    """Modules imported when the module is imported (not inside functions or TYPE_CHECKING)."""
    tree = ast.parse(path.read_text())
    names = []
    for node in tree.body:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.dump(node.test):
            continue
        for inner in ast.walk(node) if not isinstance(node, ast.FunctionDef | ast.ClassDef) else []:
            if isinstance(inner, ast.Import):
                names += [alias.name for alias in inner.names]
            elif isinstance(inner, ast.ImportFrom) and inner.module and not inner.level:
                for alias in inner.names:  # `from ivr.cli import call` imports ivr.cli.call
                    submodule = f"{inner.module}.{alias.name}"
                    names.append(submodule if submodule in KNOWN else inner.module)
    return names


def package_of(module: str) -> str:
    return module.split(".")[1] if module.count(".") else ""


@pytest.mark.parametrize("module", list(modules()))
def test_imports_go_one_way(module: str) -> None:
    path = modules()[module]
    mine = package_of(module)
    for imported in top_level_imports(path):
        if imported.split(".")[0] in NOT_IN_PURE:
            assert mine not in PURE, f"{module} imports {imported}"
        if not imported.startswith("ivr."):
            continue
        theirs = package_of(imported)
        if theirs in LEAVES or theirs == mine:
            continue
        assert mine not in LEAVES, f"the leaf {module} imports {imported}"
        assert theirs in BELOW.get(mine, set()), f"{module} imports {imported}: against the layers"


def test_no_module_imports_itself_in_a_circle() -> None:
    known = modules()
    graph = {name: [i for i in top_level_imports(path) if i in known] for name, path in known.items()}
    done: set[str] = set()

    def visit(name: str, path: list[str]) -> None:
        if name in path:
            raise AssertionError(" -> ".join([*path[path.index(name):], name]))
        if name in done:
            return
        for imported in graph[name]:
            visit(imported, [*path, name])
        done.add(name)

    for name in graph:
        visit(name, [])


def test_routing_imports_on_its_own_in_a_fresh_interpreter() -> None:
    for module in ("ivr.routing.targets", "ivr.engine.steps.route", "ivr.library.pipeline",
                   "ivr.web.app", "ivr.cli"):
        result = subprocess.run([sys.executable, "-c", f"import {module}"], cwd=PROJECT_ROOT,
                                capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, (module, result.stderr)


# --- a step type is one module ------------------------------------------------------------------

@dataclass(frozen=True)
class Branch(Step):
    """A step with two arrows taken without a key (as a time-of-day switch would have)."""

    TYPE = "branch"
    SCHEMA = {"first": {"type": "string"}, "second": {"type": "string"}}  # noqa: RUF012
    REQUIRED = ("first", "second")
    first: str = ""
    second: str = ""

    @classmethod
    def parse(cls, raw: Node, ctx: ParseContext) -> Step:
        return cls(ctx.step, raw.line, str(raw["first"]), str(raw["second"]))

    def exits(self) -> tuple[Exit, ...]:
        return (Exit(self.first, self.line, "first", silent=True),
                Exit(self.second, self.line, "second", silent=True))

    def enter(self, turn: Turn) -> str | None:
        return self.first


def with_branch(flows_dir: Path, second: str) -> None:
    flow = flows_dir / "hotline150.yaml"
    text = flow.read_text().replace("no_input: {prompts: [no_input], retries: 1, then: consultant}\n"
                                    "    wrong_key: {prompts: [wrong_key], retries: 2, then: "
                                    "consultant}\n\n  kazakh",
                                    "no_input: {prompts: [no_input], retries: 1, then: fork}\n"
                                    "    wrong_key: {prompts: [wrong_key], retries: 2, then: "
                                    "consultant}\n\n  kazakh", 1)
    flow.write_text(text + f"\n  fork:\n    type: branch\n    first: consultant\n    second: {second}\n")


def test_a_new_step_type_is_one_module_and_its_schema_comes_with_it(
    flows_dir: Path, register_step: Callable[[type[Step]], None]
) -> None:
    register_step(Branch)
    with_branch(flows_dir, "consultant")
    assert "fork" in load(flows_dir).flows["hotline150"].steps
    rule = next(r for r in schemas.flow_schema()["properties"]["steps"]["additionalProperties"]
                ["allOf"] if r["if"]["properties"]["type"]["const"] == "branch")
    assert rule["then"]["required"] == ["type", "first", "second"]


def test_the_graph_checks_follow_every_silent_exit_not_only_the_first(
    flows_dir: Path, register_step: Callable[[type[Step]], None]
) -> None:
    register_step(Branch)
    with_branch(flows_dir, "all_busy")  # the second arrow hangs up on a silent caller
    with pytest.raises(LoadError) as refused:
        load(flows_dir)
    assert any("a caller who presses nothing is never put through to a person (the call ends at "
               "'all_busy')" in str(p) for p in refused.value.problems), refused.value.problems
