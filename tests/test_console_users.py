"""`ivr users`: the console's accounts from the command line. Every mistake is a sentence with
exit status 1 (2 for a mistake in the command line itself), never a traceback, and every
change is in the audit log as made by `user@host`."""

from __future__ import annotations

import sqlalchemy as sa
from click.testing import CliRunner, Result

from ivr.cli import main
from ivr.console import audit
from ivr.console.accounts import Accounts
from ivr.library.publish import who
from ivr.records.store import RecordStore
from tests.console_helpers import PASSWORD


def ivr(database_url: str, *args: str, password: str | None = None) -> Result:
    result = CliRunner().invoke(main, list(args), input=password,
                                env={"DATABASE_URL": database_url, "IVR_MESSAGES": "en"})
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def add(database_url: str, name: str, role: str, *more: str,
        password: str = PASSWORD) -> Result:
    return ivr(database_url, "users", "add", name, "--role", role, *more, "--password-stdin",
               password=password + "\n")


def test_the_first_supervisor_is_made_from_the_command_line(sqlite_url: str) -> None:
    result = add(sqlite_url, "Sabina", "supervisor", "--lang", "kk")
    assert result.exit_code == 0, result.output
    assert result.output == "added sabina as supervisor; they log in to the console with " \
                            "this name\n"
    account = Accounts(RecordStore(sqlite_url)).verify("sabina", PASSWORD)
    assert account is not None
    assert (account.role, account.language, account.operator) == ("supervisor", "kk", None)
    (entry,) = audit.recent(RecordStore(sqlite_url).engine)
    assert (entry.user, entry.action) == (who(), "account.add")


def test_the_password_is_asked_twice_without_showing_it(sqlite_url: str) -> None:
    result = ivr(sqlite_url, "users", "add", "olga", "--role", "consultant", "--operator",
                 "olga", password=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert "Password for olga: \nThe same password again: \n" in result.output
    assert PASSWORD not in result.output


def test_mistakes_are_sentences(sqlite_url: str) -> None:
    assert add(sqlite_url, "sabina", "supervisor").exit_code == 0
    cases = [
        (add(sqlite_url, "sabina", "viewer"), 1, "Error: there is already an account named "
                                                 "'sabina'"),
        (add(sqlite_url, "zhanna", "viewer", password="short"), 1,
         "Error: a password needs at least 12 characters"),
        (add(sqlite_url, "zhanna", "viewer", password="zhanna's own password"), 1,
         "Error: the password must not contain the account's name"),
        (add(sqlite_url, "zhanna", "consultant"), 1,
         "Error: a consultant needs their id in the duty roster (--operator)"),
        (add(sqlite_url, "zhanna", "boss"), 2,
         "Error: Invalid value for '--role': 'boss' is not one of 'supervisor', 'consultant', "
         "'viewer'."),
        (add(sqlite_url, "Жанна", "viewer"), 1, "Error: 'жанна' cannot be an account name"),
        (add(sqlite_url, "zhanna", "viewer", password=""), 1,
         "Error: no password on standard input"),
        (ivr(sqlite_url, "users", "remove", "nobody"), 1,
         "Error: there is no account named 'nobody'"),
        (ivr(sqlite_url, "users", "reset", "nobody", "--password-stdin", password="x" * 20),
         1, "Error: there is no account named 'nobody'"),
        (ivr(sqlite_url, "users", "remove", "sabina"), 1,
         "Error: 'sabina' is the last supervisor: add another supervisor first"),
    ]
    for result, code, sentence in cases:
        assert result.exit_code == code, result.output
        assert sentence in result.output
    assert [a.name for a in Accounts(RecordStore(sqlite_url)).all()] == ["sabina"]


def test_reset_remove_and_list(sqlite_url: str) -> None:
    add(sqlite_url, "sabina", "supervisor")
    add(sqlite_url, "olga", "consultant", "--operator", "olga_k", "--lang", "ru")
    add(sqlite_url, "viktor", "viewer", "--lang", "en")
    listed = ivr(sqlite_url, "users", "list")
    assert listed.exit_code == 0
    lines = listed.output.splitlines()
    assert lines[0].split() == ["name", "role", "roster", "id", "language", "changed"]
    assert lines[1].split()[:4] == ["olga", "consultant", "olga_k", "ru"]
    assert lines[2].split()[:4] == ["sabina", "supervisor", "-", "ru"]
    assert lines[-1] == "3 account(s)"
    assert "argon2" not in listed.output

    reset = ivr(sqlite_url, "users", "reset", "olga", "--password-stdin",
                password="another long password\n")
    assert reset.exit_code == 0
    assert reset.output == "new password set for olga; their open sessions have ended\n"
    accounts = Accounts(RecordStore(sqlite_url))
    assert accounts.verify("olga", "another long password") is not None
    assert accounts.verify("olga", PASSWORD) is None

    removed = ivr(sqlite_url, "users", "remove", "VIKTOR")
    assert removed.exit_code == 0
    assert removed.output == "removed viktor; their open sessions have ended\n"
    actions = [(e.user, e.action, e.detail.split(":")[0])
               for e in reversed(audit.recent(RecordStore(sqlite_url).engine))]
    assert actions[-2:] == [(who(), "account.reset", "olga"), (who(), "account.remove", "viktor")]


def test_an_unreachable_database_is_a_sentence() -> None:
    result = ivr("postgresql://nobody@127.0.0.1:1/none", "users", "list")
    assert result.exit_code == 1
    assert "cannot reach the records database at DATABASE_URL" in result.output


def test_the_commands_make_the_schema_first(sqlite_url: str) -> None:
    assert ivr(sqlite_url, "users", "list").output.endswith("0 account(s)\n")
    with RecordStore(sqlite_url).engine.connect() as db:
        assert sa.inspect(db).has_table("console_users")
