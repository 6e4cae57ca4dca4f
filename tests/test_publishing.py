"""Publishing a change safely: calls in progress keep their version; bad edits are refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from ivr.cli import main
from ivr.settings import Settings
from tests.conftest import EMERGENCY, OPERATOR, Phone


def test_a_call_started_before_a_reload_finishes_on_its_version(phone: Phone,
                                                                 flows_dir: Path) -> None:
    sim = phone.start()
    sim.post("/voice")
    sim.post("/voice/gather", {"Digits": "2"})  # Russian: the main menu
    flow = flows_dir / "hotline150.yaml"
    flow.write_text(flow.read_text().replace('"1": consultant\n      "2": crisis_centre',
                                             '"1": emergency\n      "2": crisis_centre'))
    voice = phone.app.extensions["ivr.voice"]
    assert voice.reload() is True
    document = sim.post("/voice/gather", {"Digits": "1"})  # the old menu: 1 is a consultant
    assert document.find("Dial/Number").text == OPERATOR  # type: ignore[union-attr]
    assert phone.call(["2", "1"]).numbers[0] == EMERGENCY  # a new call gets the new menu


def test_a_bad_edit_is_refused_while_calls_go_on(phone: Phone, flows_dir: Path,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    sim = phone.start()
    sim.post("/voice")
    flow = flows_dir / "hotline150.yaml"
    flow.write_text(flow.read_text().replace('"2": russian', '"2": rusian'))
    voice = phone.app.extensions["ivr.voice"]
    assert voice.reload() is False
    assert "greeting: 'key 2' leads to a step that does not exist: 'rusian'" in caplog.text
    document = sim.post("/voice/gather", {"Digits": "2"})
    assert "/audio/ru/main_menu." in (document[0][0].text or "")
    assert phone.call(["2", "1"]).connected_to == OPERATOR
    health = phone.app.test_client().get("/healthz").get_json()
    assert health["refused"][0].startswith("flows/hotline150.yaml:35: greeting:")


def test_ivr_status_compares_the_files_with_the_router(settings: Settings, flows_dir: Path,
                                                       phone: Phone) -> None:
    result = CliRunner().invoke(main, ["status"], env={"IVR_FLOWS_DIR": str(flows_dir)})
    assert result.exit_code == 0, result.output
    version = phone.app.extensions["ivr.voice"].flows().version
    assert f"on disk:   version {version} (passes `ivr check`)" in result.output
