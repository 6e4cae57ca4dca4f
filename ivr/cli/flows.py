"""`ivr` commands for supervisors' files: check, graph, test, schemas."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from ivr.cli.common import settings, verdict, working_snapshot
from ivr.i18n import _


@click.command()
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="json: for tools and CI.")
def check(fmt: str) -> None:
    """Check every flow, prompt, recording, roster, region and scenario file; print each
    problem as file:line:column: step: sentence. Exit status: 0 all good, 1 problems, 2 a usage
    error. Publishing and every router run the very same checks."""
    found = verdict()
    problems, snapshot = found.problems, found.snapshot
    if fmt == "json":
        click.echo(json.dumps({"ok": not problems, "problems": [p.as_dict() for p in problems],
                               "version": snapshot.version if snapshot else None},
                              ensure_ascii=False, indent=2))
        sys.exit(1 if problems else 0)
    if snapshot is None:
        for problem in problems:
            click.echo(str(problem))
        click.echo(_("{count} problem(s) found.").format(count=len(problems)), err=True)
        sys.exit(1)
    for flow in snapshot.flows.values():
        click.echo(f"ok  {flow.file}: flow '{flow.name}', {len(flow.steps)} steps, "
                   f"languages {', '.join(flow.languages)}, version {flow.version}")
    recordings = sum(len(p.recordings) for p in snapshot.catalogue.prompts.values())
    click.echo(f"ok  {snapshot.catalogue.file}: {len(snapshot.catalogue.prompts)} prompts "
               f"(region names included), {recordings} recordings")
    roster, regions = snapshot.routing.roster, snapshot.routing.regions
    active = sum(op.active for op in roster.operators.values())
    click.echo(f"ok  {roster.file}: {len(roster.operators)} operators ({active} active), "
               f"{len(roster.weekly)} weekly and {len(roster.dated)} dated shifts, "
               f"{len(roster.away)} absences")
    with_lines = len(regions.regions) - len(regions.without_lines())
    click.echo(f"ok  {regions.file}: {len(regions.regions)} regions, {with_lines} with a "
               "crisis-centre line (`ivr roster gaps` lists the others)")
    if snapshot.scenarios:
        click.echo(f"ok  flows/scenarios: {len(snapshot.scenarios)} scenarios (`ivr test` runs "
                   "them)")
    click.echo(f"version {snapshot.version}: ready to publish (`ivr publish`)")


@click.command()
@click.argument("flow", required=False)
@click.option("--format", "fmt", type=click.Choice(["mermaid", "dot", "svg", "png"]),
              default="mermaid", show_default=True,
              help="svg and png need Graphviz's `dot` (apt-get install graphviz).")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write to this file.")
def graph(flow: str | None, fmt: str, output: str | None) -> None:
    """Draw a flow (the default flow unless named): Mermaid text, DOT, SVG or PNG."""
    from ivr.library import graph as drawing

    snapshot = working_snapshot()
    chosen = snapshot.flows.get(flow or snapshot.default)
    if chosen is None:
        raise click.BadParameter(f"no flow named '{flow}'; flows: {', '.join(snapshot.flows)}",
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
    from ivr.library import schemas as editor_schemas

    if write:
        for path in editor_schemas.write_all():
            click.echo(f"wrote {path}")
        return
    for name in editor_schemas.SCHEMAS:
        click.echo(editor_schemas.FOLDER / f"{name}.schema.json")


@click.command("test")
@click.option("--verbose", "-v", is_flag=True, help="Also print what each call heard and dialled.")
def test_scenarios(verbose: bool) -> None:
    """Run the scenarios in flows/scenarios/ with a fixed clock, on the working folders and a
    Redis of their own (never REDIS_URL's); exit 1 if any fails."""
    from ivr.cli.simulated import simulated_router
    from ivr.sim.scenarios import Runner

    snapshot = working_snapshot()
    if not snapshot.scenarios:
        raise click.ClickException(f"no scenarios in {settings().flows_dir / 'scenarios'}")
    failed = 0
    with simulated_router(settings(), snapshot) as router:
        runner = Runner(snapshot, router)
        for scenario in snapshot.scenarios:
            outcome = runner.run(scenario)
            mark = "PASS" if outcome.passed else "FAIL"
            click.echo(f"{mark}  {scenario.file}:{scenario.line}: {scenario.name}")
            for failure in outcome.failures:
                click.echo(f"      {failure}")
            if verbose and outcome.transcript:
                click.echo(f"      dialled {outcome.transcript.dialled}")
            failed += not outcome.passed
    click.echo(f"{len(snapshot.scenarios) - failed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


COMMANDS = [check, graph, schemas, test_scenarios]
