"""`ivr` commands for supervisors' files: check, status, graph, test, schemas."""

from __future__ import annotations

import json
import sys
from contextlib import ExitStack
from dataclasses import replace
from pathlib import Path

import click

from ivr.cli_common import load_or_exit, settings_from_env
from ivr.i18n import _
from ivr.yamlsrc import LoadError, with_columns


@click.command()
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="json: for tools and CI.")
def check(fmt: str) -> None:
    """Check every flow, prompt, roster and region file; print each problem as
    file:line:column: step: sentence. Exit status: 0 all good, 1 problems, 2 a usage error."""
    from ivr.engine import load_flowset
    from ivr.engine.flowset import display_path
    from ivr.schemas import schema_problems

    settings = settings_from_env()
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


@click.command()
@click.option("--url", default="", help="The running router, e.g. https://ivr.example.org, to "
              "compare with the files here.")
def status(url: str) -> None:
    """The version of the flows on disk, and the one in force in a running router."""
    import json
    import urllib.request

    from ivr.engine import load_flowset

    settings = settings_from_env()
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


@click.command()
@click.argument("flow", required=False)
@click.option("--format", "fmt", type=click.Choice(["mermaid", "dot", "svg", "png"]),
              default="mermaid", show_default=True,
              help="svg and png need Graphviz's `dot` (apt-get install graphviz).")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write to this file.")
def graph(flow: str | None, fmt: str, output: str | None) -> None:
    """Draw a flow (the default flow unless named): Mermaid text, DOT, SVG or PNG."""
    from ivr import graph as drawing

    flows = load_or_exit()
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


@click.command(hidden=True)
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


@click.command("test")
@click.option("--verbose", "-v", is_flag=True, help="Also print what each call heard and dialled.")
def test_scenarios(verbose: bool) -> None:
    """Run the flow scenarios in flows/scenarios/ with a fixed clock; exit 1 if any fails."""
    from ivr.embedded_redis import EmbeddedRedis
    from ivr.scenarios import Runner, load_scenarios

    settings = settings_from_env()
    flows = load_or_exit()
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


COMMANDS = [check, status, graph, schemas, test_scenarios]
