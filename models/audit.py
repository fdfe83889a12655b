"""An append-only trail of every state change: who, what, when; sealed afterwards into a hash chain."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Connection, Index, String, insert, text
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.base import Base, UTCDateTime, utcnow

GENESIS = "0" * 64  # the "previous hash" of the first sealed event
SEALED, UNSEALED = text("seq IS NOT NULL"), text("seq IS NULL")


class AuditEvent(Base):
    """Both indexes are partial: a writer's insert touches only the small one of unsealed ids,
    and the sealer finds the unsealed events in id order without reading past sealed ones."""
    __tablename__ = "audit_events"
    __table_args__ = (
        Index("uq_audit_events_seq", "seq", unique=True, sqlite_where=SEALED, postgresql_where=SEALED),
        Index("ix_audit_events_unsealed", "id", sqlite_where=UNSEALED, postgresql_where=UNSEALED),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(254))
    entity: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[str] = mapped_column(String(40))
    action: Mapped[str] = mapped_column(String(40))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Set by the sealer (models.audit_chain), never by writers: NULL until sealed.
    seq: Mapped[int | None] = mapped_column()
    hash: Mapped[str | None] = mapped_column(String(64))


class AuditChain(Base):
    """The chain head, one row (id 1): the last sealed seq and its hash. Sealers lock it."""
    __tablename__ = "audit_chain"
    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(default=0)
    hash: Mapped[str] = mapped_column(String(64), default=GENESIS)
    sealed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


# Built once: a statement built per call costs as much again to construct and key for the cache.
_INSERT = insert(AuditEvent.__table__)


def audit(session: Session | Connection, actor: str, entity: str, entity_id: object, action: str,
          **detail: Any) -> None:
    """Record a state change in the caller's transaction, so the trail and the change commit together.

    ``session`` may be a plain connection. A plain insert on the table, not an ORM object, so
    no unit of work: a quarter of a millisecond per event, and every upload and email writes some. The event is left unsealed: chaining it here would make every
    writer wait on the chain head, so ``models.audit_chain.seal`` chains it afterwards.
    """
    session.execute(_INSERT, {"at": utcnow(), "actor": actor, "entity": entity,
                              "entity_id": str(entity_id), "action": action, "detail": detail})
