"""Help texts in the supervisor's language.

Click reads a command's help (its docstring) and its options' help when the command is
defined, at import time, before `--lang` is known. So the texts stay in English on the
commands, and `Command` and `Group` here pass them through `_()` only when help is written
out: the help, the short help in a group's list of commands, the epilog, and the help of each
option and argument. Every command of `ivr` takes `cls=Command` (a `Group` makes its
subcommands and subgroups of these classes itself).

The English text is the message id: a docstring with its lines joined (`english`), so a
translator sees one line per paragraph. Those ids are in no `_()` call, so `pybabel extract`
cannot see them; after it, `python -m ivr.cli.texts ivr/locale/ivr.pot` adds every help text
of the `ivr` command tree to the template (see the README's translation workflow).

Click writes some words of its own: the frame of a help page ("Usage:", "Options", "[default:
...]") and the sentences of a mistake on the command line ("Error: Invalid value for ...").
It says them through the standard `gettext`; while a command of these classes runs (`main`),
they go through `_()` instead, and `CLICK_WORDS` marks those a supervisor meets for the
catalogues. Any other of Click's messages stays in English.
"""

from __future__ import annotations

import importlib
import inspect
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
from click.utils import _make_default_short_help

from ivr.i18n import N_, _

# Click's own words that a supervisor can meet, as Click writes them (its `gettext` ids).
CLICK_WORDS = (
    N_("Usage:"), N_("Options"), N_("Positional arguments"), N_("Show this message and exit."),
    N_("default: {default}"), N_("required"), N_("env var: {var}"),
    N_("Error: {message}"), N_("Try '{command} {option}' for help."), N_("Aborted!"),
    N_("Invalid value for {param_hint}: {message}"), N_("Invalid value: {message}"),
    N_("Missing argument"), N_("Missing option"), N_("Missing parameter"),
    N_("Missing command."), N_("No such option {name!r}."), N_("No such command {name!r}."),
    N_("Did you mean {possibility}?"), N_("(Did you mean one of: {possibilities}?)"),
    N_("Got unexpected extra argument ({args})"), N_("Got unexpected extra arguments ({args})"),
    N_("Option {name!r} requires an argument."), N_("Option {name!r} requires {nargs} arguments."),
    N_("Option {name!r} does not take a value."),
    N_("{value!r} is not {choice}."), N_("{value!r} is not one of {choices}."),
    N_("{value!r} is not a valid {number_type}."), N_("{value} is not in the range {range}."),
)
# The modules of Click that say those words (each imported `gettext` and `ngettext` itself).
# Not `click.decorators`: the help option's help it writes is kept on the command, and
# `_parameters_translated` translates it each time instead.
_CLICK_MODULES = ("core", "exceptions", "formatting", "parser", "types")


def _ngettext(singular: str, plural: str, count: int) -> str:
    return _(singular if count == 1 else plural)


@contextmanager
def click_in_language() -> Iterator[None]:
    """Click's own words go through the catalogues of `ivr.i18n` meanwhile."""
    modules = [importlib.import_module(f"click.{name}") for name in _CLICK_MODULES]
    saved = [(module, name, getattr(module, name)) for module in modules
             for name in ("_", "ngettext") if hasattr(module, name)]
    try:
        for module, name, _original in saved:
            setattr(module, name, _ if name == "_" else _ngettext)
        yield
    finally:
        for module, name, original in saved:
            setattr(module, name, original)


def english(text: str) -> str:
    """The message id of a help text: Click's own cleaning (indentation removed, cut at a form
    feed), each paragraph on one line, paragraphs apart by a blank line. A paragraph that
    starts with Click's no-rewrap mark (\\b) keeps its lines."""
    cleaned = inspect.cleandoc(text).partition("\f")[0]
    paragraphs = [p.strip() for p in cleaned.split("\n\n") if p.strip()]
    return "\n\n".join(p if p.startswith("\b") else " ".join(line.strip() for line in p.split("\n"))
                       for p in paragraphs)


def translated(text: str | None) -> str | None:
    """A help text in the current language (English when the catalogue lacks it)."""
    return _(english(text)) if text else text


def short_help(command: click.Command, limit: int = 45) -> str:
    """What a group lists for a command: its short help, else the start of its help, in the
    current language (also for a command not of these classes)."""
    if command.short_help:
        text = translated(command.short_help) or ""
    elif command.help:
        text = _make_default_short_help(translated(command.help) or "", limit)
    else:
        text = ""
    return text.strip()


