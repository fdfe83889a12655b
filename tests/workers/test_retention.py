"""Raw files and pupil-level data go a set time after the collection's final close; history stays."""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from conftest import ACORN, contact_of
from helpers import invalid_ks1, valid_ks1
from intake.receive import receive
from models import OutgoingEmail, PupilResult, Report, Submission, Upload, UploadStatus
from models.audit_chain import seal, verify
from workers import pipeline, retention


def sent_in(app, data: bytes, name: str) -> Upload:
    upload_id = receive(app, data, file_name=name, sender=contact_of(ACORN), channel="cli").upload_ids[0]
    pipeline.process_upload(app, upload_id)
    with app.sessions() as session:
        return session.get(Upload, upload_id)


def test_a_collection_is_purged_once_its_time_is_up_and_its_history_stays(app, tmp_path):
    bad, good = sent_in(app, invalid_ks1(ACORN), "bad.xlsx"), sent_in(app, valid_ks1(ACORN), "good.xlsx")
    collection = app.collections[good.collection_key]
    pdf = tmp_path / "summary.pdf"
    pdf.write_bytes(b"%PDF pupils")
    with app.sessions.begin() as session:
        session.add(Report(kind="school", collection_key=collection.key, window_number=1,
                           school_id=good.school_id, upload_ids=[good.id], status="released",
                           files=[{"name": "summary.pdf", "path": str(pdf), "copy": str(pdf)}]))
        workbook = session.scalar(select(OutgoingEmail).where(OutgoingEmail.upload_id == bad.id,
                                                              OutgoingEmail.kind == "result"))
    kept_files = [Path(good.stored_path), Path(bad.stored_path), Path(workbook.attachments[0]["path"])]
    assert all(p.exists() for p in kept_files + [pdf])

    due = collection.final_close + timedelta(days=app.settings.retention_days)
    early = retention.run(app, due - timedelta(minutes=1))
    assert not any(line.startswith(collection.key) for line in early)  # not yet
    [line] = [line for line in retention.run(app, due) if line.startswith(collection.key)]
    assert line.startswith(f"{collection.key}: raw files and pupil-level data deleted (2 upload(s), "
                           "24 pupil row(s), 1 report(s)")
    assert not any(p.exists() for p in kept_files + [pdf])
    with app.sessions() as session:
        assert session.scalar(select(func.count()).select_from(PupilResult)) == 0
        history = {u.file_name: (u.status, u.pupil_count, u.stored_path)
                   for u in session.scalars(select(Upload))}
        report = session.scalar(select(Report))
    assert history == {"bad.xlsx": (UploadStatus.ERROR, 0, None),
                       "good.xlsx": (UploadStatus.SUCCESSFUL, 24, None)}
    assert report.files == [{"name": "summary.pdf", "purged": True}]
    assert retention.run(app, due + timedelta(days=1)) == []  # once only
    seal(app)
    assert verify(app).ok  # the purge is in the audit trail like any other change


def test_a_file_still_used_by_an_upload_kept_is_not_deleted(app):
    first = sent_in(app, valid_ks1(ACORN), "one.xlsx")
    with app.sessions.begin() as session:  # the same bytes in a collection not yet due
        other = session.get(Upload, first.id)
        # A submission of its own with no file of its own: were the copy in the first upload's
        # submission, that submission (kept, pointing at the same file) would protect it instead.
        submission = Submission(channel="cli", sender=other.uploaded_by,
                                received_at=other.received_at, file_name="copy.xlsx",
                                content_hash=other.content_hash, size=other.size, stored_path=None)
        session.add(Upload(submission=submission, file_name="copy.xlsx",
                           content_hash=other.content_hash, stored_path=other.stored_path,
                           size=other.size, uploaded_by=other.uploaded_by,
                           received_at=other.received_at, status=UploadStatus.ERROR,
                           collection_key="another", errors=[], warnings=[]))
    collection = app.collections[first.collection_key]
    retention.run(app, collection.final_close + timedelta(days=app.settings.retention_days))
    assert Path(first.stored_path).exists()
