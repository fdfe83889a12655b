"""Latest received wins: exactly one current upload per (school, collection, window, stream).

The current upload is recomputed from every valid upload of the key rather than patched, so the
answer is the same whatever order workers finish in, and deleting simply recomputes.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import School, Upload, UploadStatus

VALID = (UploadStatus.SUCCESSFUL, UploadStatus.OVERWRITTEN)


def lock_school(session: Session, school_id: int) -> None:
    """Serialise supersession per school: a row lock on PostgreSQL (SQLite already holds the write lock)."""
    session.execute(select(School.id).where(School.id == school_id).with_for_update())


def settle_current(session: Session, school_id: int, collection_key: str, window_number: int,
                   stream: str) -> Upload | None:
    """Mark the latest-received valid upload Successful and the others Overwritten; returns it.

    Call with the school locked, in the transaction that changed an upload of this key.
    """
    uploads = list(session.scalars(select(Upload).where(
        Upload.school_id == school_id, Upload.collection_key == collection_key,
        Upload.window_number == window_number, Upload.stream == stream,
        Upload.status.in_(VALID))))
    if not uploads:
        return None
    winner = max(uploads, key=lambda u: (u.received_at, u.id))
    for upload in uploads:
        if upload is not winner:
            upload.status = UploadStatus.OVERWRITTEN
            upload.superseded_by_id = winner.id
    session.flush()  # losers first, so the unique partial index never sees two current rows
    winner.status = UploadStatus.SUCCESSFUL
    winner.superseded_by_id = None
    session.flush()
    return winner
