"""Window closure: reports and reminders, each window's pooled figures, report passwords.

Revision ID: 0006
Revises: 0005
"""
from alembic import op
import sqlalchemy as sa

import models.base

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reports",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("collection_key", sa.String(40), nullable=False),
        sa.Column("window_number", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), sa.ForeignKey("schools.id"), nullable=True),
        sa.Column("trust_id", sa.Integer(), sa.ForeignKey("trusts.id"), nullable=True),
        sa.Column("upload_ids", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("files", sa.JSON(), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", models.base.UTCDateTime(), nullable=False),
        sa.Column("enqueued_at", models.base.UTCDateTime(), nullable=True),
        sa.Column("made_at", models.base.UTCDateTime(), nullable=True),
        sa.Column("released_at", models.base.UTCDateTime(), nullable=True),
        sa.Column("withdrawn_at", models.base.UTCDateTime(), nullable=True),
    )
    op.create_index("ix_reports_school_id", "reports", ["school_id"])
    op.create_index("ix_reports_trust_id", "reports", ["trust_id"])
    op.create_index("ix_reports_status", "reports", ["status"])
    op.create_table(
        "reminders",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("collection_key", sa.String(40), nullable=False),
        sa.Column("window_number", sa.Integer(), nullable=False),
        sa.Column("target", sa.String(40), nullable=False),
        sa.Column("sent_at", models.base.UTCDateTime(), nullable=False),
        sa.UniqueConstraint("collection_key", "window_number", "target", name="uq_reminders_target"),
    )
    with op.batch_alter_table("windows") as batch:
        batch.add_column(sa.Column("pool", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("closing_at", models.base.UTCDateTime(), nullable=True))
    with op.batch_alter_table("schools") as batch:
        batch.add_column(sa.Column("report_password", sa.String(200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("schools") as batch:
        batch.drop_column("report_password")
    with op.batch_alter_table("windows") as batch:
        batch.drop_column("closing_at")
        batch.drop_column("pool")
    op.drop_table("reminders")
    op.drop_table("reports")
