"""The email channel: inbound messages, the IMAP folder's position, threading of answers, and
the relay's claim on an outgoing email.

Revision ID: 0004
Revises: 0003
"""
from alembic import op
import sqlalchemy as sa

import models.base

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "inbound_messages",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("mailbox", sa.String(300), nullable=False),
        sa.Column("uidvalidity", sa.BigInteger(), nullable=True),
        sa.Column("uid", sa.BigInteger(), nullable=True),
        sa.Column("message_id", sa.String(500), nullable=False),
        sa.Column("dedup_key", sa.String(600), nullable=False),
        sa.Column("sender", sa.String(254), nullable=False),
        sa.Column("subject", sa.String(500), nullable=False),
        sa.Column("received_at", models.base.UTCDateTime(), nullable=False),
        sa.Column("stored_path", sa.String(500), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("disposition", sa.String(20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("command", sa.String(20), nullable=True),
        sa.Column("argument", sa.String(200), nullable=True),
        sa.Column("submission_id", sa.Integer(), sa.ForeignKey("submissions.id"), nullable=True),
        sa.Column("handled_at", models.base.UTCDateTime(), nullable=True),
        sa.UniqueConstraint("dedup_key"),
    )
    op.create_index("ix_inbound_messages_disposition", "inbound_messages", ["disposition"])
    op.create_table(
        "mailbox_states",
        sa.Column("mailbox", sa.String(300), primary_key=True),
        sa.Column("uidvalidity", sa.BigInteger(), nullable=False),
        sa.Column("last_uid", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", models.base.UTCDateTime(), nullable=False),
    )
    with op.batch_alter_table("submissions") as batch:
        batch.add_column(sa.Column("message_id", sa.String(500), nullable=True))
    with op.batch_alter_table("outgoing_emails") as batch:
        batch.add_column(sa.Column("claimed_at", models.base.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outgoing_emails") as batch:
        batch.drop_column("claimed_at")
    with op.batch_alter_table("submissions") as batch:
        batch.drop_column("message_id")
    op.drop_table("mailbox_states")
    op.drop_index("ix_inbound_messages_disposition", "inbound_messages")
    op.drop_table("inbound_messages")
