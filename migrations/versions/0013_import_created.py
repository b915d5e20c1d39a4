"""an import's outcome keeps the rows that simply created a user a block at a time, not a
row each: the largest part of what a large import wrote besides the users themselves

Revision ID: 0013_import_created
Revises: 0012_import_checked_at
"""

import json

import sqlalchemy as sa
from alembic import op

revision = "0013_import_created"
down_revision = "0012_import_checked_at"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "import_created",
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.Column("first_line", sa.Integer(), nullable=False),
        sa.Column("first_id", sa.Integer(), nullable=False),
        sa.Column("last_id", sa.Integer(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["import_id"],
            ["import_runs.id"],
            name=op.f("fk_import_created_import_id_import_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("import_id", "first_line", name=op.f("pk_import_created")),
    )


def downgrade():
    # The blocks' rows become ImportRows again, as the earlier code stored them.
    connection = op.get_bind()
    rows = sa.table(
        "import_rows",
        *(sa.column(name) for name in ("import_id", "line", "email", "action")),
        sa.column("values", sa.JSON),
        sa.column("edited", sa.Boolean),
        sa.column("problems", sa.JSON),
        sa.column("changes", sa.JSON),
        sa.column("gains_levels", sa.Boolean),
    )
    blocks = connection.execute(sa.text("SELECT import_id, data FROM import_created"))
    for import_id, data in blocks.all():
        block = json.loads(data)
        connection.execute(
            rows.insert(),
            [
                {
                    "import_id": import_id,
                    "line": line,
                    "email": email,
                    "values": {},
                    "edited": False,
                    "action": "create",
                    "problems": [],
                    "changes": {"fields": {}, "levels": block["levels"][k]},
                    "gains_levels": bool(block["levels"][k]),
                }
                for line, _user_id, email, k in block["rows"]
            ],
        )
    op.drop_table("import_created")
