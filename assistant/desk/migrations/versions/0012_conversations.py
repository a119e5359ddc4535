"""A conversation keeps its last answer's text (a follow-up does not quote it again as context), and a web chat's
whole conversation under the visitor's cookie (a reload shows it again).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("conversations") as table:
        table.add_column(sa.Column("said", sa.Text))
        table.add_column(sa.Column("chat", sa.JSON))


def downgrade() -> None:
    with op.batch_alter_table("conversations") as table:
        table.drop_column("chat")
        table.drop_column("said")
