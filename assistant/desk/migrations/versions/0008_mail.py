"""Mail and background jobs: the jobs table (leased rows), the outbox, received messages and their attachments,
and where the mailbox poll got to.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

WHEN = sa.DateTime(timezone=True)
ENQUIRY = sa.ForeignKey("enquiries.id", ondelete="CASCADE")
MESSAGE = sa.ForeignKey("mail_messages.id", ondelete="CASCADE")


def upgrade() -> None:
    op.create_table(
        "jobs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("kind", sa.String(40), nullable=False, index=True),
        sa.Column("key", sa.String(200), unique=True),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.Column("status", sa.String(12), nullable=False, index=True),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("max_attempts", sa.Integer, nullable=False),
        sa.Column("run_after", WHEN, nullable=False, index=True),
        sa.Column("lease_owner", sa.String(100)),
        sa.Column("lease_until", WHEN),
        sa.Column("last_error", sa.Text),
        sa.Column("progress", sa.JSON, nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("finished_at", WHEN),
    )
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("enquiry_id", sa.Integer, sa.ForeignKey("enquiries.id", ondelete="CASCADE"), index=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("to_addr", sa.String(320), nullable=False, index=True),
        sa.Column("subject", sa.String(300), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("message_id", sa.String(300), nullable=False, unique=True),
        sa.Column("in_reply_to", sa.String(300)),
        sa.Column("references", sa.Text),
        sa.Column("status", sa.String(12), nullable=False, index=True),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("last_error", sa.Text),
        sa.Column("created_by", sa.String(320), nullable=False),
        sa.Column("created_at", WHEN, nullable=False, index=True),
        sa.Column("sent_at", WHEN),
    )
    op.create_table(
        "mail_messages",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("enquiry_id", sa.Integer, ENQUIRY, nullable=False, index=True),
        sa.Column("message_id", sa.String(300), nullable=False, unique=True),
        sa.Column("in_reply_to", sa.String(300)),
        sa.Column("references", sa.Text),
        sa.Column("from_addr", sa.String(320), nullable=False),
        sa.Column("subject", sa.String(300)),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("received_via", sa.String(20), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
    )
    op.create_table(
        "mail_attachments",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("message_id", sa.Integer, MESSAGE, nullable=False, index=True),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("content_type", sa.String(100), nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("data", sa.LargeBinary),
    )
    op.create_table(
        "mailbox_state",
        sa.Column("name", sa.String(200), primary_key=True),
        sa.Column("uidvalidity", sa.String(40)),
        sa.Column("last_uid", sa.BigInteger, nullable=False),
        sa.Column("last_poll_at", WHEN),
        sa.Column("last_error", sa.Text),
        sa.Column("last_count", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    for table in ("mailbox_state", "mail_attachments", "mail_messages", "outbox", "jobs"):
        op.drop_table(table)
