"""The `ivr` command: run the router, check flows, and try calls without a phone."""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
import sys
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import replace
from pathlib import Path

import click

from ivr.engine import FlowSet
from ivr.i18n import _
from ivr.settings import ConfigError, Settings
from ivr.yamlsrc import LoadError, with_columns


def _settings() -> Settings:
    return Settings.from_env()


@click.group(help="Voice IVR router for the 150 hotline. Each command has its own --help.")
@click.option("--lang", type=click.Choice(["en", "ru"]), default=None,
              help="Language of problem messages: en or ru (default: IVR_MESSAGES, else en).")
def main(lang: str | None) -> None:
    from ivr.i18n import set_language

    set_language(lang or _settings().messages_language)


@main.command()
@click.option("--port", type=int, default=lambda: int(os.environ.get("PORT", "5000")),
              show_default="$PORT or 5000", help="Port for the web process.")
def serve(port: int) -> None:
    """Run web, worker and (when REDIS_URL is unset) an embedded Redis, from the Procfile."""
    from ivr.engine import load_flowset
    from ivr.serve import serve as run

    settings = _settings()
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

    settings = _settings()
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


@main.command()
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="json: for tools and CI.")
def check(fmt: str) -> None:
    """Check every flow, prompt, roster and region file; print each problem as
    file:line:column: step: sentence. Exit status: 0 all good, 1 problems, 2 a usage error."""
    from ivr.engine import load_flowset
    from ivr.engine.flowset import display_path
    from ivr.schemas import schema_problems

    settings = _settings()
    problems = []
    try:
        flows = load_flowset(settings.flows_dir, settings.audio_dir, settings.default_flow)
    except LoadError as exc:
        problems = exc.problems
    files = [*sorted(settings.flows_dir.glob("*.yaml")),
             *sorted((settings.flows_dir / "scenarios").glob("*.yaml"))]
    with_problems = {p.file for p in problems}
    for path in files:  # the editors' schemas catch what is left, e.g. `active: "no"`
        if display_path(path) not in with_problems:
            problems = [*problems, *schema_problems(path, display_path(path))]
    problems = with_columns(problems)
    if fmt == "json":
        click.echo(json.dumps({"ok": not problems, "problems": [p.as_dict() for p in problems],
                               "version": None if problems else flows.version},
                              ensure_ascii=False, indent=2))
        sys.exit(1 if problems else 0)
    if problems:
        for problem in problems:
            click.echo(str(problem))
        click.echo(_("{count} problem(s) found.").format(count=len(problems)), err=True)
        sys.exit(1)
    for flow in flows.flows.values():
        click.echo(f"ok  {flow.file}: flow '{flow.name}', {len(flow.steps)} steps, "
                   f"languages {', '.join(flow.languages)}, version {flow.version}")
    click.echo(f"ok  {flows.catalogue.file}: {len(flows.catalogue.prompts)} prompts "
               "(region names included)")
    roster, regions = flows.routing.roster, flows.routing.regions
    active = sum(op.active for op in roster.operators.values())
    click.echo(f"ok  {roster.file}: {len(roster.operators)} operators ({active} active), "
               f"{len(roster.weekly)} weekly and {len(roster.dated)} dated shifts, "
               f"{len(roster.away)} absences")
    with_lines = len(regions.regions) - len(regions.without_lines())
    click.echo(f"ok  {regions.file}: {len(regions.regions)} regions, {with_lines} with a "
               "crisis-centre line (`ivr roster gaps` lists the others)")


def _clock(at: str, tz: dt.tzinfo) -> Callable[[], float]:
    if not at:
        return time.time
    try:
        moment = dt.datetime.strptime(at, "%Y-%m-%d %H:%M").replace(tzinfo=tz).timestamp()
    except ValueError as exc:
        raise click.BadParameter("use the form '2026-12-16 03:00'", param_hint="--at") from exc
    return lambda: moment


@main.command()
@click.option("--url", default="", help="The running router, e.g. https://ivr.example.org, to "
              "compare with the files here.")
def status(url: str) -> None:
    """The version of the flows on disk, and the one in force in a running router."""
    import json
    import urllib.request

    from ivr.engine import load_flowset

    settings = _settings()
    try:
        flows = load_flowset(settings.flows_dir, settings.audio_dir, settings.default_flow)
        click.echo(f"on disk:   version {flows.version} (passes `ivr check`)")
        on_disk = flows.version
    except LoadError as exc:
        click.echo(f"on disk:   {len(exc.problems)} problem(s); a router keeps its last good "
                   "version (run `ivr check`)")
        on_disk = ""
    if not url:
        return
    with urllib.request.urlopen(url.rstrip("/") + "/healthz", timeout=10) as answer:  # noqa: S310
        health = json.loads(answer.read())
    click.echo(f"in force:  version {health['version']}, loaded {health['loaded_at']}, "
               f"Redis {health['redis']}")
    for problem in health.get("refused", []):
        click.echo(f"refused:   {problem}")
    if on_disk and on_disk != health["version"]:
        click.echo("the running router has not loaded the files on disk yet (it looks every "
                   "2 seconds; on another host, copy the files there)")


