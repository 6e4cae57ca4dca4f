"""Console accounts: who may log in, in which role, in the records database (`console_users`).

Passwords are kept only as argon2id hashes (argon2-cffi's parameters, RFC 9106's low-memory
profile); a hash made with older parameters is replaced at the owner's next login. Checking a
name that has no account costs the same as checking one that has (a dummy hash is checked), so
the time a login takes does not tell which names exist. Every change is written to the audit
log in the same transaction as the change itself: there is no change without its row.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from ivr.console import audit
from ivr.console.roles import DEFAULT_LANGUAGE, LANGUAGES, ROLES
from ivr.i18n import N_
from ivr.ids import id_problem
from ivr.records.store import RecordStore, console_users

MIN_PASSWORD = 12
MAX_PASSWORD = 1024  # hashing a megabyte on every try would be a way to tire the server
NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")


class AccountError(Exception):
    """Input an account cannot take. `template` is an English sentence marked for both
    catalogues (`ivr` for the command line, `console` for the pages), so each front end says it
    in its own language: `exc.say(gettext)`."""

    def __init__(self, template: str, **values: object) -> None:
        self.template = template
        self.values = values
        super().__init__(template.format(**values))

    def say(self, translate: Callable[[str], str]) -> str:
        return translate(self.template).format(**self.values)


class WrongPassword(AccountError):
    """The current password given to change it is not the account's."""

    def __init__(self) -> None:
        super().__init__(N_("the current password is not right"))


@dataclass(frozen=True)
class Account:
    """One person's account, without its password hash (which never leaves this module)."""

    name: str
    role: str
    operator: str | None  # a consultant's id in the duty roster
    language: str
    created_at: dt.datetime  # UTC
    changed_at: dt.datetime  # UTC
    session_epoch: int  # raised to end every session of the account


def normal_name(name: str) -> str:
    """How a name is compared: logins are not case-sensitive."""
    return name.strip().lower()


def password_problem(name: str, password: str) -> AccountError | None:
    """Why a password may not be used, or None."""
    if len(password) < MIN_PASSWORD:
        return AccountError(N_("a password needs at least {count} characters"),
                            count=MIN_PASSWORD)
    if len(password) > MAX_PASSWORD:
        return AccountError(N_("a password may have at most {count} characters"),
                            count=MAX_PASSWORD)
    if normal_name(name) in normal_name(password):
        return AccountError(N_("the password must not contain the account's name"))
    return None


def _check_new(name: str, role: str, operator: str | None, language: str) -> None:
    if not NAME.match(name):
        raise AccountError(N_("'{name}' cannot be an account name: use 2 to 64 small Latin "
                              "letters, digits, '.', '_' and '-', starting with a letter or a "
                              "digit (for example 'aigerim' or 'olga.s')"), name=name)
    if role not in ROLES:
        raise AccountError(N_("'{role}' is not a role; choose supervisor, consultant or viewer"),
                           role=role)
    if language not in LANGUAGES:
        raise AccountError(N_("'{language}' is not a language of the console; choose kk, ru or "
                              "en"), language=language)
    if role == "consultant" and not operator:
        raise AccountError(N_("a consultant needs their id in the duty roster (--operator), so "
                              "the console can show them their own calls and duty"))
    if operator and id_problem(operator):
        raise AccountError(N_("'{operator}' cannot be a roster id: use Latin letters, digits, "
                              "'_' and '-', as in flows/roster.yaml"), operator=operator)


def _account(row: sa.RowMapping) -> Account:
    return Account(name=row["name"], role=row["role"], operator=row["operator"],
                   language=row["language"], created_at=row["created_at"],
                   changed_at=row["changed_at"], session_epoch=int(row["session_epoch"]))


