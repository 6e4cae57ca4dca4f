"""Flows and prompts load only when they are safe; each problem names its file and line."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from ivr.cli import main
from ivr.settings import PROJECT_ROOT
from ivr.source import LoadError
from tests.conftest import load, without_columns

SHIPPED_FLOWS = sorted(p.name for p in (PROJECT_ROOT / "flows").glob("*.yaml"))
FLOW = "hotline150.yaml"


def problems_after(flows_dir: Path, old: str, new: str, file: str = FLOW) -> list[str]:
    path = flows_dir / file
    text = path.read_text()
    assert old in text, f"test setup: {old!r} is not in {file}"
    path.write_text(text.replace(old, new, 1))
    with pytest.raises(LoadError) as caught:
        load(flows_dir)
    return without_columns(caught.value.problems)


def line_of(flows_dir: Path, needle: str, file: str = FLOW) -> int:
    lines = (flows_dir / file).read_text().splitlines()
    return next(i for i, line in enumerate(lines, 1) if needle in line)


@pytest.mark.parametrize("name", SHIPPED_FLOWS)
def test_every_shipped_file_loads(name: str) -> None:
    snapshot = load(PROJECT_ROOT / "flows")
    assert f"flows/{name}" in snapshot.files
    if name == "roster.yaml":
        assert snapshot.routing.roster.operators
    elif name == "regions.yaml":
        assert len(snapshot.routing.regions.regions) == 20
    elif name != "prompts.yaml":
        assert any(f.file == f"flows/{name}" for f in snapshot.flows.values())


def test_every_shipped_prompt_has_a_recording_in_both_languages() -> None:
    snapshot = load(PROJECT_ROOT / "flows")
    for prompt in snapshot.catalogue.prompts.values():
        assert set(prompt.recordings) == {"kk", "ru"}, prompt.id


def test_an_unknown_step_type_is_refused_with_a_suggestion(flows_dir: Path) -> None:
    problems = problems_after(flows_dir, "type: hangup", "type: hangpu")
    line = line_of(flows_dir, "type: hangpu")
    assert problems == [f"flows/{FLOW}:{line}: all_busy: unknown step type 'hangpu' (did you "
                        "mean 'hangup'?); known types: emergency, goto, hangup, language, menu, "
                        "region_menu, route, say"]


def test_an_unknown_key_is_refused_with_the_allowed_keys(flows_dir: Path) -> None:
    problems = problems_after(flows_dir, "    timeout: 6\n    options:\n      \"1\": kazakh",
                              "    timout: 6\n    options:\n      \"1\": kazakh")
    line = line_of(flows_dir, "timout: 6")
    assert problems == [f"flows/{FLOW}:{line}: greeting: unknown key 'timout' for a menu step "
                        "(did you mean 'timeout'?); allowed: type, prompts, timeout, options, "
                        "no_input, wrong_key"]


def test_a_missing_target_is_refused(flows_dir: Path) -> None:
    problems = problems_after(flows_dir, '"2": russian', '"2": rusian')
    line = line_of(flows_dir, '"2": rusian')
    assert problems == [f"flows/{FLOW}:{line}: greeting: 'key 2' leads to a step that does not "
                        "exist: 'rusian' (did you mean 'russian'?)"]


def test_an_unreachable_step_is_refused(flows_dir: Path) -> None:
    path = flows_dir / FLOW
    path.write_text(path.read_text() + "\n  forgotten:\n    type: goto\n    to: consultant\n")
    with pytest.raises(LoadError) as caught:
        load(flows_dir)
    line = line_of(flows_dir, "  forgotten:") + 1
    assert without_columns(caught.value.problems) == [
        f"flows/{FLOW}:{line}: forgotten: no caller can reach this step; link it or remove it"]


def test_a_step_with_no_way_out_is_refused(flows_dir: Path) -> None:
    path = flows_dir / FLOW
    trap = ("\n  trap:\n    type: menu\n    prompts: [main_menu]\n    options: {\"1\": trap}\n"
            "    no_input: {retries: 1, then: trap}\n    wrong_key: {retries: 1, then: trap}\n")
    path.write_text(path.read_text().replace('"2": crisis_centre', '"2": trap') + trap)
    with pytest.raises(LoadError) as caught:
        load(flows_dir)
    messages = [str(p) for p in caught.value.problems]
    assert any("trap: this step has no way out" in m for m in messages)
    assert any("loop without waiting for a key" in m for m in messages)


def test_a_loop_without_a_bound_is_refused(flows_dir: Path) -> None:
    path = flows_dir / FLOW
    loop = ("\n  loop_a:\n    type: goto\n    to: loop_b\n"
            "\n  loop_b:\n    type: goto\n    to: loop_a\n")
    path.write_text(path.read_text() + loop)
    problems = problems_after(flows_dir, '"2": crisis_centre', '"2": loop_a')
    assert any("loop_a: these steps loop without waiting for a key and without a bound: "
               "loop_a -> loop_b -> loop_a" in p for p in problems), problems


def test_a_retry_without_a_bound_is_refused(flows_dir: Path) -> None:
    problems = problems_after(flows_dir, "no_input: {prompts: [no_input], retries: 1, then: "
                              "consultant}\n    wrong_key: {prompts: [wrong_key], retries: 2",
                              "no_input: {prompts: [no_input], then: consultant}\n    "
                              "wrong_key: {prompts: [wrong_key], retries: 2")
    assert problems == [f"flows/{FLOW}:36: greeting: 'no_input' needs 'retries', a bound on how "
                        "often the menu repeats"]


def test_too_many_retries_are_refused(flows_dir: Path) -> None:
    problems = problems_after(flows_dir, "retries: 2, then: consultant}\n\n  kazakh",
                              "retries: 9, then: consultant}\n\n  kazakh")
    assert problems == [f"flows/{FLOW}:37: greeting: 'retries' must be a whole number from 0 "
                        "to 3"]


def test_a_menu_with_more_than_four_choices_is_refused(flows_dir: Path) -> None:
    problems = problems_after(flows_dir, '"9": emergency\n    no_input',
                              '"9": emergency\n      "3": consultant\n      "4": consultant\n'
                              '      "5": consultant\n    no_input')
    assert len(problems) == 1
    assert "main_menu: this menu offers 6 choices besides 0; callers remember at most 4" \
        in problems[0]


@pytest.mark.parametrize("number", ["102", "112", "150", "+7102", "87172000150", "+7 717 2000150"])
def test_a_number_twilio_cannot_dial_is_refused(flows_dir: Path, number: str) -> None:
    problems = problems_after(flows_dir, 'emergency: "+77172000112"', f'emergency: "{number}"')
    line = line_of(flows_dir, f'emergency: "{number}"')
    assert len(problems) == 1
    assert problems[0].startswith(f"flows/{FLOW}:{line}: number 'emergency': '{number}' is not")


def test_a_short_number_message_explains_why(flows_dir: Path) -> None:
    (problem,) = problems_after(flows_dir, 'emergency: "+77172000112"', 'emergency: "112"')
    assert "102, 112 and 150 cannot be dialled through Twilio" in problem


def test_a_prompt_missing_in_one_language_is_refused(flows_dir: Path) -> None:
    problems = problems_after(flows_dir, "  hold:\n    kk:", "  hold:\n    # kk:", "prompts.yaml")
    line = line_of(flows_dir, "  consultant:") + 1
    assert f"flows/{FLOW}:{line}: consultant: prompt 'hold' has no Kazakh text in " \
           "flows/prompts.yaml" in problems


def test_a_kazakh_prompt_without_a_recording_is_refused(flows_dir: Path) -> None:
    catalogue = flows_dir / "prompts.yaml"
    catalogue.write_text(catalogue.read_text() + '  thanks:\n    kk: "Рахмет."\n'
                         '    ru: "Спасибо."\n')
    with pytest.raises(LoadError) as caught:
        load(flows_dir)
    line = line_of(flows_dir, 'kk: "Рахмет."', "prompts.yaml")
    assert without_columns(caught.value.problems) == [
        f"flows/prompts.yaml:{line}: thanks: no recording audio/kk/thanks.wav, and no Twilio "
        "voice speaks Kazakh: record the prompt (see the README's audio section)"]


def test_a_russian_prompt_without_a_recording_is_spoken_by_a_russian_voice(
    flows_dir: Path, tmp_path: Path
) -> None:
    audio = tmp_path / "audio"
    (audio / "kk").mkdir(parents=True)
    for wav in (PROJECT_ROOT / "audio" / "kk").iterdir():
        (audio / "kk" / wav.name).write_bytes(wav.read_bytes())
    (audio / "ru").mkdir()  # a sound has no text to speak: it keeps its recording
    shutil.copy(PROJECT_ROOT / "audio" / "ru" / "hold_tone.wav", audio / "ru")
    shutil.copy(PROJECT_ROOT / "audio" / "manifest.yaml", audio / "manifest.yaml")
    snapshot = load(flows_dir, audio)
    assert snapshot.catalogue.recording("greeting", "ru") is None
    assert snapshot.catalogue.recording("greeting", "kk") is not None


def test_invalid_yaml_is_refused_with_its_line(flows_dir: Path) -> None:
    problems = problems_after(flows_dir, "    next: main_menu\n\n  russian",
                              "    next: [main_menu\n\n  russian")
    assert len(problems) == 1
    assert problems[0].startswith(f"flows/{FLOW}:")
    assert "this is not valid YAML" in problems[0]


def test_a_key_written_twice_is_refused(flows_dir: Path) -> None:
    problems = problems_after(flows_dir, '"2": russian', '"2": russian\n      "2": kazakh')
    line = line_of(flows_dir, '"2": kazakh')
    assert problems == [f"flows/{FLOW}:{line}: the key '2' is written twice; keep one"]


def test_a_flow_that_hangs_up_on_a_silent_caller_is_refused(flows_dir: Path) -> None:
    problems = problems_after(flows_dir, "no_input: {prompts: [no_input], retries: 1, then: "
                              "consultant}\n    wrong_key: {prompts: [wrong_key], retries: 2, "
                              "then: consultant}\n\n  kazakh",
                              "no_input: {prompts: [no_input], retries: 1, then: all_busy}\n"
                              "    wrong_key: {prompts: [wrong_key], retries: 2, then: "
                              "consultant}\n\n  kazakh")
    assert any("greeting: a caller who presses nothing is never put through to a person" in p
               for p in problems), problems
    assert any(":36: greeting: a caller who stays silent here is never put through" in p
               for p in problems), problems


def test_a_flow_where_zero_does_not_reach_a_person_is_refused(flows_dir: Path) -> None:
    problems = problems_after(flows_dir, '"0": consultant', '"0": all_busy')
    assert f"flows/{FLOW}:30: greeting: key 0 must put the caller through to a person from " \
           "every menu; add '0' to 'anywhere'" in problems
    assert any("main_menu: key 0 must put the caller through" in p for p in problems)


def test_a_menu_timeout_outside_five_to_eight_seconds_is_refused(flows_dir: Path) -> None:
    (problem,) = problems_after(flows_dir, "timeout: 6", "timeout: 20")
    assert problem == f"flows/{FLOW}:32: greeting: 'timeout' must be a whole number from 5 to 8"


def test_a_language_outside_the_flow_is_refused(flows_dir: Path) -> None:
    (problem,) = problems_after(flows_dir, "language: kk", "language: en")
    assert "kazakh: 'language' must be one of the flow's languages: kk, ru" in problem


def test_every_problem_is_reported_at_once(flows_dir: Path) -> None:
    problems_after(flows_dir, "type: hangup", "type: hangpu")
    problems = problems_after(flows_dir, 'emergency: "+77172000112"', 'emergency: "112"')
    assert len(problems) == 2


def test_ivr_check_prints_problems_and_exits_non_zero(flows_dir: Path) -> None:
    problems_after(flows_dir, '"2": russian', '"2": rusian')
    result = CliRunner().invoke(main, ["check"], env={"IVR_FLOWS_DIR": str(flows_dir)})
    assert result.exit_code == 1
    assert "greeting: 'key 2' leads to a step that does not exist: 'rusian'" in result.output


def test_ivr_check_passes_on_the_shipped_flows() -> None:
    result = CliRunner().invoke(main, ["check"], env={"IVR_FLOWS_DIR": None})
    assert result.exit_code == 0, result.output
    assert "ok  flows/hotline150.yaml: flow 'hotline150'" in result.output


def test_ivr_check_gives_columns_and_json_for_tools(flows_dir: Path) -> None:
    import json

    problems_after(flows_dir, '"2": russian', '"2": rusian')
    env = {"IVR_FLOWS_DIR": str(flows_dir)}
    text = CliRunner().invoke(main, ["check"], env=env).output
    line = line_of(flows_dir, '"2": rusian')
    assert f"flows/{FLOW}:{line}:7: greeting: 'key 2' leads to" in text
    result = CliRunner().invoke(main, ["check", "--format", "json"], env=env)
    assert result.exit_code == 1
    report = json.loads(result.output)
    assert report["ok"] is False
    assert report["problems"][0] == {
        "file": f"flows/{FLOW}", "line": line, "column": 7, "step": "greeting",
        "message": "'key 2' leads to a step that does not exist: 'rusian' (did you mean "
                   "'russian'?)"}
    good = json.loads(CliRunner().invoke(main, ["check", "--format", "json"],
                                         env={"IVR_FLOWS_DIR": None}).output)
    assert good["ok"] is True
    assert good["problems"] == []