@main.command()
@click.argument("flow", required=False)
@click.option("--format", "fmt", type=click.Choice(["mermaid", "dot", "svg", "png"]),
              default="mermaid", show_default=True,
              help="svg and png need Graphviz's `dot` (apt-get install graphviz).")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write to this file.")
def graph(flow: str | None, fmt: str, output: str | None) -> None:
    """Draw a flow (the default flow unless named): Mermaid text, DOT, SVG or PNG."""
    from ivr import graph as drawing

    flows = _load_or_exit()
    chosen = flows.flows.get(flow or flows.default)
    if chosen is None:
        raise click.BadParameter(f"no flow named '{flow}'; flows: {', '.join(flows.flows)}",
                                 param_hint="FLOW")
    if fmt in ("svg", "png"):
        try:
            data = drawing.render(chosen, fmt)
        except FileNotFoundError as exc:
            raise click.ClickException(f"{exc}; `--format mermaid` needs nothing") from exc
    else:
        data = (drawing.mermaid(chosen) if fmt == "mermaid" else drawing.dot(chosen)).encode()
    if output:
        Path(output).write_bytes(data)
        click.echo(f"wrote {output}")
    else:
        click.echo(data.decode() if fmt not in ("svg", "png") else data, nl=False)


@main.command(hidden=True)
@click.option("--write", is_flag=True, help="Rewrite the shipped schema files.")
def schemas(write: bool) -> None:
    """The JSON Schemas for editors (ivr/schemas/*.schema.json)."""
    from ivr import schemas as editor_schemas

    if write:
        for path in editor_schemas.write_all():
            click.echo(f"wrote {path}")
        return
    for name in editor_schemas.SCHEMAS:
        click.echo(editor_schemas.FOLDER / f"{name}.schema.json")


