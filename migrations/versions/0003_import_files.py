"""import files in their own table

SQLite rewrites a whole row on every update: with the upload inside ``import_runs``, each
status change or fix in the preview copied the file once more.

Revision ID: 0003_import_files
Revises: 0002_imports
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_import_files"
down_revision = "0002_imports"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "import_files",
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["import_id"],
            ["import_runs.id"],
            name=op.f("fk_import_files_import_id_import_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("import_id", name=op.f("pk_import_files")),
    )
    op.execute("INSERT INTO import_files (import_id, data) SELECT id, file_data FROM import_runs")
    # A plain DROP COLUMN (SQLite 3.35+): a batch copy of the table would drop the old one,
    # and with foreign keys on that deletes every import's rows and mails with it.
    op.execute("ALTER TABLE import_runs DROP COLUMN file_data")


def downgrade():
    op.add_column("import_runs", sa.Column("file_data", sa.LargeBinary(), nullable=True))
    op.execute(
        "UPDATE import_runs SET file_data ="
        " (SELECT data FROM import_files WHERE import_files.import_id = import_runs.id)"
    )
    op.drop_table("import_files")
