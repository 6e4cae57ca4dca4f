"""`ivr publish`, `ivr history`, `ivr rollback` and `ivr status`: putting a checked version in
force on every router host, and seeing what is in force."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import sys
import threading
import urllib.error
import urllib.request

import click
import redis

from ivr.cli.common import settings, store, verdict
from ivr.cli.texts import Command
from ivr.clock import zone
from ivr.i18n import N_, _
from ivr.library.files import FolderSource
from ivr.library.pipeline import Options
from ivr.library.publish import publish as publish_folders
from ivr.library.publish import rollback as rollback_to
from ivr.library.publish import who
from ivr.library.store import Publication, StoreError
from ivr.source import LoadError

PUBLISH_NICENESS = 19  # the lowest priority: checking waits for the calls


def _yield_to_calls() -> None:
    """Checking a version is background work: on a router's host, calls come first. Linux
    runs an idle-class process only when nothing else wants the processor; elsewhere the
    lowest priority is the best there is."""
    try:
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    except (AttributeError, OSError):
        with contextlib.suppress(AttributeError, OSError):  # (no os.nice on Windows)
            os.nice(PUBLISH_NICENESS)


def _when(seconds: float) -> str:
    return dt.datetime.fromtimestamp(seconds, zone()).strftime("%Y-%m-%d %H:%M")


KINDS = {"rollback": N_("rollback"), "restore": N_("restore")}  # how an entry was put in force


def _line(entry: Publication) -> str:
    message = f' "{entry.message}"' if entry.message else ""
    kind = "" if entry.kind == "publish" else f" [{_(KINDS.get(entry.kind, entry.kind))}]"
    return f"{entry.version}  {_when(entry.at)}  {entry.by}{kind}{message}"


@click.command(cls=Command)
@click.option("-m", "--message", default="", help="Why: kept in the history (`ivr history`).")
@click.option("--by", default="", help="Who publishes (default: your user name and host).")
@click.option("--watch", is_flag=True, help="Stay running and publish again each time a file "
              "changes (for trying edits on your own machine).")
def publish(message: str, by: str, watch: bool) -> None:
    """Check the working folders (IVR_FLOWS_DIR, IVR_AUDIO_DIR) with the same checks as `ivr
    check` and, only if they pass, put them in force on every router host. Calls in progress
    finish on the version they started with. Exit status: 0 published (or already in force),
    1 refused, 2 a usage error."""
    current = settings()
    target = store()
    author = by or who()
    _yield_to_calls()
    if watch:
        from ivr.library.watch import watch as watch_folders

        click.echo(_("Publishing each change of the working folders; Ctrl-C to stop."), err=True)
        try:
            watch_folders(target, Options.of(current), current.flows_dir, current.audio_dir,
                          author, click.echo, threading.Event())
        except KeyboardInterrupt:
            return
        return
    try:
        outcome = publish_folders(target, FolderSource(current.flows_dir, current.audio_dir),
                                  Options.of(current), author, message, current.call_ttl_seconds)
    except LoadError as exc:
        for problem in exc.problems:
            click.echo(str(problem))
        click.echo(_("{count} problem(s): nothing was published; the version in force is "
                     "unchanged.").format(count=len(exc.problems)), err=True)
        sys.exit(1)
    except StoreError as exc:
        raise click.ClickException(str(exc)) from exc
    if outcome.publication is None:
        click.echo(_("version {version} is already in force; nothing to publish").format(
            version=outcome.snapshot.version))
        return
    click.echo(_("published version {version}: {summary}").format(
        version=outcome.snapshot.version, summary=outcome.publication.summary))
    click.echo(_("every router takes it for new calls within seconds (`ivr status --url ...`)"))


@click.command(cls=Command)
@click.option("-n", "--last", default=20, show_default=True, type=click.IntRange(1, 10000),
              help="How many publications to show.")
def history(last: int) -> None:
    """The versions put in force, newest first: version, time, who, why, and what changed."""
    target = store()
    entries = target.history(last)
    if not entries:
        click.echo(_("nothing is published yet (`ivr publish`)"))
        return
    current = target.current()
    for entry in reversed(entries):
        mark = "*" if entry.version == current else " "
        click.echo(f"{mark} {_line(entry)}")
        click.echo(f"    {entry.summary}")
    click.echo(_("* in force now; `ivr rollback VERSION` puts an earlier version back"))


@click.command(cls=Command)
@click.argument("version")
@click.option("-m", "--message", default="", help="Why: kept in the history.")
@click.option("--by", default="", help="Who (default: your user name and host).")
def rollback(version: str, message: str, by: str) -> None:
    """Put an earlier published VERSION in force again (see `ivr history`), after checking it
    with today's checks. Calls in progress finish on the version they started with."""
    current = settings()
    _yield_to_calls()
    try:
        outcome = rollback_to(store(), version, Options.of(current), by or who(), message,
                              current.call_ttl_seconds)
    except StoreError as exc:
        raise click.ClickException(_("{error} (`ivr history` lists the versions kept)").format(
            error=exc)) from exc
    except LoadError as exc:
        for problem in exc.problems:
            click.echo(str(problem))
        raise click.ClickException(_("version {version} does not pass today's checks; it was not "
                                     "put in force").format(version=version)) from exc
    if outcome.publication is None:
        click.echo(_("version {version} is already in force").format(version=version))
        return
    click.echo(_("version {version} is in force again: {summary}").format(
        version=version, summary=outcome.publication.summary))


