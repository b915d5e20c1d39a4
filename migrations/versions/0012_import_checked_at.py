"""when a draft import's rows were last checked: a draft opened after other imports or edits
changed the users is checked again, so that its counts are today's

Revision ID: 0012_import_checked_at
Revises: 0011_user_search
"""

import sqlalchemy as sa
from alembic import op

revision = "0012_import_checked_at"
down_revision = "0011_user_search"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("import_runs") as table:
        table.add_column(sa.Column("checked_at", sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table("import_runs") as table:
        table.drop_column("checked_at")
