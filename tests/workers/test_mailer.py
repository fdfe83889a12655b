"""The outbox relay: sent once, retried while the relay is down, failed when it cannot succeed."""
from __future__ import annotations

import smtplib
from dataclasses import replace

import pytest
from sqlalchemy import select

from conftest import ACORN, contact_of
from helpers import valid_ks1
from intake.receive import receive
from models import OutgoingEmail
from workers import mailer
from workers.mailer import Rejected, TryLater, retry_failed, send_outbox_email


class Relay:
    """Records what it was given; fails the first ``down`` times, like a relay being restarted."""

    def __init__(self, down: int = 0, error: Exception | None = None) -> None:
        self.down, self.error, self.sent = down, error, []

    def send(self, message, outbox_id):
        if self.error is not None:
            raise self.error
        if self.down:
            self.down -= 1
            raise ConnectionRefusedError(111, "Connection refused")
        self.sent.append(message["Message-ID"])


@pytest.fixture
def receipt_id(app) -> int:
    receive(app, valid_ks1(ACORN), file_name="a.xlsx", sender=contact_of(ACORN), channel="cli")
    with app.sessions() as session:
        return session.scalar(select(OutgoingEmail.id).where(OutgoingEmail.kind == "receipt"))


def row(app, outbox_id) -> OutgoingEmail:
    with app.sessions() as session:
        return session.get(OutgoingEmail, outbox_id)


def test_a_sent_email_is_never_sent_again(app, receipt_id):
    relay = Relay()
    assert send_outbox_email(app, receipt_id, relay) is True
    assert send_outbox_email(app, receipt_id, relay) is False
    assert relay.sent == [row(app, receipt_id).message_id]
    assert (row(app, receipt_id).status, row(app, receipt_id).attempts) == ("sent", 1)


def test_while_the_relay_is_down_each_attempt_is_recorded_and_retried_later(app, receipt_id):
    relay = Relay(down=2)
    for attempt in (1, 2):
        with pytest.raises(TryLater, match="Connection refused"):
            send_outbox_email(app, receipt_id, relay)
        email = row(app, receipt_id)
        assert (email.status, email.attempts) == ("pending", attempt)
        assert "Connection refused" in email.last_error
    assert send_outbox_email(app, receipt_id, relay) is True
    email = row(app, receipt_id)
    assert (email.status, email.attempts, email.last_error) == ("sent", 3, None)


def test_after_the_last_attempt_the_email_is_failed_and_an_operator_can_retry_it(app, receipt_id):
    app.settings = replace(app.settings, send_attempts=2)
    relay = Relay(down=5)
    with pytest.raises(TryLater):
        send_outbox_email(app, receipt_id, relay)
    assert send_outbox_email(app, receipt_id, relay) is False
    assert row(app, receipt_id).status == "failed"
    assert send_outbox_email(app, receipt_id, Relay()) is False  # failed stays failed
    assert retry_failed(app) == [receipt_id]
    assert (row(app, receipt_id).status, row(app, receipt_id).attempts) == ("pending", 0)
    assert send_outbox_email(app, receipt_id, Relay()) is True


def test_a_permanent_refusal_fails_at_once(app, receipt_id):
    refusal = smtplib.SMTPRecipientsRefused({contact_of(ACORN): (550, b"No such user")})
    assert send_outbox_email(app, receipt_id, Relay(error=Rejected(str(refusal)))) is False
    email = row(app, receipt_id)
    assert (email.status, email.attempts) == ("failed", 1) and "No such user" in email.last_error


def test_the_message_threads_to_the_senders_email_and_has_text_and_html(app):
    from mail_helpers import make_email
    from intake.inbound import take_message
    raw = make_email(contact_of(ACORN), "results@ers.localhost", "KS1", [("a.xlsx", valid_ks1(ACORN))],
                     message_id="<orig@acorn.sch.example>")
    take_message(app, raw, mailbox="m", uidvalidity=1, uid=1)
    with app.sessions() as session:
        email = session.scalar(select(OutgoingEmail).where(OutgoingEmail.kind == "receipt"))
        message = mailer.build_message(app.settings, email)
    assert message["In-Reply-To"] == "<orig@acorn.sch.example>"
    assert message["References"] == "<orig@acorn.sch.example>"
    assert message["Message-ID"] == email.message_id
    assert {p.get_content_type() for p in message.walk()} >= {"text/plain", "text/html"}


