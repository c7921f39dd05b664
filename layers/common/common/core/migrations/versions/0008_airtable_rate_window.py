"""airtable rate window: slots per key answered-at, replacing the next-slot spacing

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26 21:10:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "airtable_rate_window",
        sa.Column("rate_key", sa.String(length=32), nullable=False),
        sa.Column("slot", sa.Integer(), nullable=False),
        sa.Column("sent_at", sa.Double(), nullable=False),
        sa.Column("answered_at", sa.Double(), nullable=True),
        sa.PrimaryKeyConstraint("rate_key", "slot"),
    )
    # The old table held only where each base's next slot was: nothing to carry over.
    op.drop_table("airtable_rate_slots")


def downgrade() -> None:
    op.create_table(
        "airtable_rate_slots",
        sa.Column("base_id", sa.String(length=32), nullable=False),
        sa.Column("next_at", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("base_id"),
    )
    op.drop_table("airtable_rate_window")
