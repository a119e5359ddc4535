"""Enquiry references for senders; staff corrections tied to their enquiry so erasure removes them; rate limits
and sign-in lockouts leave the database (they are counted by the `limits` package, in memory or Redis).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

import secrets

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None
ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def upgrade() -> None:
    with op.batch_alter_table("enquiries") as batch:
        batch.add_column(sa.Column("reference", sa.String(20), nullable=True))
        batch.create_index("ix_enquiries_reference", ["reference"], unique=True)
    with op.batch_alter_table("triage_examples") as batch:
        batch.add_column(sa.Column("enquiry_id", sa.Integer, nullable=True))
        batch.create_index("ix_triage_examples_enquiry_id", ["enquiry_id"])
        batch.create_foreign_key(
            "fk_triage_examples_enquiry_id", "enquiries", ["enquiry_id"], ["id"], ondelete="CASCADE"
        )
    op.drop_table("rate_hits")
    with op.batch_alter_table("staff_users") as batch:
        batch.drop_column("failed_logins")
        batch.drop_column("locked_until")
    connection = op.get_bind()
    enquiries = sa.table("enquiries", sa.column("id", sa.Integer), sa.column("reference", sa.String))
    for (enquiry_id,) in connection.execute(sa.select(enquiries.c.id)).all():
        reference = "WM-" + "".join(secrets.choice(ALPHABET) for _ in range(8))
        connection.execute(enquiries.update().where(enquiries.c.id == enquiry_id).values(reference=reference))


def downgrade() -> None:
    with op.batch_alter_table("staff_users") as batch:
        batch.add_column(sa.Column("failed_logins", sa.Integer, nullable=False, server_default="0"))
        batch.add_column(sa.Column("locked_until", sa.DateTime(timezone=True)))
    op.create_table(
        "rate_hits",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("key", sa.String(200), nullable=False, index=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False, index=True),
    )
    with op.batch_alter_table("triage_examples") as batch:
        batch.drop_constraint("fk_triage_examples_enquiry_id", type_="foreignkey")
        batch.drop_index("ix_triage_examples_enquiry_id")
        batch.drop_column("enquiry_id")
    with op.batch_alter_table("enquiries") as batch:
        batch.drop_index("ix_enquiries_reference")
        batch.drop_column("reference")