def _labels() -> tuple[str, str, str, str, str]:
    """The labels of `ivr status`, padded to one width, and the indent of the lines under
    them: (working folders, in force, last refused, router, indent)."""
    labels = [_("working folders:"), _("in force:"), _("last refused:"), _("router:")]
    width = max(len(label) for label in labels) + 1
    working, in_force, refused, router = (label.ljust(width) for label in labels)
    return working, in_force, refused, router, " " * width


@click.command(cls=Command)
@click.option("--url", default="", help="A running router, e.g. https://ivr.example.org: also "
              "show the version it serves.")
def status(url: str) -> None:
    """The working folders' verdict, the version in force and its history entry, the last
    refused publication, and (with --url) what a running router serves."""
    found = verdict()
    working, _in_force, _refused, router, indent = _labels()
    if found.snapshot is not None:
        click.echo(working + _("version {version} (passes `ivr check`)").format(
            version=found.snapshot.version))
    else:
        click.echo(working + _("{count} problem(s); they cannot be published:").format(
            count=len(found.problems)))
        for problem in found.problems:
            click.echo(f"{indent}{problem}")
    in_force = _store_status(found.snapshot.version if found.snapshot else None)
    if not url:
        return
    try:
        with urllib.request.urlopen(url.rstrip("/") + "/healthz", timeout=10) as reply:  # noqa: S310
            health = json.loads(reply.read())
    except (urllib.error.URLError, OSError, ValueError) as exc:
        why = exc.reason if isinstance(exc, urllib.error.URLError) else exc
        raise click.ClickException(_("the router at {url} did not answer ({why}); is the address "
                                     "right, such as https://ivr.example.org?").format(
            url=url, why=why)) from exc
    click.echo(router + _("version {version}, Redis {redis}").format(
        version=health.get("version"), redis=health.get("redis")))
    if in_force and health.get("version") != in_force:
        click.echo(indent + _("it has not taken the version in force yet (it looks every second; "
                              "if this stays, check its log)"))


def _store_status(working: str | None) -> str | None:
    current = settings()
    _working, in_force, refused, _router, indent = _labels()
    if not current.redis_url:
        click.echo(in_force + _("unknown: REDIS_URL is not set (the store of published versions "
                                "is in the routers' Redis)"))
        return None
    try:
        target = store()
        version = target.current()
        entry = target.publication(version) if version else None
        refusal = target.last_refusal()
    except (click.ClickException, redis.RedisError) as exc:
        message = exc.message if isinstance(exc, click.ClickException) else type(exc).__name__
        click.echo(in_force + _("unknown: {why}").format(why=message))
        return None
    if version is None:
        click.echo(in_force + _("nothing is published yet (`ivr publish`)"))
        return None
    click.echo(in_force + (_line(entry) if entry else version))
    if working == version:
        click.echo(indent + _("the working folders are the version in force"))
    elif working:
        click.echo(indent + _("the working folders differ from it: `ivr publish` puts them in "
                              "force"))
    if refusal and (entry is None or refusal.at > entry.at):
        click.echo(refused + _("{when} by {who}, {count} problem(s):").format(
            when=_when(refusal.at), who=refusal.by, count=len(refusal.problems)))
        for problem in refusal.problems[:10]:
            click.echo(f"{indent}{problem}")
    return version


COMMANDS = [publish, history, rollback, status]
