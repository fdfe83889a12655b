"""The drop folder when the broker is down: the file stays for the next scan, the scan goes on
with the others, and the next scan sends the upload already recorded, once.
(tests/faults restarts a real RabbitMQ and PostgreSQL under `ers intake folder`.)"""
from __future__ import annotations

from sqlalchemy import select

from conftest import ACORN, BEECH, contact_of
from helpers import CLOSED_BROKER, run_queued_jobs, valid_ks1
from intake.folder import scan_once
from models import OutgoingEmail, Upload, UploadStatus
from workers.broker import install as install_broker
from workers.broker import make_broker


def test_a_file_that_cannot_be_enqueued_stays_and_the_next_scan_sends_it_once(app, stub_broker, tmp_path):
    root = tmp_path / "drop"
    for dfe in (ACORN, BEECH):
        (root / contact_of(dfe)).mkdir(parents=True)
        (root / contact_of(dfe) / "ks1.xlsx").write_bytes(valid_ks1(dfe))
    install_broker(make_broker(CLOSED_BROKER))
    try:
        down = scan_once(app, root, settle_seconds=0)
    finally:
        install_broker(stub_broker)
    assert (down.received, down.failed) == ([], 2)  # both tried: one failure did not stop the scan
    assert len(list(root.glob("*/ks1.xlsx"))) == 2
    with app.sessions() as session:  # recorded and committed, not yet handed to a worker
        assert [u.enqueued_at for u in session.scalars(select(Upload))] == [None, None]

    again = scan_once(app, root, settle_seconds=0)
    assert (again.duplicates, again.failed) == (2, 0) and list(root.glob("*/ks1.xlsx")) == []
    run_queued_jobs(stub_broker)
    with app.sessions() as session:
        assert [u.status for u in session.scalars(select(Upload))] == [UploadStatus.SUCCESSFUL] * 2
        sent = list(session.scalars(select(OutgoingEmail.kind).where(OutgoingEmail.status == "sent")))
    assert sorted(sent) == ["receipt", "receipt", "result", "result"]
