"""The IMAP connection dropped in the middle of a fetch: `ers intake email` is taking a batch of
schools' emails when the Dovecot process serving it is killed (twice); it reconnects, and every
message ends taken exactly once, moved to Processed, and answered once."""
from __future__ import annotations

import time

import pytest
from sqlalchemy import func, select

from models import InboundMessage
from tests.faults.batch import batch
from tests.faults.channels import email
from tests.faults.ledger import expected

pytestmark = pytest.mark.services


def test_the_imap_connection_dropped_mid_fetch_leaves_every_message_taken_once(stack):
    app, mail = stack.app, stack.mail
    service = app.settings.mail_from
    sent = batch(20, invalid_every=6)
    email(mail, service, sent)
    mail.wait_for(service, len(sent))
    stack.worker()
    intake = stack.ers("intake", "email", name="intake")

    def taken() -> int:
        with app.sessions() as session:
            return session.scalar(select(func.count()).select_from(InboundMessage))
    kills = []  # (messages taken when the connection was cut, imap processes killed)
    deadline = time.monotonic() + 30
    for threshold in (3, 10):
        while taken() < threshold and time.monotonic() < deadline:
            time.sleep(0.01)
        kills.append((taken(), len(stack.services.kill_children("dovecot", "imap"))))
    assert any(n < len(sent) and killed for n, killed in kills), kills  # cut mid-fetch

    ledger = stack.ledger(sent)
    assert ledger == expected(sent), ledger.report() + stack.tails()
    assert taken() == len(sent)
    assert (len(mail.messages(service, "Processed")), mail.messages(service)) == (len(sent), [])
    assert intake.poll() is None and "reconnecting" in stack.output(intake), stack.tails()
