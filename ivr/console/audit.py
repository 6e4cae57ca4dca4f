"""The console's audit log (`console_audit`): who changed what, and when.

A row names the person (an account, or `user@host` for the `ivr users` commands), an action
from the list below, and a short detail: the account concerned and the values it now has. It
never holds a password, and never a caller's data: the console has none to give. Changes write
their row in their own transaction (`write`), so a change and its row are stored together.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa

from ivr.records.store import console_audit

ADD = "account.add"
RESET = "account.reset"  # a new password set by a supervisor or technician
REMOVE = "account.remove"
RENEWED = "account.password"  # the owner renewed their own password
LANGUAGE = "account.language"
LOGIN = "login"
LOGOUT = "logout"
MAX_DETAIL = 2000


@dataclass(frozen=True)
class Entry:
    at: dt.datetime  # UTC
    user: str
    action: str
    detail: str


def write(db: sa.Connection, at: dt.datetime, user: str, action: str, detail: str = "") -> None:
    """Add a row inside the caller's transaction."""
    db.execute(console_audit.insert().values(at=at, user=user[:64], action=action,
                                             detail=detail[:MAX_DETAIL]))


def log(engine: sa.Engine, at: dt.datetime, user: str, action: str, detail: str = "") -> None:
    """Add a row on its own (a login, a logout)."""
    with engine.begin() as db:
        write(db, at, user, action, detail)


def recent(engine: sa.Engine, limit: int = 100) -> list[Entry]:
    """The newest rows first."""
    with engine.connect() as db:
        rows = db.execute(sa.select(console_audit).order_by(console_audit.c.id.desc())
                          .limit(limit)).mappings()
        return [Entry(row["at"], row["user"], row["action"], row["detail"]) for row in rows]
