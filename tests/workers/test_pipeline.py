"""The embedded pipeline end to end: receive -> validate actor -> supersede -> answers in the outbox."""
from __future__ import annotations

import email
from datetime import timedelta
from email import policy

import pytest
from sqlalchemy import delete, select

from conftest import ACORN, BEECH, CEDAR, DALE, TRUST_ADMIN, contact_of
from helpers import invalid_ks1, valid_ks1
from intake.receive import receive, receive_files
from models import Contact, OutgoingEmail, PupilResult, Upload, UploadStatus
from models.base import utcnow
from workers import pipeline
from workers.deletion import NotAllowed, delete_upload
from workers.history import history
from workers.runner import drain


def send(app, dfe, data, sender=None, **kw):
    return receive(app, data, file_name=f"{dfe}.xlsx", sender=sender or contact_of(dfe),
                   channel="cli", **kw).upload_ids[0]


def upload(app, upload_id) -> Upload:
    with app.sessions() as session:
        return session.get(Upload, upload_id)


def outbox_messages(app) -> list[email.message.EmailMessage]:
    return [email.message_from_bytes(p.read_bytes(), policy=policy.default)
            for p in sorted(app.settings.outbox_dir.glob("*.eml"))]


def test_a_valid_file_becomes_successful_and_its_pupils_and_answers_are_recorded(app, stub_broker, stub_worker):
    upload_id = send(app, ACORN, valid_ks1(ACORN))
    drain(stub_broker)
    done = upload(app, upload_id)
    assert done.status == UploadStatus.SUCCESSFUL
    assert (done.collection_key, done.window_number, done.pupil_count) == ("ks1-demo", 1, 24)
    with app.sessions() as session:
        assert len(session.scalars(select(PupilResult).where(PupilResult.upload_id == upload_id)).all()) == 24
    messages = outbox_messages(app)
    assert [m["X-ERS-Kind"] for m in messages] == ["receipt", "result"]
    result = messages[1]
    assert result["Subject"].startswith("File uploaded successfully")
    assert result["To"] == contact_of(ACORN) and result["Cc"] == TRUST_ADMIN
    assert "24 pupils" in result.get_body(("plain",)).get_content()
    assert "24 pupils" in result.get_body(("html",)).get_content()


def test_an_invalid_file_is_an_upload_error_answered_in_the_seeds_wording(app, stub_broker, stub_worker):
    upload_id = send(app, CEDAR, invalid_ks1(CEDAR))
    drain(stub_broker)
    assert upload(app, upload_id).status == UploadStatus.ERROR
    body = outbox_messages(app)[-1].get_body(("plain",)).get_content()
    assert ("Range must be between 85 to 115 and be whole numbers. Allows empty field. "
            "Column: Scaled Score: KS1 Reading. Row: 3") in body
    assert "Surname must have a value. Column: Surname. Row: 4" in body


def test_the_file_received_last_wins_whatever_order_workers_finish_in(app, stub_broker):
    earlier = send(app, DALE, valid_ks1(DALE), received_at=utcnow() - timedelta(minutes=5))
    later = send(app, DALE, valid_ks1(DALE, change=1), received_at=utcnow() - timedelta(minutes=1))
    pipeline.process_upload(app, later)
    pipeline.process_upload(app, earlier)
    assert upload(app, later).status == UploadStatus.SUCCESSFUL
    assert upload(app, earlier).status == UploadStatus.OVERWRITTEN
    assert upload(app, earlier).superseded_by_id == later


def test_a_resubmission_overwrites_the_previous_file_and_says_so(app, stub_broker, stub_worker):
    first = send(app, DALE, valid_ks1(DALE))
    drain(stub_broker)
    second = send(app, DALE, valid_ks1(DALE, change=2))
    drain(stub_broker)
    assert upload(app, first).status == UploadStatus.OVERWRITTEN
    assert upload(app, second).status == UploadStatus.SUCCESSFUL
    assert f"It replaces upload #{first}" in outbox_messages(app)[-1].get_body(("plain",)).get_content()


