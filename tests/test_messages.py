"""Supervisors' messages in English, Russian and Kazakh, through gettext catalogues: every
message and help text translated, and every command speaking the language asked for."""

from __future__ import annotations

import re
import shutil
import threading
import types
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import cast

import pytest
import redis
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from click.testing import CliRunner

from ivr.cli import main
from ivr.cli.texts import english, help_texts
from ivr.i18n import LOCALE_DIR, set_language
from ivr.library import graph, watch
from ivr.library.pipeline import Options
from ivr.library.publish import Outcome
from ivr.library.store import SnapshotStore
from ivr.settings import PROJECT_ROOT
from ivr.source import LoadError, Problem

TRANSLATED = ("ru", "kk")
MONDAY = ["--at", "2026-12-14 10:00"]  # the example roster: aigerim (kk, ru) and dana (ru)
PLACEHOLDER = re.compile(r"\{[^{}]*\}")


@pytest.fixture(autouse=True)
def english_afterwards() -> Iterator[None]:
    yield
    set_language("en")


def po_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / "ivr.po"


def catalogue(language: str) -> Catalog:
    with po_path(language).open("rb") as po:
        return read_po(po, locale=language)


# What the `ivr` catalogue holds, as ivr/locale/babel.cfg has `pybabel extract` read it
# (patterns relative to ivr/, the first that matches wins): the console's messages are in its
# own catalogue, `console`, except the account rules of accounts.py, which `ivr users` says too.
METHOD_MAP = [("console/accounts.py", "python"), ("console/**", "ignore"), ("**.py", "python")]


def messages_in_the_code() -> set[str]:
    found = extract_from_dir(str(PROJECT_ROOT / "ivr"), method_map=METHOD_MAP,
                             keywords={"_": None, "N_": None})
    return {message for _file, _line, message, _comments, _context in found}


def every_help_text() -> set[str]:
    return {text for text, _command, _name in help_texts(main)}


def test_the_template_holds_every_message_and_help_text() -> None:
    with (LOCALE_DIR / "ivr.pot").open("rb") as pot:
        template = {m.id for m in read_po(pot) if m.id}
    missing = (messages_in_the_code() | every_help_text()) - template
    assert missing == set(), "run pybabel extract, then python -m ivr.cli.texts ivr/locale/ivr.pot"


def test_the_template_leaves_the_console_to_its_own_catalogue() -> None:
    with (LOCALE_DIR / "ivr.pot").open("rb") as pot:
        files = {file for m in read_po(pot) for file, _line in m.locations}
    console = {file for file in files if file.startswith("ivr/console/")}
    assert console == {"ivr/console/accounts.py"}, \
        "extract with -F ivr/locale/babel.cfg (see the README), then run pybabel update"


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_message_and_help_text_is_translated(language: str) -> None:
    translated = {m.id for m in catalogue(language)
                  if m.id and m.string and "fuzzy" not in m.flags}
    assert messages_in_the_code() - translated == set(), \
        "run pybabel update, translate, then compile"
    assert every_help_text() - translated == set(), \
        "run python -m ivr.cli.texts ivr/locale/ivr.pot, pybabel update, translate, compile"


@pytest.mark.parametrize("language", TRANSLATED)
def test_the_catalogues_keep_no_obsolete_entries(language: str) -> None:
    assert list(catalogue(language).obsolete) == [], \
        "run pybabel update with --ignore-obsolete (see the README)"


@pytest.mark.parametrize("language", TRANSLATED)
def test_translations_keep_the_placeholders(language: str) -> None:
    wrong = [(m.id, m.string) for m in catalogue(language) if m.id and m.string
             and set(PLACEHOLDER.findall(str(m.id))) != set(PLACEHOLDER.findall(str(m.string)))]
    assert wrong == []


@pytest.mark.parametrize("language", TRANSLATED)
def test_the_compiled_catalogue_is_current(language: str) -> None:
    po = po_path(language)
    mo = po.with_suffix(".mo")
    assert mo.stat().st_mtime >= po.stat().st_mtime - 1, "run pybabel compile"
    with mo.open("rb") as binary:
        compiled = {hashable(m.id): hashable(m.string) for m in read_mo(binary) if m.id}
    written = {hashable(m.id): hashable(m.string) for m in catalogue(language) if m.id}
    assert compiled == written


