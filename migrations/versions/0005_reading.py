"""how an import's file was read, and the admin's choices

Revision ID: 0005_reading
Revises: 0004_exports
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_reading"
down_revision = "0004_exports"
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMN (no batch copy of the table: see 0003).
    op.add_column(
        "import_runs", sa.Column("reading", sa.JSON(), nullable=False, server_default="{}")
    )
    op.add_column(
        "import_runs", sa.Column("read_options", sa.JSON(), nullable=False, server_default="{}")
    )


def downgrade():
    op.execute("ALTER TABLE import_runs DROP COLUMN read_options")
    op.execute("ALTER TABLE import_runs DROP COLUMN reading")
