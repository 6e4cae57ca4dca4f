"""Roster edits from the console: written as a supervisor would write them, previewed and
published through the same checks as `ivr publish`."""

from __future__ import annotations

import datetime as dt
import difflib
import stat
from pathlib import Path

import pytest
import redis
import yaml
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from ivr.calls.keys import Keys
from ivr.clock import zone
from ivr.library.files import FolderSource
from ivr.library.pipeline import Options
from ivr.library.publish import publish
from ivr.library.roster_edits import (
    Absence,
    AddAbsence,
    AddDated,
    AddWeekly,
    DatedShift,
    Edit,
    EditError,
    OperatorFields,
    RemoveAbsence,
    RemoveDated,
    RemoveOperator,
    RemoveWeekly,
    ReplaceAbsence,
    ReplaceDated,
    ReplaceWeekly,
    SaveOperator,
    WeeklyShift,
    apply,
    entries,
    preview,
)
from ivr.library.roster_publish import publish_edit, sync_working_copy
from ivr.library.snapshot import ROSTER_FILE
from ivr.library.store import SnapshotStore
from ivr.settings import PROJECT_ROOT, Settings
from ivr.source import LoadError
from tests.conftest import ONE_OPERATOR

ALMATY = zone("Asia/Almaty")
MONDAY = dt.date(2026, 12, 14)
# Kazakh is covered by day only (aset), Russian around the clock (olga); bota, who speaks
# both, has one dated shift. Line numbers below refer to this text.
ROSTER = """\
# Test roster: comments, blank lines and quoting must survive every edit.
timezone: Asia/Almaty

operators:                    # id: details
  aset:
    name: Асет
    phone: "+77010000201"     # the phone that rings
    languages: [kk]
  olga:
    name: Olga
    phone: "+77010000202"
    languages: [ru]
    regions: [almaty_city]
  bota:
    name: Бота
    phone: "+77010000203"
    languages: [kk, ru]

weekly:                       # recurring shifts
  - who: aset
    days: daily
    from: "08:00"
    to: "20:00"               # the day
  # Olga answers in Russian around the clock
  - who: olga
    days: daily
    from: "00:00"
    to: "24:00"

dated:                        # one-off shifts
  - {who: bota, date: 2026-12-16, from: "08:00", to: "20:00"}

away:
  - who: aset
    from: 2026-12-20
    to: 2026-12-21            # inclusive
    why: leave

holidays:
  calendar: KZ
"""
# The README's example with one-line entries, and lists written under their key without indent.
README_STYLE = """\
operators:
  aigerim:                          # the id that shifts and absences use
    name: Айгерим
    phone: "+77010000001"
    languages: [kk, ru]
weekly:
- who: aigerim
  days: weekdays
  from: "08:00"
  to: "20:00"
dated:
- {who: aigerim, date: 2026-12-16, from: "08:00", to: "20:00"}
away:
- {who: aigerim, from: "2026-12-10 20:00", to: "2026-12-11 08:00", why: sick}
"""
ROSTERS = {"test": ROSTER, "shipped": (PROJECT_ROOT / "flows" / "roster.yaml").read_text(),
           "one operator": ONE_OPERATOR, "readme": README_STYLE}
NIGHT = WeeklyShift(("bota",), "daily", "20:00", "08:00")


def changed_lines(old: str, new: str) -> list[tuple[str, list[str], list[str]]]:
    """Each change as (what, the old lines, the new lines)."""
    a, b = old.splitlines(), new.splitlines()
    return [(tag, a[i1:i2], b[j1:j2])
            for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, False).get_opcodes()
            if tag != "equal"]


def lines(text: str, first: int, last: int) -> list[str]:
    return text.splitlines()[first - 1:last]


def files_of(flows_dir: Path, roster: str) -> dict[str, bytes]:
    (flows_dir / "roster.yaml").write_text(roster)
    source = FolderSource(flows_dir, PROJECT_ROOT / "audio")
    return {name: source.read(name) for name in source.names()}


def at(day: int, hour: int) -> dt.datetime:
    return dt.datetime(2026, 12, day, 0, tzinfo=ALMATY) + dt.timedelta(hours=hour)


# --- writing as a supervisor would --------------------------------------------------------------
@pytest.mark.parametrize("name", ROSTERS)
def test_saving_every_entry_unchanged_gives_back_the_same_text(name: str) -> None:
    text = ROSTERS[name]
    found = entries(text)
    edits: list[Edit] = [SaveOperator(op, new=False) for op in found.operators]
    edits += [ReplaceWeekly(i, shift) for i, shift in enumerate(found.weekly)]
    edits += [ReplaceDated(i, shift) for i, shift in enumerate(found.dated)]
    edits += [ReplaceAbsence(i, absence) for i, absence in enumerate(found.away)]
    assert edits
    for edit in edits:
        assert apply(text, edit) == text, edit


