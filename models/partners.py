"""MIS partners who push files over SFTP, the schools each serves, and each school's connection.

A partner is authenticated by SSH (its key or password, and the host key we expect of its
server), so its files need no contact address: what it may deliver is exactly the schools
linked to it. The link doubles as the school's MIS connection (the seed's status box).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime

SENDER_PREFIX = "sftp:"  # an upload's uploaded_by for files a partner delivered


class Partner(Base):
    __tablename__ = "partners"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    host: Mapped[str] = mapped_column(String(255))
    port: Mapped[int] = mapped_column(default=22)
    username: Mapped[str] = mapped_column(String(100))
    password: Mapped[str | None] = mapped_column(String(200))
    key_path: Mapped[str | None] = mapped_column(String(500))
    host_key: Mapped[str] = mapped_column(String(2000))  # "ssh-ed25519 AAAA..." expected of the server
    inbox: Mapped[str] = mapped_column(String(500))      # results files to take
    outbox: Mapped[str] = mapped_column(String(500))     # result files we write back
    feed: Mapped[str | None] = mapped_column(String(500))  # MIS connector feed: rosters and CTFs

    @property
    def sender(self) -> str:
        return f"{SENDER_PREFIX}{self.name}"


class PartnerSchool(Base):
    """A school a partner may deliver for; also the school's MIS connection and its last feed."""
    __tablename__ = "partner_schools"
    __table_args__ = (UniqueConstraint("partner_id", "school_id", name="uq_partner_schools_link"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id"), index=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="connected")  # connected / suspended
    last_feed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_feed: Mapped[str | None] = mapped_column(String(300))  # what it was, e.g. "roster, 24 pupils"
