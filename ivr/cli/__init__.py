"""The `ivr` command: run the router, check and publish what supervisors edit, try calls
without a phone, and look after the records. Each command has its own --help."""

from __future__ import annotations

import os

import click

from ivr.cli import call, flows, processes, publish, records, roster, users
from ivr.cli.texts import Group
from ivr.i18n import LANGUAGES, _, set_language


class Ivr(Group):
    """The `ivr` group: what a command cannot do because something outside it is wrong (Redis
    or the database unreachable, a setting or URL that names nothing) is said in a sentence,
    with exit status 1, never as a traceback. Its help, and its commands', are in the language
    of `--lang` or IVR_MESSAGES."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        # `--help` (and `ivr` alone) write the help before `--lang` is read unless it comes
        # first on the line, so the language of IVR_MESSAGES is taken before anything else.
        from_env = os.environ.get("IVR_MESSAGES")
        set_language(from_env if from_env in LANGUAGES else None)
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except click.exceptions.Exit:
            raise
        except Exception as exc:
            message = plain(exc)
            if message is None:
                raise
            raise click.ClickException(message) from exc


def plain(exc: Exception) -> str | None:
    """A sentence for the failures a supervisor or technician can meet and fix."""
    import redis
    import sqlalchemy as sa

    from ivr.records.store import StoreError as RecordStoreError
    from ivr.redis_url import RedisUrlError
    from ivr.settings import ConfigError
    from ivr.sim.embedded_redis import EmbeddedRedisError

    if isinstance(exc, RedisUrlError | ConfigError | RecordStoreError | EmbeddedRedisError):
        return str(exc)
    if isinstance(exc, redis.RedisError):
        return _("cannot reach Redis at REDIS_URL ({error}): is it running, and is the URL "
                 "right?").format(error=type(exc).__name__)
    if isinstance(exc, ModuleNotFoundError) and exc.name and exc.name.startswith("psycopg"):
        return _("PostgreSQL support is not installed: pip install 'ivr150[postgres]' (or use "
                 "DATABASE_URL=sqlite:///path/records.sqlite3)")
    if isinstance(exc, sa.exc.ArgumentError | sa.exc.NoSuchModuleError):
        return _("DATABASE_URL is not a database the router can use: sqlite:///path/file.sqlite3 "
                 "or postgresql://user:password@host/db")
    if isinstance(exc, sa.exc.DBAPIError):
        return _("cannot reach the records database at DATABASE_URL ({error}): is it running, "
                 "and is the URL right?").format(error=type(exc.orig).__name__)
    return None


def _language(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """`--lang` is read first (it is eager), so help and every message are in its language."""
    if value is not None and value not in LANGUAGES:
        from_env = ctx.get_parameter_source("lang") is click.core.ParameterSource.ENVIRONMENT
        raise click.BadParameter(_("'{value}' is not a language of messages; use en, ru or kk")
                                 .format(value=value),
                                 param_hint="IVR_MESSAGES" if from_env else "'--lang'")
    set_language(value)
    return value


@click.group(cls=Ivr,
             help="Voice IVR router for the 150 hotline. Each command has its own --help.")
@click.option("--lang", metavar="[en|ru|kk]", default=None, is_eager=True,
              envvar="IVR_MESSAGES", callback=_language,
              help="Language of messages and help: en, ru or kk (default: IVR_MESSAGES, else en).")
@click.pass_context
def main(ctx: click.Context, lang: str | None) -> None:
    ctx.ensure_object(dict)


for _module in (processes, flows, publish, call, roster, records, users):
    for _command in _module.COMMANDS:
        main.add_command(_command)

if __name__ == "__main__":
    main()
