"""a user's session version: raised on logout and a new password, it ends every session and
remember cookie made before

Revision ID: 0010_session_versions
Revises: 0009_mail_message_ids
"""

import sqlalchemy as sa
from alembic import op

revision = "0010_session_versions"
down_revision = "0009_mail_message_ids"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users") as table:
        table.add_column(
            sa.Column("session_version", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade():
    with op.batch_alter_table("users") as table:
        table.drop_column("session_version")
