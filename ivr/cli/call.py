"""`ivr call`: a simulated call through the real webhooks, printed as the caller hears it."""

from __future__ import annotations

import datetime as dt
import secrets
import sys
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

import click

from ivr.cli.common import clock_at, settings, verdict
from ivr.cli.texts import Command
from ivr.i18n import _
from ivr.library.snapshot import Snapshot
from ivr.sim.scenarios import durations


def _keys_list(value: str) -> list[str | None]:
    return [k.strip() or None for k in value.split(",")] if value else []


@click.command(cls=Command)
@click.option("--press", default="", help="Keys, one per menu, e.g. '2,1'; an empty item is "
              "silence. Without it you are asked at each menu (Enter for silence).")
@click.option("--answer", "answers", default="", help="How each connection attempt ends, e.g. "
              "'busy,no-answer,completed' (default: answered).")
@click.option("--to", default="", help="The number dialled (selects the flow by entry_numbers).")
@click.option("--url", default="", help="Drive a running router over HTTP instead of in-process "
              "(uses TWILIO_AUTH_TOKEN to sign).")
@click.option("--at", "at", default="", help="Local time of the call in the roster's time zone, "
              "e.g. '2026-12-16 03:00' (default: now).")
@click.option("--caller", default="+77011234567", show_default=True,
              help="The caller's number (a landline number gives a region hint).")
@click.option("--region", default="", help="Call from this region (e.g. shymkent): its entry "
              "number if it has one, else a landline number with its code.")
@click.option("--transcript", type=click.Path(dir_okay=False), default=None,
              help="Also write what was heard and dialled to this file.")
@click.option("--busy", "busy", type=click.IntRange(0, 3600), default=0,
              help="Every operator on duty is on another call for this many seconds: see "
              "what a caller hears while waiting in line.")
@click.option("--wait-press", default="", help="While waiting in line: 'SECONDS:KEY' presses "
              "KEY after so many seconds in line ('60:9'), 'SECONDS:hangup' hangs up.")
def call(press: str, answers: str, to: str, url: str, at: str, caller: str, region: str,
         transcript: str | None, busy: int, wait_press: str) -> None:
    """Simulate a call and print what the caller hears, who is rung and what they hear.

    Without --url the call runs through the real router on the working folders, on a Redis of
    its own (never REDIS_URL's). With --url it drives a running router; its calls carry the
    simulation mark, so that router keeps no record of them and moves nothing real calls share.
    """
    from ivr.sim import simulator

    current = settings()
    found = verdict()
    snapshot = found.snapshot
    if snapshot is None and not url:
        problems = "\n".join(str(p) for p in found.problems)
        raise click.ClickException(
            _("the files do not pass the checks (run `ivr check`):") + f"\n{problems}")
    if at and url:
        raise click.ClickException(_("--at cannot set the clock of a router running elsewhere"))
    if url and not current.twilio_auth_token:
        raise click.ClickException(_("set TWILIO_AUTH_TOKEN to the router's token"))
    if url and busy:
        raise click.ClickException(_("--busy cannot make the operators of a router running "
                                     "elsewhere busy"))
    in_line = _while_waiting(wait_press)
    interactive = not press and sys.stdin.isatty()

    def ask() -> str | None:
        return click.prompt("  " + _("key (Enter = silence)"), default="",
                            show_default=False) or None

    keys = ask if interactive else simulator.press(_keys_list(press))
    outcomes = simulator.answer([a.strip() for a in answers.split(",") if a.strip()])
    names = _names(snapshot) if snapshot else {}
    if region:
        if snapshot is None:
            raise click.ClickException(_("--region needs working folders that pass the checks"))
        to, caller = _from_region(snapshot, region, to, caller)
    to = to or "150"
    lines: list[str] = []

    def echo(line: str) -> None:
        for number, name in names.items():
            line = line.replace(number, f"{number} ({name})")
        lines.append(f"  {line}")
        click.echo(f"  {line}")

    calling = _("Calling {number}:").format(number=to)
    click.echo(calling)
    with ExitStack() as stack:
        advance: Callable[[float], None] | None = None
        if url:
            client: simulator.Client = simulator.HttpClient(url)
            token, public = current.twilio_auth_token, url
        else:
            from ivr.cli.simulated import simulated_router

            assert snapshot is not None
            router = stack.enter_context(simulated_router(current, snapshot))
            start = clock_at(at, snapshot.routing.roster.timezone)()
            router.set_time(start)
            router.occupy(_on_duty(snapshot, start), busy)

            def advance(seconds: float) -> None:  # the router's clock follows the call's
                router.set_time(router.now() + seconds)

            client, token, public = router.client, router.auth_token, None
        # In-process the call runs on a Redis of its own, as a real call would; a router
        # running elsewhere is told it is a simulation, so it keeps nothing of it.
        sim = simulator.SimulatedCall(
            client, token, snapshot.catalogue if snapshot else None, public, to=to, echo=echo,
            caller=caller, mark=bool(url), call_sid="CA" + secrets.token_hex(16),
            durations=durations(snapshot) if snapshot else None, while_waiting=in_line)
        try:
            result = sim.run(keys, outcomes, advance=advance)
        except (AssertionError, OSError, ValueError) as exc:
            raise click.ClickException(str(exc)) from exc
    where = result.connected_to
    summary = (_("Result: connected to {number} ({name})").format(
                   number=where, name=names.get(where) or _("unknown")) if where
               else _("Result: not connected; the caller was told where to call."))
    click.echo(summary)
    if transcript:
        Path(transcript).write_text(f"{calling}\n" + "\n".join(lines) + f"\n{summary}\n",
                                    encoding="utf-8")


