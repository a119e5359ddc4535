"""Sites staff add (a page or a sitemap), re-crawled on a schedule.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "sites",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("url", sa.String(500), nullable=False, unique=True),
        sa.Column("visibility", sa.String(20), nullable=False),
        sa.Column("tags", sa.JSON, nullable=False),
        sa.Column("every_hours", sa.Integer, nullable=False),
        sa.Column("grace_days", sa.Integer, nullable=False),
        sa.Column("missing", sa.JSON, nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("last_crawl_at", WHEN),
        sa.Column("last_summary", sa.JSON, nullable=False),
        sa.Column("created_by", sa.String(320), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("sites")
