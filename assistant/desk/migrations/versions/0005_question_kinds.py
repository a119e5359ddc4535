"""What kind of reply each logged question got: from the documents ("answer"), small talk ("smalltalk") or the
hand-off a contact request opens ("contact"). Only answers count towards knowledge gaps and abstention rates.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("question_log") as batch:
        batch.add_column(sa.Column("kind", sa.String(12), nullable=False, server_default="answer"))
        batch.create_index("ix_question_log_kind", ["kind"])


def downgrade() -> None:
    with op.batch_alter_table("question_log") as batch:
        batch.drop_index("ix_question_log_kind")
        batch.drop_column("kind")