class Accounts:
    """The accounts of one records database. `by` on each change names who made it: an
    account name, or `user@host` for the `ivr users` commands."""

    def __init__(self, store: RecordStore, clock: Callable[[], float] = time.time,
                 hasher: PasswordHasher | None = None) -> None:
        self.engine = store.engine
        self.clock = clock
        self.hasher = hasher or PasswordHasher()

    @cached_property
    def _dummy_hash(self) -> str:
        return self.hasher.hash(secrets.token_hex(16))

    def now(self) -> dt.datetime:
        """The time of a change, as the database keeps it (UTC, without a zone)."""
        return dt.datetime.fromtimestamp(self.clock(), dt.UTC).replace(tzinfo=None)

    # --- reading ---------------------------------------------------------------------------

    def get(self, name: str) -> Account | None:
        with self.engine.connect() as db:
            row = db.execute(sa.select(console_users).where(
                console_users.c.name == normal_name(name))).mappings().first()
        return _account(row) if row else None

    def all(self) -> list[Account]:
        with self.engine.connect() as db:
            rows = db.execute(sa.select(console_users).order_by(console_users.c.name)).mappings()
            return [_account(row) for row in rows]

    def supervisors(self) -> int:
        with self.engine.connect() as db:
            return int(db.execute(sa.select(sa.func.count()).where(
                console_users.c.role == "supervisor")).scalar() or 0)

    # --- logging in ------------------------------------------------------------------------

    def verify(self, name: str, password: str) -> Account | None:
        """The account when the password is its own, else None (in the same time whether the
        name exists or not)."""
        name = normal_name(name)
        with self.engine.connect() as db:
            row = db.execute(sa.select(console_users).where(
                console_users.c.name == name)).mappings().first()
        stored = row["password_hash"] if row else self._dummy_hash
        try:
            self.hasher.verify(stored, password[:MAX_PASSWORD])
        except (VerificationError, InvalidHashError):
            return None
        if row is None:
            return None
        if self.hasher.check_needs_rehash(stored):
            with self.engine.begin() as db:
                db.execute(console_users.update().where(console_users.c.name == name).values(
                    password_hash=self.hasher.hash(password)))
        return _account(row)

    # --- changes ---------------------------------------------------------------------------

    def add(self, name: str, role: str, password: str, by: str, operator: str | None = None,
            language: str = DEFAULT_LANGUAGE) -> Account:
        name = normal_name(name)
        operator = operator or None
        _check_new(name, role, operator, language)
        if problem := password_problem(name, password):
            raise problem
        now = self.now()
        with self.engine.begin() as db:
            if db.execute(sa.select(console_users.c.name).where(
                    console_users.c.name == name)).first() is not None:
                raise AccountError(N_("there is already an account named '{name}'"), name=name)
            # A random first epoch: a name removed and added again does not bring back the
            # sessions of the account that had it before.
            db.execute(console_users.insert().values(
                name=name, role=role, operator=operator, language=language,
                password_hash=self.hasher.hash(password), created_at=now, changed_at=now,
                session_epoch=secrets.randbelow(2**30)))
            audit.write(db, now, by, audit.ADD, f"{name}: role {role}, operator "
                        f"{operator or '-'}, language {language}")
        return self._existing(name)

    def reset(self, name: str, password: str, by: str) -> Account:
        """A new password, set by someone else; every session of the account ends."""
        account = self._existing(name)
        if problem := password_problem(account.name, password):
            raise problem
        self._set_password(account, password, by, audit.RESET)
        return self._existing(name)

    def change_password(self, name: str, current: str, new: str) -> Account:
        """The owner's own change; their other sessions end (the caller keeps the one in use by
        taking the new epoch)."""
        account = self._existing(name)
        if self.verify(account.name, current) is None:
            raise WrongPassword
        if problem := password_problem(account.name, new):
            raise problem
        self._set_password(account, new, account.name, audit.RENEWED)
        return self._existing(name)

    def set_language(self, name: str, language: str) -> Account:
        account = self._existing(name)
        if language not in LANGUAGES:
            raise AccountError(N_("'{language}' is not a language of the console; choose kk, "
                                  "ru or en"), language=language)
        now = self.now()
        with self.engine.begin() as db:
            db.execute(console_users.update().where(console_users.c.name == account.name)
                       .values(language=language, changed_at=now))
            audit.write(db, now, account.name, audit.LANGUAGE, f"{account.name}: {language}")
        return self._existing(name)

    def remove(self, name: str, by: str) -> None:
        account = self._existing(name)
        if account.role == "supervisor" and self.supervisors() == 1:
            raise AccountError(N_("'{name}' is the last supervisor: add another supervisor "
                                  "first, or no one could manage the accounts"), name=account.name)
        now = self.now()
        with self.engine.begin() as db:
            db.execute(console_users.delete().where(console_users.c.name == account.name))
            audit.write(db, now, by, audit.REMOVE, f"{account.name}: role {account.role}")

    def _set_password(self, account: Account, password: str, by: str, action: str) -> None:
        now = self.now()
        with self.engine.begin() as db:
            db.execute(console_users.update().where(console_users.c.name == account.name).values(
                password_hash=self.hasher.hash(password), changed_at=now,
                session_epoch=console_users.c.session_epoch + 1))
            audit.write(db, now, by, action, account.name)

    def _existing(self, name: str) -> Account:
        account = self.get(name)
        if account is None:
            raise AccountError(N_("there is no account named '{name}'"), name=normal_name(name))
        return account
