"""import rows without a user id: nothing read it, and writing it cost a look-up per new user

Revision ID: 0006_import_rows_without_user
Revises: 0005_reading
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_import_rows_without_user"
down_revision = "0005_reading"
branch_labels = None
depends_on = None


def upgrade():
    # Plain DROP COLUMN (SQLite has it since 3.35; no batch copy of the table: see 0003).
    op.drop_column("import_rows", "user_id")


def downgrade():
    op.add_column("import_rows", sa.Column("user_id", sa.Integer(), nullable=True))
