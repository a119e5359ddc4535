"""Staff accounts and sessions, triage fields, audit trail, notes, partner consents, triage examples.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

NEW_ENQUIRY_COLUMNS = [
    sa.Column("email_domain", sa.String(255)),
    sa.Column("subject", sa.String(300)),
    sa.Column("source_ref", sa.String(300)),
    sa.Column("confidence", sa.Float),
    sa.Column("needs_review", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("reasons", sa.JSON, nullable=False, server_default="{}"),
    sa.Column("duplicates", sa.Integer, nullable=False, server_default="0"),
    sa.Column("draft", sa.Text),
    sa.Column("draft_citations", sa.JSON, nullable=False, server_default="[]"),
    sa.Column("reply", sa.Text),
    sa.Column("approved_by", sa.String(320)),
    sa.Column("approved_at", sa.DateTime(timezone=True)),
    sa.Column("erased_at", sa.DateTime(timezone=True)),
]


def upgrade() -> None:
    with op.batch_alter_table("enquiries") as batch:
        for column in NEW_ENQUIRY_COLUMNS:
            batch.add_column(column)
        batch.create_index("ix_enquiries_email_domain", ["email_domain"])
        batch.create_index("ix_enquiries_source_ref", ["source_ref"])
    now = sa.DateTime(timezone=True)
    op.create_table(
        "staff_users",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("email", sa.String(320), nullable=False, unique=True),
        sa.Column("role", sa.String(10), nullable=False),
        sa.Column("password_hash", sa.String(200), nullable=False),
        sa.Column("failed_logins", sa.Integer, nullable=False, server_default="0"),
        sa.Column("locked_until", now),
        sa.Column("created_at", now, nullable=False),
    )
    op.create_table(
        "staff_sessions",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("staff_users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("created_at", now, nullable=False),
        sa.Column("expires_at", now, nullable=False),
    )
    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("enquiry_id", sa.Integer, sa.ForeignKey("enquiries.id", ondelete="SET NULL"), index=True),
        sa.Column("actor", sa.String(320), nullable=False),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("detail", sa.JSON, nullable=False),
        sa.Column("created_at", now, nullable=False),
    )
    op.create_table(
        "enquiry_notes",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("enquiry_id", sa.Integer, sa.ForeignKey("enquiries.id", ondelete="CASCADE"), index=True),
        sa.Column("author", sa.String(320), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("created_at", now, nullable=False),
    )
    op.create_table(
        "partner_consents",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("enquiry_id", sa.Integer, sa.ForeignKey("enquiries.id", ondelete="CASCADE"), index=True),
        sa.Column("partner", sa.String(200), nullable=False),
        sa.Column("how", sa.Text, nullable=False),
        sa.Column("recorded_by", sa.String(320), nullable=False),
        sa.Column("created_at", now, nullable=False),
    )
    op.create_table(
        "triage_examples",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("category", sa.String(100), nullable=False, index=True),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("created_by", sa.String(320), nullable=False),
        sa.Column("created_at", now, nullable=False),
    )


def downgrade() -> None:
    for table in ("triage_examples", "partner_consents", "enquiry_notes", "audit_events", "staff_sessions"):
        op.drop_table(table)
    op.drop_table("staff_users")
    with op.batch_alter_table("enquiries") as batch:
        batch.drop_index("ix_enquiries_source_ref")
        batch.drop_index("ix_enquiries_email_domain")
        for column in reversed(NEW_ENQUIRY_COLUMNS):
            batch.drop_column(column.name)
