"""Prometheus metrics: the exposition text from plain figures, the figures from the database and
RabbitMQ, and the HTTP endpoint on a loopback port."""
from __future__ import annotations

import threading
import urllib.error
import urllib.request
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from conftest import ACORN, CEDAR, build_app, contact_of, service_url
from helpers import invalid_ks1, valid_ks1
from intake.receive import receive
from models import OutgoingEmail, Upload
from models.base import utcnow
from workers import doctor, metrics
from workers.metrics import Figures, Histogram, render
from workers.queue_depth import QueueDepth
from workers.runner import drain


def lines_of(text: str, name: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith(name)]


def test_gauges_are_rendered_with_help_type_and_escaped_labels():
    text = render(Figures(uploads={("successful", "ks1-template"): 3, ("error", 'odd"name\\'): 1}))
    assert "# HELP ers_uploads Uploads (one per file received) by status and format." in text
    assert "# TYPE ers_uploads gauge" in text
    assert lines_of(text, "ers_uploads{") == [
        'ers_uploads{status="error",format="odd\\"name\\\\"} 1',
        'ers_uploads{status="successful",format="ks1-template"} 3']
    assert lines_of(text, "ers_database_up") == ["ers_database_up 1"]
    assert text.endswith("\n")


def test_a_histogram_has_cumulative_buckets_ending_in_inf_with_its_sum_and_count():
    buckets = tuple(min(i, 4) for i in range(1, len(metrics.LATENCY_BUCKETS) + 1))
    text = render(Figures(answer_latency={"result": Histogram(buckets, 7.5, 5)}))
    lines = lines_of(text, "ers_upload_answer_latency_seconds")
    assert "# TYPE ers_upload_answer_latency_seconds histogram" in text
    assert lines[0] == 'ers_upload_answer_latency_seconds_bucket{kind="result",le="0.25"} 1'
    assert 'ers_upload_answer_latency_seconds_bucket{kind="result",le="1"} 3' in lines
    assert lines[-3:] == ['ers_upload_answer_latency_seconds_bucket{kind="result",le="+Inf"} 5',
                          'ers_upload_answer_latency_seconds_sum{kind="result"} 7.5',
                          'ers_upload_answer_latency_seconds_count{kind="result"} 5']


def test_a_database_that_cannot_be_read_is_reported_down_without_its_figures():
    text = render(Figures(database_up=False))
    assert lines_of(text, "ers_database_up") == ["ers_database_up 0"]
    assert "ers_uploads" not in text and "ers_broker_up" not in text


def test_queue_depths_appear_only_for_declared_queues_when_rabbitmq_is_used():
    text = render(Figures(broker_up=True, queues=[QueueDepth("uploads", True, 4, 2, 1, 0),
                                                  QueueDepth("reports", False)]))
    assert lines_of(text, "ers_queue_messages{") == [
        'ers_queue_messages{queue="uploads",state="dead"} 0',
        'ers_queue_messages{queue="uploads",state="delayed"} 1',
        'ers_queue_messages{queue="uploads",state="ready"} 4']
    assert lines_of(text, "ers_queue_consumers{") == ['ers_queue_consumers{queue="uploads"} 2']
    assert lines_of(text, "ers_broker_up") == ["ers_broker_up 1"]


def run_two_files(app, broker) -> tuple[int, int]:
    valid = receive(app, valid_ks1(ACORN), file_name="acorn.xlsx", sender=contact_of(ACORN),
                    channel="cli").upload_ids[0]
    invalid = receive(app, invalid_ks1(CEDAR), file_name="cedar.xlsx", sender=contact_of(CEDAR),
                      channel="cli").upload_ids[0]
    drain(broker)
    return valid, invalid


def backdate(app, upload_ids, seconds: float) -> None:
    """Received ``seconds`` before their answers were sent, so latencies land in known buckets."""
    with app.sessions.begin() as session:
        for upload_id in upload_ids:
            upload = session.get(Upload, upload_id)
            session.execute(update(Upload).where(Upload.id == upload_id).values(
                received_at=upload.received_at - timedelta(seconds=seconds)))
        for email in session.scalars(select(OutgoingEmail).where(OutgoingEmail.upload_id.in_(upload_ids))):
            email.created_at = email.sent_at - timedelta(seconds=3)