def hashable(text: object) -> object:
    """A message's id or translation; those with plural forms (lists in a `.mo`, tuples in a
    `.po`) as tuples."""
    return tuple(text) if isinstance(text, (list, tuple)) else text


def broken_flow(flows_dir: Path) -> dict[str, str]:
    flow = flows_dir / "hotline150.yaml"
    flow.write_text(flow.read_text().replace('"2": russian', '"2": rusian'))
    return {"IVR_FLOWS_DIR": str(flows_dir)}


def test_ivr_check_speaks_russian_when_asked(flows_dir: Path) -> None:
    env = broken_flow(flows_dir)
    russian = CliRunner().invoke(main, ["--lang", "ru", "check"], env=env)
    assert russian.exit_code == 1
    assert ("greeting: «клавиша 2» ведёт к несуществующему шагу «rusian» (возможно, имелось в "
            "виду «russian»?)") in russian.output
    assert "Найдено ошибок: 1." in russian.output
    by_env = CliRunner().invoke(main, ["check"], env={**env, "IVR_MESSAGES": "ru"})
    assert "ведёт к несуществующему шагу" in by_env.output
    english_output = CliRunner().invoke(main, ["check"], env=env)
    assert "'key 2' leads to a step that does not exist: 'rusian'" in english_output.output
    assert "1 problem(s) found." in english_output.output


def test_ivr_check_speaks_kazakh_when_asked(flows_dir: Path) -> None:
    result = CliRunner().invoke(main, ["--lang", "kk", "check"], env=broken_flow(flows_dir))
    assert result.exit_code == 1
    assert ("flows/hotline150.yaml:35:7: greeting: «2 пернесі» жоқ қадамға апарады: «rusian» "
            "(мүмкін, «russian» болар?)") in result.output
    assert "Табылған қателер саны: 1." in result.output
    assert "problem" not in result.output


def test_ivr_check_in_kazakh_says_each_file_is_ok() -> None:
    result = CliRunner().invoke(main, ["--lang", "kk", "check"], env={"REDIS_URL": None})
    assert result.exit_code == 0, result.output
    assert "ok  flows/roster.yaml: операторлар саны: 6 (белсенділері: 5)" in result.output
    assert "нұсқасы: жариялауға дайын (`ivr publish`)" in result.output


def flat(text: str) -> str:
    """Text with its line breaks and indents as single spaces, as the help wraps it."""
    return " ".join(text.split())


def english_sentences(command_name: str) -> list[str]:
    """The English help of a command and of its options, and the start of each of its
    subcommands' help (what its list of commands shows)."""
    found = [flat(text.replace("\b", "")) for text, _command, name in help_texts(main)
             if name == command_name]
    found += [" ".join(english(command.help or "").split()[:3])
              for _text, command, name in help_texts(main)
              if name.rpartition(" ")[0] == command_name and command.help]
    return found


@pytest.mark.parametrize(("args", "env", "command", "says"), [
    (["--help"], {"IVR_MESSAGES": "kk"}, "ivr",
     "150 желісіне арналған дауыстық IVR жүйесі. Әр команданың өз --help анықтамасы бар."),
    (["--lang", "kk", "roster", "--help"], {}, "ivr roster",
     "Кезекшілік кестесі: кім кезекшілікте, алдағы апта және операторсыз уақыт."),
    (["--lang", "kk", "call", "--help"], {}, "ivr call",
     "Пернелер, әр мәзірге біреуден, мысалы '2,1'; бос элемент — үнсіз қалу."),
    (["--lang", "ru", "roster", "--help"], {}, "ivr roster",
     "График дежурств: кто дежурит, неделя вперёд и пробелы в покрытии."),
], ids=["ivr --help (IVR_MESSAGES=kk)", "--lang kk roster --help", "--lang kk call --help",
        "--lang ru roster --help"])
