"""How long a caller waited: in a waiting line, and at the consultants' route until someone
answered or the caller left (for the contact-centre figures of `ivr report --service`).

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    with op.batch_alter_table("call_records") as table:
        table.add_column(sa.Column("line_seconds", sa.Integer, nullable=True))
        table.add_column(sa.Column("route_wait_seconds", sa.Integer, nullable=True))
