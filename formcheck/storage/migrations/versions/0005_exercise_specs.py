"""exercise specs stored in the database, versioned (edited by therapists through the API)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "exercise_specs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("exercise_id", sa.String(length=80), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("spec", sa.JSON(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["author_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("exercise_id", "version", name="uq_exercise_specs_id_version"),
    )
    op.create_index(op.f("ix_exercise_specs_exercise_id"), "exercise_specs", ["exercise_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_exercise_specs_exercise_id"), table_name="exercise_specs")
    op.drop_table("exercise_specs")
