"""the Message-ID of each import mail's last try: which mail in a mailbox (or the Outbox) it was

Revision ID: 0009_mail_message_ids
Revises: 0008_mail_claims
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_mail_message_ids"
down_revision = "0008_mail_claims"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("import_mails") as table:
        table.add_column(
            sa.Column("message_id", sa.String(length=255), nullable=False, server_default="")
        )
        table.create_index("ix_import_mails_message_id", ["message_id"])


def downgrade():
    with op.batch_alter_table("import_mails") as table:
        table.drop_index("ix_import_mails_message_id")
        table.drop_column("message_id")
