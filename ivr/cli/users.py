"""`ivr users`: the console's accounts from the command line, where the first supervisor is
made. Each change is written to the console's audit log as made by `user@host`. Registered on
the main `ivr` group by `ivr.cli`."""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import click

from ivr.cli.common import settings
from ivr.cli.texts import Group
from ivr.clock import zone
from ivr.console.roles import DEFAULT_LANGUAGE, LANGUAGES, ROLES
from ivr.i18n import _
from ivr.library.publish import who
from ivr.records.store import RecordStore

if TYPE_CHECKING:  # imported when a command runs: a supervisor's install may lack argon2
    from ivr.console.accounts import Accounts


@click.group(cls=Group)
def users() -> None:
    """The console's accounts: add, give a new password, remove, list."""


def _accounts() -> Accounts:
    """The accounts of DATABASE_URL (its schema made or migrated first)."""
    try:
        from ivr.console.accounts import Accounts
    except ModuleNotFoundError as exc:
        raise click.ClickException(_("the console is not installed here ({module} is missing): "
                                     "pip install 'ivr150[console]'").format(
            module=exc.name)) from exc
    store = RecordStore(settings().database_url)
    store.upgrade()
    return Accounts(store)


def _password(name: str, from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline().rstrip("\r\n")
        if not line:
            raise click.ClickException(_("no password on standard input: give it on the first "
                                         "line"))
        return line
    return str(click.prompt(_("Password for {name}").format(name=name), hide_input=True,
                            confirmation_prompt=_("The same password again")))


@contextmanager
def _in_sentences() -> Iterator[None]:
    """What an account cannot take (a short password, a name in use) is said, not raised."""
    from ivr.console.accounts import AccountError

    try:
        yield
    except AccountError as exc:
        raise click.ClickException(exc.say(_)) from exc


STDIN_HELP = ("Read the password from the first line of standard input (for scripts) instead "
              "of asking for it twice.")


@users.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES), required=True,
              help="supervisor: every page; consultant: their own calls and availability; "
                   "viewer: statistics only.")
@click.option("--operator", default=None,
              help="A consultant's id in the duty roster (flows/roster.yaml); needed for "
                   "consultants.")
@click.option("--lang", "language", type=click.Choice(LANGUAGES), default=DEFAULT_LANGUAGE,
              show_default=True, help="The language of the console's pages for this person.")
@click.option("--password-stdin", is_flag=True, help=STDIN_HELP)
def users_add(name: str, role: str, operator: str | None, language: str,
              password_stdin: bool) -> None:
    """Add an account to the console (the first supervisor is made this way)."""
    accounts = _accounts()
    password = _password(name, password_stdin)
    with _in_sentences():
        account = accounts.add(name, role, password, who(), operator, language)
    click.echo(_("added {name} as {role}; they log in to the console with this name").format(
        name=account.name, role=account.role))


@users.command("reset")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help=STDIN_HELP)
def users_reset(name: str, password_stdin: bool) -> None:
    """Give an account a new password; its open sessions end at once."""
    accounts = _accounts()
    if accounts.get(name) is None:
        raise click.ClickException(_("there is no account named '{name}'").format(name=name))
    password = _password(name, password_stdin)
    with _in_sentences():
        account = accounts.reset(name, password, who())
    click.echo(_("new password set for {name}; their open sessions have ended").format(
        name=account.name))


@users.command("remove")
@click.argument("name")
def users_remove(name: str) -> None:
    """Remove an account; its open sessions end at once."""
    with _in_sentences():
        _accounts().remove(name, who())
    click.echo(_("removed {name}; their open sessions have ended").format(name=name.lower()))


@users.command("list")
def users_list() -> None:
    """The accounts: name, role, roster id, language and last change (no passwords)."""
    found = _accounts().all()
    rows = [(a.name, a.role, a.operator or "-", a.language,
             a.changed_at.replace(tzinfo=dt.UTC).astimezone(zone()).strftime(
                 "%Y-%m-%d %H:%M")) for a in found]
    header = (_("name"), _("role"), _("roster id"), _("language"), _("changed"))
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        click.echo("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths,
                                                                            strict=True)).rstrip())
    click.echo(_("{count} account(s)").format(count=len(found)))


COMMANDS = [users]
