"""Closing national windows: find a pupil's KS1 results by UPN, and a window's reports by state.

Without the UPN index every KS2 school's report scanned every pupil result for its KS1 priors;
without the window index every finished report counted the window's reports left.

Revision ID: 0007
Revises: 0006
"""
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_pupil_results_upn", "pupil_results", ["upn"])
    op.create_index("ix_reports_window_status", "reports",
                    ["collection_key", "window_number", "status"])


def downgrade() -> None:
    op.drop_index("ix_reports_window_status", table_name="reports")
    op.drop_index("ix_pupil_results_upn", table_name="pupil_results")