def _on_duty(snapshot: Snapshot, at: float) -> list[str]:
    moment = dt.datetime.fromtimestamp(at, dt.UTC)
    return list(snapshot.routing.duty.on_duty(moment).ordered)


def _while_waiting(value: str) -> Callable[[float], str | None] | None:
    if not value:
        return None
    seconds, _colon, action = value.partition(":")
    if not seconds.isdigit() or not (action == "hangup" or (len(action) == 1 and
                                                              action in "0123456789*#")):
        raise click.BadParameter(_("use SECONDS:KEY such as 60:9, or SECONDS:hangup"),
                                 param_hint="--wait-press")
    from ivr.library.scenarios import WhileWaiting
    from ivr.sim.scenarios import while_waiting

    return while_waiting(WhileWaiting(float(seconds), None if action == "hangup" else action,
                                      action == "hangup"))


def _names(snapshot: Snapshot) -> dict[str, str]:
    names = {n: t for flow in snapshot.flows.values() for t, n in flow.numbers.items()}
    names.update({op.phone: _("operator {id}").format(id=op.id)
                  for op in snapshot.routing.roster.operators.values()})
    names.update({number: _("{region} crisis centre").format(region=region.id)
                  for region in snapshot.routing.regions.regions.values()
                  for number in region.lines})
    return names


def _from_region(snapshot: Snapshot, region_id: str, to: str, caller: str) -> tuple[str, str]:
    """A number dialled, or a caller's landline number, that places the call in a region."""
    regions = snapshot.routing.regions
    region = regions.regions.get(region_id)
    if region is None:
        raise click.BadParameter(_("unknown region; regions: {regions}").format(
            regions=", ".join(regions.regions)), param_hint="--region")
    if region.entry_numbers:
        return region.entry_numbers[0], caller
    for prefix in region.landline_prefixes:
        for fill in "2345678":
            number = "+7" + (prefix + fill * 10)[:10]
            found = regions.by_landline(number)
            if found is not None and found.id == region_id:
                return to, number
    raise click.BadParameter(_("the region has neither entry numbers nor landline codes"),
                             param_hint="--region")


COMMANDS = [call]
