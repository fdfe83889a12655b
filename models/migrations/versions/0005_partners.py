"""MIS partners (SFTP), the schools each serves (the school's MIS connection), and when a
submission's result files were delivered back to its partner.

Revision ID: 0005
Revises: 0004
"""
from alembic import op
import sqlalchemy as sa

import models.base

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "partners",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False, unique=True),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("port", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(100), nullable=False),
        sa.Column("password", sa.String(200), nullable=True),
        sa.Column("key_path", sa.String(500), nullable=True),
        sa.Column("host_key", sa.String(2000), nullable=False),
        sa.Column("inbox", sa.String(500), nullable=False),
        sa.Column("outbox", sa.String(500), nullable=False),
        sa.Column("feed", sa.String(500), nullable=True),
    )
    op.create_table(
        "partner_schools",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("partner_id", sa.Integer(), sa.ForeignKey("partners.id"), nullable=False),
        sa.Column("school_id", sa.Integer(), sa.ForeignKey("schools.id"), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("last_feed_at", models.base.UTCDateTime(), nullable=True),
        sa.Column("last_feed", sa.String(300), nullable=True),
        sa.UniqueConstraint("partner_id", "school_id", name="uq_partner_schools_link"),
    )
    op.create_index("ix_partner_schools_partner_id", "partner_schools", ["partner_id"])
    op.create_index("ix_partner_schools_school_id", "partner_schools", ["school_id"])
    with op.batch_alter_table("submissions") as batch:
        batch.add_column(sa.Column("delivered_at", models.base.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("submissions") as batch:
        batch.drop_column("delivered_at")
    op.drop_table("partner_schools")
    op.drop_table("partners")
