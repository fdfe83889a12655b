"""Confirming a submission (the KS4 seed's terms step): only then may a valid upload become current."""
from __future__ import annotations

from sqlalchemy.orm import Session

from config.collections import in_london
from models import Upload, UploadStatus
from workers.app import App
from workers.enqueue import enqueue_email
from workers.pipeline import make_current
from workers.supersede import lock_school


class CannotConfirm(Exception):
    pass


def confirm_upload(app: App, upload_id: int, by: str) -> Upload:
    with app.sessions.begin() as session:
        upload = confirm_in(app, session, upload_id, by)
    enqueue_email(app, upload_ids=[upload_id])
    return upload


def confirm_in(app: App, session: Session, upload_id: int, by: str) -> Upload:
    """Confirm within the caller's transaction (an emailed CONFIRM commits its reply with it)."""
    by = by.strip().lower()
    upload = session.get(Upload, upload_id)
    if upload is None:
        raise CannotConfirm(f"There is no upload #{upload_id}.")
    if upload.school_id is not None:
        lock_school(session, upload.school_id)
    upload = session.get(Upload, upload_id, with_for_update=True, populate_existing=True)
    if upload.status != UploadStatus.AWAITING:
        raise CannotConfirm(f"Upload #{upload_id} is {UploadStatus(upload.status).label}, "
                            "not awaiting confirmation.")
    if upload.uploaded_by != by:
        raise CannotConfirm(f"Only the person who uploaded #{upload_id} ({upload.uploaded_by}) "
                            "can confirm it.")
    collection = app.collections[upload.collection_key]
    window = collection.window(upload.window_number)
    make_current(app, session, upload, collection.name,
                 f"{in_london(window.reports_by):%A %d %B %Y}", actor=by, kind="confirmed")
    return upload
