"""mail claims: which worker sends a mail, when it may be tried again, and interrupted tries

Revision ID: 0008_mail_claims
Revises: 0007_import_mail_language
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_mail_claims"
down_revision = "0007_import_mail_language"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("import_mails") as table:
        table.add_column(
            sa.Column("claimed_by", sa.String(length=80), nullable=False, server_default="")
        )
        table.add_column(sa.Column("claimed_at", sa.DateTime(), nullable=True))
        table.add_column(sa.Column("next_try_at", sa.DateTime(), nullable=True))
        table.add_column(
            sa.Column("interrupted", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade():
    with op.batch_alter_table("import_mails") as table:
        table.drop_column("interrupted")
        table.drop_column("next_try_at")
        table.drop_column("claimed_at")
        table.drop_column("claimed_by")
