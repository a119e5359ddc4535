"""A chat conversation kept on the server under the visitor's cookie, so it survives a reload.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("conversations") as table:
        table.add_column(sa.Column("chat", sa.JSON))


def downgrade() -> None:
    with op.batch_alter_table("conversations") as table:
        table.drop_column("chat")