def test_a_bulk_file_with_nobody_to_copy_has_nothing_to_send_yet_is_not_taken_for_done_before(
        app, stub_broker):
    # Only an upload done before (None) makes its job send its siblings' pending answers.
    with app.sessions.begin() as session:
        session.execute(delete(Contact).where(Contact.email == contact_of(ACORN)))
    first, second = receive_files(app, [("a.xlsx", valid_ks1(ACORN)), ("b.xlsx", valid_ks1(BEECH))],
                                  sender=TRUST_ADMIN, channel="cli").upload_ids
    assert pipeline.process_upload(app, first) == []
    assert len(pipeline.process_upload(app, second)) == 2  # Beech's copy, the combined answer
    assert pipeline.process_upload(app, first) is None


def test_processing_the_same_upload_twice_answers_once(app, stub_broker):
    upload_id = send(app, ACORN, valid_ks1(ACORN))
    assert pipeline.process_upload(app, upload_id)
    assert pipeline.process_upload(app, upload_id) is None  # done before: the actor sends what is unsent
    with app.sessions() as session:
        results = session.scalars(select(OutgoingEmail).where(OutgoingEmail.kind == "result")).all()
        pupils = session.scalars(select(PupilResult)).all()
    assert len(results) == 1 and len(pupils) == 24


def test_a_trust_administrator_may_upload_for_a_trust_school_and_both_sides_see_it(app, stub_broker):
    upload_id = send(app, BEECH, valid_ks1(BEECH), sender=TRUST_ADMIN)
    pipeline.process_upload(app, upload_id)
    assert upload(app, upload_id).status == UploadStatus.SUCCESSFUL
    with app.sessions() as session:
        assert [r.upload for r in history(session, viewer=contact_of(BEECH))] == [upload_id]
        assert [r.upload for r in history(session, viewer=TRUST_ADMIN)] == [upload_id]
        assert history(session, viewer=contact_of(ACORN)) == []


def test_a_school_contact_may_not_upload_for_another_school(app, stub_broker):
    upload_id = send(app, BEECH, valid_ks1(BEECH), sender=contact_of(ACORN))
    pipeline.process_upload(app, upload_id)
    done = upload(app, upload_id)
    assert done.status == UploadStatus.ERROR
    assert [e["rule"] for e in done.errors] == ["dfe-not-permitted"]


def test_a_standalone_school_is_not_reachable_by_the_trust(app, stub_broker):
    upload_id = send(app, DALE, valid_ks1(DALE), sender=TRUST_ADMIN)
    pipeline.process_upload(app, upload_id)
    assert upload(app, upload_id).status == UploadStatus.ERROR


def test_only_the_uploader_may_delete_and_the_previous_file_becomes_current_again(app, stub_broker):
    first = send(app, ACORN, valid_ks1(ACORN), received_at=utcnow() - timedelta(minutes=3))
    second = send(app, ACORN, valid_ks1(ACORN, change=1), sender=TRUST_ADMIN)
    pipeline.process_upload(app, first)
    pipeline.process_upload(app, second)
    stored = upload(app, second).stored_path
    with pytest.raises(NotAllowed, match="Only the person who uploaded"):
        delete_upload(app, second, contact_of(ACORN))
    current = delete_upload(app, second, TRUST_ADMIN)
    assert current.id == first
    deleted = upload(app, second)
    assert deleted.status == UploadStatus.DELETED and deleted.deleted_by == TRUST_ADMIN
    assert deleted.stored_path is None and not __import__("os").path.exists(stored)
    assert upload(app, first).status == UploadStatus.SUCCESSFUL
    with app.sessions() as session:
        assert {r.upload for r in history(session, school=ACORN)} == {first, second}
        assert [r.upload for r in history(session, school=ACORN, show_all=False)] == [first]
    with pytest.raises(NotAllowed, match="already deleted"):
        delete_upload(app, second, TRUST_ADMIN)


