"""JSON Schemas for supervisors' editors, and `ivr check` using them."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from ivr.cli import main
from ivr.engine.steps import STEP_TYPES
from ivr.library import schemas
from ivr.library.yamlfile import parse
from ivr.settings import PROJECT_ROOT

SHIPPED = [*sorted((PROJECT_ROOT / "flows").glob("*.yaml")),
           *sorted((PROJECT_ROOT / "flows" / "scenarios").glob("*.yaml"))]


@pytest.mark.parametrize("name", list(schemas.SCHEMAS))
def test_the_shipped_schema_files_are_current(name: str) -> None:
    shipped = (schemas.FOLDER / f"{name}.schema.json").read_text("utf-8")
    assert shipped == schemas.rendered(name), "run `ivr schemas --write`"


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_every_shipped_file_names_its_schema_and_follows_it(path: Path) -> None:
    first = path.read_text("utf-8").splitlines()[0]
    logical = path.relative_to(PROJECT_ROOT).as_posix()
    kind = schemas.kind_of(logical)
    assert first.startswith("# yaml-language-server: $schema=")
    assert (path.parent / first.split("=", 1)[1]).resolve() == \
        schemas.FOLDER / f"{kind}.schema.json"
    assert schemas.schema_problems(parse(path.read_bytes(), logical), logical) == []


def test_the_flow_schema_knows_every_step_type_and_its_keys() -> None:
    steps = schemas.flow_schema()["properties"]["steps"]["additionalProperties"]
    assert steps["properties"]["type"]["enum"] == sorted(STEP_TYPES)
    menu = next(rule for rule in steps["allOf"]
                if rule["if"]["properties"]["type"]["const"] == "menu")
    assert menu["then"]["required"] == ["type", "prompts", "options", "no_input", "wrong_key"]


def test_ivr_check_reports_what_only_the_schema_catches(flows_dir: Path) -> None:
    flow = flows_dir / "hotline150.yaml"
    flow.write_text(flow.read_text().replace("description: Default flow", "description: [Default]"
                                             "\n# Default flow"))
    result = CliRunner().invoke(main, ["check"], env={"IVR_FLOWS_DIR": str(flows_dir)})
    assert result.exit_code == 1
    assert ("flows/hotline150.yaml:12:1: description: ['Default'] is not of type 'string' "
            "(schema)") in result.output
