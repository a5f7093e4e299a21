"""level change decision (a declined level-up is recorded)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("level_changes", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("decision", sa.String(length=16), server_default="accepted", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("level_changes", schema=None) as batch_op:
        batch_op.drop_column("decision")
