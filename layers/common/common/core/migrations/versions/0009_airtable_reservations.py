"""airtable reservations: a base's queue of requests reserved up front, first come first served

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 18:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "airtable_reservations",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("base_key", sa.String(length=32), nullable=False),
        sa.Column("token_key", sa.String(length=32), nullable=True),
        sa.Column("workspace_id", sa.String(length=32), nullable=True),
        sa.Column("background", sa.Boolean(), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.Column("requests", sa.Integer(), nullable=False),
        sa.Column("undo", sa.Integer(), nullable=False),
        sa.Column("used", sa.Integer(), nullable=False),
        sa.Column("touched_at", sa.Double(), nullable=False),
        sa.Column("in_flight", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_airtable_reservations_base_key", "airtable_reservations", ["base_key"])
    op.create_index("ix_airtable_reservations_token_key", "airtable_reservations", ["token_key"])


def downgrade() -> None:
    op.drop_table("airtable_reservations")