@pytest.mark.parametrize("name", ROSTERS)
def test_an_added_shift_and_its_removal_give_back_the_same_text(name: str) -> None:
    text = ROSTERS[name]
    found = entries(text)
    who = (found.operators[0].id,)
    for add, remove in ((AddWeekly(WeeklyShift(who, "weekend", "09:00", "13:00")),
                         RemoveWeekly(len(found.weekly))),
                        (SaveOperator(OperatorFields("zarina", "Зарина", "+77010000299", ("kk",)),
                                      new=True), RemoveOperator("zarina"))):
        added = apply(text, add)
        assert added != text
        assert apply(added, remove) == text


def test_a_changed_time_changes_one_line_and_keeps_its_comment() -> None:
    new = apply(ROSTER, ReplaceWeekly(0, WeeklyShift(("aset",), "daily", "08:00", "21:00")))
    assert changed_lines(ROSTER, new) == [
        ("replace", ['    to: "20:00"               # the day'],
         ['    to: "21:00"               # the day'])]
    assert apply(new, ReplaceWeekly(0, WeeklyShift(("aset",), "daily", "08:00", "20:00"))) == ROSTER


def test_an_added_shift_goes_at_the_end_of_its_list_in_the_files_style() -> None:
    new = apply(ROSTER, AddWeekly(WeeklyShift(("bota", "aset"), ("sat", "holiday"), "20:00",
                                              "08:00")))
    assert changed_lines(ROSTER, new) == [("insert", [], [
        "  - who: [bota, aset]", "    days: [sat, holiday]", '    from: "20:00"',
        '    to: "08:00"'])]
    assert lines(new, 29, 34)[-2:] == ["", "dated:                        # one-off shifts"]
    one_line = apply(ROSTER, AddDated(DatedShift(("aset",), dt.date(2026, 12, 17), "08:00",
                                                 "20:00")))
    assert changed_lines(ROSTER, one_line) == [("insert", [], [
        '  - {who: aset, date: 2026-12-17, from: "08:00", to: "20:00"}'])]
    unindented = apply(README_STYLE, AddWeekly(WeeklyShift(("aigerim",), "weekend", "09:00",
                                                           "13:00")))
    assert changed_lines(README_STYLE, unindented) == [("insert", [], [
        "- who: aigerim", "  days: weekend", '  from: "09:00"', '  to: "13:00"'])]


def test_a_list_the_roster_lacks_is_added_in_its_place() -> None:
    without = ROSTER.replace('dated:                        # one-off shifts\n'
                             '  - {who: bota, date: 2026-12-16, from: "08:00", to: "20:00"}\n\n', "")
    new = apply(without, AddDated(DatedShift(("bota",), dt.date(2026, 12, 16), "08:00", "20:00")))
    assert changed_lines(without, new) == [("insert", [], [
        "dated:", "  - who: bota", "    date: 2026-12-16", '    from: "08:00"', '    to: "20:00"',
        ""])]


def test_a_removed_entry_takes_the_comment_above_it_and_nothing_else() -> None:
    new = apply(ROSTER, RemoveWeekly(1))
    assert changed_lines(ROSTER, new) == [("delete", lines(ROSTER, 24, 28), [])]
    first = apply(ROSTER, RemoveWeekly(0))  # the comment above the next one stays
    assert changed_lines(ROSTER, first) == [("delete", lines(ROSTER, 20, 23), [])]
    no_comment = ROSTER.replace("weekly:                       # recurring shifts", "weekly:")
    first = apply(no_comment, RemoveWeekly(0))
    assert changed_lines(no_comment, first) == [("delete", lines(ROSTER, 20, 23), [])]
    commented = no_comment.replace("weekly:\n", "weekly:\n  # Aset by day\n")
    first = apply(commented, RemoveWeekly(0))
    assert changed_lines(commented, first) == [("delete", lines(commented, 20, 24), [])]
    first = apply(commented, RemoveWeekly(1))
    assert changed_lines(commented, first) == [("delete", lines(commented, 25, 29), [])]
    absence = apply(ROSTER, RemoveAbsence(0))
    assert changed_lines(ROSTER, absence) == [
        ("replace", lines(ROSTER, 33, 37), ["away: []"])]
    again = apply(absence, AddAbsence(Absence(("aset",), dt.date(2026, 12, 20),
                                              dt.date(2026, 12, 21), "leave")))
    assert again == ROSTER.replace("2026-12-21            # inclusive", "2026-12-21")


