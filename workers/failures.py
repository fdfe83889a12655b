"""Jobs that failed on every attempt: recorded for a person to see and re-run, and the sender told.

Dramatiq retries a failing job with backoff; when the retries are spent it hands the message to
the ``record_failure`` actor (its ``on_retry_exhausted`` option). Here that becomes a row an
operator lists and re-runs (``ers failures list|retry``), like Mailman's shunt queue, and an
upload's uploader hears that the file is being looked at instead of waiting in silence. The upload
stays Processing: the school's history says so, and a re-run picks it up where it was.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import OutgoingEmail, Upload, UploadStatus
from models.audit import audit
from models.base import utcnow
from models.operations import FailedJob
from workers import answers
from workers.app import App


def error_of(message: dict) -> str:
    """The last line of the job's traceback: the exception, without SQL parameters or the
    traceback's lines of code (either may quote pupil data)."""
    lines = [line for line in (message.get("options", {}).get("traceback") or "").splitlines()
             if line.strip()]
    last = lines[-1] if lines else "no traceback recorded"
    return last.split("[SQL:")[0].split("[parameters:")[0].strip()[:500]


def record(app: App, message: dict, attempts: int) -> list[int]:
    """Keep the failed job; returns the outbox rows to send (the uploader's "being looked at")."""
    actor, args = message["actor_name"], list(message.get("args", []))
    with app.sessions.begin() as session:
        job = FailedJob(actor=actor, args=args, message_id=message["message_id"],
                        attempts=attempts, error=error_of(message), failed_at=utcnow())
        session.add(job)
        session.flush()
        audit(session, "worker", "job", job.id, "failed", job=actor, args=args)
        email = _tell_uploader(session, app, args[0]) if actor == "validate_upload" and args else None
        return [email.id] if email else []


def _tell_uploader(session: Session, app: App, upload_id: int):
    """Once per upload: a file that fails again after a re-run was already said to be looked at
    (and a second "looked-at" answer would reuse the first one's Message-ID)."""
    upload = session.get(Upload, upload_id)
    if upload is None or upload.status != UploadStatus.PROCESSING:
        return None
    told = session.scalar(select(OutgoingEmail.id).where(OutgoingEmail.upload_id == upload_id,
                                                         OutgoingEmail.kind == "looked-at"))
    return None if told is not None else answers.queue_looked_at(session, app.settings, upload)


def listed(app: App, include_retried: bool = False) -> list[FailedJob]:
    query = select(FailedJob).order_by(FailedJob.failed_at.desc(), FailedJob.id.desc())
    if not include_retried:
        query = query.where(FailedJob.retried_at.is_(None))
    with app.sessions() as session:
        return list(session.scalars(query))


def retry(app: App, job_ids: list[int] | None, by: str) -> list[FailedJob]:
    """Mark these failed jobs (all not yet re-run, when None) re-run and hand them to the broker
    again. Jobs check their own state first, so re-running one that was done since is harmless."""
    from workers.enqueue import enqueue_job

    with app.sessions.begin() as session:
        query = select(FailedJob).where(FailedJob.retried_at.is_(None)).with_for_update()
        if job_ids is not None:
            query = query.where(FailedJob.id.in_(job_ids))
        jobs = list(session.scalars(query.order_by(FailedJob.id)))
        for job in jobs:
            job.retried_at, job.retried_by = utcnow(), by
            audit(session, by, "job", job.id, "retried", job=job.actor)
    for job in jobs:  # after the commit: a job re-run twice is harmless, one never re-run is not
        enqueue_job(app, job.actor, job.args)
    return jobs
