"""`ivr roster` and `ivr audio`: the duty roster's views and the prompt recordings."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import click

from ivr.cli.common import clock_at, first_day, settings, working_snapshot
from ivr.cli.texts import Group
from ivr.i18n import _
from ivr.source import LoadError


@click.group(cls=Group)
def roster() -> None:
    """The duty roster: who is on duty, the week ahead, and coverage gaps."""


@roster.command("now")
@click.option("--at", "at", default="", help="Local time instead of now, e.g. '2026-12-16 03:00'.")
def roster_now(at: str) -> None:
    """Who is on duty now, per language."""
    from ivr.routing.report import now_text

    snapshot = working_snapshot()
    moment = dt.datetime.fromtimestamp(clock_at(at, snapshot.routing.roster.timezone)(), dt.UTC)
    click.echo(now_text(snapshot.routing, snapshot.languages, moment))


@roster.command("week")
@click.option("--from", "first", default="", help="First day, e.g. 2026-12-14 (default: today).")
def roster_week(first: str) -> None:
    """A table of the week's duty, per language."""
    from ivr.routing.report import week_text

    snapshot = working_snapshot()
    click.echo(week_text(snapshot.routing, snapshot.languages, first_day(first, snapshot)))


@roster.command("gaps")
@click.option("--days", default=14, show_default=True, type=click.IntRange(1, 366),
              help="How many days ahead to look.")
@click.option("--from", "first", default="", help="First day, e.g. 2026-12-14 (default: today).")
def roster_gaps(days: int, first: str) -> None:
    """Every interval with no operator for a language, and every region without a line."""
    from ivr.routing.report import gaps_text

    snapshot = working_snapshot()
    click.echo(gaps_text(snapshot.routing, snapshot.languages, first_day(first, snapshot), days))


@click.group(cls=Group)
def audio() -> None:
    """Prompt recordings."""


@audio.command("check")
def audio_check() -> None:
    """List missing recordings, recordings the checks refuse (format, or made from another
    text), prompts that are too long, and files no prompt uses. Exits 1 when a caller would
    hear a wrong or missing prompt."""
    from ivr.library.audio import check_audio

    current = settings()
    try:
        catalogue, findings = check_audio(current.flows_dir, current.audio_dir)
    except LoadError as exc:
        raise click.ClickException(_("the prompts cannot be read:") + f"\n{exc}") from exc
    for finding in findings:
        click.echo(str(finding))
    serious = sum(f.serious for f in findings)
    click.echo(_("{prompts} prompts checked: {errors} error(s), {notes} note(s)").format(
        prompts=len(catalogue.prompts), errors=serious, notes=len(findings) - serious))
    sys.exit(1 if serious else 0)


@audio.command("build")
@click.option("--all", "overwrite", is_flag=True, help="Re-render existing files too.")
@click.option("--prompt", "only", multiple=True, help="Only this prompt id (repeatable).")
def audio_build(overwrite: bool, only: tuple[str, ...]) -> None:
    """Render placeholder recordings with espeak-ng (8 kHz mono WAV) for prompts that lack one,
    and note in audio/manifest.yaml which text each says."""
    from ivr.library.audio import ToolMissing, build_placeholders

    current = settings()
    try:
        written = build_placeholders(current.flows_dir, current.audio_dir, set(only) or None,
                                     overwrite)
    except ToolMissing as exc:
        raise click.ClickException(str(exc)) from exc
    except LoadError as exc:
        raise click.ClickException(_("the prompts cannot be read:") + f"\n{exc}") from exc
    for path in written:
        click.echo(_("wrote {file}").format(file=Path(path)))
    click.echo(_("{count} recording(s) written.").format(count=len(written)))


@audio.command("accept")
@click.argument("recordings", nargs=-1)
@click.option("--all", "everything", is_flag=True, help="Every recording the prompts use.")
def audio_accept(recordings: tuple[str, ...], everything: bool) -> None:
    """Confirm that RECORDINGS (e.g. kk/greeting.wav) say their prompts' current texts, once you
    have listened to them: `ivr check` refuses a recording made from another text."""
    from ivr.library.audio import accept

    if not recordings and not everything:
        raise click.UsageError(_("name the recordings (e.g. kk/greeting.wav), or give --all"))
    current = settings()
    try:
        accepted = accept(current.flows_dir, current.audio_dir, recordings)
    except LoadError as exc:
        raise click.ClickException(_("the prompts cannot be read:") + f"\n{exc}") from exc
    except LookupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(_("{count} recording(s) noted in {file}.").format(count=len(accepted),
                                                                 file="audio/manifest.yaml"))


COMMANDS = [roster, audio]
