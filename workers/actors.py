"""Thin actors: decode an id, call one domain function, hand follow-on work to the broker."""
from __future__ import annotations

import dramatiq
from dramatiq.middleware import TimeLimitExceeded

from workers import broker as _broker  # noqa: F401  (installs the in-process broker first)
from workers import mailer, pipeline
from workers.app import current
from workers.enqueue import enqueue_email


@dramatiq.actor(queue_name="uploads", max_retries=5, min_backoff=1_000, max_backoff=60_000,
                time_limit=300_000)
def validate_upload(upload_id: int) -> None:
    app = current()
    try:
        outbox_ids = pipeline.process_upload(app, upload_id)
    except TimeLimitExceeded:
        outbox_ids = pipeline.give_up(app, upload_id, (
            f"Checking the file took longer than {app.settings.limits.max_seconds} seconds, so it "
            "was stopped. Please check it is the results template with one school's pupils, and "
            "send it again."))
    if outbox_ids:
        enqueue_email(app, outbox_ids=outbox_ids)


@dramatiq.actor(queue_name="outbox", max_retries=20, min_backoff=2_000, max_backoff=300_000)
def send_email(outbox_id: int) -> None:
    mailer.send_outbox_email(current(), outbox_id)


ALL = [validate_upload, send_email]
