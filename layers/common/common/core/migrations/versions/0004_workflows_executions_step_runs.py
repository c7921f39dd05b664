"""workflows, their executions and per-step runs

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 17:50:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "workflows",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("workspace_id", sa.String(32),
                  sa.ForeignKey("workspaces.id", ondelete="CASCADE"), nullable=False),
        sa.Column("created_by", sa.String(32), sa.ForeignKey("users.id", ondelete="SET NULL")),
        sa.Column("run_as", sa.String(32), sa.ForeignKey("users.id", ondelete="SET NULL")),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("trigger", sa.JSON(), nullable=False),
        sa.Column("steps", sa.JSON(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("secret_ciphertext", sa.Text()),
        sa.Column("next_run_at", TS),
        sa.Column("watch", sa.JSON()),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_index("ix_workflows_workspace_id", "workflows", ["workspace_id"])
    op.create_index("ix_workflows_next_run_at", "workflows", ["next_run_at"])
    op.create_table(
        "workflow_executions",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("workflow_id", sa.String(32),
                  sa.ForeignKey("workflows.id", ondelete="CASCADE"), nullable=False),
        sa.Column("workspace_id", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("trigger_type", sa.String(32), nullable=False),
        sa.Column("trigger_key", sa.String(200)),
        sa.Column("started_by", sa.String(32)),
        sa.Column("run_as", sa.String(32)),
        sa.Column("input", sa.JSON(), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("state_machine_execution", sa.String(2048)),
        sa.Column("error", sa.JSON()),
        sa.Column("started_at", TS, nullable=False),
        sa.Column("finished_at", TS),
        sa.UniqueConstraint("workflow_id", "trigger_key",
                            name="uq_workflow_executions_trigger_key"),
    )
    op.create_index("ix_workflow_executions_workflow_started", "workflow_executions",
                    ["workflow_id", "started_at"])
    op.create_index("ix_workflow_executions_workspace_id", "workflow_executions",
                    ["workspace_id"])
    op.create_table(
        "workflow_step_runs",
        sa.Column("execution_id", sa.String(32),
                  sa.ForeignKey("workflow_executions.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("position", sa.Integer(), primary_key=True),
        sa.Column("step_id", sa.String(64), nullable=False),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("input", sa.JSON()),
        sa.Column("output", sa.JSON()),
        sa.Column("output_bytes", sa.Integer(), nullable=False),
        sa.Column("error", sa.JSON()),
        sa.Column("started_at", TS, nullable=False),
        sa.Column("finished_at", TS),
    )


def downgrade() -> None:
    op.drop_table("workflow_step_runs")
    op.drop_index("ix_workflow_executions_workspace_id", "workflow_executions")
    op.drop_index("ix_workflow_executions_workflow_started", "workflow_executions")
    op.drop_table("workflow_executions")
    op.drop_index("ix_workflows_next_run_at", "workflows")
    op.drop_index("ix_workflows_workspace_id", "workflows")
    op.drop_table("workflows")
