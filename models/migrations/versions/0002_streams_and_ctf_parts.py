"""Collections with several formats (KS4 streams) and each school's choice of CTF parts.

Revision ID: 0002
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("collections") as batch:
        batch.alter_column("format", type_=sa.String(200), existing_type=sa.String(40),
                           existing_nullable=False)
    with op.batch_alter_table("schools") as batch:
        batch.add_column(sa.Column("ctf_parts", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("schools") as batch:
        batch.drop_column("ctf_parts")
    with op.batch_alter_table("collections") as batch:
        batch.alter_column("format", type_=sa.String(40), existing_type=sa.String(200),
                           existing_nullable=False)
