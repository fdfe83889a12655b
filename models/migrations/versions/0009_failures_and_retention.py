"""Jobs that failed for good (``ers failures``), and collections purged under the retention policy.

A purged email's raw message is gone, so its stored path may be empty.

Revision ID: 0009
Revises: 0008
"""
import sqlalchemy as sa
from alembic import op

from models.base import UTCDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "failed_jobs",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("actor", sa.String(60), nullable=False),
        sa.Column("args", sa.JSON(), nullable=False),
        sa.Column("message_id", sa.String(60), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("failed_at", UTCDateTime(), nullable=False),
        sa.Column("retried_at", UTCDateTime(), nullable=True),
        sa.Column("retried_by", sa.String(254), nullable=True),
    )
    op.create_table(
        "purges",
        sa.Column("collection_key", sa.String(40), primary_key=True),
        sa.Column("purged_at", UTCDateTime(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
    )
    with op.batch_alter_table("inbound_messages") as batch_op:
        batch_op.alter_column("stored_path", existing_type=sa.String(500), nullable=True)


def downgrade() -> None:
    with op.batch_alter_table("inbound_messages") as batch_op:
        batch_op.alter_column("stored_path", existing_type=sa.String(500), nullable=False)
    op.drop_table("purges")
    op.drop_table("failed_jobs")
