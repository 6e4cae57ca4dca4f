"""What the record says about how it came to be: the fault that sent the call to the safe
path, if any, and what closed the record (Twilio's final status, or the sweep of calls whose
status never came). The old version table gives way to Alembic's own.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    with op.batch_alter_table("call_records") as table:
        table.add_column(sa.Column("fault", sa.String(16), nullable=True))
        table.add_column(sa.Column("closed_by", sa.String(8), nullable=False,
                                   server_default="status"))
    op.drop_table("ivr_schema_version")
