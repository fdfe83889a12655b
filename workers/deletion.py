"""Deleting an upload: only its uploader may; the file goes, the history row stays."""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import InstrumentedAttribute, Session

from models import Report, Upload, UploadStatus
from models.audit import audit
from models.base import utcnow
from workers import answers
from workers.app import App
from workers.enqueue import enqueue_email
from workers.supersede import lock_school, settle_current


class NotAllowed(Exception):
    pass


def delete_upload(app: App, upload_id: int, by: str) -> Upload | None:
    """Delete and recompute the current upload; returns the upload now current (if any)."""
    with app.sessions.begin() as session:
        current, paths = delete_in(app, session, upload_id, by)
    remove_unused(app, paths)  # after commit: a failed commit must not lose the files
    enqueue_email(app, upload_ids=[upload_id])
    return current


def delete_in(app: App, session: Session, upload_id: int, by: str) -> tuple[Upload | None, list[str]]:
    """Delete within the caller's transaction: (the upload now current, the files to remove after
    the commit: the upload's own and those of reports made from it)."""
    by = by.strip().lower()
    upload = session.get(Upload, upload_id)
    if upload is not None and upload.school_id is not None:
        lock_school(session, upload.school_id)  # school before upload rows, as the pipeline does
    if upload is not None:
        upload = session.get(Upload, upload_id, with_for_update=True, populate_existing=True)
    if upload is None:
        raise NotAllowed(f"There is no upload #{upload_id}.")
    if upload.status == UploadStatus.DELETED:
        raise NotAllowed(f"Upload #{upload_id} was already deleted on "
                         f"{upload.deleted_at:%d/%m/%Y %H:%M} by {upload.deleted_by}.")
    if upload.uploaded_by != by:
        raise NotAllowed(f"Only the person who uploaded #{upload_id} ({upload.uploaded_by}) "
                         "can delete it.")
    upload.status = UploadStatus.DELETED
    upload.deleted_at, upload.deleted_by = utcnow(), by
    upload.superseded_by_id = None
    path, upload.stored_path = upload.stored_path, None
    session.flush()
    current = None
    if upload.school_id is not None and upload.window_number is not None:
        current = settle_current(session, upload.school_id, upload.collection_key,
                                 upload.window_number, upload.stream)
    withdrawn = withdraw_reports(session, upload)
    audit(session, by, "upload", upload.id, "deleted", now_current=current.id if current else None,
          reports_withdrawn=[r.id for r in withdrawn])
    answers.queue_deleted(session, app.settings, upload, current)
    return current, [p for p in [path] if p] + [f["copy"] for r in withdrawn for f in r.files]


def withdraw_reports(session: Session, upload: Upload) -> list[Report]:
    """Reports made from a deleted upload are withdrawn (the seeds: "will be removed");
    ``ers reports regenerate`` makes new ones from the upload now current."""
    reports = [r for r in session.scalars(select(Report).where(
        Report.kind == "school", Report.school_id == upload.school_id,
        Report.collection_key == upload.collection_key,
        Report.window_number == upload.window_number, Report.status != "withdrawn"))
        if upload.id in r.upload_ids]
    for report in reports:
        report.status, report.withdrawn_at = "withdrawn", utcnow()
    return reports


def remove_unused(app: App, paths: Iterable[str | None],
                  columns: Sequence[InstrumentedAttribute] = (Upload.stored_path,)) -> int:
    """Remove the files no row in ``columns`` still points at (the store keeps one file for equal
    bytes, so another row may hold the same path); the number removed.

    One query per column for all the paths, as the columns are not indexed. Deletion checks only
    uploads; retention, which also clears submissions and inbound messages, passes those too.
    """
    wanted = set(paths) - {None}
    if not wanted:
        return 0
    with app.sessions() as session:
        used = {path for column in columns
                for path in session.scalars(select(column).where(column.in_(wanted)))}
    return sum(_unlink(Path(path)) for path in wanted - used)


def _unlink(file: Path) -> bool:
    """Whether the file was there: one already gone (removed by another run) is not an error."""
    try:
        file.unlink()
    except FileNotFoundError:
        return False
    return True
