"""The email latency section at a tiny size on the real Dovecot and Postfix: proves it runs, that each
answer is matched to its own message (none lost, none twice), and that it reports its figures."""
from __future__ import annotations

import pytest

from conftest import service_url
from tests.bench import email_latency

pytestmark = pytest.mark.services


@pytest.fixture
def services() -> None:
    for name in ("ERS_TEST_PG_URL", "ERS_TEST_AMQP_URL", "ERS_TEST_MAIL_HOST", "ERS_TEST_IMAP_PORT",
                 "ERS_TEST_SMTP_PORT", "ERS_TEST_MAIL_PASSWORD", "ERS_TEST_MAIL_CA"):
        service_url(name)


def test_the_email_bench_answers_every_message_once_and_reports_receipt_and_result_latency(services):
    said: list[str] = []
    measured = email_latency.run(messages=3, batch=2, threads=2, say=said.append)
    by_name = {m.name: m for m in measured}
    for label in ("3 messages one at a time", "2 messages at once"):
        for kind in ("receipt", "result"):
            p50 = by_name[f"SMTP accepted -> {kind} in mailbox p50, {label}"]
            p95 = by_name[f"SMTP accepted -> {kind} in mailbox p95, {label}"]
            assert p50.unit == "s" and 0 < p50.value <= p95.value <= p95.detail["max_s"] + 0.001
    judged = by_name["SMTP accepted -> result in mailbox p95, 3 messages one at a time"]
    assert judged.target == "< 2 s" and judged.met is (judged.value < 2)
    assert [m.name for m in measured if m.met is not None] == [judged.name]
    stages = judged.detail["stages"]
    assert list(stages) == ["accepted -> taken by intake", "taken -> result written",
                            "written -> relayed", "relayed -> in mailbox"]
    assert all(leg["p50"] >= 0 for leg in stages.values())
    assert any("3/3 answered" in line for line in said)


def test_a_lost_a_duplicated_and_a_stray_answer_are_each_reported():
    sent = [email_latency.Message(school=None, raw=b"", message_id=f"<{n}@s>") for n in "ab"]
    arrived = {("<a@s>", "receipt"): [1.0], ("<a@s>", "result"): [2.0, 2.5],
               ("<b@s>", "receipt"): [1.0], ("<elsewhere@s>", "result"): [3.0]}
    assert email_latency.mailbox_problems(arrived, sent) == [
        "<a@s>: 2 result(s)", "<b@s>: 0 result(s)",
        "an answer nobody asked for: ('<elsewhere@s>', 'result')"]
