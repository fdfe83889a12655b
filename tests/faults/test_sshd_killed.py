"""sshd killed while the SFTP poller is downloading a partner's files: the connection's sshd is
killed as a download starts, again between a file being received and moved aside, then the
whole server is stopped for a poll. Every file is received once, moved once, and answered once
(a result file for the partner, a result email for the school)."""
from __future__ import annotations

import posixpath
import time

import pytest
from sqlalchemy import func, select

from conftest import ACORN, BEECH
from intake.sftp import SftpPoller, receive_file
from models import Submission
from tests.faults.batch import batch
from tests.faults.channels import PARTNER_ANSWERS, Partner
from tests.faults.ledger import expected

pytestmark = pytest.mark.services


class FaultyPoller(SftpPoller):
    """The real poller, with a fault injected as chosen downloads start."""

    def __init__(self, app, faults: dict) -> None:
        super().__init__(app, timeout=10)
        self.faults, self.downloads = faults, 0

    def _download(self, sftp, path):
        self.downloads += 1
        if self.downloads in self.faults:
            self.faults.pop(self.downloads)()
        return super()._download(sftp, path)


def test_sshd_killed_mid_download_leaves_every_file_received_moved_and_answered_once(stack):
    app, services = stack.app, stack.services
    partner = Partner(services.urls)
    partner.register(app, [ACORN, BEECH])
    sent = batch(12, schools=[ACORN, BEECH], invalid_every=5, kinds=PARTNER_ANSWERS)
    partner.put(sent)
    stack.worker()

    def kill_the_session() -> None:
        assert services.kill_children("sshd"), "no sshd session to kill"

    takes = 0

    def take_then_lose_the_connection(*file):
        nonlocal takes
        taken = receive_file(app, *file)
        takes += 1
        if takes == 7:  # received and committed; the move aside will fail
            kill_the_session()
        return taken
    poller = FaultyPoller(app, faults={4: kill_the_session})
    poller.take = take_then_lose_the_connection
    errors = [poller.poll_once().errors, poller.poll_once().errors]
    services.stop("sshd")
    try:
        errors.append(poller.poll_once().errors)  # no server at all
    finally:
        services.start("sshd")
    assert all(errors), errors  # each of the three polls met its fault

    def delivered() -> int:
        with app.sessions() as session:
            return session.scalar(select(func.count()).select_from(Submission).where(
                Submission.delivered_at.is_not(None)))
    deadline = time.monotonic() + 30
    while delivered() < len(sent) and time.monotonic() < deadline:
        assert poller.poll_once().errors == []
        time.sleep(0.3)

    ledger = stack.ledger(sent)
    assert ledger == expected(sent), ledger.report() + stack.tails()
    assert partner.listdir(partner.inbox) == ["processed"]
    assert len(partner.listdir(posixpath.join(partner.inbox, "processed"))) == len(sent)
    results = partner.listdir(partner.outbox)
    assert len([r for r in results if r.endswith(".result.json")]) == len(sent)
    assert len([r for r in results if r.endswith(".errors.xlsx")]) == sum(not s.valid for s in sent)
