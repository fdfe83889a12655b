"""What the service keeps for the people who run it: jobs that failed for good, and purges done."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime, utcnow


class FailedJob(Base):
    """A job that failed on every attempt Dramatiq allowed it (Mailman's shunt queue): kept for an
    operator to read and re-run with ``ers failures``; re-running marks it, never deletes it."""
    __tablename__ = "failed_jobs"
    id: Mapped[int] = mapped_column(primary_key=True)
    actor: Mapped[str] = mapped_column(String(60))
    args: Mapped[list[Any]] = mapped_column(JSON)
    message_id: Mapped[str] = mapped_column(String(60))
    attempts: Mapped[int]
    error: Mapped[str] = mapped_column(Text)
    failed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    retried_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    retried_by: Mapped[str | None] = mapped_column(String(254))


class Purge(Base):
    """A collection whose raw files and pupil-level data were deleted under the retention policy."""
    __tablename__ = "purges"
    collection_key: Mapped[str] = mapped_column(String(40), primary_key=True)
    purged_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
