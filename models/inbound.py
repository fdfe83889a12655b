"""Every email that reached the service's mailbox, whatever became of it, and where intake got to.

A row is written before the message leaves the inbox, so nothing is lost (invariant 1); its
``dedup_key`` (Message-ID and content) makes a re-delivered message a duplicate (invariant 2).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime, utcnow


class InboundMessage(Base):
    __tablename__ = "inbound_messages"
    id: Mapped[int] = mapped_column(primary_key=True)
    mailbox: Mapped[str] = mapped_column(String(300))
    uidvalidity: Mapped[int | None] = mapped_column(BigInteger)
    uid: Mapped[int | None] = mapped_column(BigInteger)
    message_id: Mapped[str] = mapped_column(String(500))
    dedup_key: Mapped[str] = mapped_column(String(600), unique=True)
    sender: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(500))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    stored_path: Mapped[str | None] = mapped_column(String(500))  # None once purged (retention)
    size: Mapped[int]
    # upload (attachments received), command (answered by a worker), quarantined, released
    disposition: Mapped[str] = mapped_column(String(20), index=True)
    reason: Mapped[str | None] = mapped_column(Text)
    command: Mapped[str | None] = mapped_column(String(20))
    argument: Mapped[str | None] = mapped_column(String(200))
    submission_id: Mapped[int | None] = mapped_column(ForeignKey("submissions.id"))
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class MailboxState(Base):
    """The IMAP folder's UIDVALIDITY and the highest UID taken from it."""
    __tablename__ = "mailbox_states"
    mailbox: Mapped[str] = mapped_column(String(300), primary_key=True)
    uidvalidity: Mapped[int] = mapped_column(BigInteger)
    last_uid: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
