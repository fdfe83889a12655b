"""PostgreSQL restarted in the middle of a burst of submissions through every channel: each
`ers intake` leaves what it could not record for its next round and keeps running, jobs that
fail mid-restart are retried by Dramatiq, pooled connections are replaced, and every file is
answered exactly once."""
from __future__ import annotations

import time

import pytest
from tests.faults.burst import Burst
from tests.faults.ledger import expected
from helpers import wait_until

pytestmark = pytest.mark.services


def test_postgresql_restarted_during_a_burst_loses_nothing_and_answers_each_file_once(stack):
    burst = Burst(stack, per_channel=12)
    stack.worker(threads=4)
    burst.start_intakes()
    burst.send(0)
    wait_until(burst.every_intake_took_one, 30, "every intake to take a file")
    stack.services.stop("postgres")  # fast shutdown: every open connection is cut
    try:
        burst.send(1)     # arrives while the database is down
        time.sleep(1.5)   # every intake takes a turn meanwhile, and fails
    finally:
        stack.services.start("postgres")
    burst.send(2)
    ledger = stack.ledger(burst.sent)
    assert ledger == expected(burst.sent), ledger.report() + stack.tails()
    assert burst.intakes_alive() and stack.processes[0].poll() is None, stack.tails()
    assert burst.sources_left() == {"folder": 0, "mailbox": 0, "sftp": 0}
    assert "stays for the next scan" in stack.output(burst.intakes[0])  # it met the outage
