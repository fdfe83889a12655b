"""Collections and windows as stored rows: the TOML is the source, the rows carry closing state."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime


class CollectionRow(Base):
    __tablename__ = "collections"
    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    format: Mapped[str] = mapped_column(String(200))  # comma-separated formats
    opens: Mapped[datetime] = mapped_column(UTCDateTime)
    final_close: Mapped[datetime] = mapped_column(UTCDateTime)


class WindowRow(Base):
    __tablename__ = "windows"
    __table_args__ = (UniqueConstraint("collection_key", "number", name="uq_windows_number"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    collection_key: Mapped[str] = mapped_column(ForeignKey("collections.key"))
    number: Mapped[int]
    closes: Mapped[datetime] = mapped_column(UTCDateTime)
    reports_by: Mapped[datetime] = mapped_column(UTCDateTime)
    state: Mapped[str] = mapped_column(String(20), default="open")  # open -> closing -> closed
    closing_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # claimed by a scheduler
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Figures over every participating school, fixed when the window is claimed, so every school's
    # report (and any regenerated later) is measured against the same numbers.
    pool: Mapped[dict[str, Any] | None] = mapped_column(JSON)


def sync_collections(session, collections) -> None:
    """Insert or update collection and window rows from the TOML, keeping each window's state."""
    from sqlalchemy import select

    for c in collections.values():
        row = session.get(CollectionRow, c.key) or CollectionRow(key=c.key)
        row.name, row.format, row.opens, row.final_close = c.name, ",".join(c.formats), c.opens, c.final_close
        session.add(row)
        existing = {w.number: w for w in session.scalars(
            select(WindowRow).where(WindowRow.collection_key == c.key))}
        for w in c.windows:
            window = existing.get(w.number) or WindowRow(collection_key=c.key, number=w.number,
                                                         state="open")
            window.closes, window.reports_by = w.closes, w.reports_by
            session.add(window)