def test_the_help_is_in_the_language_asked_for(args: list[str], env: dict[str, str],
                                               command: str, says: str) -> None:
    result = CliRunner().invoke(main, args, env=env)
    assert result.exit_code == 0, result.output
    shown = flat(result.output)
    assert says in shown
    frame = {"kk": ("Қолданылуы:", "Параметрлер:", "Осы анықтаманы көрсетіп, шығу."),
             "ru": ("Использование:", "Параметры:", "Показать эту справку и выйти.")}
    for word in frame["ru" if "ru" in args else "kk"]:
        assert word in shown
    left = [sentence for sentence in english_sentences(command) if sentence in shown]
    assert left == []
    for word in ("Usage:", "Options:", "Commands:", "Show this message"):
        assert word not in shown


def test_a_mistake_on_the_command_line_is_told_in_kazakh() -> None:
    result = CliRunner().invoke(main, ["--lang", "kk", "check", "--format", "xml"])
    assert result.exit_code == 2
    assert ("Қате: '--format' мәні жарамсыз: 'xml' жарамайды; мыналардың бірін таңдаңыз: "
            "'text', 'json'.") in result.output
    assert re.search(r"^Анықтама: '\S+ check --help'\.$", result.output, re.MULTILINE)


def with_a_failing_scenario(flows_dir: Path) -> dict[str, str | None]:
    """The shipped roster, and a flow whose consultant route goes straight to the national
    line: the scenarios of calls that reach an operator fail, the others pass."""
    shutil.copy(PROJECT_ROOT / "flows" / "roster.yaml", flows_dir / "roster.yaml")
    flow = flows_dir / "hotline150.yaml"
    flow.write_text(flow.read_text().replace(
        "try: [operators, regional, national]", "try: [national]"))
    return {"REDIS_URL": None, "IVR_FLOWS_DIR": str(flows_dir)}


def test_ivr_test_says_pass_and_fail_in_kazakh(flows_dir: Path) -> None:
    result = CliRunner().invoke(main, ["--lang", "kk", "test"],
                                env=with_a_failing_scenario(flows_dir))
    assert result.exit_code == 1, result.output
    assert ("ӨТПЕДІ  flows/scenarios/hotline150.yaml:25: a Russian caller asks for a consultant; "
            "the operators ring in turn") in result.output
    assert "        dials: күтілгені ['dana', 'aigerim'], терілгені ['national']" in result.output
    assert re.search(r"^ӨТТІ    flows/scenarios/", result.output, re.MULTILINE)
    assert re.search(r"^өтті: \d+, өтпеді: [1-9]\d*$", result.output, re.MULTILINE)
    for word in ("PASS", "FAIL", "passed", "expected"):
        assert word not in result.output


def test_ivr_call_speaks_russian_when_asked() -> None:
    result = CliRunner().invoke(main, ["--lang", "ru", "call", *MONDAY, "--press", "2,1"],
                                env={"REDIS_URL": None})
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Звонок на 150:\n")
    assert "  абонент нажимает 2\n" in result.output
    assert "  абонент слышит [ru] Чтобы поговорить с консультантом, нажмите один." in result.output
    assert "система звонит на +7701000000" in result.output
    assert "(оператор aigerim)" in result.output or "(оператор dana)" in result.output
    assert "Итог: соединён с +7701000000" in result.output
    for word in ("caller", "presses", "router", "Result"):
        assert word not in result.output


def test_ivr_call_asks_for_keys_in_russian(monkeypatch: pytest.MonkeyPatch) -> None:
    # at a terminal, without --press, `ivr call` asks at each menu
    monkeypatch.setattr("ivr.cli.call.sys", types.SimpleNamespace(
        stdin=types.SimpleNamespace(isatty=lambda: True)))
    result = CliRunner().invoke(main, ["--lang", "ru", "call", *MONDAY], input="2\n1\n",
                                env={"REDIS_URL": None})
    assert result.exit_code == 0, result.output
    assert result.output.count("  клавиша (Enter — молчание): ") == 2
    assert "Итог: соединён с" in result.output


