"""One check pipeline, one verdict: `ivr check`, `ivr publish`, a router starting on an empty
store and `ivr status` refuse the same edits with the same problems, each of which once slipped
past one of them, or broke the router."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

from ivr.cli import main
from ivr.ids import MAX_ID
from ivr.records.store import call_records
from ivr.settings import PROJECT_ROOT, Settings
from ivr.source import LoadError, Problem
from tests.conftest import make_app

Edit = Callable[[Path, Path], None]


def replace_in(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"test setup: {old!r} is not in {path.name}"
    path.write_text(text.replace(old, new))


def without_prompt(prompt: str) -> Edit:
    def edit(flows: Path, audio: Path) -> None:
        lines = (flows / "prompts.yaml").read_text().splitlines(keepends=True)
        start = lines.index(f"  {prompt}:\n")
        (flows / "prompts.yaml").write_text("".join(lines[:start] + lines[start + 3:]))
    return edit


def roster(text: str) -> Edit:
    def edit(flows: Path, audio: Path) -> None:
        (flows / "roster.yaml").write_text(text)
    return edit


def operator(op_id: str, extra: str = "") -> str:
    return (f'operators:\n  "{op_id}": {{phone: "+77010000101", languages: [kk, ru]{extra}}}\n'
            f'weekly:\n  - {{who: "{op_id}", days: daily, from: "00:00", to: "24:00"}}\n')


def long_region(flows: Path, audio: Path) -> None:
    long_id = "ulytau_region_of_central_kazakhstan"  # 35 characters: longer than the column
    replace_in(flows / "regions.yaml", "  ulytau:", f"  {long_id}:")
    replace_in(flows / "regions.yaml", "ulytau]", f"{long_id}]")
    for language in ("kk", "ru"):
        (audio / language / "region.ulytau.wav").rename(audio / language /
                                                        f"region.{long_id}.wav")
        replace_in(audio / "manifest.yaml", f"{language}/region.ulytau.wav",
                   f"{language}/region.{long_id}.wav")


def write(name: str, data: bytes) -> Edit:
    def edit(flows: Path, audio: Path) -> None:
        (flows / name).write_bytes(data)
    return edit


def backup_copy(flows: Path, audio: Path) -> None:
    shutil.copy(flows / "hotline150.yaml", flows / "hotline150 (copy).yaml")


def deleted_recording(flows: Path, audio: Path) -> None:
    (audio / "kk" / "hold.wav").unlink()


def edited_sentence(flows: Path, audio: Path) -> None:
    replace_in(flows / "prompts.yaml", "Бос кеңесшіні іздеп жатырмыз", "Кеңесшіні іздеп жатырмыз")


ALIAS_BOMB = b"a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n" + \
    b"c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n" + \
    b"e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\n" + \
    b"g: [*f, *f, *f, *f, *f, *f, *f, *f, *f]\n"

CASES: dict[str, tuple[Edit, str]] = {
    "the safe path's prompt deleted": (
        without_prompt("fallback"), "fallback: the safe path (what callers hear when anything "
                                    "fails) needs this prompt in kk and ru"),
    "the whisper's accept prompt deleted": (
        without_prompt("whisper_accept"), "whisper_accept: operators hear this prompt in the "
                                          "whisper before they accept a call"),
    "active: 0": (roster(operator("olga", ", active: 0")), "'active' must be true or false, not '0'"),
    'active: "no"': (roster(operator("olga", ', active: "no"')),
                     "'active' must be true or false, not 'no'"),
    "an operator id in Cyrillic": (roster(operator("Айгерим")), "operator id: 'Айгерим' cannot be an id"),
    "an operator id with a space": (roster(operator("ai gerim")), "operator id: 'ai gerim' cannot be an id"),
    "an operator id of 65 characters": (roster(operator("a" * 65)),
                                        f"operator id: '{'a' * MAX_ID}…' is longer than {MAX_ID}"),
    "a region id longer than the store keeps": (long_region, "region id: 'ulytau_region_of_central"),
    "a YAML alias bomb": (write("roster.yaml", ALIAS_BOMB), "anchors and aliases (& and *) are not allowed"),
    "a control character": (write("roster.yaml", b'operators: {olga: {name: "O\\x07"}}\n'),
                            "a control character is in this value"),
    "deep nesting": (write("roster.yaml", b"operators: " + b"[" * 200 + b"]" * 200 + b"\n"),
                     "values are nested more than 24 levels deep"),
    "a file that is not UTF-8": (write("roster.yaml", "operators: {ольга: 1}\n".encode("cp1251")),
                                 "the file is not UTF-8 text"),
    "a backup copy of the flow": (backup_copy, "flows/hotline150 (copy).yaml:1:1: another file "
                                               "(flows/hotline150.yaml) already defines flow"),
    "a Kazakh recording deleted": (deleted_recording, "hold: no recording audio/kk/hold.wav"),
    "a sentence edited but not recorded again": (
        edited_sentence, "hold: audio/kk/hold.wav was recorded from another text"),
}


@pytest.fixture
def audio_dir(tmp_path: Path) -> Path:
    target = tmp_path / "audio"
    shutil.copytree(PROJECT_ROOT / "audio", target)
    return target


def verdicts(settings: Settings) -> dict[str, list[str]]:
    """The problems each entry point reports for the working folders of `settings`."""
    env = {"IVR_FLOWS_DIR": str(settings.flows_dir), "IVR_AUDIO_DIR": str(settings.audio_dir),
           "REDIS_URL": settings.redis_url or "", "IVR_REDIS_PREFIX": settings.redis_prefix}
    found: dict[str, list[str]] = {}
    check = CliRunner().invoke(main, ["check", "--format", "json"], env=env)
    assert check.exit_code == 1, check.output
    found["ivr check"] = [str(Problem(p["file"], p["line"], p["step"] or "", p["message"],
                                      p["column"] or 0)) for p in json.loads(check.output)["problems"]]
    publish = CliRunner().invoke(main, ["publish"], env=env)
    assert publish.exit_code == 1, publish.output
    found["ivr publish"] = publish.output.splitlines()[:-1]
    with pytest.raises(LoadError) as refused:
        make_app(settings)
    found["router start-up"] = [str(p) for p in refused.value.problems]
    status = CliRunner().invoke(main, ["status"], env=env)
    assert status.exit_code == 0, status.output
    lines = status.output.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("working folders:"))
    found["ivr status"] = [line.strip() for line in lines[start + 1:start + 1 + len(
        found["ivr check"])]]
    for output in (check.output, publish.output, status.output):
        assert "Traceback" not in output
    return found


@pytest.mark.parametrize("case", list(CASES))
def test_every_entry_point_refuses_the_same_edit_with_the_same_problems(
    case: str, settings: Settings, flows_dir: Path, audio_dir: Path
) -> None:
    edit, expected = CASES[case]
    edit(flows_dir, audio_dir)
    found = verdicts(replace(settings, audio_dir=audio_dir))
    first = found["ivr check"]
    assert first, "nothing was refused"
    assert any(expected in problem for problem in first), first
    for entry_point, problems in found.items():
        assert problems == first, entry_point


def test_the_store_keeps_every_id_the_checks_let_through() -> None:
    for column in ("operator", "region", "destination", "flow"):
        length = call_records.c[column].type.length
        assert length is not None, column
        assert length >= MAX_ID, column


def test_caller_id_and_fallback_numbers_must_be_full_numbers(settings: Settings) -> None:
    from ivr.settings import ConfigError

    for name, value in (("IVR_CALLER_ID", "150"), ("IVR_FALLBACK_NUMBERS", "+77172000150,112")):
        with pytest.raises(ConfigError, match=f"{name}: '.*' is not a full international number"):
            Settings.from_env({name: value})
    with pytest.raises(ConfigError, match="IVR_CALLER_ID"):
        make_app(replace(settings, caller_id="8 717 200 0150"))
