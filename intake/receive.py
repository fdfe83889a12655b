"""The one step every channel ends in: store the bytes, record the submission, commit, enqueue.

A channel may move, flag or delete its source only after ``receive`` returns, because only then
are the bytes on disk, the rows committed and the broker's confirm received (invariant 1).
Calling it again for the same source returns the earlier submission (invariant 2).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from intake import store
from intake.archive import members
from models import Submission, Upload, UploadStatus
from models.audit import audit
from models.base import utcnow
from workers import answers
from workers.app import App
from workers.enqueue import enqueue_email, enqueue_validation
from workers.pipeline import is_known_sender


class NotAContact(Exception):
    """The sender is not registered for any school or trust; nothing is accepted from them."""


@dataclass
class Receipt:
    submission_id: int
    upload_ids: list[int]
    duplicate: bool
    to_check: list[int] = field(default_factory=list)   # a new submission's files to validate
    to_send: list[int] = field(default_factory=list)    # ... and the answers it queued


def receive(app: App, data: bytes, *, file_name: str, sender: str, channel: str,
            source_ref: str | None = None, received_at: datetime | None = None) -> Receipt:
    """One item that arrived. A zip of several schools' files becomes one upload per file."""
    files = expand(app, [(file_name, data)])
    return receive_files(app, files, sender=sender, channel=channel, source_ref=source_ref,
                         received_at=received_at,
                         raw=(file_name, data) if files != [(file_name, data)] else None)


def expand(app: App, files: list[tuple[str, bytes]]) -> list[tuple[str, bytes]]:
    """Each bulk archive replaced by its members; workbooks and oversized files stay whole."""
    expanded = []
    for name, data in files:
        inner = None if len(data) > app.settings.max_file_bytes else members(data, app.settings.limits)
        expanded.extend(inner or [(name, data)])
    return expanded


def receive_files(app: App, files: list[tuple[str, bytes]], *, sender: str, channel: str,
                  source_ref: str | None = None, received_at: datetime | None = None,
                  raw: tuple[str, bytes] | None = None, message_id: str | None = None) -> Receipt:
    """Several files in one submission (a trust's bulk upload): one upload per file.

    ``raw`` is the item they came in (an archive, an email message), stored as well;
    ``message_id`` is the email's, so every answer threads to it.
    """
    sender = sender.strip().lower()
    received_at = received_at or utcnow()
    digest = store.content_hash(raw[1]) if raw else (
        store.content_hash(files[0][1]) if len(files) == 1
        else store.content_hash("".join(store.content_hash(d) for _, d in files).encode()))
    with app.sessions.begin() as session:
        earlier = _earlier_submission(session, channel, source_ref, sender, digest)
        if earlier is not None:
            receipt = Receipt(earlier.id, [u.id for u in earlier.uploads], duplicate=True)
        else:
            if not is_known_sender(session, sender):
                raise NotAContact(f"{sender} is not a registered contact of any school or trust.")
            receipt = _record(app, session, files, raw, digest, sender=sender, channel=channel,
                              source_ref=source_ref, received_at=received_at, message_id=message_id)
    # Committed: now hand the work to the broker. A duplicate whose enqueue was lost is re-sent.
    if receipt.duplicate:
        _enqueue_pending(app, receipt)
    elif receipt.to_check:  # what to hand over is known from the transaction itself
        # The receipt rides with the first file's job, whose worker sends it before checking:
        # a message to the broker, and to a worker, fewer per upload.
        first, *others = receipt.to_check
        enqueue_validation(app, first, answers_first=receipt.to_send)
        for upload_id in others:
            enqueue_validation(app, upload_id)
    else:  # nothing to check (refused at once): the receipt and the refusal go straight out
        enqueue_email(app, outbox_ids=receipt.to_send)
    return receipt


# Built once, as the upload path's statements are (workers/pipeline.py).
_SAME_SOURCE = select(Submission).where(Submission.channel == bindparam("channel"),
                                        Submission.source_ref == bindparam("source_ref"))
_SENDERS_LATEST = (select(Submission).where(Submission.sender == bindparam("sender"))
                   .order_by(Submission.received_at.desc(), Submission.id.desc()).limit(1))


def _earlier_submission(session: Session, channel: str, source_ref: str | None, sender: str,
                        digest: str) -> Submission | None:
    """The same source again, or the sender's latest submission repeated byte for byte.

    Only the sender's *latest* counts, so sending A, then B, then A again makes A current.
    """
    if source_ref:
        found = session.scalar(_SAME_SOURCE, {"channel": channel, "source_ref": source_ref})
        if found is not None:
            return found
    latest = session.scalar(_SENDERS_LATEST, {"sender": sender})
    return latest if latest is not None and latest.content_hash == digest else None


def _record(app: App, session: Session, files: list[tuple[str, bytes]],
            raw: tuple[str, bytes] | None, digest: str, *, sender: str, channel: str,
            source_ref: str | None, received_at: datetime, message_id: str | None) -> Receipt:
    submission_name, submission_bytes = raw or files[0]
    submission = Submission(channel=channel, sender=sender, received_at=received_at,
                            source_ref=source_ref, file_name=submission_name, content_hash=digest,
                            size=len(submission_bytes), stored_path=None, message_id=message_id)
    if raw:
        submission.stored_path = str(store.put(app.settings.store_dir, raw[1])[1])
    uploads, refused = [], []
    for name, data in files:
        too_large = len(data) > app.settings.max_file_bytes
        stored_path = None if too_large else str(store.put(app.settings.store_dir, data)[1])
        upload = Upload(submission=submission, file_name=name, content_hash=store.content_hash(data),
                        stored_path=stored_path, size=len(data), uploaded_by=sender,
                        received_at=received_at, status=UploadStatus.PROCESSING, errors=[],
                        warnings=[])
        if too_large:
            upload.status, upload.validated_at = UploadStatus.ERROR, received_at
            upload.reason = (f"The file is {len(data) / 1e6:.1f} MB; the largest file accepted is "
                             f"{app.settings.max_file_bytes / 1e6:.1f} MB. Please send only the "
                             "results template.")
            refused.append(upload)
        uploads.append(upload)
    if submission.stored_path is None and len(files) == 1:
        submission.stored_path = uploads[0].stored_path
    session.add(submission)
    session.add_all(uploads)
    session.flush()
    for upload in uploads:
        audit(session, sender, "upload", upload.id, "received", channel=channel,
              file_name=upload.file_name, size=upload.size, content_hash=upload.content_hash,
              submission=submission.id)
    emails = [answers.queue_receipt(session, app.settings, uploads)]
    if refused and len(uploads) == 1:
        emails.append(answers.queue_result(session, app.settings, refused[0]))
    elif refused and not any(u.status == UploadStatus.PROCESSING for u in uploads):
        submission.answered_at = received_at
        emails.append(answers.queue_bulk_result(session, app.settings, submission))
    return Receipt(submission.id, [u.id for u in uploads], duplicate=False,
                   to_check=[u.id for u in uploads if u.status == UploadStatus.PROCESSING],
                   to_send=[e.id for e in emails if e is not None])


def _enqueue_pending(app: App, receipt: Receipt) -> None:
    with app.sessions() as session:
        waiting = list(session.scalars(select(Upload.id).where(
            Upload.id.in_(receipt.upload_ids), Upload.status == UploadStatus.PROCESSING,
            Upload.enqueued_at.is_(None))))
    for upload_id in waiting:
        enqueue_validation(app, upload_id)
    enqueue_email(app, upload_ids=receipt.upload_ids)
