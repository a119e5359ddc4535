"""When the enquirer last wrote and when staff last opened an enquiry: the inbox shows what is unread.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("enquiries") as table:
        table.add_column(sa.Column("enquirer_wrote_at", WHEN))
        table.add_column(sa.Column("seen_at", WHEN))


def downgrade() -> None:
    with op.batch_alter_table("enquiries") as table:
        table.drop_column("seen_at")
        table.drop_column("enquirer_wrote_at")
