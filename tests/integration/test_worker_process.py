"""`ers worker` as its own process: consumes RabbitMQ, writes PostgreSQL, stops cleanly on SIGTERM."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from conftest import ACORN, DALE, build_app, contact_of
from helpers import invalid_ks1, valid_ks1, wait_until
from intake.receive import receive
from models import OutgoingEmail, Upload, UploadStatus

pytestmark = pytest.mark.services
REPO = Path(__file__).resolve().parents[2]


def test_a_worker_process_validates_and_answers_what_the_intake_enqueued(
        tmp_path, pg_url, amqp_url, rabbit_broker):
    app = build_app(tmp_path / "data", database_url=pg_url, broker_url=amqp_url)
    env = dict(os.environ, ERS_DATA_DIR=str(app.settings.data_dir), ERS_DATABASE_URL=pg_url,
               ERS_BROKER_URL=amqp_url, ERS_COLLECTIONS=str(app.settings.collections_file))
    ids = [receive(app, data, file_name="f.xlsx", sender=contact_of(dfe), channel="cli").upload_ids[0]
           for dfe, data in ((ACORN, valid_ks1(ACORN)), (DALE, invalid_ks1(DALE)))]
    worker = subprocess.Popen([sys.executable, "-m", "intake.cli", "worker", "--threads", "2"],
                              cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True)
    try:
        def answered():
            with app.sessions() as session:
                sent = session.scalars(select(OutgoingEmail.status)).all()
                return len(sent) == 4 and set(sent) == {"sent"}
        wait_until(answered, timeout=60)
    finally:
        worker.send_signal(signal.SIGTERM)
        output, _ = worker.communicate(timeout=30)
    assert worker.returncode == 0, output
    assert "Worker running" in output
    with app.sessions() as session:
        statuses = [session.get(Upload, i).status for i in ids]
    assert statuses == [UploadStatus.SUCCESSFUL, UploadStatus.ERROR]
    app.engine.dispose()
