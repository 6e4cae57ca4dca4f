"""The record store as it was before migrations: call records, their categories, and the
version table the store used to keep.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None


def upgrade() -> None:
    op.create_table(
        "call_records",
        sa.Column("call_key", sa.String(64), primary_key=True),
        sa.Column("caller_key", sa.String(64), nullable=True, index=True),
        sa.Column("started_at", sa.DateTime, nullable=False, index=True),
        sa.Column("duration_seconds", sa.Integer),
        sa.Column("answer_seconds", sa.Integer),
        sa.Column("entry", sa.String(32), nullable=False),
        sa.Column("flow", sa.String(64), nullable=False),
        sa.Column("flow_version", sa.String(32), nullable=False),
        sa.Column("language", sa.String(8)),
        sa.Column("region", sa.String(32)),
        sa.Column("region_source", sa.String(16), nullable=False),
        sa.Column("menu_path", sa.Text, nullable=False),
        sa.Column("silent", sa.Boolean, nullable=False),
        sa.Column("emergency", sa.Boolean, nullable=False),
        sa.Column("repeat_caller", sa.Boolean, nullable=False),
        sa.Column("destination", sa.String(32)),
        sa.Column("operator", sa.String(64)),
        sa.Column("outcome", sa.String(40), nullable=False),
    )
    op.create_table(
        "call_categories",
        sa.Column("call_key", sa.String(64),
                  sa.ForeignKey("call_records.call_key", ondelete="CASCADE"), primary_key=True),
        sa.Column("category", sa.String(32), primary_key=True),
    )
    op.create_table("ivr_schema_version", sa.Column("version", sa.Integer, nullable=False))
    op.execute("INSERT INTO ivr_schema_version (version) VALUES (1)")
