"""`ivr graph`: a flow drawn for supervisors."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from ivr.cli import main


def test_mermaid_shows_every_step_and_marks_the_paths_to_a_person() -> None:
    result = CliRunner().invoke(main, ["graph"], env={"IVR_FLOWS_DIR": None})
    assert result.exit_code == 0, result.output
    text = result.output
    assert text.startswith("flowchart TD\n")
    assert ('consultant[["consultant<br/>(route: operators ⏳ line ≤ 300 s → regional → '
            'national)"]]') in text
    assert 'greeting{{"greeting<br/>(menu)"}}' in text
    assert 'any_menu ==>|"key 0"| consultant' in text  # thick: to a person
    assert 'kazakh -.->|"next"| main_menu' in text  # dashed: taken without a key
    assert "class emergency emergency" in text
    assert "linkStyle 2,11 stroke:#b91c1c" in text  # both arrows into the emergency step


def test_an_unknown_flow_name_is_a_clear_error() -> None:
    result = CliRunner().invoke(main, ["graph", "hotline151"], env={"IVR_FLOWS_DIR": None})
    assert result.exit_code == 2
    assert "no flow named 'hotline151'; flows: hotline150" in result.output


def test_dot_text_needs_nothing_installed() -> None:
    result = CliRunner().invoke(main, ["graph", "--format", "dot"], env={"IVR_FLOWS_DIR": None})
    assert 'emergency [label="emergency\\n(emergency: emergency → operators → national)"' in \
        result.output
    assert 'main_menu -> emergency [label="key 9", color="#b91c1c", penwidth=3];' in result.output


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz is not installed")
def test_svg_through_graphviz(tmp_path: Path) -> None:
    out = tmp_path / "flow.svg"
    result = CliRunner().invoke(main, ["graph", "--format", "svg", "-o", str(out)],
                                env={"IVR_FLOWS_DIR": None})
    assert result.exit_code == 0, result.output
    assert out.read_text().lstrip().startswith("<?xml")
    assert "consultant" in out.read_text()
