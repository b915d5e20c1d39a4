"""how an import's file was read, the admin's choices, and their own column titles

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
    op.create_table(
        "column_aliases",
        sa.Column("admin_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("column", sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(
            ["admin_id"],
            ["users.id"],
            name=op.f("fk_column_aliases_admin_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("admin_id", "title", name=op.f("pk_column_aliases")),
    )


def downgrade():
    op.drop_table("column_aliases")
    op.execute("ALTER TABLE import_runs DROP COLUMN read_options")
    op.execute("ALTER TABLE import_runs DROP COLUMN reading")
