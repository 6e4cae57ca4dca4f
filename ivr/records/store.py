"""The record store: anonymised call records and operators' categories, in SQL.

SQLite by default (a file, nothing to set up), PostgreSQL when DATABASE_URL says so: the same
SQLAlchemy Core code for both, and every store is self-hostable, so records stay in Kazakhstan.
A record is keyed by the call's pseudonym; inserting one that is already there changes nothing,
so a replayed job never counts a call twice. The schema changes only through the Alembic
migrations in `ivr/records/migrations/` (`ivr db upgrade`; a worker runs them when it starts).
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.dialects import postgresql, sqlite

CATEGORIES = ("physical", "psychological", "sexual", "economic", "child", "suicide_risk",
              "legal", "shelter", "information", "silent")
GROUPINGS = ("language", "region", "outcome", "destination", "region_source", "flow", "silent",
             "emergency", "repeat_caller", "operator", "fault", "closed_by")
MIGRATIONS = Path(__file__).parent / "migrations"
FIRST_REVISION = "0001"  # the schema of the databases made before migrations

metadata = sa.MetaData()
call_records = sa.Table(
    "call_records", metadata,
    sa.Column("call_key", sa.String(64), primary_key=True),
    sa.Column("caller_key", sa.String(64), nullable=True, index=True),
    sa.Column("started_at", sa.DateTime, nullable=False, index=True),  # UTC, to the minute
    sa.Column("duration_seconds", sa.Integer),
    sa.Column("answer_seconds", sa.Integer),
    sa.Column("entry", sa.String(32), nullable=False),
    sa.Column("flow", sa.String(64), nullable=False),
    sa.Column("flow_version", sa.String(32), nullable=False),
    sa.Column("language", sa.String(8)),
    sa.Column("region", sa.String(32)),
    sa.Column("region_source", sa.String(16), nullable=False),
    sa.Column("menu_path", sa.Text, nullable=False),  # JSON list of step ids
    sa.Column("silent", sa.Boolean, nullable=False),
    sa.Column("emergency", sa.Boolean, nullable=False),
    sa.Column("repeat_caller", sa.Boolean, nullable=False),
    sa.Column("destination", sa.String(32)),
    sa.Column("operator", sa.String(64)),
    sa.Column("outcome", sa.String(40), nullable=False),
    sa.Column("fault", sa.String(16)),  # why the call took the safe path, if it did
    sa.Column("closed_by", sa.String(8), nullable=False, server_default="status"),
    sa.Column("line_seconds", sa.Integer),  # in a waiting line, if the caller joined one
    sa.Column("route_wait_seconds", sa.Integer),  # at the consultants' route, until answered
)
call_categories = sa.Table(
    "call_categories", metadata,
    sa.Column("call_key", sa.String(64),
              sa.ForeignKey("call_records.call_key", ondelete="CASCADE"), primary_key=True),
    sa.Column("category", sa.String(32), primary_key=True),
)
# The console's accounts and its audit log (`ivr.console`): staff, never callers.
console_users = sa.Table(
    "console_users", metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("role", sa.String(16), nullable=False),  # supervisor, consultant, viewer
    sa.Column("operator", sa.String(64), nullable=True),  # a consultant's roster id
    sa.Column("language", sa.String(2), nullable=False),  # kk, ru, en
    sa.Column("password_hash", sa.String(255), nullable=False),  # argon2id
    sa.Column("created_at", sa.DateTime, nullable=False),  # UTC
    sa.Column("changed_at", sa.DateTime, nullable=False),  # UTC
    sa.Column("session_epoch", sa.Integer, nullable=False, server_default="0"),
)
console_audit = sa.Table(
    "console_audit", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.DateTime, nullable=False, index=True),  # UTC
    sa.Column("user", sa.String(64), nullable=False),  # who: an account, or user@host (CLI)
    sa.Column("action", sa.String(64), nullable=False),
    sa.Column("detail", sa.Text, nullable=False, server_default=""),
)


class StoreError(Exception):
    pass


def engine_url(url: str) -> str:
    """Accept the usual postgres:// spellings and use the psycopg 3 driver for them."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    if url.startswith(("sqlite:///", "postgresql+psycopg://")):
        return url
    raise StoreError(f"DATABASE_URL must be sqlite:///path or postgresql://…, not "
                     f"'{url.split(':')[0]}:…'")


