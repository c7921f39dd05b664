"""workspaces, members, invitations, email tokens; connections belong to workspaces

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 17:55:00

Existing users get a personal workspace (owner), and each existing connection moves into its
creator's personal workspace. Stored emails are normalised to lower case.
"""

import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "workspaces",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("personal_of", sa.String(32),
                  sa.ForeignKey("users.id", ondelete="CASCADE"), unique=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_table(
        "workspace_members",
        sa.Column("workspace_id", sa.String(32),
                  sa.ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("user_id", sa.String(32),
                  sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_index("ix_workspace_members_user_id", "workspace_members", ["user_id"])
    op.create_table(
        "workspace_invitations",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("workspace_id", sa.String(32),
                  sa.ForeignKey("workspaces.id", ondelete="CASCADE"), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("invited_by", sa.String(32), sa.ForeignKey("users.id", ondelete="SET NULL")),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.Column("accepted_at", TS),
        sa.Column("accepted_by", sa.String(32)),
        sa.Column("revoked_at", TS),
    )
    op.create_index("ix_workspace_invitations_workspace_id", "workspace_invitations",
                    ["workspace_id"])
    op.create_index("ix_workspace_invitations_email", "workspace_invitations", ["email"])
    op.create_table(
        "email_tokens",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("purpose", sa.String(32), nullable=False),
        sa.Column("user_id", sa.String(32),
                  sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.Column("used_at", TS),
    )
    op.create_index("ix_email_tokens_user_id", "email_tokens", ["user_id"])
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("email_verified_at", TS))
    with op.batch_alter_table("airtable_connections") as batch:
        batch.add_column(sa.Column("workspace_id", sa.String(32)))
        batch.add_column(sa.Column("uses_default", sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
        batch.alter_column("token_ciphertext", existing_type=sa.Text(), nullable=True)

    bind = op.get_bind()
    bind.execute(sa.text("UPDATE users SET email = lower(email)"))
    now = datetime.now(UTC)
    for (user_id,) in bind.execute(sa.text("SELECT id FROM users")).fetchall():
        workspace_id = uuid.uuid4().hex
        bind.execute(sa.text(
            "INSERT INTO workspaces (id, name, personal_of, created_at, updated_at) "
            "VALUES (:id, 'Personal', :user, :now, :now)"),
            {"id": workspace_id, "user": user_id, "now": now})
        bind.execute(sa.text(
            "INSERT INTO workspace_members (workspace_id, user_id, role, created_at) "
            "VALUES (:ws, :user, 'owner', :now)"),
            {"ws": workspace_id, "user": user_id, "now": now})
    bind.execute(sa.text(
        "UPDATE airtable_connections SET workspace_id = "
        "(SELECT id FROM workspaces WHERE personal_of = airtable_connections.user_id)"))

    with op.batch_alter_table("airtable_connections") as batch:
        batch.alter_column("workspace_id", existing_type=sa.String(32), nullable=False)
        batch.create_foreign_key("fk_airtable_connections_workspace_id", "workspaces",
                                 ["workspace_id"], ["id"], ondelete="CASCADE")
    op.create_index("ix_airtable_connections_workspace_id", "airtable_connections",
                    ["workspace_id"])


def downgrade() -> None:
    op.drop_index("ix_airtable_connections_workspace_id", "airtable_connections")
    bind = op.get_bind()
    bind.execute(sa.text("DELETE FROM airtable_connections WHERE token_ciphertext IS NULL"))
    with op.batch_alter_table("airtable_connections") as batch:
        batch.drop_constraint("fk_airtable_connections_workspace_id", type_="foreignkey")
        batch.drop_column("workspace_id")
        batch.drop_column("uses_default")
        batch.alter_column("token_ciphertext", existing_type=sa.Text(), nullable=False)
    with op.batch_alter_table("users") as batch:
        batch.drop_column("email_verified_at")
    op.drop_table("email_tokens")
    op.drop_table("workspace_invitations")
    op.drop_table("workspace_members")
    op.drop_table("workspaces")