@contextmanager
def _parameters_translated(params: Sequence[click.Parameter]) -> Iterator[None]:
    """The parameters' help in the current language while the help is written; the English
    stays on them (so translating again starts from it)."""
    originals = [(param, param.help) for param in params if getattr(param, "help", None)]
    try:
        for param, text in originals:
            param.help = translated(text)
        yield
    finally:
        for param, text in originals:
            param.help = text


class Command(click.Command):
    """A command whose help is written in the current language, and which, run as the main
    command, has Click say its own words in that language too."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        with click_in_language():
            return super().main(*args, **kwargs)

    def get_short_help_str(self, limit: int = 45) -> str:
        text = short_help(self, limit)
        return text if not self.deprecated else super().get_short_help_str(limit)

    def format_help_text(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        english_help = self.help
        self.help = translated(english_help)
        try:
            super().format_help_text(ctx, formatter)
        finally:
            self.help = english_help

    def format_arguments(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with _parameters_translated(self.get_params(ctx)):
            super().format_arguments(ctx, formatter)

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with _parameters_translated(self.get_params(ctx)):
            super().format_options(ctx, formatter)

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        english_epilog = self.epilog
        self.epilog = translated(english_epilog)
        try:
            super().format_epilog(ctx, formatter)
        finally:
            self.epilog = english_epilog


class Group(Command, click.Group):
    """A group whose help, and whose list of commands, are written in the current language;
    the commands and groups defined on it are of these classes too."""

    command_class = Command
    group_class = type  # a subgroup of a Group is a Group

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        commands = [(name, command) for name in self.list_commands(ctx)
                    if (command := self.get_command(ctx, name)) is not None and not command.hidden]
        if not commands:
            return
        limit = formatter.width - 6 - max(len(name) for name, _command in commands)
        with formatter.section(_("Commands")):
            formatter.write_dl([(name, short_help(command, limit)) for name, command in commands])


def help_texts(command: click.Command) -> Iterator[tuple[str, click.Command, str]]:
    """Every help text of a command tree, in English as the catalogues know it: (text, the
    command it belongs to, its full name such as `ivr roster week`)."""
    def visit(current: click.Command, name: str) -> Iterator[tuple[str, click.Command, str]]:
        for text in (current.help, current.short_help, current.epilog):
            if text:
                yield english(text), current, name
        for param in current.params:
            text = getattr(param, "help", None)
            if text:
                yield english(text), current, name
        if isinstance(current, click.Group):
            for sub_name, sub in current.commands.items():
                yield from visit(sub, f"{name} {sub_name}")
    yield from visit(command, command.name or "ivr")


def _where(command: click.Command, root: Path) -> tuple[str, int]:
    """The file and line that define a command (its function), for the catalogue's locations."""
    function: Any = command.callback
    try:
        function = inspect.unwrap(function)  # under a decorator such as `click.pass_context`
        path = Path(inspect.getsourcefile(function) or "")
        line = inspect.getsourcelines(function)[1]
    except (TypeError, OSError):
        return "ivr/cli/__init__.py", 0
    try:
        return path.resolve().relative_to(root).as_posix(), line
    except ValueError:
        return path.as_posix(), line


def add_to_template(pot: Path) -> int:
    """Add every help text of `ivr` to the template `pot` (written by `pybabel extract`);
    return how many were new."""
    from babel.messages.pofile import read_po, write_po

    from ivr.cli import main
    from ivr.settings import PROJECT_ROOT

    with pot.open("rb") as source:
        catalogue = read_po(source)
    added = 0
    for text, command, name in help_texts(main):
        location = _where(command, PROJECT_ROOT)
        message = catalogue.get(text)
        if message is None:
            catalogue.add(text, locations=[location], auto_comments=[f"help of `{name}`"])
            added += 1
        elif location not in message.locations:
            message.locations.append(location)
    with pot.open("wb") as target:
        write_po(target, catalogue, width=0, omit_header=True)  # as `--no-wrap --omit-header`
    return added


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python -m ivr.cli.texts ivr/locale/ivr.pot")
    count = add_to_template(Path(sys.argv[1]))
    print(f"{count} help text(s) added to {sys.argv[1]}")
