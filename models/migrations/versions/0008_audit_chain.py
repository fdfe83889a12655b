"""Audit trail hash chain: each event's place (seq, unique) and seal (hash), and the chain head.

Existing events are left unsealed; the first ``ers audit seal`` (or scheduler tick) chains them
in id order. Adding nullable columns rewrites no rows on PostgreSQL.

Revision ID: 0008
Revises: 0007
"""
from alembic import op
import sqlalchemy as sa

import models.base

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

GENESIS = "0" * 64


def upgrade() -> None:
    with op.batch_alter_table("audit_events") as batch:
        batch.add_column(sa.Column("seq", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("hash", sa.String(64), nullable=True))
    # Partial, so writers' inserts stay cheap and sealing reads only unsealed ids (see the model).
    sealed, unsealed = sa.text("seq IS NOT NULL"), sa.text("seq IS NULL")
    op.create_index("uq_audit_events_seq", "audit_events", ["seq"], unique=True,
                    sqlite_where=sealed, postgresql_where=sealed)
    op.create_index("ix_audit_events_unsealed", "audit_events", ["id"],
                    sqlite_where=unsealed, postgresql_where=unsealed)
    chain = op.create_table(
        "audit_chain",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("sealed_at", models.base.UTCDateTime(), nullable=True),
    )
    op.bulk_insert(chain, [{"id": 1, "seq": 0, "hash": GENESIS, "sealed_at": None}])


def downgrade() -> None:
    op.drop_table("audit_chain")
    op.drop_index("ix_audit_events_unsealed", table_name="audit_events")
    op.drop_index("uq_audit_events_seq", table_name="audit_events")
    with op.batch_alter_table("audit_events") as batch:
        batch.drop_column("hash")
        batch.drop_column("seq")
