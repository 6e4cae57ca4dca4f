"""What the `ivr` commands share: the settings (read once), the working folders' verdict, the
published store, and reading times and days."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable

import click
import redis

from ivr.calls.keys import Keys
from ivr.i18n import _
from ivr.library.files import FolderSource
from ivr.library.pipeline import Options, Verdict, check
from ivr.library.snapshot import Snapshot
from ivr.library.store import SnapshotStore
from ivr.redis_url import connect
from ivr.settings import ConfigError, Settings


def settings() -> Settings:
    """The process's settings, read from the environment once (by the first command that asks)."""
    root = click.get_current_context().find_root()
    root.ensure_object(dict)
    if "settings" not in root.obj:
        try:
            root.obj["settings"] = Settings.from_env()
        except ConfigError as exc:
            raise click.ClickException(str(exc)) from exc
    found: Settings = root.obj["settings"]
    return found


def verdict() -> Verdict:
    """The working folders' verdict, from the one check pipeline."""
    current = settings()
    return check(FolderSource(current.flows_dir, current.audio_dir), Options.of(current))


def working_snapshot() -> Snapshot:
    """The working folders as a snapshot, or exit with their problems."""
    found = verdict()
    if found.snapshot is None:
        problems = "\n".join(str(p) for p in found.problems)
        raise click.ClickException(
            _("the files do not pass the checks (run `ivr check`):") + f"\n{problems}")
    return found.snapshot


def store() -> SnapshotStore:
    """The store of published versions named by REDIS_URL; exit with a sentence without it."""
    current = settings()
    if not current.redis_url:
        raise click.ClickException(_(
            "REDIS_URL is not set: published versions are kept in the Redis that every router "
            "host shares; set it to that Redis (`ivr serve` starts its own for local use)"))
    try:
        client = connect(current.redis_url, timeout=5.0)
        client.ping()
    except (redis.RedisError, ValueError) as exc:
        raise click.ClickException(_("cannot reach Redis at REDIS_URL ({error}): is it running, "
                                     "and is the URL right?").format(
            error=type(exc).__name__)) from exc
    return SnapshotStore(client, Keys(current.redis_prefix))


YEARS = range(2000, 2200)  # the years a date in a command may name: any call's, with room


def in_range(year: int, hint: str) -> None:
    if year not in YEARS:
        raise click.BadParameter(_("give a year from {first} to {last}").format(
            first=YEARS.start, last=YEARS.stop - 1), param_hint=hint)


def clock_at(at: str, tz: dt.tzinfo, hint: str = "--at") -> Callable[[], float]:
    if not at:
        return time.time
    try:
        local = dt.datetime.strptime(at, "%Y-%m-%d %H:%M")
    except ValueError as exc:
        raise click.BadParameter(_("use the form '2026-12-16 03:00'"), param_hint=hint) from exc
    in_range(local.year, hint)
    moment = local.replace(tzinfo=tz).timestamp()
    return lambda: moment


def first_day(value: str, snapshot: Snapshot) -> dt.date:
    if not value:
        return dt.datetime.now(snapshot.routing.roster.timezone).date()
    try:
        day = dt.date.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter(_("use the form 2026-12-14"), param_hint="--from") from exc
    in_range(day.year, "--from")
    return day


def local_time(seconds: float, snapshot_tz: dt.tzinfo) -> str:
    return dt.datetime.fromtimestamp(seconds, snapshot_tz).strftime("%Y-%m-%d %H:%M")
