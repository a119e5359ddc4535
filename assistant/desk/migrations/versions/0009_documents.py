"""Documents staff manage: uploads with their originals, and tombstones for documents staff removed.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "documents",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("source", sa.String(500), nullable=False, unique=True),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("origin", sa.String(20), nullable=False),
        sa.Column("filename", sa.String(255)),
        sa.Column("content", sa.LargeBinary),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("visibility", sa.String(20), nullable=False),
        sa.Column("tags", sa.JSON, nullable=False),
        sa.Column("status", sa.String(12), nullable=False, index=True),
        sa.Column("chunk_count", sa.Integer, nullable=False),
        sa.Column("last_error", sa.Text),
        sa.Column("last_ingested_at", WHEN),
        sa.Column("created_by", sa.String(320), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("removed_by", sa.String(320)),
        sa.Column("removed_at", WHEN),
    )


def downgrade() -> None:
    op.drop_table("documents")