@main.command("test")
@click.option("--verbose", "-v", is_flag=True, help="Also print what each call heard and dialled.")
def test_scenarios(verbose: bool) -> None:
    """Run the flow scenarios in flows/scenarios/ with a fixed clock; exit 1 if any fails."""
    from ivr.embedded_redis import EmbeddedRedis
    from ivr.scenarios import Runner, load_scenarios

    settings = _settings()
    flows = _load_or_exit()
    try:
        scenarios = load_scenarios(settings.flows_dir / "scenarios")
    except LoadError as exc:
        for problem in exc.problems:
            click.echo(str(problem))
        sys.exit(1)
    if not scenarios:
        raise click.ClickException(f"no scenarios in {settings.flows_dir / 'scenarios'}")
    with ExitStack() as stack:
        if not settings.redis_url:
            settings = replace(settings, redis_url=stack.enter_context(EmbeddedRedis()).url)
        runner = Runner(settings, flows)
        failed = 0
        for scenario in scenarios:
            outcome = runner.run(scenario)
            mark = "PASS" if outcome.passed else "FAIL"
            click.echo(f"{mark}  {scenario.file}:{scenario.line}: {scenario.name}")
            for failure in outcome.failures:
                click.echo(f"      {failure}")
            if verbose and outcome.transcript:
                click.echo(f"      dialled {outcome.transcript.dialled}")
            failed += not outcome.passed
    click.echo(f"{len(scenarios) - failed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


def _keys_list(value: str) -> list[str | None]:
    return [k.strip() or None for k in value.split(",")] if value else []


@main.command()
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
def call(press: str, answers: str, to: str, url: str, at: str, caller: str, region: str,
         transcript: str | None) -> None:
    """Simulate a call through the real flow and print what the caller hears."""
    from ivr import simulator
    from ivr.embedded_redis import EmbeddedRedis
    from ivr.engine import load_flowset

    settings = _settings()
    try:
        flows = load_flowset(settings.flows_dir, settings.audio_dir, settings.default_flow)
    except LoadError as exc:
        raise click.ClickException(f"the flows do not load:\n{exc}") from exc
    interactive = not press and sys.stdin.isatty()

    def ask() -> str | None:
        return click.prompt("  key (Enter = silence)", default="", show_default=False) or None

    keys = ask if interactive else simulator.press(_keys_list(press))
    outcomes = simulator.answer([a.strip() for a in answers.split(",") if a.strip()])
    clock = _clock(at, flows.routing.roster.timezone)
    if at and url:
        raise click.ClickException("--at cannot set the clock of a router running elsewhere")
    names = {n: t for flow in flows.flows.values() for t, n in flow.numbers.items()}
    names.update({op.phone: f"operator {op.id}" for op in flows.routing.roster.operators.values()})
    names.update({number: f"{region.id} crisis centre"
                  for region in flows.routing.regions.regions.values() for number in region.lines})
    if region:
        to, caller = _from_region(flows, region, to, caller)
    to = to or "150"

    with ExitStack() as stack:
        if url:
            if not settings.twilio_auth_token:
                raise click.ClickException("set TWILIO_AUTH_TOKEN to the router's token")
            client: simulator.Client = simulator.HttpClient(url)
            token, public = settings.twilio_auth_token, url
        else:
            from ivr.app import create_app

            if not settings.redis_url:
                settings = replace(settings, redis_url=stack.enter_context(EmbeddedRedis()).url)
            token = secrets.token_hex(16)
            settings = replace(settings, twilio_auth_token=token, public_base_url=None,
                               hmac_secret=settings.hmac_secret or secrets.token_bytes(32))
            client, public = create_app(settings, clock, simulated=True).test_client(), None

        lines: list[str] = []

        def echo(line: str) -> None:
            for number, name in names.items():
                line = line.replace(number, f"{number} ({name})")
            lines.append(f"  {line}")
            click.echo(f"  {line}")

        click.echo(f"Calling {to}:")
        sim = simulator.SimulatedCall(client, token, flows.catalogue, public, to=to, echo=echo,
                                      call_sid="CA" + secrets.token_hex(16), caller=caller)
        try:
            result = sim.run(keys, outcomes)
        except (AssertionError, ConfigError) as exc:
            raise click.ClickException(str(exc)) from exc
    where = result.connected_to
    summary = (f"Result: connected to {where} ({names.get(where, 'unknown')})" if where
               else "Result: not connected; the caller was told where to call.")
    click.echo(summary)
    if transcript:
        Path(transcript).write_text(f"Calling {to}:\n" + "\n".join(lines) + f"\n{summary}\n",
                                    encoding="utf-8")


def _from_region(flows: FlowSet, region_id: str, to: str, caller: str) -> tuple[str, str]:
    """A number dialled, or a caller's landline number, that places the call in a region."""
    regions = flows.routing.regions
    region = regions.regions.get(region_id)
    if region is None:
        raise click.BadParameter(f"unknown region; regions: {', '.join(regions.regions)}",
                                 param_hint="--region")
    if region.entry_numbers:
        return region.entry_numbers[0], caller
    for prefix in region.landline_prefixes:
        for fill in "2345678":
            number = "+7" + (prefix + fill * 10)[:10]
            found = regions.by_landline(number)
            if found is not None and found.id == region_id:
                return to, number
    raise click.BadParameter("the region has neither entry numbers nor landline codes",
                             param_hint="--region")


def _load_or_exit() -> FlowSet:
    from ivr.engine import load_flowset

    settings = _settings()
    try:
        return load_flowset(settings.flows_dir, settings.audio_dir, settings.default_flow)
    except LoadError as exc:
        raise click.ClickException(f"the flows do not load (run `ivr check`):\n{exc}") from exc


def _languages(flows: FlowSet) -> list[str]:
    return sorted({lang for flow in flows.flows.values() for lang in flow.languages})


def _first_day(value: str, flows: FlowSet) -> dt.date:
    if not value:
        return dt.datetime.now(flows.routing.roster.timezone).date()
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter("use the form 2026-12-14", param_hint="--from") from exc


@main.group()
def roster() -> None:
    """The duty roster: who is on duty, the week ahead, and coverage gaps."""


@roster.command("now")
@click.option("--at", "at", default="", help="Local time instead of now, e.g. '2026-12-16 03:00'.")
def roster_now(at: str) -> None:
    """Who is on duty now, per language."""
    from ivr.routing.report import now_text

    flows = _load_or_exit()
    moment = dt.datetime.fromtimestamp(_clock(at, flows.routing.roster.timezone)(), dt.UTC)
    click.echo(now_text(flows.routing, _languages(flows), moment))


@roster.command("week")
@click.option("--from", "first", default="", help="First day, e.g. 2026-12-14 (default: today).")
def roster_week(first: str) -> None:
    """A table of the week's duty, per language."""
    from ivr.routing.report import week_text

    flows = _load_or_exit()
    click.echo(week_text(flows.routing, _languages(flows), _first_day(first, flows)))


@roster.command("gaps")
@click.option("--days", default=14, show_default=True, type=click.IntRange(1, 366),
              help="How many days ahead to look.")
@click.option("--from", "first", default="", help="First day, e.g. 2026-12-14 (default: today).")
def roster_gaps(days: int, first: str) -> None:
    """Every interval with no operator for a language, and every region without a line."""
    from ivr.routing.report import gaps_text

    flows = _load_or_exit()
    click.echo(gaps_text(flows.routing, _languages(flows), _first_day(first, flows), days))


@main.group()
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

    settings = _settings()
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

    settings = _settings()
    try:
        written = build_placeholders(settings.flows_dir, settings.audio_dir,
                                     set(only) or None, overwrite)
    except ToolMissing as exc:
        raise click.ClickException(str(exc)) from exc
    for path in written:
        click.echo(f"wrote {Path(path)}")
    click.echo(f"{len(written)} recording(s) written.")


from ivr import cli_records  # noqa: E402  (the record commands register themselves)

cli_records.register(main)

if __name__ == "__main__":
    main()
