"""Submissions (what arrived through a channel) and uploads (one per file, with its history)."""
from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, UTCDateTime, utcnow


class UploadStatus(StrEnum):
    PROCESSING = "processing"
    AWAITING = "awaiting"          # valid, waiting for the uploader to confirm the terms
    SUCCESSFUL = "successful"      # the current upload of its (school, collection, window, stream)
    OVERWRITTEN = "overwritten"    # valid, but a later-received file replaced it
    ERROR = "error"                # "Upload error": invalid, unreadable or refused
    DELETED = "deleted"

    @property
    def label(self) -> str:
        """The status as the seeds show it to users."""
        return {"processing": "Processing", "awaiting": "Awaiting confirmation", "successful": "Successful", "overwritten": "Overwritten",
                "error": "Upload error", "deleted": "Deleted"}[self.value]


class Submission(Base):
    """One item that arrived: an email, a remote file, a dropped file. Stored before anything else."""
    __tablename__ = "submissions"
    __table_args__ = (UniqueConstraint("channel", "source_ref", name="uq_submissions_source"),
                      Index("ix_submissions_sender_hash", "sender", "content_hash"))
    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    sender: Mapped[str] = mapped_column(String(254))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    source_ref: Mapped[str | None] = mapped_column(String(500))
    file_name: Mapped[str] = mapped_column(String(255))
    content_hash: Mapped[str] = mapped_column(String(64))
    size: Mapped[int]
    stored_path: Mapped[str | None] = mapped_column(String(500))
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # bulk: combined answer queued
    message_id: Mapped[str | None] = mapped_column(String(500))  # the email it came in: answers thread
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # SFTP: result files written
    uploads: Mapped[list["Upload"]] = relationship(back_populates="submission")


class Upload(Base):
    __tablename__ = "uploads"
    __table_args__ = (
        # Invariant 3: at most one current upload per (school, collection, window, stream).
        Index("uq_uploads_one_current", "school_id", "collection_key", "window_number", "stream",
              unique=True, postgresql_where=text("status = 'successful'"),
              sqlite_where=text("status = 'successful'")),
        Index("ix_uploads_school_collection", "school_id", "collection_key"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), index=True)
    submission: Mapped[Submission] = relationship(back_populates="uploads")
    file_name: Mapped[str] = mapped_column(String(255))
    content_hash: Mapped[str] = mapped_column(String(64))
    stored_path: Mapped[str | None] = mapped_column(String(500))
    size: Mapped[int]
    uploaded_by: Mapped[str] = mapped_column(String(254))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(20), default=UploadStatus.PROCESSING)
    format: Mapped[str | None] = mapped_column(String(40))
    school_id: Mapped[int | None] = mapped_column(ForeignKey("schools.id"))
    collection_key: Mapped[str | None] = mapped_column(String(40))
    window_number: Mapped[int | None]
    stream: Mapped[str] = mapped_column(String(40), default="main")
    pupil_count: Mapped[int] = mapped_column(default=0)
    errors: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    warnings: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    reason: Mapped[str | None] = mapped_column(Text)  # why a file could not be read or was refused
    enqueued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    validated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    superseded_by_id: Mapped[int | None] = mapped_column(ForeignKey("uploads.id"))
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deleted_by: Mapped[str | None] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PupilResult(Base):
    __tablename__ = "pupil_results"
    id: Mapped[int] = mapped_column(primary_key=True)
    upload_id: Mapped[int] = mapped_column(ForeignKey("uploads.id"), index=True)
    row: Mapped[int]
    upn: Mapped[str] = mapped_column(String(13), index=True)  # KS2 reports find KS1 priors by UPN
    forename: Mapped[str] = mapped_column(String(100))
    surname: Mapped[str] = mapped_column(String(100))
    gender: Mapped[str | None] = mapped_column(String(1))
    dob: Mapped[date | None] = mapped_column(Date)
    nc_year: Mapped[int | None]
    results: Mapped[dict[str, Any]] = mapped_column(JSON)