def test_two_workers_given_the_same_email_send_it_once(app, receipt_id):
    import threading
    relay, start = Relay(), threading.Barrier(4)

    def send():
        start.wait()
        send_outbox_email(app, receipt_id, relay)
    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(relay.sent) == 1


def test_a_claim_left_by_a_relay_that_died_mid_send_is_released_after_ten_minutes(app, receipt_id):
    from datetime import timedelta
    from sqlalchemy import update
    from models.base import utcnow
    from workers.mailer import release_stale_claims
    with app.sessions.begin() as session:
        session.execute(update(OutgoingEmail).where(OutgoingEmail.id == receipt_id).values(
            status="sending", claimed_at=utcnow() - timedelta(minutes=3)))
    assert release_stale_claims(app) == []
    assert send_outbox_email(app, receipt_id, Relay()) is False  # still claimed
    with app.sessions.begin() as session:
        session.execute(update(OutgoingEmail).where(OutgoingEmail.id == receipt_id).values(
            claimed_at=utcnow() - timedelta(minutes=11)))
    assert release_stale_claims(app) == [receipt_id]
    assert send_outbox_email(app, receipt_id, Relay()) is True


def test_a_built_message_reads_back_as_written_with_accents_long_lines_and_attachments(app, tmp_path):
    import email
    from datetime import datetime, timezone
    from email import policy
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(b"%PDF-1.4 " + bytes(range(256)) * 40)
    rows = "Rows: " + ", ".join(map(str, range(2, 400)))  # one finding on 398 rows: one long line
    outgoing = OutgoingEmail(
        kind="result", to_addrs=["head@ecole.example"], cc_addrs=["data@trust.example", "it@trust.example"],
        subject="File upload error: Année 6 résultats.xlsx", created_at=datetime.now(timezone.utc),
        message_id="<ers.result.7@ers.localhost>", in_reply_to="<orig@school.example>",
        text_body=f"Année 6\n\n{rows}\n", html_body=f"<p>{rows}</p>" * 3,
        attachments=[{"path": str(pdf), "content_type": "application/pdf", "name": "Rapport é.pdf"}])
    for attachments in (outgoing.attachments, []):
        outgoing.attachments = attachments
        raw = mailer.as_bytes(mailer.build_message(app.settings, outgoing), "\r\n")
        assert max(len(line) for line in raw.split(b"\r\n")) <= 998  # SMTP's limit
        read = email.message_from_bytes(raw, policy=policy.default)
        assert (read["Subject"], read["Cc"], read["References"]) == (
            outgoing.subject, "data@trust.example, it@trust.example", "<orig@school.example>")
        assert read.get_body(("plain",)).get_content().replace("\r\n", "\n") == outgoing.text_body
        assert read.get_body(("html",)).get_content().replace("\r\n", "\n") == outgoing.html_body
        assert [(a.get_filename(), a.get_content()) for a in read.iter_attachments()] == (
            [("Rapport é.pdf", pdf.read_bytes())] if attachments else [])
    assert mailer.recipients(mailer.build_message(app.settings, outgoing)) == [
        "head@ecole.example", "data@trust.example", "it@trust.example"]


def test_a_settle_repeated_after_its_first_commit_landed_records_the_sending_once(app, receipt_id):
    from models import AuditEvent
    assert send_outbox_email(app, receipt_id, Relay()) is True
    mailer._settle(app, receipt_id, "sent", "sent", message_id="<x@y>")  # the retry after a lost ack
    with app.sessions() as session:
        sent = session.scalars(select(AuditEvent.action).where(
            AuditEvent.entity == "email", AuditEvent.entity_id == str(receipt_id),
            AuditEvent.action == "sent")).all()
    assert sent == ["sent"]
