"""The upload history as the seeds show it: newest first, a tick on the file in use."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from config.collections import in_london
from models import Contact, School, Upload, UploadStatus

HIDDEN = (UploadStatus.OVERWRITTEN, UploadStatus.DELETED, UploadStatus.ERROR)


@dataclass
class HistoryRow:
    upload: int
    current: bool
    file: str
    school: str | None
    school_name: str | None
    collection: str | None
    window: int | None
    status: str
    pupils: int
    uploaded_by: str
    received: str
    errors: int

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def history(session: Session, *, school: str | None = None, collection: str | None = None,
            viewer: str | None = None, show_all: bool = True) -> list[HistoryRow]:
    """Uploads newest first. A viewer sees their schools' uploads, whoever sent them (school or trust).

    ``show_all=False`` hides deleted, overwritten and invalid uploads, as the seeds' checkbox does.
    """
    query = (select(Upload, School).outerjoin(School, School.id == Upload.school_id)
             .order_by(Upload.received_at.desc(), Upload.id.desc()))
    if school:
        query = query.where(School.dfe == school)
    if collection:
        query = query.where(Upload.collection_key == collection)
    if not show_all:
        query = query.where(Upload.status.not_in(HIDDEN))
    if viewer:
        viewer = viewer.lower()
        contacts = session.scalars(select(Contact).where(Contact.email == viewer)).all()
        school_ids = {c.school_id for c in contacts if c.school_id}
        trust_ids = {c.trust_id for c in contacts if c.trust_id}
        query = query.where(or_(Upload.uploaded_by == viewer, School.id.in_(school_ids),
                                School.trust_id.in_(trust_ids)))
    return [HistoryRow(upload=u.id, current=u.status == UploadStatus.SUCCESSFUL, file=u.file_name,
                       school=s.dfe if s else None, school_name=s.name if s else None,
                       collection=u.collection_key, window=u.window_number,
                       status=UploadStatus(u.status).label, pupils=u.pupil_count,
                       uploaded_by=u.uploaded_by,
                       received=f"{in_london(u.received_at):%d/%m/%Y %H:%M:%S}",
                       errors=len(u.errors or []) + (1 if u.reason else 0))
            for u, s in session.execute(query)]


def format_table(rows: list[HistoryRow]) -> str:
    if not rows:
        return "No uploads."
    headers = ["", "#", "File", "School", "Collection", "Win", "Status", "Pupils", "Uploaded by",
               "Received (UK)"]
    body = [["✔" if r.current else "", str(r.upload), r.file, r.school or "-", r.collection or "-",
             str(r.window or "-"), r.status, str(r.pupils), r.uploaded_by, r.received] for r in rows]
    widths = [max(len(str(x)) for x in col) for col in zip(headers, *body)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(line, widths)).rstrip() for line in [headers, *body]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
