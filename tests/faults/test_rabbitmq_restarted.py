"""RabbitMQ restarted in the middle of a burst of submissions through every channel: a publish
that fails raises, so the intake leaves its source in place and the next round sends the upload
already committed; the worker's consumers reconnect by themselves; every file is answered
exactly once."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from models import Upload
from tests.faults.burst import Burst
from tests.faults.ledger import expected
from helpers import wait_until

pytestmark = pytest.mark.services


def never_enqueued(app) -> int:
    with app.sessions() as session:
        return session.scalar(select(func.count()).select_from(Upload)
                              .where(Upload.enqueued_at.is_(None)))


def test_rabbitmq_restarted_during_a_burst_loses_nothing_and_answers_each_file_once(stack):
    burst = Burst(stack, per_channel=12)
    worker = stack.worker()
    burst.start_intakes()
    burst.send(0)
    wait_until(burst.every_intake_took_one, 30, "every intake to take a file")
    stack.services.stop("rabbitmq")
    try:
        burst.send(1)  # recorded and committed, but the publish fails
        wait_until(lambda: never_enqueued(stack.app) >= 3, 30, "uploads to wait for the broker")
    finally:
        stack.services.start("rabbitmq")
    burst.send(2)
    ledger = stack.ledger(burst.sent)
    assert ledger == expected(burst.sent), ledger.report() + stack.tails()
    assert burst.intakes_alive() and worker.poll() is None, stack.tails()  # all kept running
    assert burst.sources_left() == {"folder": 0, "mailbox": 0, "sftp": 0}
    assert "Consumer encountered a connection error" in stack.output(worker)  # it met the restart
