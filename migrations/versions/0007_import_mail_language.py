"""the language of an import's mails for people without one in the file

Revision ID: 0007_import_mail_language
Revises: 0006_import_rows_without_user
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_import_mail_language"
down_revision = "0006_import_rows_without_user"
branch_labels = None
depends_on = None


def upgrade():
    # "" until the admin chooses: then the file's titles or the admin's own language decide.
    op.add_column(
        "import_runs",
        sa.Column("mail_language", sa.String(length=2), nullable=False, server_default=""),
    )


def downgrade():
    op.drop_column("import_runs", "mail_language")
