"""`kill -9` of an `ers worker` in the middle of validation: the files it held go back to
RabbitMQ, a second worker checks them, and every file is answered exactly once."""
from __future__ import annotations

import signal

import pytest
from sqlalchemy import create_engine, func, select, text

from conftest import DALE
from intake.folder import scan_once
from models import OutgoingEmail, Upload, UploadStatus
from tests.faults.batch import batch
from tests.faults.channels import drop
from helpers import wait_until
from tests.faults.ledger import expected

pytestmark = pytest.mark.services


def test_a_worker_killed_mid_validation_leaves_every_file_answered_once_by_the_next_worker(stack):
    app = stack.app
    sent = batch(12, invalid_every=5)  # Dale's among them: files 3 and 8
    folder = app.settings.data_dir / "drop"
    drop(folder, sent)
    assert len(scan_once(app, folder, settle_seconds=0).received) == len(sent)

    # Holding Dale's row lock stops a worker inside process_upload, after reading and checking
    # the file and before recording the outcome: both its threads wait there on Dale's files.
    locker = create_engine(app.settings.database_url)
    with locker.connect() as held:
        held.execute(text("SELECT id FROM schools WHERE dfe = :dfe FOR UPDATE"), {"dfe": DALE})
        first = stack.worker("worker-1")

        def both_threads_in_validation() -> bool:
            with locker.connect() as probe:
                waiting = probe.scalar(text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock'"))
            with app.sessions() as session:  # no answer half handed to the relay (another fault)
                sending = session.scalar(select(func.count()).select_from(OutgoingEmail)
                                         .where(OutgoingEmail.status == "sending"))
            return waiting == 2 and sending == 0
        try:
            wait_until(both_threads_in_validation, 30, "both worker threads to be validating")
        finally:
            first.send_signal(signal.SIGKILL)
            first.wait(10)
        held.rollback()
    locker.dispose()
    with app.sessions() as session:
        unfinished = session.scalar(select(func.count()).select_from(Upload).where(
            Upload.status == UploadStatus.PROCESSING))
    assert unfinished >= 2  # the kill came mid-validation: Dale's two files at least

    stack.worker("worker-2")
    ledger = stack.ledger(sent)
    assert ledger == expected(sent), ledger.report() + stack.tails()