@pytest.mark.parametrize(("args", "env", "hint"), [
    (["--lang", "xx", "check"], {}, "'--lang'"),
    (["check"], {"IVR_MESSAGES": "xx"}, "IVR_MESSAGES"),
])
def test_an_unknown_language_gets_a_sentence(args: list[str], env: dict[str, str],
                                             hint: str) -> None:
    result = CliRunner().invoke(main, args, env=env)
    assert result.exit_code == 2
    assert (f"Error: Invalid value for {hint}: 'xx' is not a language of messages; use en, ru "
            "or kk") in result.output
    assert "Traceback" not in result.output


def section_counts(guide: Path) -> dict[int, int]:
    """How many headings of each level (#, ##, ...) a Markdown guide has, outside code."""
    counts: dict[int, int] = {}
    in_code = False
    for line in guide.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            in_code = not in_code
        elif not in_code and (heading := re.match(r"(#+) ", line)):
            level = len(heading.group(1))
            counts[level] = counts.get(level, 0) + 1
    return counts


def test_the_supervisors_guides_have_the_same_sections() -> None:
    guides = [PROJECT_ROOT / "docs" / name
              for name in ("supervisors.md", "supervisors.ru.md", "supervisors.kk.md")]
    english_counts = section_counts(guides[0])
    assert english_counts.get(2, 0) > 0
    for guide in guides[1:]:
        assert section_counts(guide) == english_counts, guide.name


@pytest.mark.parametrize("fmt", ["mermaid", "dot"])
def test_ivr_graph_draws_in_kazakh(fmt: str) -> None:
    result = CliRunner().invoke(main, ["--lang", "kk", "graph", "--format", fmt],
                                env={"IVR_FLOWS_DIR": None})
    assert result.exit_code == 0, result.output
    text = result.output
    for label in ("кез келген мәзірде", "қоңырау", "0 пернесі", "9 пернесі", "(мәзір)",
                  "(маршрут: operators ⏳ кезек ≤ 300 с → regional → national)",
                  "(шұғыл көмек: emergency → operators → national)"):
        assert label in text
    english = ["in every menu", '"call"', "key ", "line ≤", " s →", *graph.KINDS.values(),
               *(kind.partition("{")[0] for kind in graph.ROUTES.values())]
    assert [label for label in english if label in text] == []
    # the names of the steps and the YAML keys on the arrows are data: as in the flow
    for data in ("consultant", "main_menu", "no_input", "next"):
        assert data in text


def watcher_says(monkeypatch: pytest.MonkeyPatch, happening: Callable[[], Outcome]) -> list[str]:
    """What `ivr publish --watch` prints the first time it publishes, `happening` standing for
    the publication (it returns an outcome or raises)."""
    said: list[str] = []
    stop = threading.Event()

    def say(line: str) -> None:
        said.append(line)
        stop.set()

    monkeypatch.setattr(watch, "publish", lambda *_args, **_kwargs: happening())
    here = PROJECT_ROOT / "flows" / "scenarios"
    watch.watch(cast(SnapshotStore, None), cast(Options, None), here, here, "test", say, stop,
                every=0)
    return said


def test_the_watcher_speaks_russian_when_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    set_language("ru")

    def refused() -> Outcome:
        raise LoadError([Problem("flows/hotline150.yaml", 35, "greeting", "x", 7)])

    def no_redis() -> Outcome:
        raise redis.ConnectionError("down")

    def published() -> Outcome:
        return cast(Outcome, types.SimpleNamespace(
            snapshot=types.SimpleNamespace(version="3f2a9c01d4e7"),
            publication=types.SimpleNamespace(summary="roster.yaml")))

    assert watcher_says(monkeypatch, refused) == [
        "не опубликовано, ошибок: 1; действующая версия не изменилась:\n"
        "flows/hotline150.yaml:35:7: greeting: x"]
    assert watcher_says(monkeypatch, no_redis) == [
        "не удалось опубликовать (ConnectionError); попытка будет повторена"]
    assert watcher_says(monkeypatch, published) == ["опубликована версия 3f2a9c01d4e7: roster.yaml"]
