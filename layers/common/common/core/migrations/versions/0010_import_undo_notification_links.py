"""imports: ignored columns, table name, what each request wrote (for undo); notification links

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 18:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("file_imports", sa.Column("ignored_columns", sa.JSON(), nullable=True))
    op.add_column("file_imports", sa.Column("table_name", sa.String(length=255), nullable=True))
    op.add_column("file_imports", sa.Column("undo_saga_id", sa.String(length=32), nullable=True))
    op.add_column("file_import_chunks", sa.Column("written", sa.JSON(), nullable=True))
    op.add_column("file_import_chunks", sa.Column("before", sa.JSON(), nullable=True))
    op.add_column("notifications", sa.Column("link", sa.String(length=500), nullable=True))


def downgrade() -> None:
    op.drop_column("notifications", "link")
    op.drop_column("file_import_chunks", "before")
    op.drop_column("file_import_chunks", "written")
    op.drop_column("file_imports", "undo_saga_id")
    op.drop_column("file_imports", "table_name")
    op.drop_column("file_imports", "ignored_columns")
