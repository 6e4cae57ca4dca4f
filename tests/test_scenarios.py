"""Supervisors' scenarios: `ivr test` runs them, and they catch a change of behaviour."""

from __future__ import annotations

import shutil
from pathlib import Path

from click.testing import CliRunner

from ivr.cli import main
from ivr.settings import PROJECT_ROOT


def run_tests(flows_dir: Path | None = None) -> tuple[int, str]:
    env = {"REDIS_URL": None, "IVR_FLOWS_DIR": str(flows_dir) if flows_dir else None}
    result = CliRunner().invoke(main, ["test"], env=env)
    return result.exit_code, result.output


def test_the_shipped_scenarios_pass() -> None:
    code, output = run_tests()
    assert code == 0, output
    assert "23 passed, 0 failed" in output


def shipped_copy(flows_dir: Path) -> Path:
    shutil.copy(PROJECT_ROOT / "flows" / "roster.yaml", flows_dir / "roster.yaml")
    return flows_dir


def test_a_scenario_fails_when_the_flow_changes_behaviour(flows_dir: Path) -> None:
    flows = shipped_copy(flows_dir)
    flow = flows / "hotline150.yaml"
    flow.write_text(flow.read_text().replace(
        "try: [operators, regional, national]", "try: [national]"))
    code, output = run_tests(flows)
    assert code == 1
    assert ("FAIL  flows/scenarios/hotline150.yaml:25: a Russian caller asks for a consultant; "
            "the operators ring in turn") in output
    assert "dials: expected ['dana', 'aigerim'], dialled ['national']" in output


def test_a_scenario_with_an_unknown_expectation_is_refused(flows_dir: Path) -> None:
    flows = shipped_copy(flows_dir)
    (flows / "scenarios" / "extra.yaml").write_text(
        "scenarios:\n  - name: typo\n    at: \"2026-12-14 10:00\"\n    press: [1]\n"
        "    expect:\n      dails: [aigerim]\n")
    code, output = run_tests(flows)
    assert code == 1
    assert ("flows/scenarios/extra.yaml:6:7: typo: unknown expectation 'dails' (did you mean "
            "'dials'?)") in output
