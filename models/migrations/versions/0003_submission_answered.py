"""When a bulk submission's combined answer was queued (so it is queued exactly once).

Revision ID: 0003
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa

import models.base

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("submissions") as batch:
        batch.add_column(sa.Column("answered_at", models.base.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("submissions") as batch:
        batch.drop_column("answered_at")
