"""Reports made when a window closes, and the reminders sent before it does."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime, utcnow

SCHOOL, TRUST = "school", "trust"


class Report(Base):
    """One school's reports (Summary and Pupils PDFs) or one trust's bundle for a window.

    Rows are written in the transaction that claims the window, so each job exists exactly once:
    school rows start ``pending``; trust rows ``waiting`` until their schools are done. A made
    report is ``held`` under an embargo and ``released`` when its email is in the outbox;
    ``failed`` keeps the error; ``withdrawn`` when the upload it came from is deleted.
    """
    __tablename__ = "reports"
    __table_args__ = (Index("ix_reports_window_status", "collection_key", "window_number", "status"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    collection_key: Mapped[str] = mapped_column(String(40))
    window_number: Mapped[int]
    school_id: Mapped[int | None] = mapped_column(ForeignKey("schools.id"), index=True)
    trust_id: Mapped[int | None] = mapped_column(ForeignKey("trusts.id"), index=True)
    upload_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(20), index=True)
    files: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    summary: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # the school's row in its trust's table
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    enqueued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    made_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Reminder(Base):
    """A reminder sent before a deadline: at most one per school (or trust) and window."""
    __tablename__ = "reminders"
    __table_args__ = (UniqueConstraint("collection_key", "window_number", "target",
                                       name="uq_reminders_target"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    collection_key: Mapped[str] = mapped_column(String(40))
    window_number: Mapped[int]
    target: Mapped[str] = mapped_column(String(40))  # "school:<id>" or "trust:<id>"
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
