"""What the `ivr` commands share: settings, loading the flows, and reading times."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable

import click

from ivr.engine import FlowSet
from ivr.settings import Settings
from ivr.yamlsrc import LoadError


def settings_from_env() -> Settings:
    return Settings.from_env()


def clock_at(at: str, tz: dt.tzinfo) -> Callable[[], float]:
    if not at:
        return time.time
    try:
        moment = dt.datetime.strptime(at, "%Y-%m-%d %H:%M").replace(tzinfo=tz).timestamp()
    except ValueError as exc:
        raise click.BadParameter("use the form '2026-12-16 03:00'", param_hint="--at") from exc
    return lambda: moment


def load_or_exit() -> FlowSet:
    from ivr.engine import load_flowset

    settings = settings_from_env()
    try:
        return load_flowset(settings.flows_dir, settings.audio_dir, settings.default_flow)
    except LoadError as exc:
        raise click.ClickException(f"the flows do not load (run `ivr check`):\n{exc}") from exc


def languages_of(flows: FlowSet) -> list[str]:
    return sorted({lang for flow in flows.flows.values() for lang in flow.languages})


def first_day(value: str, flows: FlowSet) -> dt.date:
    if not value:
        return dt.datetime.now(flows.routing.roster.timezone).date()
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter("use the form 2026-12-14", param_hint="--from") from exc
