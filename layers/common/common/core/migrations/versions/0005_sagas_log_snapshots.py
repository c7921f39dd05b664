"""sagas, their append-only log, Airtable snapshots

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 18:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "sagas",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("workspace_id", sa.String(32),
                  sa.ForeignKey("workspaces.id", ondelete="CASCADE"), nullable=False),
        sa.Column("created_by", sa.String(32), sa.ForeignKey("users.id", ondelete="SET NULL")),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("input", sa.JSON(), nullable=False),
        sa.Column("output", sa.JSON()),
        sa.Column("error", sa.JSON()),
        sa.Column("execution_arn", sa.String(2048)),
        sa.Column("compensation_arn", sa.String(2048)),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("finished_at", TS),
    )
    op.create_index("ix_sagas_workspace_created", "sagas", ["workspace_id", "created_at"])
    op.create_table(
        "saga_log",
        sa.Column("seq", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("saga_id", sa.String(32),
                  sa.ForeignKey("sagas.id", ondelete="CASCADE"), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(48), nullable=False),
        sa.Column("step", sa.Integer()),
        sa.Column("chunk", sa.Integer()),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.UniqueConstraint("saga_id", "key", name="uq_saga_log_saga_key"),
    )
    op.create_table(
        "airtable_snapshots",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("workspace_id", sa.String(32),
                  sa.ForeignKey("workspaces.id", ondelete="CASCADE"), nullable=False),
        sa.Column("saga_id", sa.String(32), nullable=False),
        sa.Column("base_id", sa.String(32), nullable=False),
        sa.Column("table_id", sa.String(32), nullable=False),
        sa.Column("table_name", sa.String(255), nullable=False),
        sa.Column("sql_table", sa.String(63), nullable=False, unique=True),
        sa.Column("records", sa.Integer(), nullable=False),
        sa.Column("complete", sa.Boolean(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_index("ix_airtable_snapshots_workspace_id", "airtable_snapshots", ["workspace_id"])
    op.create_index("ix_airtable_snapshots_saga_id", "airtable_snapshots", ["saga_id"])


def downgrade() -> None:
    op.drop_table("airtable_snapshots")
    op.drop_table("saga_log")
    op.drop_table("sagas")