_ENGINES: dict[str, sa.Engine] = {}


def dispose_engines() -> None:
    """Close every pooled connection (a worker's shutdown; each test's end)."""
    for engine in _ENGINES.values():
        engine.dispose()
    _ENGINES.clear()


def _engine(url: str) -> sa.Engine:
    """One engine (and connection pool) per database URL and process."""
    if url in _ENGINES:
        return _ENGINES[url]
    engine = _ENGINES[url] = sa.create_engine(engine_url(url), pool_pre_ping=True)
    if engine.dialect.name == "sqlite":
        path = engine.url.database
        if path:
            import pathlib

            pathlib.Path(path).parent.mkdir(parents=True, exist_ok=True)

        @sa.event.listens_for(engine, "connect")
        def _foreign_keys(connection: Any, _: Any) -> None:
            connection.execute("PRAGMA foreign_keys=ON")
    return engine


def _alembic(connection: sa.Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def _insert(dialect: str, table: sa.Table) -> Any:
    return (postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table))


class RecordStore:
    def __init__(self, url: str) -> None:
        self.engine = _engine(url)

    @classmethod
    def from_url(cls, url: str) -> RecordStore:
        return cls(url)

    # --- schema ---------------------------------------------------------------------------

    def version(self) -> str | None:
        """The schema's revision (None for an empty database)."""
        with self.engine.connect() as db:
            return MigrationContext.configure(db).get_current_revision()

    def upgrade(self) -> str:
        """Create or migrate the schema to the newest revision; safe to run again, and from
        several processes at once (one migrates, the others find it done)."""
        head = ScriptDirectory.from_config(_alembic()).get_current_head() or ""
        for attempt in range(5):
            if attempt:
                time.sleep(0.2 * 2 ** attempt)  # let the other process finish its migration
            if self.version() == head:
                return head
            try:
                with self.engine.begin() as db:
                    inspector = sa.inspect(db)
                    config = _alembic(db)
                    if inspector.has_table("call_records") and \
                            not inspector.has_table("alembic_version"):
                        command.stamp(config, FIRST_REVISION)  # made before migrations
                    command.upgrade(config, "head")
            except sa.exc.DBAPIError:  # another process may be migrating at the same time
                if attempt == 4:
                    raise
        return self.version() or ""

    def ready(self) -> bool:
        """Whether the schema exists (a worker makes it before it stores the first record)."""
        with self.engine.connect() as db:
            return bool(sa.inspect(db).has_table("call_records"))

    # --- records ---------------------------------------------------------------------------

    def insert(self, record: Mapping[str, Any], repeat_window: dt.timedelta) -> bool:
        """Store a record once; return False when it was there already (a replayed job)."""
        row = dict(record)
        row["menu_path"] = json.dumps(list(row["menu_path"]))
        row["started_at"] = _moment(row["started_at"])
        with self.engine.begin() as db:
            row["repeat_caller"] = bool(row.get("caller_key")) and db.execute(
                sa.select(sa.literal(1)).where(
                    call_records.c.caller_key == row["caller_key"],
                    call_records.c.call_key != row["call_key"],
                    call_records.c.started_at >= row["started_at"] - repeat_window,
                    call_records.c.started_at <= row["started_at"],
                ).limit(1)
            ).first() is not None
            columns = {c.name for c in call_records.columns}
            statement = _insert(self.engine.dialect.name, call_records).values(
                {k: v for k, v in row.items() if k in columns}
            ).on_conflict_do_nothing(index_elements=["call_key"]).returning(call_records.c.call_key)
            return db.execute(statement).first() is not None

    AMENDED = ("outcome", "destination", "fault")  # what marks settled late can change

    def amend(self, record: Mapping[str, Any]) -> bool:
        """Bring a stored record's outcome, destination and fault up to date with `record`
        (rebuilt from the call's whole log); LookupError while it is not stored yet."""
        with self.engine.begin() as db:
            changed = db.execute(call_records.update().where(
                call_records.c.call_key == record["call_key"]
            ).values({name: record[name] for name in self.AMENDED})).rowcount
        if not changed:
            raise LookupError("the call is not stored yet")
        return True

    def all(self) -> list[dict[str, Any]]:
        with self.engine.connect() as db:
            rows = db.execute(sa.select(call_records).order_by(call_records.c.started_at))
            result = [dict(row._mapping) for row in rows]
        for row in result:
            row["menu_path"] = json.loads(row["menu_path"])
        return result

    def purge(self, before: dt.datetime) -> int:
        """Delete records that started before `before` (UTC); their categories go with them."""
        with self.engine.begin() as db:
            old = sa.select(call_records.c.call_key).where(call_records.c.started_at < before)
            db.execute(call_categories.delete().where(call_categories.c.call_key.in_(old)))
            return int(db.execute(call_records.delete().where(
                call_records.c.started_at < before)).rowcount)

    # --- categories ------------------------------------------------------------------------

    def find_call(self, operator: str, around: dt.datetime,
                  slack: dt.timedelta = dt.timedelta(hours=6)) -> str | None:
        """The latest call the operator took that started before `around` (UTC)."""
        with self.engine.connect() as db:
            return db.execute(
                sa.select(call_records.c.call_key).where(
                    call_records.c.operator == operator,
                    call_records.c.started_at <= around,
                    call_records.c.started_at >= around - slack,
                ).order_by(call_records.c.started_at.desc()).limit(1)
            ).scalar()

    def tag(self, call_key: str, categories: Iterable[str]) -> int:
        wanted = list(dict.fromkeys(categories))
        unknown = [c for c in wanted if c not in CATEGORIES]
        if unknown:
            raise StoreError(f"unknown categories: {', '.join(unknown)}; known: "
                             f"{', '.join(CATEGORIES)}")
        with self.engine.begin() as db:
            if db.execute(sa.select(call_records.c.call_key).where(
                    call_records.c.call_key == call_key)).first() is None:
                raise StoreError("no stored call has that key")
            added = 0
            for category in wanted:
                statement = _insert(self.engine.dialect.name, call_categories).values(
                    call_key=call_key, category=category
                ).on_conflict_do_nothing().returning(call_categories.c.category)
                added += db.execute(statement).first() is not None
            return added

    def set_categories(self, call_key: str, categories: Iterable[str],
                       within: sa.Connection | None = None) -> tuple[str, ...]:
        """Replace the call's categories with `categories` (none: clear them), all or
        nothing; return the ones it had. `within`: inside the caller's transaction (so that
        the change and its audit row are stored together), else in one of its own."""
        wanted = list(dict.fromkeys(categories))
        unknown = [c for c in wanted if c not in CATEGORIES]
        if unknown:
            raise StoreError(f"unknown categories: {', '.join(unknown)}; known: "
                             f"{', '.join(CATEGORIES)}")
        if within is None:
            with self.engine.begin() as db:
                return self.set_categories(call_key, wanted, db)
        db = within
        if db.execute(sa.select(call_records.c.call_key).where(
                call_records.c.call_key == call_key)).first() is None:
            raise StoreError("no stored call has that key")
        before = _in_order(db.execute(sa.select(call_categories.c.category).where(
            call_categories.c.call_key == call_key)).scalars())
        db.execute(call_categories.delete().where(call_categories.c.call_key == call_key))
        if wanted:
            db.execute(call_categories.insert(),
                       [{"call_key": call_key, "category": c} for c in wanted])
        return before

    # --- the console's calls page ----------------------------------------------------------

    RECENT = ("call_key", "started_at", "duration_seconds", "language", "region", "silent",
              "outcome", "operator")  # what the page needs of a record: nothing of the caller

    def recent_calls(self, since: dt.datetime, operator: str | None = None,
                     limit: int = 200) -> list[dict[str, Any]]:
        """Calls that started at `since` (UTC) or later, newest first, at most `limit`, with
        their categories (`categories`, in the order of CATEGORIES); only `operator`'s when
        given."""
        query = sa.select(*(call_records.c[name] for name in self.RECENT)).where(
            call_records.c.started_at >= since)
        if operator is not None:
            query = query.where(call_records.c.operator == operator)
        query = query.order_by(call_records.c.started_at.desc(),
                               call_records.c.call_key).limit(limit)
        with self.engine.connect() as db:
            rows = [dict(row._mapping) for row in db.execute(query)]
            tagged: dict[str, list[str]] = {}
            keys = [row["call_key"] for row in rows]
            if keys:
                for key, category in db.execute(sa.select(
                        call_categories.c.call_key, call_categories.c.category).where(
                        call_categories.c.call_key.in_(keys))):
                    tagged.setdefault(key, []).append(category)
        for row in rows:
            row["categories"] = _in_order(tagged.get(row["call_key"], []))
        return rows

    def calls_started_since(self, since: dt.datetime
                            ) -> list[tuple[str, dt.datetime, str | None]]:
        """(key, start, operator) of every call that started at `since` (UTC) or later."""
        with self.engine.connect() as db:
            rows = db.execute(sa.select(call_records.c.call_key, call_records.c.started_at,
                                        call_records.c.operator).where(
                call_records.c.started_at >= since))
            return [(str(row[0]), row[1], row[2]) for row in rows]

    def call_operators(self, since: dt.datetime) -> list[str]:
        """The roster ids of the operators who took a call since `since` (UTC), sorted."""
        with self.engine.connect() as db:
            return sorted(str(name) for name in db.execute(
                sa.select(call_records.c.operator).distinct().where(
                    call_records.c.started_at >= since,
                    call_records.c.operator.is_not(None))).scalars())

    # --- reports ---------------------------------------------------------------------------

    def counts(self, start: dt.datetime, end: dt.datetime,
               by: Sequence[str]) -> dict[tuple[Any, ...], int]:
        columns = [call_records.c[name] for name in by]
        with self.engine.connect() as db:
            rows = db.execute(
                sa.select(*columns, sa.func.count()).where(
                    call_records.c.started_at >= start, call_records.c.started_at < end
                ).group_by(*columns)
            )
            return {tuple(row[:-1]): int(row[-1]) for row in rows}

    def route_waits(self, start: dt.datetime, end: dt.datetime
                    ) -> list[tuple[dt.datetime, str | None, str, int]]:
        """(start, language, outcome, seconds at the consultants' route) of every call of the
        period that reached a consultant route."""
        with self.engine.connect() as db:
            rows = db.execute(
                sa.select(call_records.c.started_at, call_records.c.language,
                          call_records.c.outcome, call_records.c.route_wait_seconds).where(
                    call_records.c.started_at >= start, call_records.c.started_at < end,
                    call_records.c.route_wait_seconds.is_not(None)))
            return [(row[0], row[1], str(row[2]), int(row[3])) for row in rows]

    def categorised_calls(self, start: dt.datetime, end: dt.datetime) -> int:
        with self.engine.connect() as db:
            return int(db.execute(
                sa.select(sa.func.count(sa.distinct(call_categories.c.call_key)))
                .join(call_records, call_records.c.call_key == call_categories.c.call_key)
                .where(call_records.c.started_at >= start, call_records.c.started_at < end)
            ).scalar() or 0)

    def category_counts(self, start: dt.datetime, end: dt.datetime) -> dict[str, int]:
        """How many calls in the period carry each category (a call may carry several)."""
        with self.engine.connect() as db:
            rows = db.execute(
                sa.select(call_categories.c.category,
                          sa.func.count(sa.distinct(call_categories.c.call_key)))
                .join(call_records, call_records.c.call_key == call_categories.c.call_key)
                .where(call_records.c.started_at >= start, call_records.c.started_at < end)
                .group_by(call_categories.c.category)
            )
            return {str(row[0]): int(row[1]) for row in rows}


def _moment(value: Any) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None)
    return dt.datetime.strptime(str(value), "%Y-%m-%dT%H:%M:%SZ")


def _in_order(categories: Iterable[str]) -> tuple[str, ...]:
    """Categories in the order of CATEGORIES (any unknown to it last, sorted)."""
    found = set(categories)
    return (*(c for c in CATEGORIES if c in found), *sorted(found - set(CATEGORIES)))