def check_figures(app, valid: int, invalid: int) -> None:
    backdate(app, [valid, invalid], 40)
    with app.sessions() as session:
        figures = metrics.database_figures(session, utcnow())
    assert figures.uploads == {("successful", "ks1-template"): 1, ("error", "ks1-template"): 1}
    assert figures.emails == {("sent", "receipt"): 2, ("sent", "result"): 2}
    assert figures.oldest_unsent_seconds == 0
    result = figures.answer_latency["result"]
    assert result.count == 2 and 80 <= result.total <= 100
    bounds = dict(zip(metrics.LATENCY_BUCKETS, result.buckets))
    assert (bounds[30], bounds[60]) == (0, 2)
    sent = figures.send_latency["receipt"]
    assert sent.count == 2 and dict(zip(metrics.LATENCY_BUCKETS, sent.buckets))[5] == 2


def test_figures_come_from_the_database_uploads_answers_and_their_latency(app, stub_broker, stub_worker):
    valid, invalid = run_two_files(app, stub_broker)
    check_figures(app, valid, invalid)


def test_an_unsent_email_shows_its_age(app):
    with app.sessions.begin() as session:
        session.add(OutgoingEmail(kind="reply", to_addrs=["a@b.c"], subject="s", text_body="t",
                                  html_body="h", created_at=utcnow() - timedelta(minutes=5)))
    with app.sessions() as session:
        figures = metrics.database_figures(session, utcnow())
    assert figures.emails == {("pending", "reply"): 1}
    assert 299 <= figures.oldest_unsent_seconds <= 310


def test_the_endpoint_serves_metrics_on_a_loopback_port_and_404_elsewhere(app, stub_broker, stub_worker):
    run_two_files(app, stub_broker)
    server = metrics.make_server(app, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        with urllib.request.urlopen(f"{base}/metrics", timeout=10) as response:
            body = response.read().decode()
            assert response.status == 200
            assert response.headers["Content-Type"] == metrics.CONTENT_TYPE
        assert 'ers_uploads{status="successful",format="ks1-template"} 1' in body
        assert 'ers_outgoing_emails{status="sent",kind="result"} 2' in body
        assert 'ers_upload_answer_latency_seconds_count{kind="receipt"} 2' in body
        with pytest.raises(urllib.error.HTTPError) as missing:
            urllib.request.urlopen(f"{base}/other", timeout=10)
        assert missing.value.code == 404
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.services
def test_on_postgresql_and_rabbitmq_the_figures_include_latency_and_queue_depth(
        tmp_path, pg_url, stub_broker, stub_worker):
    from tests.bench.stack import private_vhost
    app = build_app(tmp_path / "data", pg_url)
    try:
        valid, invalid = run_two_files(app, stub_broker)
        check_figures(app, valid, invalid)
        with private_vhost(service_url("ERS_TEST_AMQP_URL")) as amqp:
            publish(amqp, "uploads", 2)
            app.settings = replace(app.settings, broker_url=amqp)
            text = metrics.metrics_text(app)
            broker = doctor.check_broker(amqp, 5)
    finally:
        app.engine.dispose()
    assert 'ers_queue_messages{queue="uploads",state="ready"} 2' in text
    assert 'ers_queue_consumers{queue="uploads"} 0' in text
    assert "ers_broker_up 1" in text
    assert 'ers_upload_answer_latency_seconds_bucket{kind="result",le="60"} 2' in text
    assert broker.status == doctor.WARN
    assert "uploads 2 waiting, 0 consumers" in broker.message
    assert "not declared yet" in broker.message and "start `ers worker`" in broker.message


def publish(url: str, queue: str, count: int) -> None:
    from workers.queue_depth import connect
    connection = connect(url)
    try:
        channel = connection.channel()
        channel.queue_declare(queue, durable=True)
        for n in range(count):
            channel.basic_publish("", queue, f"message {n}".encode())
    finally:
        connection.close()


def test_a_broker_that_cannot_be_reached_is_reported_down(app):
    app.settings = replace(app.settings, broker_url="amqp://guest:guest@127.0.0.1:1/%2F")
    text = metrics.metrics_text(app)
    assert "ers_broker_up 0" in text and "ers_database_up 1" in text
