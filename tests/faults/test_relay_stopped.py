"""The SMTP relay (Postfix) stopped while answers are queued: the worker checks every file, each
answer fails and waits in the outbox with its backoff; once the relay is back every answer is
sent exactly once and reaches each recipient once."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from intake.folder import scan_once
from models import OutgoingEmail
from tests.faults.batch import batch
from tests.faults.channels import drop
from helpers import wait_until
from tests.faults.ledger import expected

pytestmark = pytest.mark.services


def test_answers_queued_while_the_relay_is_stopped_are_each_sent_once_when_it_is_back(stack):
    app = stack.app
    sent = batch(12, invalid_every=4)
    folder = app.settings.data_dir / "drop"
    stack.worker()
    stack.services.stop("postfix")
    try:
        drop(folder, sent)
        assert len(scan_once(app, folder, settle_seconds=0).received) == len(sent)

        def every_answer_deferred() -> bool:
            with app.sessions() as session:
                tried = session.scalar(select(func.count()).select_from(OutgoingEmail).where(
                    OutgoingEmail.status == "pending", OutgoingEmail.attempts >= 1))
            return tried == 2 * len(sent)
        wait_until(every_answer_deferred, 30, "every answer to be tried and deferred")
    finally:
        stack.services.start("postfix")
    ledger = stack.ledger(sent)
    assert ledger == expected(sent), ledger.report() + stack.tails()
    with app.sessions() as session:
        errors = list(session.scalars(select(OutgoingEmail.last_error)))
    assert errors == [None] * len(errors)  # each sent in the end (a success clears the error)
