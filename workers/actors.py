"""Thin actors: decode an id, call one domain function, hand follow-on work to the broker.

A job sends its own answers before it ends (``answer``): the usual answer then costs no second
message, and reaches the school sooner. Only an answer the relay cannot take now goes to the
outbox queue, whose retries wait between attempts.
"""
from __future__ import annotations

import dramatiq
from dramatiq.middleware import TimeLimitExceeded

from workers import broker as _broker  # noqa: F401  (installs the in-process broker first)
from workers.broker import is_embedded
from workers import email_commands, failures, mailer, pipeline, school_reports, trust_bundles
from workers.app import current
from workers.enqueue import enqueue_reports
from workers.recovery import unsent_answers

RETRY_AFTER_MS = 2_000  # the outbox queue's first wait between attempts


# A job that fails on every attempt goes to ``record_failure`` (Dramatiq's on_retry_exhausted).
EXHAUSTED = "record_failure"


@dramatiq.actor(queue_name="uploads", max_retries=5, min_backoff=1_000, max_backoff=60_000,
                time_limit=300_000, on_retry_exhausted=EXHAUSTED)
def validate_upload(upload_id: int, answers_first: list[int] = ()) -> None:
    """Check one upload and answer. ``answers_first`` (its receipt) is sent before the file is
    checked, so a sender hears that it arrived however long checking takes."""
    app = current()
    answer(app, answers_first)
    try:
        outbox_ids = pipeline.process_upload(app, upload_id)
    except TimeLimitExceeded:
        outbox_ids = pipeline.give_up(app, upload_id, (
            f"Checking the file took longer than {app.settings.limits.max_seconds} seconds, so it "
            "was stopped. Please check it is the results template with one school's pupils, and "
            "send it again."))
    # Done before (a retry after a crash or a failed send): its answers may still be pending.
    answer(app, unsent_answers(app, upload_id) if outbox_ids is None else outbox_ids)


def answer(app, outbox_ids: list[int]) -> None:
    """Send these just-committed outbox rows now. A crash before they are sent leaves them
    pending, and the scheduler's recovery sends them (as it does a lost ``send_email``)."""
    for outbox_id in outbox_ids:
        try:
            mailer.send_outbox_email(app, outbox_id)
        except mailer.TryLater:
            if not is_embedded(dramatiq.get_broker()):  # in-process: `ers outbox` sends it
                send_email.send_with_options(args=(outbox_id,), delay=RETRY_AFTER_MS)


@dramatiq.actor(queue_name="commands", max_retries=5, min_backoff=1_000, max_backoff=60_000,
                on_retry_exhausted=EXHAUSTED)
def answer_email(inbound_id: int) -> None:
    app = current()
    answer(app, email_commands.answer_message(app, inbound_id))


# The relay decides when to give up (ERS_SEND_ATTEMPTS); retries here only pace the attempts.
@dramatiq.actor(queue_name="outbox", max_retries=1_000, min_backoff=RETRY_AFTER_MS,
                max_backoff=300_000, on_retry_exhausted=EXHAUSTED)
def send_email(outbox_id: int) -> None:
    try:
        mailer.send_outbox_email(current(), outbox_id)
    except mailer.TryLater as exc:
        if is_embedded(dramatiq.get_broker()):
            return  # nothing would wait for a retry in-process: the next run sends it (ers outbox)
        raise dramatiq.Retry(str(exc)) from exc  # backoff as configured, without a traceback


def _follow_on(made: school_reports.Made) -> None:
    app = current()
    answer(app, made.outbox_ids)
    if made.trust_reports:
        enqueue_reports(app, trust_reports=made.trust_reports)


@dramatiq.actor(queue_name="reports", max_retries=5, min_backoff=1_000, max_backoff=60_000,
                on_retry_exhausted=EXHAUSTED)
def make_school_reports(report_ids: list[int]) -> None:
    _follow_on(school_reports.make_school_reports(current(), report_ids))


@dramatiq.actor(queue_name="reports", max_retries=5, min_backoff=1_000, max_backoff=60_000,
                on_retry_exhausted=EXHAUSTED)
def make_trust_bundle(report_id: int) -> None:
    _follow_on(trust_bundles.make_trust_bundle(current(), report_id))


@dramatiq.actor(queue_name="failures", actor_name=EXHAUSTED)
def record_failure(message: dict, retry_info: dict) -> None:
    """Keep a job that failed on every attempt for ``ers failures`` and tell its sender."""
    app = current()
    answer(app, failures.record(app, message, attempts=retry_info.get("retries", 0) + 1))


ALL = [validate_upload, answer_email, send_email, make_school_reports, make_trust_bundle,
       record_failure]
