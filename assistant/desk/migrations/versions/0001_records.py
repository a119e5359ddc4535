"""Enquiries, the question log and feedback.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _when(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "enquiries",
        sa.Column("id", sa.Integer, primary_key=True),
        _when("created_at"),
        _when("updated_at"),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("partner_id", sa.String(100)),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("organisation", sa.String(200)),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("transcript", sa.JSON, nullable=False),
        sa.Column("consent_version", sa.String(40), nullable=False),
        _when("consented_at"),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("category", sa.String(100)),
        sa.Column("priority", sa.String(20)),
        sa.Column("route", sa.String(200)),
        sa.Column("assignee", sa.String(320)),
        _when("due_at", nullable=True),
        _when("first_response_at", nullable=True),
        _when("resolved_at", nullable=True),
    )
    for column in ("created_at", "channel", "partner_id", "email", "status", "category"):
        op.create_index(f"ix_enquiries_{column}", "enquiries", [column])
    op.create_table(
        "question_log",
        sa.Column("id", sa.Integer, primary_key=True),
        _when("created_at"),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("partner_id", sa.String(100)),
        sa.Column("question", sa.Text, nullable=False),
        sa.Column("abstained", sa.Boolean, nullable=False),
        sa.Column("confidence", sa.Float, nullable=False),
        sa.Column("sources", sa.JSON, nullable=False),
        sa.Column("latency_ms", sa.Float, nullable=False),
    )
    for column in ("created_at", "channel", "partner_id"):
        op.create_index(f"ix_question_log_{column}", "question_log", [column])
    op.create_table(
        "feedback",
        sa.Column("id", sa.Integer, primary_key=True),
        _when("created_at"),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("partner_id", sa.String(100)),
        sa.Column("question_id", sa.Integer, sa.ForeignKey("question_log.id", ondelete="SET NULL")),
        sa.Column("question", sa.Text, nullable=False),
        sa.Column("answer", sa.Text, nullable=False),
        sa.Column("citations", sa.JSON, nullable=False),
        sa.Column("rating", sa.String(4), nullable=False),
        sa.Column("comment", sa.Text),
    )
    op.create_index("ix_feedback_created_at", "feedback", ["created_at"])


def downgrade() -> None:
    op.drop_table("feedback")
    op.drop_table("question_log")
    op.drop_table("enquiries")
