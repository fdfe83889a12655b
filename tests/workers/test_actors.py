"""Actors answer from the job itself; only an answer the relay cannot take now is queued."""
from __future__ import annotations

from sqlalchemy import select

from conftest import ACORN, contact_of
from helpers import valid_ks1
from intake.receive import receive
from models import OutgoingEmail
from workers import actors, mailer
from workers.runner import drain


def test_a_validation_job_sends_its_result_itself_and_queues_no_second_message(
        app, stub_broker, stub_worker, monkeypatch):
    queued = []
    send = actors.send_email.send
    monkeypatch.setattr(actors.send_email, "send", lambda i: queued.append(i) or send(i))
    receive(app, valid_ks1(ACORN), file_name="a.xlsx", sender=contact_of(ACORN), channel="cli")
    drain(stub_broker)
    with app.sessions() as session:
        sent = dict(session.execute(select(OutgoingEmail.kind, OutgoingEmail.id)
                                    .where(OutgoingEmail.status == "sent")).all())
    assert set(sent) == {"receipt", "result"}
    assert queued == [sent["receipt"]]  # the intake's receipt goes through the outbox queue


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