def test_an_operator_is_added_at_the_end_and_changed_in_place() -> None:
    new = apply(ROSTER, SaveOperator(OperatorFields("dina", "Дина", "+77010000204", ("ru",),
                                                    ("astana",)), new=True))
    assert changed_lines(ROSTER, new) == [("insert", [], [
        "  dina:", "    name: Дина", '    phone: "+77010000204"', "    languages: [ru]",
        "    regions: [astana]"])]
    away = apply(ROSTER, SaveOperator(OperatorFields("olga", "Olga", "+77010000202", ("ru",),
                                                     (), active=False), new=False))
    assert changed_lines(ROSTER, away) == [
        ("replace", ["    regions: [almaty_city]"], ["    active: false"])]


def test_times_phones_and_words_yaml_would_misread_are_quoted() -> None:
    new = apply(ROSTER, SaveOperator(OperatorFields("on", "yes", "+77010000205", ("kk",)),
                                     new=True))
    new = apply(new, AddAbsence(Absence(("on",), dt.datetime(2026, 12, 22, 14, 0),
                                        dt.date(2026, 12, 23), "no")))
    assert '  "on":\n    name: "yes"\n    phone: "+77010000205"\n' in new
    read = yaml.safe_load(new)  # as the checks read it: YAML 1.1
    assert read["operators"]["on"]["name"] == "yes"
    assert read["away"][-1] == {"who": "on", "from": "2026-12-22 14:00",
                                "to": dt.date(2026, 12, 23), "why": "no"}
    assert read["weekly"][0]["from"] == "08:00"


def test_windows_line_ends_and_a_byte_order_mark_are_kept() -> None:
    text = "\ufeff" + ROSTER.replace("\n", "\r\n")
    new = apply(text, AddWeekly(NIGHT))
    assert new.startswith("\ufeff#")
    assert new.count("\r\n") == new.count("\n")
    assert apply(new, RemoveWeekly(2)) == text


@pytest.mark.parametrize(("edit", "sentence"), [
    (AddWeekly(WeeklyShift(("zhanna",), "daily", "08:00", "20:00")),
     "there is no operator 'zhanna' in the roster; add them first"),
    (AddWeekly(WeeklyShift(("aset",), "daily", "8 am", "20:00")),
     "'8 am' is not a time: write it as 08:00 (from 00:00 to 24:00)"),
    (AddWeekly(WeeklyShift(("aset",), "daily", "08:00", "24:30")),
     "'24:30' is not a time"),
    (AddWeekly(WeeklyShift(("aset",), ("mon", "fri", "sunday"), "08:00", "20:00")),
     "the days must be daily, weekdays, weekend, or some of mon, tue"),
    (AddWeekly(WeeklyShift((), "daily", "08:00", "20:00")), "name at least one operator"),
    (ReplaceWeekly(2, NIGHT), "'weekly' has no entry 3 (it has 2); look again"),
    (RemoveDated(-1), "'dated' has no entry 0 (it has 1)"),
    (RemoveAbsence(1), "'away' has no entry 2 (it has 1)"),
    (SaveOperator(OperatorFields("aset", "Асет", "+77010000201", ("kk",)), new=True),
     "there is already an operator 'aset'; choose another id"),
    (SaveOperator(OperatorFields("dina", "Дина", "+77010000204", ("kk",)), new=False),
     "there is no operator 'dina' in the roster"),
    (SaveOperator(OperatorFields("Дина", "Дина", "+77010000204", ("kk",)), new=True),
     "'Дина' cannot be an operator id: use Latin letters"),
    (RemoveOperator("dina"), "there is no operator 'dina' in the roster"),
])
def test_an_edit_that_cannot_be_made_is_refused_with_a_sentence(edit: Edit, sentence: str) -> None:
    with pytest.raises(EditError) as refused:
        apply(ROSTER, edit)
    assert sentence in str(refused.value)
    assert refused.value.say(lambda english: f"«{english}»") == f"«{refused.value}»"


