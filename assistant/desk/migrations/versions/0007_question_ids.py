"""Question-log ids are made by the application, in blocks reserved from `id_blocks`, so the log can be written in
batches off the request path while each answer still carries its `question_id`.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    blocks = op.create_table(
        "id_blocks",
        sa.Column("name", sa.String(40), primary_key=True),
        sa.Column("next_id", sa.BigInteger, nullable=False),
    )
    highest = op.get_bind().scalar(sa.text("SELECT COALESCE(MAX(id), 0) FROM question_log"))
    op.bulk_insert(blocks, [{"name": "question_log", "next_id": int(highest or 0) + 1}])


def downgrade() -> None:
    op.drop_table("id_blocks")
