"""Data protection: raw files and pupil-level data are deleted a set time after a collection's
final close (ERS_RETENTION_DAYS), by ``ers retention run`` and on every scheduler tick.

What goes is everything about a pupil: the files schools sent (and the emails that carried
them), pupil result rows, report PDFs and trust bundles, and the annotated error workbooks sent
back. What stays is the history a school or an auditor needs: who sent which file when, its
status and counts, its errors (messages and row numbers, no pupil data), and which reports were
made and sent. Files sent before a collection was known (unreadable ones) go the same time after
they arrived. Each collection is purged once, and the purge is recorded and audited.
"""
from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from models import InboundMessage, OutgoingEmail, PupilResult, Report, Submission, Upload
from models.audit import audit
from models.base import utcnow
from models.operations import Purge
from workers.app import App
from workers.deletion import remove_unused

BATCH = 500  # uploads per transaction: a national collection is never in memory at once
# Rows that may hold a stored file: one is kept while any of them still points at it.
REFERENCES = (Upload.stored_path, Submission.stored_path, InboundMessage.stored_path)


def run(app: App, now: datetime | None = None) -> list[str]:
    """Purge every collection now due, and unplaced files as old; a line for each that was."""
    now = now or utcnow()
    cutoff = now - timedelta(days=app.settings.retention_days)
    with app.sessions() as session:
        done = set(session.scalars(select(Purge.collection_key)))
    lines = []
    for collection in app.collections.values():
        if collection.final_close <= cutoff and collection.key not in done:
            counts = _purge(app, Upload.collection_key == collection.key, collection.key)
            lines.append(f"{collection.key}: raw files and pupil-level data deleted "
                         f"({_describe(counts)}), {app.settings.retention_days:g} days after its "
                         "final close")
    unplaced = _purge(app, (Upload.collection_key.is_(None)) & (Upload.received_at <= cutoff)
                      & (Upload.stored_path.is_not(None)), None)
    if unplaced["uploads"]:
        lines.append(f"files never placed in a collection: {_describe(unplaced)}")
    return lines


def _describe(counts: Counter) -> str:
    return (f"{counts['uploads']} upload(s), {counts['pupil_rows']} pupil row(s), "
            f"{counts['reports']} report(s), {counts['files']} file(s)")


def _purge(app: App, which, collection_key: str | None) -> Counter:
    counts: Counter = Counter()
    last = 0
    while True:
        paths: set[str] = set()
        with app.sessions.begin() as session:
            uploads = list(session.scalars(select(Upload).where(which, Upload.id > last)
                                           .order_by(Upload.id).limit(BATCH).with_for_update()))
            if not uploads:
                break
            last = uploads[-1].id
            _purge_uploads(session, uploads, paths, counts)
        counts["files"] += remove_unused(app, paths, REFERENCES)
    if collection_key is not None:
        last = 0
        while True:
            paths = set()
            with app.sessions.begin() as session:
                reports = list(session.scalars(select(Report).where(
                    Report.collection_key == collection_key, Report.id > last)
                    .order_by(Report.id).limit(BATCH)))
                if not reports:
                    session.add(Purge(collection_key=collection_key, purged_at=utcnow(),
                                      detail=dict(counts)))
                    audit(session, "retention", "collection", collection_key, "purged", **counts)
                    break
                last = reports[-1].id
                for report in (r for r in reports if r.files):
                    paths |= {f[k] for f in report.files for k in ("path", "copy") if f.get(k)}
                    report.files = [{"name": f.get("name"), "purged": True} for f in report.files]
                    counts["reports"] += 1
            counts["files"] += remove_unused(app, paths, REFERENCES)
    return counts


def _purge_uploads(session: Session, uploads: list[Upload], paths: set[str], counts: Counter) -> None:
    ids = [u.id for u in uploads]
    counts["pupil_rows"] += session.execute(
        delete(PupilResult).where(PupilResult.upload_id.in_(ids))).rowcount
    for upload in uploads:
        paths.add(upload.stored_path)
        upload.stored_path = None
        audit(session, "retention", "upload", upload.id, "purged")
    counts["uploads"] += len(uploads)
    for email in session.scalars(select(OutgoingEmail).where(OutgoingEmail.upload_id.in_(ids))):
        if email.attachments:
            paths |= {a["path"] for a in email.attachments if a.get("path")}
            email.attachments = [{**a, "path": None, "purged": True} for a in email.attachments]
    submission_ids = {u.submission_id for u in uploads}
    still_used = set(session.scalars(select(Upload.submission_id).where(
        Upload.submission_id.in_(submission_ids), Upload.stored_path.is_not(None))))
    unused = submission_ids - still_used
    for submission in session.scalars(select(Submission).where(Submission.id.in_(unused))):
        paths.add(submission.stored_path)
        submission.stored_path = None
    for message in session.scalars(select(InboundMessage).where(
            InboundMessage.submission_id.in_(unused))):
        paths.add(message.stored_path)
        message.stored_path = None
