"""`ivr` commands for supervisors' files: check, graph, test, schemas."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from ivr.cli.common import settings, verdict, working_snapshot
from ivr.cli.texts import Command
from ivr.i18n import _


@click.command(cls=Command)
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
        click.echo("ok  " + _("{file}: flow '{name}', {steps} steps, languages {languages}, "
                              "version {version}").format(
            file=flow.file, name=flow.name, steps=len(flow.steps),
            languages=", ".join(flow.languages), version=flow.version))
    recordings = sum(len(p.recordings) for p in snapshot.catalogue.prompts.values())
    click.echo("ok  " + _("{file}: {prompts} prompts (region names included), {recordings} "
                          "recordings").format(file=snapshot.catalogue.file,
                                               prompts=len(snapshot.catalogue.prompts),
                                               recordings=recordings))
    roster, regions = snapshot.routing.roster, snapshot.routing.regions
    active = sum(op.active for op in roster.operators.values())
    click.echo("ok  " + _("{file}: {operators} operators ({active} active), {weekly} weekly and "
                          "{dated} dated shifts, {away} absences").format(
        file=roster.file, operators=len(roster.operators), active=active,
        weekly=len(roster.weekly), dated=len(roster.dated), away=len(roster.away)))
    with_lines = len(regions.regions) - len(regions.without_lines())
    click.echo("ok  " + _("{file}: {regions} regions, {with_lines} with a crisis-centre line "
                          "(`ivr roster gaps` lists the others)").format(
        file=regions.file, regions=len(regions.regions), with_lines=with_lines))
    if snapshot.scenarios:
        click.echo("ok  " + _("{folder}: {scenarios} scenarios (`ivr test` runs them)").format(
            folder="flows/scenarios", scenarios=len(snapshot.scenarios)))
    click.echo(_("version {version}: ready to publish (`ivr publish`)").format(
        version=snapshot.version))


@click.command(cls=Command)
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
        raise click.BadParameter(_("no flow named '{flow}'; flows: {flows}").format(
            flow=flow, flows=", ".join(snapshot.flows)), param_hint="FLOW")
    if fmt in ("svg", "png"):
        try:
            data = drawing.render(chosen, fmt)
        except FileNotFoundError as exc:
            raise click.ClickException(_("{error}; `--format mermaid` needs nothing").format(
                error=exc)) from exc
    else:
        data = (drawing.mermaid(chosen) if fmt == "mermaid" else drawing.dot(chosen)).encode()
    if output:
        Path(output).write_bytes(data)
        click.echo(_("wrote {file}").format(file=output))
    else:
        click.echo(data.decode() if fmt not in ("svg", "png") else data, nl=False)


@click.command(cls=Command, hidden=True)
@click.option("--write", is_flag=True, help="Rewrite the shipped schema files.")
def schemas(write: bool) -> None:
    """The JSON Schemas for editors (ivr/schemas/*.schema.json)."""
    from ivr.library import schemas as editor_schemas

    if write:
        for path in editor_schemas.write_all():
            click.echo(_("wrote {file}").format(file=path))
        return
    for name in editor_schemas.SCHEMAS:
        click.echo(editor_schemas.FOLDER / f"{name}.schema.json")


@click.command("test", cls=Command)
@click.option("--verbose", "-v", is_flag=True, help="Also print what each call heard and dialled.")
def test_scenarios(verbose: bool) -> None:
    """Run the scenarios in flows/scenarios/ with a fixed clock, on the working folders and a
    Redis of their own (never REDIS_URL's); exit 1 if any fails."""
    from ivr.cli.simulated import simulated_router
    from ivr.sim.scenarios import Runner

    snapshot = working_snapshot()
    if not snapshot.scenarios:
        raise click.ClickException(_("no scenarios in {folder}").format(
            folder=settings().flows_dir / "scenarios"))
    failed = 0
    passes, fails = _("PASS"), _("FAIL")
    width = max(len(passes), len(fails))
    indent = " " * (width + 2)
    with simulated_router(settings(), snapshot) as router:
        runner = Runner(snapshot, router)
        for scenario in snapshot.scenarios:
            outcome = runner.run(scenario)
            mark = passes if outcome.passed else fails
            click.echo(f"{mark:<{width}}  {scenario.file}:{scenario.line}: {scenario.name}")
            for failure in outcome.failures:
                click.echo(f"{indent}{failure}")
            if verbose and outcome.transcript:
                click.echo(indent + _("dialled {calls}").format(calls=outcome.transcript.dialled))
            failed += not outcome.passed
    click.echo(_("{passed} passed, {failed} failed").format(
        passed=len(snapshot.scenarios) - failed, failed=failed))
    sys.exit(1 if failed else 0)


COMMANDS = [check, graph, schemas, test_scenarios]
