"""Actors answer from the job itself; only an answer the relay cannot take now is queued."""
from __future__ import annotations

from sqlalchemy import select

from conftest import ACORN, contact_of
from helpers import valid_ks1
from intake.receive import receive
from models import OutgoingEmail
from workers import actors, mailer
from workers.runner import drain


def test_a_validation_job_sends_the_receipt_it_carries_then_its_result_and_queues_no_other_message(
        app, stub_broker, stub_worker, monkeypatch):
    queued, relayed, jobs = [], [], []
    monkeypatch.setattr(actors.send_email, "send", queued.append)
    publish = actors.validate_upload.send_with_options
    monkeypatch.setattr(actors.validate_upload, "send_with_options",
                        lambda **options: jobs.append(options) or publish(**options))
    relay = mailer.send_outbox_email
    monkeypatch.setattr(mailer, "send_outbox_email",
                        lambda app, outbox_id: relayed.append(outbox_id) or relay(app, outbox_id))
    receive(app, valid_ks1(ACORN), file_name="a.xlsx", sender=contact_of(ACORN), channel="cli")
    drain(stub_broker)
    assert len(jobs) == 1  # one message for the upload, its receipt and all
    with app.sessions() as session:
        sent = dict(session.execute(select(OutgoingEmail.kind, OutgoingEmail.id)
                                    .where(OutgoingEmail.status == "sent")).all())
    assert set(sent) == {"receipt", "result"}
    assert relayed == [sent["receipt"], sent["result"]]
    assert queued == []


def test_a_file_refused_at_once_has_its_receipt_and_refusal_sent_through_the_outbox_queue(
        app, stub_broker):
    from dataclasses import replace
    app.settings = replace(app.settings, max_file_bytes=100)
    receipt = receive(app, valid_ks1(ACORN), file_name="a.xlsx", sender=contact_of(ACORN),
                      channel="cli")
    assert receipt.to_check == [] and len(receipt.to_send) == 2
    assert stub_broker.queues["outbox"].qsize() == 2 and stub_broker.queues["uploads"].qsize() == 0


def test_an_answer_the_relay_cannot_take_now_waits_in_the_outbox_queue(app, monkeypatch):
    def busy(app, outbox_id):
        if outbox_id == 2:
            raise mailer.TryLater("421 try again later")
        return True

    later = []
    monkeypatch.setattr(mailer, "send_outbox_email", busy)
    monkeypatch.setattr(actors, "is_embedded", lambda broker: False)  # as on RabbitMQ
    monkeypatch.setattr(actors.send_email, "send_with_options",
                        lambda **options: later.append(options))
    actors.answer(app, [1, 2, 3])
    assert later == [{"args": (2,), "delay": actors.RETRY_AFTER_MS}]

    monkeypatch.setattr(actors, "is_embedded", lambda broker: True)  # `ers outbox` sends it later
    later.clear()
    actors.answer(app, [2])
    assert later == []
