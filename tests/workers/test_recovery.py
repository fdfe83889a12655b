"""Recovery after a fault: a retried job sends the answers its first run committed, an answer
the relay took is recorded even across a database restart, and the worker's sweep outlives a
sweep that fails. (tests/faults runs the same faults on the real services.)"""
from __future__ import annotations

import threading
import time
from datetime import timedelta
from pathlib import Path

import dramatiq
import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from config.settings import Settings
from conftest import ACORN, contact_of
from helpers import CLOSED_BROKER, run_queued_jobs, valid_ks1
from intake.receive import receive
from models import OutgoingEmail, Upload, UploadStatus
from workers import mailer, pipeline
from workers.app import App
from workers.broker import install as install_broker
from workers.broker import make_broker
from workers.recovery import sweep_until_stopped, unsent_answers



def statuses(app) -> dict[str, str]:
    with app.sessions() as session:
        return dict(session.execute(select(OutgoingEmail.kind, OutgoingEmail.status)).all())


def test_a_validation_job_run_again_after_its_outcome_was_committed_sends_the_unsent_result(
        app, stub_broker):
    [upload_id] = receive(app, valid_ks1(ACORN), file_name="a.xlsx", sender=contact_of(ACORN),
                          channel="cli").upload_ids
    # The first run recorded the outcome and its result, then died before sending it.
    [result] = pipeline.process_upload(app, upload_id)
    assert statuses(app) == {"receipt": "pending", "result": "pending"}
    assert result in unsent_answers(app, upload_id) and len(unsent_answers(app, upload_id)) == 2
    run_queued_jobs(stub_broker)  # the job again, as RabbitMQ redelivers it
    assert statuses(app) == {"receipt": "sent", "result": "sent"}
    assert unsent_answers(app, upload_id) == []


def test_an_answer_the_relay_took_is_recorded_sent_once_the_database_is_back(
        app, stub_broker, monkeypatch):
    receive(app, valid_ks1(ACORN), file_name="a.xlsx", sender=contact_of(ACORN), channel="cli")
    with app.sessions() as session:
        receipt = session.scalar(select(OutgoingEmail.id).where(OutgoingEmail.kind == "receipt"))
    relayed, settle, down = [], mailer._settle, [2]

    def settle_while_the_database_restarts(app, outbox_id, status, *args, **kwargs):
        if status == "sent" and down[0]:
            down[0] -= 1
            raise OperationalError("UPDATE outgoing_emails", {}, Exception("server closed the connection"))
        return settle(app, outbox_id, status, *args, **kwargs)
    monkeypatch.setattr(mailer, "_settle", settle_while_the_database_restarts)
    monkeypatch.setattr(mailer, "SETTLE_WAITS", (0.01, 0.01, 0.01))

    class Relay:
        def send(self, message, outbox_id):
            relayed.append(message["Message-ID"])
    assert mailer.send_outbox_email(app, receipt, Relay()) is True
    assert len(relayed) == 1 and statuses(app)["receipt"] == "sent"
    assert mailer.send_outbox_email(app, receipt, Relay()) is False  # never sent again


def test_a_file_whose_publish_failed_is_sent_by_the_first_sweep_of_a_worker(app, stub_broker):
    install_broker(make_broker(CLOSED_BROKER))
    try:
        with pytest.raises(dramatiq.errors.BrokerConnectionError):
            receive(app, valid_ks1(ACORN), file_name="a.xlsx", sender=contact_of(ACORN),
                    channel="cli")
    finally:
        install_broker(stub_broker)
    stop = threading.Event()
    stop.set()  # one sweep, the one a worker makes as it starts
    sweep_until_stopped(app, stop)
    run_queued_jobs(stub_broker)
    with app.sessions() as session:
        assert [u.status for u in session.scalars(select(Upload))] == [UploadStatus.SUCCESSFUL]
    assert statuses(app) == {"receipt": "sent", "result": "sent"}


def test_the_worker_sweep_outlives_sweeps_that_fail_and_stops_when_told(tmp_path: Path, caplog):
    unreachable = App(Settings(data_dir=tmp_path, database_url=(
        "postgresql+psycopg://ers:ers@127.0.0.1:1/ers?connect_timeout=2")))
    stop = threading.Event()
    sweeper = threading.Thread(target=sweep_until_stopped, args=(unreachable, stop),
                               kwargs={"interval": 0.05, "older_than": timedelta(minutes=5)})
    with caplog.at_level("WARNING", logger="ers.workers.recovery"):
        sweeper.start()
        try:
            deadline = time.monotonic() + 20
            while len(caplog.records) < 3 and time.monotonic() < deadline:
                assert sweeper.is_alive()
                time.sleep(0.05)
        finally:
            stop.set()
            sweeper.join(10)
    assert not sweeper.is_alive()
    assert len(caplog.records) >= 3
    assert all(r.getMessage().startswith("recovery sweep failed") for r in caplog.records)
    unreachable.engine.dispose()
