"""`ivr` commands for the call records: schema, retention, failed jobs, the spool, reports and
categories. Registered on the main `ivr` group by `ivr.cli`."""

from __future__ import annotations

import datetime as dt
import re

import click

from ivr.cli.common import settings
from ivr.clock import zone
from ivr.records import maintenance, reports
from ivr.records import service as service_figures
from ivr.records.store import GROUPINGS, RecordStore, StoreError
from ivr.records.tags import tag_call

MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


@click.group()
def db() -> None:
    """The record store's schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the schema in DATABASE_URL (safe to run again)."""
    current = settings()
    version = RecordStore(current.database_url).upgrade()
    click.echo(f"schema version {version} in {current.database_url.split('@')[-1]}")


@click.command()
def purge() -> None:
    """Delete records older than IVR_RETENTION_DAYS (90) and past months' caller secrets.

    Run it daily, e.g. from cron: `15 3 * * * cd /srv/ivr && .venv/bin/ivr purge`.
    """
    current = settings()
    rows, secrets = maintenance.purge(current)
    click.echo(f"deleted {rows} record(s) older than {current.retention_days} days and "
               f"{secrets} caller-key secret(s) of past months")


@click.group()
def records() -> None:
    """The record pipeline: failed jobs and the local spool."""


@records.command("failed")
def records_failed() -> None:
    """List record jobs that failed after all their retries (ids and errors, no payloads)."""
    lines = maintenance.failed_jobs(settings())
    for line in lines:
        click.echo(line)
    click.echo(f"{len(lines)} failed job(s); `ivr records replay` queues them again.")


@records.command("replay")
def records_replay() -> None:
    """Queue every failed record job again (a record already stored is not stored twice)."""
    click.echo(f"queued {maintenance.replay_failed(settings())} job(s) again")


@records.command("sweep")
def records_sweep() -> None:
    """Record the calls whose final status never came (their logs unchanged for IVR_SWEEP_AFTER
    seconds); `ivr worker` does it every minute."""
    click.echo(f"swept {maintenance.sweep(settings())} call(s) into records")


@records.command("spool")
def records_spool() -> None:
    """Queue the records of calls that ended while Redis was unreachable (run on web hosts)."""
    click.echo(f"queued {maintenance.replay_spool(settings())} spooled record(s)")


@click.command()
@click.option("--month", default="", help="One month, e.g. 2026-11.")
@click.option("--from", "first", default="", help="First month of a period, e.g. 2020-03.")
@click.option("--to", "last", default="", help="Last month of a period, e.g. 2020-04.")
@click.option("--by", default="", help=f"Groupings, comma-separated: {', '.join(GROUPINGS)}.")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table",
              show_default=True)
@click.option("--service", is_flag=True, help="The contact-centre figures instead, by month "
              "and language: calls offered to the consultants, answered within 20 s and 60 s, "
              "speed of answer, abandoned, longest wait.")
def report(month: str, first: str, last: str, by: str, fmt: str, service: bool) -> None:
    """Calls in a month or period, grouped as asked; counts under 5 are hidden."""
    first, last = (month, month) if month else (first, last or first)
    for value, name in ((first, "--month/--from"), (last, "--to")):
        if not MONTH.match(value):
            raise click.BadParameter("use the form 2026-11", param_hint=name)
    if last < first:
        raise click.BadParameter("--to comes before --from", param_hint="--to")
    groupings = [g.strip() for g in by.split(",") if g.strip()]
    unknown = [g for g in groupings if g not in GROUPINGS]
    if unknown:
        raise click.BadParameter(f"unknown {', '.join(unknown)}; choose from "
                                 f"{', '.join(GROUPINGS)}", param_hint="--by")
    if service and groupings:
        raise click.BadParameter("the service figures are always by month and language",
                                 param_hint="--by")
    current = settings()
    store = RecordStore(current.database_url)
    store.upgrade()
    if service:
        figures = service_figures.build(store, first, last, zone())
        click.echo(service_figures.render(figures, first, last, fmt), nl=False)
        return
    built = reports.build(store, first, last, groupings, zone())
    click.echo(reports.render(built, fmt), nl=False)


@click.command()
@click.argument("categories", nargs=-1, required=True)
@click.option("--call", "call", default="", help="The call's key, as in reports and exports.")
@click.option("--operator", default="", help="The operator's roster id (with --at).")
@click.option("--at", "at", default="", help="Local time during the call, '2026-11-22 14:05'.")
def tag(categories: tuple[str, ...], call: str, operator: str, at: str) -> None:
    """Add categories to a call after it ends.

    Categories: physical, psychological, sexual, economic, child, suicide_risk, legal,
    shelter, information, silent. Give the call by --call, or by --operator and --at.
    """
    data: dict[str, object] = {"categories": list(categories)}
    if call:
        data["call"] = call
    else:
        try:
            moment = dt.datetime.strptime(at, "%Y-%m-%d %H:%M").replace(tzinfo=zone())
        except ValueError as exc:
            raise click.BadParameter("use the form '2026-11-22 14:05'", param_hint="--at") from exc
        data.update(operator=operator, at=moment.isoformat())
    try:
        key, added = tag_call(RecordStore(settings().database_url), data)
    except (StoreError, LookupError) as exc:
        raise click.ClickException(str(exc.args[0] if exc.args else exc)) from exc
    click.echo(f"call {key}: {added} categor{'y' if added == 1 else 'ies'} added")


COMMANDS = [db, purge, records, report, tag]