def test_removing_an_operator_still_on_duty_says_where_and_offers_to_deactivate() -> None:
    with pytest.raises(EditError) as refused:
        apply(ROSTER, RemoveOperator("aset"))
    assert str(refused.value) == (
        "'aset' is still named in the shifts or absences on line(s) 20, 34 of roster.yaml: take "
        "them out of those first, or keep them on the list without ringing them (active: false)")
    instead = refused.value.instead
    assert instead == SaveOperator(OperatorFields("aset", "Асет", "+77010000201", ("kk",),
                                                  active=False), new=False)
    assert changed_lines(ROSTER, apply(ROSTER, instead)) == [
        ("insert", [], ["    active: false"])]
    for eol in ("", "                    # id: details"):
        team = ROSTER.replace("operators:                    # id: details\n", f"operators:{eol}\n")
        leaving = team.replace("  aset:\n", "  # leaving in January\n  zara:\n    name: Zara\n"
                               '    phone: "+77010000209"\n    languages: [kk]\n  aset:\n')
        assert apply(leaving, RemoveOperator("zara")) == team
    free = apply(apply(ROSTER, RemoveDated(0)), RemoveOperator("bota"))
    assert "bota" not in free
    assert lines(free, 13, 15) == ["    regions: [almaty_city]", "", "weekly:" + " " * 23 +
                                   "# recurring shifts"]


def shifts(operators: list[str]) -> st.SearchStrategy[WeeklyShift]:
    return st.builds(
        WeeklyShift,
        who=st.lists(st.sampled_from(operators), min_size=1, max_size=2, unique=True).map(tuple),
        days=st.one_of(st.sampled_from(["daily", "weekdays", "weekend"]),
                       st.lists(st.sampled_from(["mon", "wed", "sun", "holiday"]), min_size=1,
                                max_size=3, unique=True).map(tuple)),
        start=st.sampled_from(["00:00", "08:00", "20:00"]),
        end=st.sampled_from(["08:00", "20:00", "24:00"]))


@hypothesis_settings(max_examples=40, deadline=None)
@given(name=st.sampled_from(sorted(ROSTERS)), data=st.data())
def test_any_edits_of_weekly_shifts_undone_give_back_the_original(name: str, data: st.DataObject,
                                                                  ) -> None:
    text, added = ROSTERS[name], 0
    undo: list[Edit] = []
    operators = [op.id for op in entries(text).operators]
    for _ in range(data.draw(st.integers(0, 6))):
        weekly = entries(text).weekly
        kind = data.draw(st.sampled_from(["add", "replace", "remove"]))
        shift = data.draw(shifts(operators))
        if kind == "add":
            text = apply(text, AddWeekly(shift))
            undo.append(RemoveWeekly(len(weekly)))
            added += 1
        elif kind == "replace":
            index = data.draw(st.integers(0, len(weekly) - 1))
            text = apply(text, ReplaceWeekly(index, shift))
            undo.append(ReplaceWeekly(index, weekly[index]))
        elif added:  # the last one added (an original's comment above it would go with it)
            text = apply(text, RemoveWeekly(len(weekly) - 1))
            undo.append(AddWeekly(weekly[-1]))
            added -= 1
    for edit in reversed(undo):
        text = apply(text, edit)
    assert text == ROSTERS[name]


# --- preview ------------------------------------------------------------------------------------
def test_a_night_shift_closes_the_kazakh_gap_in_the_preview(flows_dir: Path) -> None:
    files = files_of(flows_dir, ROSTER)
    seen = preview(files, AddWeekly(NIGHT), Options(), MONDAY)
    assert seen.ok, seen.problems
    assert seen.opened == {"kk": (), "ru": ()}
    assert seen.closed["ru"] == ()
    closed = seen.closed["kk"]
    assert closed[:3] == ((at(14, 0), at(14, 8)), (at(14, 20), at(15, 8)), (at(15, 20), at(16, 8)))
    assert closed[-1] == (at(27, 20), at(28, 0))  # fourteen days
    assert all(start.time() in (dt.time(0), dt.time(20)) and end.time() in (dt.time(8), dt.time(0))
               for start, end in closed)  # nights only: aset's leave leaves the days open
    assert sum((end - start for start, end in closed), dt.timedelta()) == dt.timedelta(hours=168)
    assert seen.text == apply(ROSTER, AddWeekly(NIGHT))
    assert '+  - who: bota\n+    days: daily\n+    from: "20:00"\n+    to: "08:00"\n' in seen.diff


def test_a_removed_day_shift_opens_a_gap_in_the_preview(flows_dir: Path) -> None:
    seen = preview(files_of(flows_dir, ROSTER), RemoveWeekly(0), Options(), MONDAY, days=7)
    assert seen.ok, seen.problems
    assert seen.closed == {"kk": (), "ru": ()}
    assert seen.opened["ru"] == ()
    # each day 08:00-20:00 but Wednesday's (bota's holiday cover) and Sunday's (aset's leave)
    assert seen.opened["kk"] == tuple((at(day, 8), at(day, 20)) for day in (14, 15, 17, 18, 19))
    assert seen.diff.count("\n-") == 4


