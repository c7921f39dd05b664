"""files in workspaces with their checked format; imports with chunk progress; exports

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26 18:10:00

Existing files move into their owner's personal workspace.
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("files") as batch:
        batch.add_column(sa.Column("workspace_id", sa.String(32)))
        batch.add_column(sa.Column("format", sa.String(8)))
        batch.add_column(sa.Column("declared_size", sa.Integer()))
        batch.add_column(sa.Column("error", sa.Text()))
    op.get_bind().execute(sa.text(
        "UPDATE files SET workspace_id = "
        "(SELECT id FROM workspaces WHERE personal_of = files.owner_id)"))
    with op.batch_alter_table("files") as batch:
        batch.create_foreign_key("fk_files_workspace_id", "workspaces", ["workspace_id"], ["id"],
                                 ondelete="CASCADE")
    op.create_index("ix_files_workspace_id", "files", ["workspace_id"])

    op.create_table(
        "file_imports",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("workspace_id", sa.String(32),
                  sa.ForeignKey("workspaces.id", ondelete="CASCADE"), nullable=False),
        sa.Column("file_id", sa.String(32), sa.ForeignKey("files.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.Column("connection_id", sa.String(64), nullable=False),
        sa.Column("base_id", sa.String(32), nullable=False),
        sa.Column("table", sa.String(255), nullable=False),
        sa.Column("sheet", sa.String(255)),
        sa.Column("mapping", sa.JSON()),
        sa.Column("typecast", sa.Boolean(), nullable=False),
        sa.Column("merge_on", sa.JSON()),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("rows_total", sa.Integer()),
        sa.Column("rows_done", sa.Integer(), nullable=False),
        sa.Column("created", sa.Integer(), nullable=False),
        sa.Column("updated", sa.Integer(), nullable=False),
        sa.Column("failed_count", sa.Integer(), nullable=False),
        sa.Column("chunk_size", sa.Integer(), nullable=False),
        sa.Column("chunk_offsets", sa.JSON()),
        sa.Column("staging_key", sa.String(1024)),
        sa.Column("error", sa.Text()),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("finished_at", TS),
    )
    op.create_index("ix_file_imports_workspace_id", "file_imports", ["workspace_id"])
    op.create_index("ix_file_imports_file_id", "file_imports", ["file_id"])
    op.create_table(
        "file_import_chunks",
        sa.Column("import_id", sa.String(32),
                  sa.ForeignKey("file_imports.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("chunk", sa.Integer(), primary_key=True),
        sa.Column("rows_done", sa.Integer(), nullable=False),
        sa.Column("created_ids", sa.JSON(), nullable=False),
        sa.Column("pending", sa.JSON()),
        sa.Column("done", sa.Boolean(), nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_table(
        "file_import_failures",
        sa.Column("import_id", sa.String(32),
                  sa.ForeignKey("file_imports.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("row", sa.Integer(), primary_key=True),
        sa.Column("error", sa.Text(), nullable=False),
    )
    op.create_table(
        "file_exports",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("workspace_id", sa.String(32),
                  sa.ForeignKey("workspaces.id", ondelete="CASCADE"), nullable=False),
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.Column("connection_id", sa.String(64), nullable=False),
        sa.Column("base_id", sa.String(32), nullable=False),
        sa.Column("table", sa.String(255), nullable=False),
        sa.Column("view", sa.String(255)),
        sa.Column("fields", sa.JSON()),
        sa.Column("format", sa.String(8), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("file_id", sa.String(32)),
        sa.Column("error", sa.Text()),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("finished_at", TS),
    )
    op.create_index("ix_file_exports_workspace_id", "file_exports", ["workspace_id"])


def downgrade() -> None:
    op.drop_table("file_exports")
    op.drop_table("file_import_failures")
    op.drop_table("file_import_chunks")
    op.drop_table("file_imports")
    op.drop_index("ix_files_workspace_id", "files")
    with op.batch_alter_table("files") as batch:
        batch.drop_constraint("fk_files_workspace_id", type_="foreignkey")
        batch.drop_column("error")
        batch.drop_column("declared_size")
        batch.drop_column("format")
        batch.drop_column("workspace_id")