def test_a_file_received_after_a_windows_deadline_goes_to_the_next_window(app, stub_broker):
    collection = app.collections["ks1-demo"]
    late = collection.window(1).closes + timedelta(seconds=1)
    upload_id = send(app, ACORN, valid_ks1(ACORN), received_at=late)
    pipeline.process_upload(app, upload_id)
    assert upload(app, upload_id).window_number == 2


def test_a_file_received_after_the_final_close_is_refused_with_a_clear_reason(app, stub_broker):
    collection = app.collections["ks1-demo"]
    upload_id = send(app, ACORN, valid_ks1(ACORN),
                     received_at=collection.final_close + timedelta(minutes=1))
    pipeline.process_upload(app, upload_id)
    refused = upload(app, upload_id)
    assert refused.status == UploadStatus.ERROR
    assert "service closed on" in refused.reason and "no longer be accepted" in refused.reason


def test_an_unreadable_file_is_answered_with_what_to_send_instead(app, stub_broker, stub_worker):
    upload_id = send(app, ACORN, b"%PDF-1.7 not a spreadsheet")
    drain(stub_broker)
    assert upload(app, upload_id).status == UploadStatus.ERROR
    assert "Excel workbook (.xlsx)" in outbox_messages(app)[-1].get_body(("plain",)).get_content()


def test_a_file_that_takes_longer_than_the_time_limit_is_stopped_and_answered(app, stub_broker, stub_worker, monkeypatch):
    import time
    from dataclasses import replace
    from config.settings import Limits
    from workers import pipeline as pipeline_module
    app.settings = replace(app.settings, limits=Limits(max_seconds=1))

    def slow_check(*args, **kwargs):
        while True:  # a parser stuck in Python code
            time.sleep(0.05)
    monkeypatch.setattr(pipeline_module, "check_file", slow_check)
    started = time.monotonic()
    upload_id = send(app, ACORN, valid_ks1(ACORN))
    drain(stub_broker)
    assert time.monotonic() - started < 8
    stopped = upload(app, upload_id)
    assert stopped.status == UploadStatus.ERROR and "longer than 1 seconds" in stopped.reason
    assert "longer than 1 seconds" in outbox_messages(app)[-1].get_body(("plain",)).get_content()


def test_an_invalid_workbook_is_answered_with_the_schools_own_workbook_marked_up(app, stub_broker, stub_worker):
    import io
    import openpyxl
    send(app, CEDAR, invalid_ks1(CEDAR))
    drain(stub_broker)
    answer = outbox_messages(app)[-1]
    attachments = list(answer.iter_attachments())
    assert [a.get_filename() for a in attachments] == [f"{CEDAR} - errors.xlsx"]
    workbook = openpyxl.load_workbook(io.BytesIO(attachments[0].get_content()))
    sheet = workbook.worksheets[0]
    assert sheet["L3"].comment is not None and "85 to 115" in sheet["L3"].comment.text
    assert sheet["A3"].comment is None
    assert "Errors" in workbook.sheetnames
    assert "attached workbook marks every cell" in answer.get_body(("plain",)).get_content()


def test_an_invalid_ks2_csv_is_answered_with_a_workbook_listing_its_errors(app, stub_broker, stub_worker):
    import io
    import openpyxl
    from helpers import valid_ks2
    bad = valid_ks2(ACORN).replace(b",EXS,EXS\r\n", b",XYZ,EXS\r\n", 1)
    receive(app, bad, file_name=f"{ACORN}_KS2.csv", sender=contact_of(ACORN), channel="cli")
    drain(stub_broker)
    attachment = next(outbox_messages(app)[-1].iter_attachments())
    sheet = openpyxl.load_workbook(io.BytesIO(attachment.get_content()))["Errors"]
    assert any("XYZ" in str(c.value) or "Writing" in str(c.value) for row in sheet.iter_rows()
               for c in row)