def test_a_bad_phone_number_gets_the_checks_problem_with_its_file_and_line(
    flows_dir: Path,
) -> None:
    seen = preview(files_of(flows_dir, ROSTER), SaveOperator(
        OperatorFields("dina", "Дина", "87010000204", ("kk",)), new=True), Options(), MONDAY)
    assert not seen.ok
    assert seen.closed == seen.opened == {}
    line = seen.text.splitlines().index('    phone: "87010000204"') + 1
    assert [(p.file, p.line) for p in seen.problems] == [(ROSTER_FILE, line)]
    assert "'87010000204' is not a full international number" in seen.problems[0].message


# --- publishing ---------------------------------------------------------------------------------
@pytest.fixture
def store(settings: Settings) -> SnapshotStore:
    assert settings.redis_url
    return SnapshotStore(redis.Redis.from_url(settings.redis_url), Keys(settings.redis_prefix))


def in_force(store: SnapshotStore, settings: Settings, roster: str) -> dict[str, bytes]:
    """Publish the working folders with `roster`, and read the version in force back."""
    (settings.flows_dir / "roster.yaml").write_text(roster)
    publish(store, FolderSource(settings.flows_dir, settings.audio_dir), Options.of(settings), "t")
    version = store.current()
    assert version
    return store.files(version)


def test_a_published_edit_is_the_version_in_force(store: SnapshotStore, settings: Settings) -> None:
    files = in_force(store, settings, ROSTER)
    before = store.current()
    outcome = publish_edit(store, files, AddWeekly(NIGHT), Options.of(settings), "aigerim",
                           "Bota covers the nights")
    assert outcome.publication is not None
    assert store.current() == outcome.snapshot.version != before
    published = store.files(outcome.snapshot.version)
    assert published[ROSTER_FILE].decode() == apply(ROSTER, AddWeekly(NIGHT))
    assert {n: d for n, d in published.items() if n != ROSTER_FILE} == \
        {n: d for n, d in files.items() if n != ROSTER_FILE}  # recordings and flows as they were
    assert any(name.startswith("audio/") for name in published)
    entry = store.history()[-1]
    assert (entry.by, entry.message, entry.previous) == ("aigerim", "Bota covers the nights", before)
    assert "flows/roster.yaml" in entry.summary


def test_an_edit_to_a_version_no_longer_in_force_is_refused(store: SnapshotStore,
                                                            settings: Settings) -> None:
    files = in_force(store, settings, ROSTER)
    other = publish_edit(store, files, RemoveAbsence(0), Options.of(settings), "dana", "")
    with pytest.raises(EditError) as refused:
        publish_edit(store, files, AddWeekly(NIGHT), Options.of(settings), "aigerim", "")
    assert str(refused.value) == ("someone published a newer version meanwhile; look again and "
                                  "redo the change")
    assert store.current() == other.snapshot.version


def test_the_working_copy_is_updated_only_when_it_holds_no_unpublished_edit(
    flows_dir: Path,
) -> None:
    path = flows_dir / "roster.yaml"
    new = apply(ROSTER, AddWeekly(NIGHT))
    path.write_text(ROSTER)
    path.chmod(0o664)
    assert sync_working_copy(flows_dir, ROSTER, new)
    assert path.read_text() == new
    assert stat.S_IMODE(path.stat().st_mode) == 0o664
    assert not [p for p in flows_dir.iterdir() if p.name.startswith(".roster")]
    pending = ROSTER.replace("name: Olga", "name: Olga K.")  # someone's edit, not published
    path.write_text(pending)
    assert not sync_working_copy(flows_dir, ROSTER, new)
    assert path.read_text() == pending
    path.unlink()
    assert not sync_working_copy(flows_dir, ROSTER, new)
    assert not path.exists()


def test_a_published_edit_the_checks_refuse_changes_nothing(store: SnapshotStore,
                                                            settings: Settings) -> None:
    files = in_force(store, settings, ROSTER)
    before = store.current()
    bad = SaveOperator(OperatorFields("dina", "Дина", "87010000204", ("kk",)), new=True)
    with pytest.raises(LoadError) as refused:
        publish_edit(store, files, bad, Options.of(settings), "aigerim", "")
    assert [p.file for p in refused.value.problems] == [ROSTER_FILE]
    assert store.current() == before
    refusal = store.last_refusal()
    assert refusal is not None
    assert refusal.problems == tuple(refused.value.problems)
