"""The drop folder: files are taken once settled, moved aside only after receive(), never re-processed."""
from __future__ import annotations

import os
import time

import pytest
from sqlalchemy import func, select

from conftest import ACORN, BEECH, contact_of
from helpers import valid_ks1
from intake import folder
from models import Submission, Upload, UploadStatus
from workers.runner import drain


def drop(root, sender, name, data, age=10.0):
    path = root / sender / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    past = time.time() - age
    os.utime(path, (past, past))
    return path


def submissions(app) -> int:
    with app.sessions() as session:
        return session.scalar(select(func.count()).select_from(Submission))


def test_a_dropped_file_is_received_as_its_senders_and_moved_aside(app, stub_broker, stub_worker, tmp_path):
    root = tmp_path / "drop"
    path = drop(root, contact_of(ACORN), "ks1.xlsx", valid_ks1(ACORN))
    report = folder.scan_once(app, root)
    drain(stub_broker)
    assert len(report.received) == 1 and not path.exists()
    assert len(list((root / "_handled" / contact_of(ACORN)).iterdir())) == 1
    with app.sessions() as session:
        assert session.get(Upload, report.received[0]).status == UploadStatus.SUCCESSFUL


def test_a_file_still_being_written_waits(app, stub_broker, tmp_path):
    root = tmp_path / "drop"
    drop(root, contact_of(ACORN), "ks1.xlsx", valid_ks1(ACORN), age=0)
    drop(root, contact_of(ACORN), "ks1.xlsx.part", b"partial", age=60)
    report = folder.scan_once(app, root, settle_seconds=5)
    assert report.waiting == 1 and report.received == [] and submissions(app) == 0


def test_a_restart_after_receiving_but_before_moving_reprocesses_nothing_and_loses_nothing(
        app, stub_broker, stub_worker, tmp_path, monkeypatch):
    root = tmp_path / "drop"
    kept = drop(root, contact_of(ACORN), "ks1.xlsx", valid_ks1(ACORN))
    drop(root, contact_of(BEECH), "beech.xlsx", valid_ks1(BEECH))

    def crash(*args, **kwargs):
        raise KeyboardInterrupt("process killed before the move")
    monkeypatch.setattr(folder, "_move", crash)
    with pytest.raises(KeyboardInterrupt):
        folder.scan_once(app, root)
    assert kept.exists() and submissions(app) == 1
    monkeypatch.undo()

    report = folder.scan_once(app, root)  # the restarted intake
    drain(stub_broker)
    assert report.duplicates == 1 and len(report.received) == 1
    assert submissions(app) == 2
    assert folder.candidates(root) == []
    with app.sessions() as session:
        statuses = session.scalars(select(Upload.status)).all()
    assert sorted(statuses) == [UploadStatus.SUCCESSFUL, UploadStatus.SUCCESSFUL]
    assert folder.scan_once(app, root).received == []


def test_a_file_from_an_unknown_sender_is_refused_with_a_reason_beside_it(app, stub_broker, tmp_path):
    root = tmp_path / "drop"
    drop(root, "stranger@example.org", "ks1.xlsx", valid_ks1(ACORN))
    report = folder.scan_once(app, root)
    assert len(report.refused) == 1 and submissions(app) == 0
    reasons = list((root / "_refused" / "stranger@example.org").glob("*.reason.txt"))
    assert "not a registered contact" in reasons[0].read_text()


def test_a_processing_upload_left_by_a_dead_embedded_process_is_finished_on_the_next_start(
        app, stub_broker, tmp_path):
    from workers.runner import embedded_workers
    root = tmp_path / "drop"
    drop(root, contact_of(ACORN), "ks1.xlsx", valid_ks1(ACORN))
    folder.scan_once(app, root)
    stub_broker.flush_all()  # the in-process queue died with its process
    with embedded_workers(app, stub_broker):
        pass
    with app.sessions() as session:
        assert session.scalars(select(Upload.status)).all() == [UploadStatus.SUCCESSFUL]
