"""Hands committed work to the broker and records that it did, so stranded work can be found."""
from __future__ import annotations

from sqlalchemy import ColumnElement, bindparam, select, update

from models import OutgoingEmail, Upload
from models.base import utcnow
from workers.app import App


UPLOADS = Upload.__table__  # marked with a plain statement: the ORM's session doubles its cost
_ENQUEUED = (update(UPLOADS).where(UPLOADS.c.id == bindparam("upload_id"), UPLOADS.c.enqueued_at.is_(None))
             .values(enqueued_at=bindparam("now")))  # built once, as the upload path's statements are


def enqueue_validation(app: App, upload_id: int, answers_first: list[int] = ()) -> None:
    """Hand an upload to a worker, with the outbox rows it sends before checking the file (the
    receipt: one message to the broker, not two, per upload)."""
    from workers import actors

    # Returns once the broker confirmed (RabbitMQ); the time limit bounds one file's checking.
    actors.validate_upload.send_with_options(
        args=(upload_id, list(answers_first)), time_limit=app.settings.limits.max_seconds * 1000)
    with app.engine.begin() as connection:
        connection.execute(_ENQUEUED, {"upload_id": upload_id, "now": utcnow()})


def enqueue_email(app: App, *, upload_ids: list[int] | None = None,
                  outbox_ids: list[int] | None = None) -> None:
    """Send these outbox rows, or every pending one (of these uploads); sending is idempotent."""
    from workers import actors

    if outbox_ids is not None and upload_ids is None:
        ids = sorted(outbox_ids)  # rows the caller has just committed: no need to look them up
    else:
        query = select(OutgoingEmail.id).where(OutgoingEmail.status == "pending")
        if upload_ids is not None:
            query = query.where(OutgoingEmail.upload_id.in_(upload_ids))
        if outbox_ids is not None:
            query = query.where(OutgoingEmail.id.in_(outbox_ids))
        with app.sessions() as session:
            ids = list(session.scalars(query.order_by(OutgoingEmail.id)))
    for outbox_id in ids:
        actors.send_email.send(outbox_id)


def enqueue_job(app: App, actor_name: str, args: list) -> None:
    """A job again, by its actor's name (``ers failures retry``), with the options it was sent with."""
    import dramatiq

    if actor_name == "validate_upload":
        enqueue_validation(app, *args)
    else:
        dramatiq.get_broker().get_actor(actor_name).send(*args)


def enqueue_email_command(app: App, inbound_id: int) -> None:
    """An email that is a command (or had nothing usable attached): a worker answers it."""
    from workers import actors

    actors.answer_email.send(inbound_id)


REPORTS_PER_JOB = 10  # a job's queries and transaction are shared by this many schools


def enqueue_reports(app: App, school_reports: list[int] = (), trust_reports: list[int] = ()) -> None:
    """Hand report jobs to the broker and record it; the scheduler re-sends any left stranded."""
    from models import Report
    from workers import actors

    for start in range(0, len(school_reports), REPORTS_PER_JOB):
        actors.make_school_reports.send(list(school_reports[start:start + REPORTS_PER_JOB]))
    for report_id in trust_reports:
        actors.make_trust_bundle.send(report_id)
    ids = [*school_reports, *trust_reports]
    for start in range(0, len(ids), REPORTS_BATCH):  # statements of bounded size
        with app.sessions.begin() as session:
            session.execute(update(Report).where(Report.id.in_(ids[start:start + REPORTS_BATCH]))
                            .values(enqueued_at=utcnow()))


REPORTS_BATCH = 1000  # report ids looked up, handed over and marked at a time


def enqueue_report_batches(app: App, *where: ColumnElement[bool]) -> int:
    """``enqueue_reports`` for every pending report matching ``where``, a batch at a time in id
    order: a national window has 16,000, and neither their ids nor one statement naming them
    all need be held at once. How many were sent."""
    from models import Report

    sent, after = 0, 0  # ids start at 1
    while True:
        with app.sessions() as session:
            batch = session.execute(select(Report.id, Report.kind).where(
                Report.status == "pending", Report.id > after, *where)
                .order_by(Report.id).limit(REPORTS_BATCH)).all()
        if not batch:
            return sent
        enqueue_reports(app, [i for i, kind in batch if kind == "school"],
                        [i for i, kind in batch if kind == "trust"])
        sent, after = sent + len(batch), batch[-1].id
