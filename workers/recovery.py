"""Finds work whose message never reached (or was lost with) the broker and sends it again.

Uploads are committed before they are enqueued, so a crash in between leaves them Processing
with no message; the in-process broker loses its queue when the process ends.
"""
from __future__ import annotations

import logging
import threading
from datetime import timedelta

from sqlalchemy import select

from models import InboundMessage, OutgoingEmail, Submission, Upload, UploadStatus
from models.base import utcnow
from workers.app import App
from workers.enqueue import enqueue_email, enqueue_email_command, enqueue_validation
from workers.pipeline import answer_bulk_if_complete

log = logging.getLogger("ers.workers.recovery")
SWEEP_SECONDS = 60.0
SWEEP_AGE = timedelta(minutes=5)  # older than any work still in flight


def unsent_answers(app: App, upload_id: int) -> list[int]:
    """The answers of the upload's submission still pending.

    A job retried after its outcome was committed (the worker was killed, or the database went
    away, before it sent them) finds the upload done; it sends these itself rather than leave
    them to the periodic sweep, which waits minutes so as not to race work still in flight.
    """
    with app.sessions() as session:
        siblings = select(Upload.id).where(Upload.submission_id == select(Upload.submission_id)
                                           .where(Upload.id == upload_id).scalar_subquery())
        return list(session.scalars(select(OutgoingEmail.id).where(
            OutgoingEmail.upload_id.in_(siblings), OutgoingEmail.status == "pending")
            .order_by(OutgoingEmail.id)))


def requeue_stranded(app: App, *, include_enqueued: bool, older_than: timedelta = timedelta(0)) -> int:
    """Re-enqueue Processing uploads, unanswered email commands and pending emails;
    ``include_enqueued`` when the queue is new.

    Returns the number of messages sent. Actors are idempotent, so a spare message is harmless.
    """
    from workers.mailer import release_stale_claims

    release_stale_claims(app)
    cutoff = utcnow() - older_than
    with app.sessions() as session:
        query = select(Upload.id).where(Upload.status == UploadStatus.PROCESSING,
                                        Upload.received_at <= cutoff)
        if not include_enqueued:
            query = query.where(Upload.enqueued_at.is_(None))
        upload_ids = list(session.scalars(query))
        email_ids = list(session.scalars(select(OutgoingEmail.id).where(
            OutgoingEmail.status == "pending", OutgoingEmail.created_at <= cutoff)))
        unanswered = list(session.scalars(select(Submission.id).where(
            Submission.answered_at.is_(None), Submission.received_at <= cutoff)))
        commands = list(session.scalars(select(InboundMessage.id).where(
            InboundMessage.disposition == "command", InboundMessage.handled_at.is_(None),
            InboundMessage.received_at <= cutoff)))
    for upload_id in upload_ids:
        enqueue_validation(app, upload_id)
    for inbound_id in commands:
        enqueue_email_command(app, inbound_id)
    for submission_id in unanswered:  # a worker died between its outcome and the bulk answer
        email_ids += answer_bulk_if_complete(app, submission_id)
    enqueue_email(app, outbox_ids=email_ids)
    return len(upload_ids) + len(commands) + len(email_ids)


def sweep_until_stopped(app: App, stop: threading.Event, interval: float = SWEEP_SECONDS,
                        older_than: timedelta = SWEEP_AGE) -> None:
    """A long-running worker's safety net: what was stranded before it started at once, then
    what has been stranded for ``older_than``, every ``interval``, until ``stop`` is set.

    A sweep that fails (the broker or the database is away for a moment) is logged and tried
    again at the next interval: the worker's consumers reconnect by themselves, and a failing
    sweep must not end the process under them.
    """
    age = timedelta(0)  # until a sweep has gone through, everything stranded counts
    while True:
        try:
            requeue_stranded(app, include_enqueued=False, older_than=age)
            age = older_than
        except Exception:
            log.warning("recovery sweep failed; trying again in %.0f s", interval, exc_info=True)
        if stop.wait(interval):
            return
