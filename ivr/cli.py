"""The `ivr` command: run the router, check flows, and try calls without a phone."""

from __future__ import annotations

import os
import sys
import time

import click

from ivr.cli_common import settings_from_env
from ivr.settings import Settings
from ivr.yamlsrc import LoadError


@click.group(help="Voice IVR router for the 150 hotline. Each command has its own --help.")
@click.option("--lang", type=click.Choice(["en", "ru"]), default=None,
              help="Language of problem messages: en or ru (default: IVR_MESSAGES, else en).")
def main(lang: str | None) -> None:
    from ivr.i18n import set_language

    set_language(lang or settings_from_env().messages_language)


@main.command()
@click.option("--port", type=int, default=lambda: int(os.environ.get("PORT", "5000")),
              show_default="$PORT or 5000", help="Port for the web process.")
def serve(port: int) -> None:
    """Run web, worker and (when REDIS_URL is unset) an embedded Redis, from the Procfile."""
    from ivr.engine import load_flowset
    from ivr.serve import serve as run

    settings = settings_from_env()
    try:
        load_flowset(settings.flows_dir, settings.audio_dir, settings.default_flow)
    except LoadError as exc:
        click.echo(f"{exc}\nThe router was not started: fix the flows and try again.", err=True)
        sys.exit(1)
    sys.exit(run(port, lambda line: click.echo(line, err=True)))


@main.command()
def worker() -> None:
    """Run an RQ worker that stores call records (needs REDIS_URL).

    Jobs run inside the worker process (no work-horse per job): a record is one insert, and
    keeping the database connection pool makes the worker about seven times faster
    (bench/records.py). A worker that dies is restarted by the process manager; its job is
    retried, and stored once.
    """
    from rq import Queue, SimpleWorker

    from ivr.redis_url import connect

    settings = settings_from_env()
    if not settings.redis_url:
        raise click.ClickException("REDIS_URL is not set; `ivr serve` runs a worker with Redis.")
    connection = connect(settings.redis_url)
    queue = Queue(settings.queue_name, connection=connection)
    _replay_spool_in_background(settings, settings.spool_every_seconds)
    # Maintenance every minute (RQ's default is ten): a job left by a worker that died is
    # retried within a few minutes.
    SimpleWorker([queue], connection=connection, maintenance_interval=60).work(
        with_scheduler=True)


def _replay_spool_in_background(settings: Settings, every: float = 60.0) -> None:
    """A worker on the same host as a web process settles its spool once Redis is back."""
    import logging
    import threading

    from ivr.admin import replay_spool

    log = logging.getLogger("ivr.spool")

    def loop() -> None:
        while True:
            try:
                if (count := replay_spool(settings)) > 0:
                    log.info("queued %d spooled record(s)", count)
            except Exception as exc:  # Redis still away, or flows not loadable: try later
                log.warning("spooled records wait: %s", type(exc).__name__)
            time.sleep(every)

    threading.Thread(target=loop, name="spool", daemon=True).start()


from ivr import cli_call, cli_flows, cli_records, cli_roster  # noqa: E402

for _module in (cli_flows, cli_call, cli_roster, cli_records):
    for _command in _module.COMMANDS:
        main.add_command(_command)

if __name__ == "__main__":
    main()
