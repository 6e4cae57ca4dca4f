"""`ivr` commands for the call records: schema, retention, failed jobs, the spool, reports and
categories. Registered on the main `ivr` group by `ivr.cli`."""

from __future__ import annotations

import datetime as dt
import re

import click

from ivr.cli.common import clock_at, in_range, settings
from ivr.cli.texts import Command, Group
from ivr.clock import zone
from ivr.i18n import _
from ivr.records import maintenance, reports
from ivr.records import service as service_figures
from ivr.records.store import GROUPINGS, RecordStore, StoreError
from ivr.records.tags import tag_call

MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


@click.group(cls=Group)
def db() -> None:
    """The record store's schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the schema in DATABASE_URL (safe to run again)."""
    current = settings()
    version = RecordStore(current.database_url).upgrade()
    click.echo(_("schema version {version} in {database}").format(
        version=version, database=current.database_url.split("@")[-1]))


@click.command(cls=Command)
def purge() -> None:
    """Delete records older than IVR_RETENTION_DAYS (90) and past months' caller secrets.

    Run it daily, e.g. from cron: `15 3 * * * cd /srv/ivr && .venv/bin/ivr purge`.
    """
    current = settings()
    rows, secrets = maintenance.purge(current)
    click.echo(_("deleted {rows} record(s) older than {days} days and {secrets} caller-key "
                 "secret(s) of past months").format(rows=rows, days=current.retention_days,
                                                    secrets=secrets))


@click.group(cls=Group)
def records() -> None:
    """The record pipeline: failed jobs and the local spool."""


@records.command("failed")
def records_failed() -> None:
    """List record jobs that failed after all their retries (ids and errors, no payloads)."""
    lines = maintenance.failed_jobs(settings())
    for line in lines:
        click.echo(line)
    click.echo(_("{count} failed job(s); `ivr records replay` queues them again.").format(
        count=len(lines)))


@records.command("replay")
def records_replay() -> None:
    """Queue every failed record job again (a record already stored is not stored twice)."""
    click.echo(_("queued {count} job(s) again").format(count=maintenance.replay_failed(settings())))


@records.command("sweep")
def records_sweep() -> None:
    """Record the calls whose final status never came (their logs unchanged for IVR_SWEEP_AFTER
    seconds); `ivr worker` does it every minute."""
    click.echo(_("swept {count} call(s) into records").format(count=maintenance.sweep(settings())))


@records.command("spool")
def records_spool() -> None:
    """Queue the records of calls that ended while Redis was unreachable (run on web hosts)."""
    click.echo(_("queued {count} spooled record(s)").format(
        count=maintenance.replay_spool(settings())))


@click.command(cls=Command)
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
            raise click.BadParameter(_("use the form 2026-11"), param_hint=name)
        in_range(int(value[:4]), name)
    if last < first:
        raise click.BadParameter(_("--to comes before --from"), param_hint="--to")
    groupings = [g.strip() for g in by.split(",") if g.strip()]
    unknown = [g for g in groupings if g not in GROUPINGS]
    if unknown:
        raise click.BadParameter(_("unknown {unknown}; choose from {groupings}").format(
            unknown=", ".join(unknown), groupings=", ".join(GROUPINGS)), param_hint="--by")
    if service and groupings:
        raise click.BadParameter(_("the service figures are always by month and language"),
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


@click.command(cls=Command)
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
        moment = dt.datetime.fromtimestamp(clock_at(at, zone(), "--at")(), zone())
        data.update(operator=operator, at=moment.isoformat())
    try:
        key, added = tag_call(RecordStore(settings().database_url), data)
    except (StoreError, LookupError) as exc:
        raise click.ClickException(str(exc.args[0] if exc.args else exc)) from exc
    click.echo(_("call {key}: {count} categories added").format(key=key, count=added)
               if added != 1 else _("call {key}: 1 category added").format(key=key))


COMMANDS = [db, purge, records, report, tag]
