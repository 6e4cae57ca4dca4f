"""Supervisors' messages in English and Russian, through gettext catalogues."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from click.testing import CliRunner

from ivr.cli import main
from ivr.i18n import LOCALE_DIR, set_language
from ivr.settings import PROJECT_ROOT

PO = LOCALE_DIR / "ru" / "LC_MESSAGES" / "ivr.po"


@pytest.fixture(autouse=True)
def english_afterwards() -> Iterator[None]:
    yield
    set_language("en")


def test_every_message_in_the_code_has_a_russian_translation() -> None:
    found = extract_from_dir(str(PROJECT_ROOT / "ivr"), method_map=[("**.py", "python")],
                             keywords={"_": None, "N_": None})
    extracted = {message for _file, _line, message, _comments, _context in found}
    with PO.open("rb") as po:
        catalogue = read_po(po, locale="ru")
    translated = {m.id for m in catalogue if m.id and m.string and "fuzzy" not in m.flags}
    assert extracted - translated == set(), "run pybabel update, translate, then compile"


def test_the_compiled_catalogue_is_current() -> None:
    mo = PO.with_suffix(".mo")
    assert mo.stat().st_mtime >= PO.stat().st_mtime - 1, "run pybabel compile"
    from babel.messages.mofile import read_mo

    with mo.open("rb") as binary, PO.open("rb") as po:
        compiled = {m.id: m.string for m in read_mo(binary) if m.id}
        written = {m.id: m.string for m in read_po(po, locale="ru") if m.id}
    assert compiled == written


def test_ivr_check_speaks_russian_when_asked(flows_dir: Path) -> None:
    flow = flows_dir / "hotline150.yaml"
    flow.write_text(flow.read_text().replace('"2": russian', '"2": rusian'))
    env = {"IVR_FLOWS_DIR": str(flows_dir)}
    russian = CliRunner().invoke(main, ["--lang", "ru", "check"], env=env)
    assert russian.exit_code == 1
    assert ("greeting: «клавиша 2» ведёт к несуществующему шагу «rusian» (возможно, имелось в "
            "виду «russian»?)") in russian.output
    by_env = CliRunner().invoke(main, ["check"], env={**env, "IVR_MESSAGES": "ru"})
    assert "ведёт к несуществующему шагу" in by_env.output
    english = CliRunner().invoke(main, ["check"], env=env)
    assert "'key 2' leads to a step that does not exist: 'rusian'" in english.output
