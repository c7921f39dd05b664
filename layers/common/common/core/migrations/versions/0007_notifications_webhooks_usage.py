"""notification preferences, webhooks with deliveries and attempts; analytics and usage

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26 18:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "notification_preferences",
        sa.Column("user_id", sa.String(32), sa.ForeignKey("users.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_table(
        "webhooks",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("workspace_id", sa.String(32),
                  sa.ForeignKey("workspaces.id", ondelete="CASCADE"), nullable=False),
        sa.Column("created_by", sa.String(32), sa.ForeignKey("users.id", ondelete="SET NULL")),
        sa.Column("url", sa.String(2048), nullable=False),
        sa.Column("events", sa.JSON(), nullable=False),
        sa.Column("secret_ciphertext", sa.Text(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_index("ix_webhooks_workspace_id", "webhooks", ["workspace_id"])
    op.create_index("ix_webhooks_created_by", "webhooks", ["created_by"])
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("webhook_id", sa.String(32),
                  sa.ForeignKey("webhooks.id", ondelete="CASCADE"), nullable=False),
        sa.Column("event_id", sa.String(100), nullable=False),
        sa.Column("event_type", sa.String(100), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_status_code", sa.Integer()),
        sa.Column("last_error", sa.Text()),
        sa.Column("claimed_until", TS),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("delivered_at", TS),
        sa.UniqueConstraint("webhook_id", "event_id"),
    )
    op.create_index("ix_webhook_deliveries_webhook_created", "webhook_deliveries",
                    ["webhook_id", "created_at"])
    op.create_table(
        "webhook_attempts",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("delivery_id", sa.String(32),
                  sa.ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("attempted_at", TS, nullable=False),
        sa.Column("status_code", sa.Integer()),
        sa.Column("error", sa.Text()),
        sa.Column("duration_ms", sa.Float(), nullable=False),
    )
    op.create_index("ix_webhook_attempts_delivery_id", "webhook_attempts", ["delivery_id"])
    op.create_table(
        "analytics_events",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.Column("event_type", sa.String(100), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("occurred_at", TS, nullable=False),
    )
    op.create_index("ix_analytics_events_user_occurred", "analytics_events",
                    ["user_id", "occurred_at"])
    op.create_table(
        "usage_days",
        sa.Column("user_id", sa.String(32), primary_key=True),
        sa.Column("day", sa.String(10), primary_key=True),
        sa.Column("api_calls", sa.Integer(), nullable=False),
        sa.Column("airtable_requests", sa.Integer(), nullable=False),
        sa.Column("errors", sa.Integer(), nullable=False),
    )
    op.create_table(
        "service_latency",
        sa.Column("service", sa.String(32), primary_key=True),
        sa.Column("hour", sa.String(13), primary_key=True),
        sa.Column("bucket", sa.Integer(), primary_key=True),
        sa.Column("requests", sa.Integer(), nullable=False),
        sa.Column("client_errors", sa.Integer(), nullable=False),
        sa.Column("server_errors", sa.Integer(), nullable=False),
    )
    op.create_table(
        "usage_batches",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("processed_at", TS, nullable=False),
    )
    op.create_index("ix_audit_log_actor_occurred", "audit_log", ["actor_id", "occurred_at"])


def downgrade() -> None:
    op.drop_index("ix_audit_log_actor_occurred", "audit_log")
    for table in ("usage_batches", "service_latency", "usage_days", "analytics_events",
                  "webhook_attempts", "webhook_deliveries", "webhooks",
                  "notification_preferences"):
        op.drop_table(table)
