"""Alembic's entry point for the record store: migrations run on the connection the store gives
(`RecordStore.upgrade`), on SQLite and PostgreSQL alike."""

from __future__ import annotations

from alembic import context

connection = context.config.attributes["connection"]
context.configure(connection=connection, render_as_batch=connection.dialect.name == "sqlite")
with context.begin_transaction():
    context.run_migrations()
