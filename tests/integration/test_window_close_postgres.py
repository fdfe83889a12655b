"""Invariant 4 on real PostgreSQL and RabbitMQ: a window closes exactly once, however many
schedulers race for it, and its reports are made by worker processes."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, select

from conftest import ACORN, BEECH, DALE, build_app, contact_of
from helpers import valid_ks1, wait_until
from intake import demo_world as world
from intake.receive import receive
from models import OutgoingEmail, Report, WindowRow
from models.base import utcnow
from workers.closing import claim_window

pytestmark = pytest.mark.services
REPO = Path(__file__).resolve().parents[2]
KEY = "ks1-demo"


def due_app(tmp_path, pg_url, broker_url=""):
    """Window 1 of every demo collection closed a minute ago; three schools sent files in it."""
    app = build_app(tmp_path / "data", database_url=pg_url, broker_url=broker_url)
    past = datetime.now(timezone.utc) - timedelta(days=7, minutes=1)
    app.settings.collections_file.write_text(world.all_collections_toml(past))
    app.__dict__.pop("collections", None)
    from intake.cli import prepare_database
    prepare_database(app)
    for dfe in (ACORN, BEECH, DALE):
        receive(app, valid_ks1(dfe), file_name=f"{dfe}.xlsx", sender=contact_of(dfe), channel="cli",
                received_at=utcnow() - timedelta(minutes=10))
    return app


def test_eight_schedulers_racing_for_one_window_claim_it_once(tmp_path, pg_url, stub_broker):
    from workers import pipeline
    from models import Upload
    app = due_app(tmp_path, pg_url)
    with app.sessions() as session:
        for upload_id in session.scalars(select(Upload.id)):
            pipeline.process_upload(app, upload_id)
    start = threading.Barrier(8)
    claims, failures = [], []

    def race(n):
        start.wait()
        try:
            claims.append(claim_window(app, app.collections[KEY], 1, by=f"scheduler-{n}"))
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=race, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert failures == []
    assert len([c for c in claims if c is not None]) == 1
    with app.sessions() as session:
        kinds = dict(session.execute(select(Report.kind, func.count()).group_by(Report.kind)).all())
        state = session.scalar(select(WindowRow.state).where(WindowRow.collection_key == KEY,
                                                             WindowRow.number == 1))
    assert kinds == {"school": 3, "trust": 1} and state == "closing"
    app.engine.dispose()


def test_two_scheduler_processes_and_a_worker_close_the_window_once_and_send_each_report_once(
        tmp_path, pg_url, amqp_url, rabbit_broker):
    app = due_app(tmp_path, pg_url, amqp_url)
    env = dict(os.environ, ERS_DATA_DIR=str(app.settings.data_dir), ERS_DATABASE_URL=pg_url,
               ERS_BROKER_URL=amqp_url, ERS_COLLECTIONS=str(app.settings.collections_file),
               ERS_REMINDER_DAYS="0")
    run = lambda *args: subprocess.Popen(  # noqa: E731
        [sys.executable, "-m", "intake.cli", *args], cwd=REPO, env=env, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True)
    worker = run("worker", "--threads", "2")
    try:
        def validated():
            with app.sessions() as session:
                return session.scalar(select(func.count()).select_from(OutgoingEmail)) == 6
        wait_until(validated, timeout=60)  # a receipt and a result each
        schedulers = [run("scheduler", "--once") for _ in range(2)]
        outputs = [s.communicate(timeout=120)[0] for s in schedulers]
        assert [s.returncode for s in schedulers] == [0, 0], outputs
        assert sum("ks1-demo window 1: claimed" in o for o in outputs) == 1, outputs

        def closed():
            with app.sessions() as session:
                return session.scalar(select(WindowRow.state).where(
                    WindowRow.collection_key == KEY, WindowRow.number == 1)) == "closed" and \
                    session.scalar(select(func.count()).select_from(OutgoingEmail).where(
                        OutgoingEmail.kind.in_(("reports", "trust-reports")),
                        OutgoingEmail.subject.contains("KS1"), OutgoingEmail.status == "sent")) == 4
        wait_until(closed, timeout=90)
    finally:
        worker.send_signal(signal.SIGTERM)
        output, _ = worker.communicate(timeout=30)
    assert worker.returncode == 0, output
    with app.sessions() as session:
        sent = session.execute(select(OutgoingEmail.kind, OutgoingEmail.to_addrs).where(
            OutgoingEmail.kind.in_(("reports", "trust-reports")),
            OutgoingEmail.subject.contains("KS1"))).all()
    assert sorted(to[0] for kind, to in sent if kind == "reports") == sorted(
        contact_of(d) for d in (ACORN, BEECH, DALE))
    assert [to for kind, to in sent if kind == "trust-reports"] == [[world.TRUST[2]]]
    pdfs = list((app.settings.reports_dir / KEY).rglob("*.pdf"))
    assert len(pdfs) == 3 * 2 + 1  # each school's two, and the trust summary
    app.engine.dispose()
