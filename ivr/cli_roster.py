"""`ivr roster` and `ivr audio`: the duty roster's views and the prompt recordings."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import click

from ivr.cli_common import clock_at, first_day, languages_of, load_or_exit, settings_from_env
from ivr.yamlsrc import LoadError


@click.group()
def roster() -> None:
    """The duty roster: who is on duty, the week ahead, and coverage gaps."""


@roster.command("now")
@click.option("--at", "at", default="", help="Local time instead of now, e.g. '2026-12-16 03:00'.")
def roster_now(at: str) -> None:
    """Who is on duty now, per language."""
    from ivr.routing.report import now_text

    flows = load_or_exit()
    moment = dt.datetime.fromtimestamp(clock_at(at, flows.routing.roster.timezone)(), dt.UTC)
    click.echo(now_text(flows.routing, languages_of(flows), moment))


@roster.command("week")
@click.option("--from", "first", default="", help="First day, e.g. 2026-12-14 (default: today).")
def roster_week(first: str) -> None:
    """A table of the week's duty, per language."""
    from ivr.routing.report import week_text

    flows = load_or_exit()
    click.echo(week_text(flows.routing, languages_of(flows), first_day(first, flows)))


@roster.command("gaps")
@click.option("--days", default=14, show_default=True, type=click.IntRange(1, 366),
              help="How many days ahead to look.")
@click.option("--from", "first", default="", help="First day, e.g. 2026-12-14 (default: today).")
def roster_gaps(days: int, first: str) -> None:
    """Every interval with no operator for a language, and every region without a line."""
    from ivr.routing.report import gaps_text

    flows = load_or_exit()
    click.echo(gaps_text(flows.routing, languages_of(flows), first_day(first, flows), days))


@click.group()
def audio() -> None:
    """Prompt recordings."""


@audio.command("check")
def audio_check() -> None:
    """List missing recordings, formats bad for telephones, prompts that are too long, and
    files no prompt uses. Exits 1 when a caller would hear a wrong or missing prompt."""
    from ivr.audio_check import check_audio
    from ivr.engine.flowset import CATALOGUE_FILE
    from ivr.prompts import ExtraPrompt, load_catalogue
    from ivr.routing.regions import load_regions

    settings = settings_from_env()
    try:
        regions = load_regions(settings.flows_dir / "regions.yaml")
        names = {f"region.{r.id}": ExtraPrompt(regions.file, r.line, r.names)
                 for r in regions.regions.values()}
        catalogue = load_catalogue(settings.flows_dir / CATALOGUE_FILE, settings.audio_dir,
                                   extra=names, require_recordings=False)
    except LoadError as exc:
        raise click.ClickException(f"the prompts do not load:\n{exc}") from exc
    findings = check_audio(catalogue, settings.audio_dir)
    for finding in findings:
        click.echo(str(finding))
    serious = sum(f.serious for f in findings)
    click.echo(f"{len(catalogue.prompts)} prompts checked: {serious} error(s), "
               f"{len(findings) - serious} note(s)")
    sys.exit(1 if serious else 0)


@audio.command("build")
@click.option("--all", "overwrite", is_flag=True, help="Re-render existing files too.")
@click.option("--prompt", "only", multiple=True, help="Only this prompt id (repeatable).")
def audio_build(overwrite: bool, only: tuple[str, ...]) -> None:
    """Render placeholder recordings with espeak-ng (8 kHz mono WAV) for prompts that lack one."""
    from ivr.audio_build import ToolMissing, build_placeholders

    settings = settings_from_env()
    try:
        written = build_placeholders(settings.flows_dir, settings.audio_dir,
                                     set(only) or None, overwrite)
    except ToolMissing as exc:
        raise click.ClickException(str(exc)) from exc
    for path in written:
        click.echo(f"wrote {Path(path)}")
    click.echo(f"{len(written)} recording(s) written.")


COMMANDS = [roster, audio]
