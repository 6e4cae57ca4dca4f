"""The `ivr` command: run the router, check and publish what supervisors edit, try calls
without a phone, and look after the records. Each command has its own --help."""

from __future__ import annotations

import click

from ivr.cli import call, flows, processes, publish, records, roster


@click.group(help="Voice IVR router for the 150 hotline. Each command has its own --help.")
@click.option("--lang", type=click.Choice(["en", "ru"]), default=None,
              help="Language of problem messages: en or ru (default: IVR_MESSAGES, else en).")
@click.pass_context
def main(ctx: click.Context, lang: str | None) -> None:
    from ivr.cli.common import settings
    from ivr.i18n import set_language

    ctx.ensure_object(dict)
    if lang is None and ctx.invoked_subcommand is not None:
        set_language(settings().messages_language)
    else:
        set_language(lang)


for _module in (processes, flows, publish, call, roster, records):
    for _command in _module.COMMANDS:
        main.add_command(_command)

if __name__ == "__main__":
    main()
