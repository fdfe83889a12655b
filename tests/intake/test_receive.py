"""receive(): store, record, commit, enqueue; the same source twice is one submission."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from conftest import ACORN, contact_of
from helpers import valid_ks1
from intake.receive import NotAContact, receive
from models import OutgoingEmail, Submission, Upload, UploadStatus
from models.base import utcnow


def count(app, model) -> int:
    with app.sessions() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_a_received_file_is_stored_under_its_hash_and_recorded_as_processing(app, stub_broker):
    data = valid_ks1(ACORN)
    receipt = receive(app, data, file_name="../../etc/passwd", sender=contact_of(ACORN).upper(),
                      channel="cli")
    with app.sessions() as session:
        upload = session.get(Upload, receipt.upload_ids[0])
        assert upload.status == UploadStatus.PROCESSING
        assert upload.uploaded_by == contact_of(ACORN)
        assert upload.enqueued_at is not None
        assert upload.stored_path.endswith(upload.content_hash)
        assert upload.file_name == "../../etc/passwd"  # metadata only, never a path on disk
        assert open(upload.stored_path, "rb").read() == data
    assert stub_broker.queues["uploads"].qsize() == 1


def test_the_same_source_received_twice_is_one_submission(app, stub_broker):
    data = valid_ks1(ACORN)
    first = receive(app, data, file_name="a.xlsx", sender=contact_of(ACORN), channel="folder",
                    source_ref="x/a.xlsx:1:2")
    again = receive(app, data, file_name="a.xlsx", sender=contact_of(ACORN), channel="folder",
                    source_ref="x/a.xlsx:1:2")
    assert again.duplicate and again.upload_ids == first.upload_ids
    assert count(app, Submission) == 1


def test_a_repeat_of_the_senders_latest_file_is_not_a_new_submission_but_a_b_a_is(app, stub_broker):
    a, b = valid_ks1(ACORN), valid_ks1(ACORN, change=1)
    sender = contact_of(ACORN)
    receipts = [receive(app, data, file_name="f.xlsx", sender=sender, channel="cli")
                for data in (a, a, b, a)]
    assert [r.duplicate for r in receipts] == [False, True, False, False]
    assert count(app, Submission) == 3


def test_an_unknown_sender_is_refused_and_nothing_is_stored(app, stub_broker):
    with pytest.raises(NotAContact):
        receive(app, valid_ks1(ACORN), file_name="f.xlsx", sender="stranger@example.org",
                channel="cli")
    assert count(app, Submission) == 0
    assert not app.settings.store_dir.exists() or not any(app.settings.store_dir.rglob("*"))


def test_a_file_over_the_size_limit_is_an_upload_error_with_a_reason_and_is_not_stored(app, stub_broker):
    from dataclasses import replace
    app.settings = replace(app.settings, max_file_bytes=100)
    receipt = receive(app, valid_ks1(ACORN), file_name="big.xlsx", sender=contact_of(ACORN),
                      channel="cli")
    with app.sessions() as session:
        upload = session.get(Upload, receipt.upload_ids[0])
        assert upload.status == UploadStatus.ERROR
        assert "largest file accepted" in upload.reason
        assert upload.stored_path is None
        kinds = set(session.scalars(select(OutgoingEmail.kind)))
    assert kinds == {"receipt", "result"}
    assert stub_broker.queues["uploads"].qsize() == 0


def test_a_receipt_is_written_to_the_outbox_in_the_same_transaction(app, stub_broker):
    receipt = receive(app, valid_ks1(ACORN), file_name="f.xlsx", sender=contact_of(ACORN),
                      channel="cli", received_at=utcnow() - timedelta(minutes=1))
    with app.sessions() as session:
        email = session.scalar(select(OutgoingEmail).where(OutgoingEmail.kind == "receipt"))
    assert email.upload_id == receipt.upload_ids[0]
    assert email.to_addrs == [contact_of(ACORN)]
    assert "f.xlsx" in email.text_body and "#" in email.text_body
