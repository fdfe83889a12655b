"""The same actors over a real RabbitMQ (publisher confirms) and PostgreSQL, with worker threads."""
from __future__ import annotations

from datetime import timedelta

import dramatiq
import pytest
from sqlalchemy import func, select

from conftest import ACORN, BEECH, CEDAR, DALE, ELM, TRUST_ADMIN, build_app, contact_of
from helpers import invalid_ks1, valid_ks1, wait_until
from intake.receive import receive
from models import OutgoingEmail, Upload, UploadStatus
from models.base import utcnow

pytestmark = pytest.mark.services


def test_a_burst_from_five_schools_is_validated_superseded_and_answered_once_each(
        tmp_path, pg_url, rabbit_broker):
    app = build_app(tmp_path / "stack", database_url=pg_url, broker_url="amqp://configured")
    base = utcnow() - timedelta(minutes=30)
    plan = []  # (dfe, data, sender, minute)
    for dfe in (ACORN, BEECH, CEDAR, DALE, ELM):
        plan += [(dfe, valid_ks1(dfe, change=1), contact_of(dfe), 1),
                 (dfe, valid_ks1(dfe, change=2), TRUST_ADMIN if dfe in (ACORN, BEECH, CEDAR)
                  else contact_of(dfe), 2),
                 (dfe, invalid_ks1(dfe), contact_of(dfe), 3)]
    ids = {}
    for dfe, data, sender, minute in plan:
        ids[(dfe, minute)] = receive(app, data, file_name=f"{dfe}-{minute}.xlsx", sender=sender,
                                     channel="cli",
                                     received_at=base + timedelta(minutes=minute)).upload_ids[0]
    worker = dramatiq.Worker(rabbit_broker, worker_threads=4)
    worker.start()
    try:
        def settled():
            with app.sessions() as session:
                busy = session.scalar(select(func.count()).select_from(Upload)
                                      .where(Upload.status == UploadStatus.PROCESSING))
                pending = session.scalar(select(func.count()).select_from(OutgoingEmail)
                                         .where(OutgoingEmail.status != "sent"))
                return busy == 0 and pending == 0
        wait_until(settled)
    finally:
        worker.stop()

    with app.sessions() as session:
        uploads = {u.id: u for u in session.scalars(select(Upload))}
        kinds = session.execute(select(OutgoingEmail.kind, func.count())
                                .group_by(OutgoingEmail.kind)).all()
    for dfe in (ACORN, BEECH, CEDAR, DALE, ELM):
        assert uploads[ids[(dfe, 1)]].status == UploadStatus.OVERWRITTEN
        assert uploads[ids[(dfe, 2)]].status == UploadStatus.SUCCESSFUL  # latest *valid* file
        assert uploads[ids[(dfe, 3)]].status == UploadStatus.ERROR
    assert dict(kinds) == {"receipt": 15, "result": 15}
    assert len(list(app.settings.outbox_dir.glob("*.eml"))) == 30
    app.engine.dispose()
