"""The duty roster as supervisors write it and the router reads it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from click.testing import CliRunner

from ivr.cli import main
from ivr.clock import zone
from ivr.library.roster import read_roster
from ivr.library.yamlfile import parse
from ivr.routing.duty import DutyIndex
from ivr.settings import Settings
from ivr.source import LoadError
from tests.conftest import Clock, Phone, load, make_app, republish, without_columns

ALMATY = zone("Asia/Almaty")
WEEKDAY_ROSTER = """\
timezone: Asia/Almaty
operators:
  ayan: {phone: "+77010000301", languages: [kk, ru]}
weekly:
  - {who: ayan, days: weekdays, from: "09:00", to: "18:00"}
"""


def roster_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "roster.yaml"
    path.write_text(text)
    return path


def on_duty(path: Path, at: dt.datetime) -> frozenset[str]:
    roster = read_roster(parse(path.read_bytes(), "flows/roster.yaml"), "flows/roster.yaml", "v")
    return DutyIndex(roster, at.date()).on_duty(at).operators


def test_kazakhstan_moved_to_utc_plus_5_on_1_march_2024(tmp_path: Path) -> None:
    path = roster_file(tmp_path, WEEKDAY_ROSTER)
    # 03:30 UTC was 09:30 in Almaty on Thursday 29 February 2024 (UTC+6) ...
    assert on_duty(path, dt.datetime(2024, 2, 29, 3, 30, tzinfo=dt.UTC)) == {"ayan"}
    # ... and 08:30 on Friday 1 March 2024 (UTC+5): the shift has not begun
    assert on_duty(path, dt.datetime(2024, 3, 1, 3, 30, tzinfo=dt.UTC)) == frozenset()
    assert on_duty(path, dt.datetime(2024, 3, 1, 4, 0, tzinfo=dt.UTC)) == {"ayan"}


def test_a_shift_to_24_00_ends_at_midnight_and_start_equal_to_end_is_a_full_day(
    tmp_path: Path,
) -> None:
    path = roster_file(tmp_path, WEEKDAY_ROSTER.replace(
        '{who: ayan, days: weekdays, from: "09:00", to: "18:00"}',
        '{who: ayan, days: [mon], from: "12:00", to: "24:00"}\n'
        '  - {who: ayan, days: [wed], from: "07:00", to: "07:00"}'))
    monday = dt.datetime(2026, 12, 14, 23, 59, tzinfo=ALMATY)
    assert on_duty(path, monday) == {"ayan"}
    assert on_duty(path, monday + dt.timedelta(minutes=1)) == frozenset()
    # (not 16 December: a holiday, when weekday shifts do not run)
    assert on_duty(path, dt.datetime(2026, 12, 24, 6, 59, tzinfo=ALMATY)) == {"ayan"}
    assert on_duty(path, dt.datetime(2026, 12, 24, 7, 0, tzinfo=ALMATY)) == frozenset()


def test_a_holiday_can_be_worked_or_added(tmp_path: Path) -> None:
    text = WEEKDAY_ROSTER + "holidays:\n  remove: [2026-12-16]\n  add: [2026-12-18]\n"
    path = roster_file(tmp_path, text)
    assert on_duty(path, dt.datetime(2026, 12, 16, 10, tzinfo=ALMATY)) == {"ayan"}
    assert on_duty(path, dt.datetime(2026, 12, 18, 10, tzinfo=ALMATY)) == frozenset()


def test_an_absence_with_times_covers_part_of_a_shift(tmp_path: Path) -> None:
    text = WEEKDAY_ROSTER + 'away:\n  - {who: ayan, from: "2026-12-14 12:00", to: "2026-12-14 13:30"}\n'
    path = roster_file(tmp_path, text)
    assert on_duty(path, dt.datetime(2026, 12, 14, 11, 59, tzinfo=ALMATY)) == {"ayan"}
    assert on_duty(path, dt.datetime(2026, 12, 14, 13, 0, tzinfo=ALMATY)) == frozenset()
    assert on_duty(path, dt.datetime(2026, 12, 14, 13, 30, tzinfo=ALMATY)) == {"ayan"}


def problems_of(flows_dir: Path, roster: str) -> list[str]:
    (flows_dir / "roster.yaml").write_text(roster)
    with pytest.raises(LoadError) as caught:
        load(flows_dir)
    return without_columns(caught.value.problems)


def test_an_unknown_operator_in_a_shift_is_refused(flows_dir: Path) -> None:
    problems = problems_of(flows_dir, WEEKDAY_ROSTER.replace("who: ayan, days", "who: ayam, days"))
    assert problems == ["flows/roster.yaml:5: unknown operator 'ayam' (did you mean 'ayan'?)"]


def test_an_invalid_phone_number_is_refused(flows_dir: Path) -> None:
    problems = problems_of(flows_dir, WEEKDAY_ROSTER.replace("+77010000301", "87010000301"))
    assert problems == ["flows/roster.yaml:3: operator 'ayan': '87010000301' is not a full "
                        "international number; Twilio dials only numbers such as +77172000000 "
                        "(102, 112 and 150 cannot be dialled through Twilio)"]


def test_a_duplicated_shift_is_refused(flows_dir: Path) -> None:
    text = WEEKDAY_ROSTER + '  - {who: ayan, days: [mon], from: "09:00", to: "18:00"}\n'
    problems = problems_of(flows_dir, text)
    assert problems == ["flows/roster.yaml:6: operator 'ayan' already has this shift on mon "
                        "(line 5)"]


def test_a_language_nobody_speaks_is_refused(flows_dir: Path) -> None:
    problems = problems_of(flows_dir, WEEKDAY_ROSTER.replace("[kk, ru]", "[ru]"))
    assert problems == ["flows/roster.yaml:1: no active operator speaks 'kk', a language of "
                        "the call flows"]


def test_an_unknown_region_of_an_operator_is_refused(flows_dir: Path) -> None:
    problems = problems_of(flows_dir, WEEKDAY_ROSTER.replace(
        "languages: [kk, ru]}", "languages: [kk, ru], regions: [almaty]}"))
    assert problems == ["flows/roster.yaml:3: operator 'ayan': unknown region 'almaty' (did "
                        "you mean 'almaty_city'?)"]


def test_ivr_check_reports_roster_problems(flows_dir: Path) -> None:
    (flows_dir / "roster.yaml").write_text(WEEKDAY_ROSTER.replace('"18:00"', '"18:70"'))
    result = CliRunner().invoke(main, ["check"], env={"IVR_FLOWS_DIR": str(flows_dir)})
    assert result.exit_code == 1
    assert "flows/roster.yaml:5:5: 'to' must be a time such as \"08:00\" or \"24:00\"" in result.output


def test_roster_gaps_on_the_shipped_example() -> None:
    result = CliRunner().invoke(main, ["roster", "gaps", "--days", "14", "--from", "2026-12-14"],
                                env={"IVR_FLOWS_DIR": None})
    assert result.exit_code == 0, result.output
    assert "kk: no operator Tue 15 Dec 20:00 - Wed 16 Dec 08:00 (12 h)" in result.output
    assert "ru: no operator Sat 19 Dec 08:00 - Sat 19 Dec 20:00 (12 h)" in result.output
    assert "  astana (Астана)" in result.output
    assert "almaty_city" not in result.output


def test_roster_now_and_week(flows_dir: Path) -> None:
    (flows_dir / "roster.yaml").write_text(WEEKDAY_ROSTER)
    env = {"IVR_FLOWS_DIR": str(flows_dir)}
    now = CliRunner().invoke(main, ["roster", "now", "--at", "2026-12-16 10:00"], env=env)
    assert "a public holiday: Тәуелсіздік күні" in now.output
    assert "  kk: nobody" in now.output
    week = CliRunner().invoke(main, ["roster", "week", "--from", "2026-12-14"], env=env)
    assert "Mon 14 Dec      09:00-18:00   ayan" in week.output
    assert "Wed 16 Dec *    00:00-24:00   -" in week.output


def test_a_roster_change_reaches_new_calls_without_a_restart(settings: Settings,
                                                             flows_dir: Path) -> None:
    phone = Phone(make_app(settings, Clock()), settings)
    assert phone.call(["2", "1"]).numbers[0] == "+77010000101"  # olga, on duty around the clock
    (flows_dir / "roster.yaml").write_text(WEEKDAY_ROSTER)
    assert republish(phone.app, settings).publication is not None  # `ivr publish`
    assert phone.call(["2", "1"]).numbers[0] == "+77010000301"


def test_a_broken_roster_is_refused_and_the_last_good_one_stays(
    settings: Settings, flows_dir: Path
) -> None:
    phone = Phone(make_app(settings, Clock()), settings)
    voice = phone.app.extensions["ivr.voice"]
    (flows_dir / "roster.yaml").write_text(WEEKDAY_ROSTER.replace("who: ayan, days", "who: x, days"))
    with pytest.raises(LoadError) as refused:
        republish(phone.app, settings)
    assert str(refused.value.problems[0]).startswith("flows/roster.yaml:5:5: unknown operator 'x'")
    refusal = voice.library.store.last_refusal()
    assert refusal is not None
    assert str(refusal.problems[0]) == str(refused.value.problems[0])  # for `ivr status`
    assert phone.call(["2", "1"]).numbers[0] == "+77010000101"  # still olga
