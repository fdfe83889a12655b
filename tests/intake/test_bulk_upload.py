"""A trust's bulk upload (KS2 seed, Appendix A): one submission, one upload per school's file."""
from __future__ import annotations

import io
import os
import time
import zipfile

from sqlalchemy import select

from conftest import ACORN, BEECH, CEDAR, TRUST_ADMIN, contact_of
from helpers import invalid_ks1, valid_ks2, valid_ks1
from intake import folder
from intake.receive import receive, receive_files
from models import OutgoingEmail, Submission, Upload, UploadStatus
from workers.runner import drain


def emails(app) -> list[OutgoingEmail]:
    with app.sessions() as session:
        return list(session.scalars(select(OutgoingEmail).order_by(OutgoingEmail.id)))


def zip_of(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_three_schools_files_in_one_submission_are_routed_and_answered_once_with_a_line_each(
        app, stub_broker, stub_worker):
    receipt = receive_files(app, [(f"{ACORN}_KS2.csv", valid_ks2(ACORN)),
                                  ("Beech.xlsx", valid_ks1(BEECH)),
                                  ("Cedar.xlsx", invalid_ks1(CEDAR))],
                            sender=TRUST_ADMIN, channel="cli")
    drain(stub_broker)
    with app.sessions() as session:
        uploads = [session.get(Upload, i) for i in receipt.upload_ids]
        assert len(set(u.submission_id for u in uploads)) == 1
    assert [u.status for u in uploads] == [UploadStatus.SUCCESSFUL, UploadStatus.SUCCESSFUL,
                                           UploadStatus.ERROR]
    sent = emails(app)
    to_admin = [e for e in sent if TRUST_ADMIN in e.to_addrs]
    assert [e.kind for e in to_admin] == ["receipt", "bulk"]
    bulk = to_admin[1].text_body
    assert "Acorn Primary School (8012001)" in bulk and "Successful" in bulk
    assert "Cedar Infant School (8012003)" in bulk and "Upload error" in bulk
    assert "Range must be between 85 to 115" in bulk
    results = [e for e in sent if e.kind == "result"]
    assert sorted(e.to_addrs[0] for e in results) == sorted(contact_of(d) for d in (ACORN, BEECH, CEDAR))


def test_a_zip_of_schools_files_dropped_in_the_folder_becomes_one_upload_per_file(
        app, stub_broker, stub_worker, tmp_path):
    root = tmp_path / "drop"
    path = root / TRUST_ADMIN / "all schools.zip"
    path.parent.mkdir(parents=True)
    path.write_bytes(zip_of({"ks2/8012001_KS2.csv": valid_ks2(ACORN), "__MACOSX/._junk": b"x",
                             "Beech KS1.xlsx": valid_ks1(BEECH)}))
    os.utime(path, (time.time() - 10, time.time() - 10))
    report = folder.scan_once(app, root)
    drain(stub_broker)
    assert len(report.received) == 2
    with app.sessions() as session:
        submission = session.scalar(select(Submission))
        assert submission.file_name == "all schools.zip" and submission.stored_path
        names = sorted(u.file_name for u in submission.uploads)
        statuses = {u.status for u in submission.uploads}
    assert names == ["8012001_KS2.csv", "Beech KS1.xlsx"] and statuses == {UploadStatus.SUCCESSFUL}
    assert [e.kind for e in emails(app) if TRUST_ADMIN in e.to_addrs] == ["receipt", "bulk"]


def test_a_zip_bomb_is_not_opened_as_a_bulk_upload_but_refused_with_a_reason(app, stub_broker, stub_worker):
    bomb = zip_of({"a.csv": b"0" * 60_000_000})
    receipt = receive(app, bomb, file_name="schools.zip", sender=TRUST_ADMIN, channel="cli")
    drain(stub_broker)
    assert len(receipt.upload_ids) == 1
    with app.sessions() as session:
        upload = session.get(Upload, receipt.upload_ids[0])
    assert upload.status == UploadStatus.ERROR and "times over" in upload.reason


def test_a_single_file_answer_still_goes_to_the_sender(app, stub_broker, stub_worker):
    receive(app, valid_ks1(BEECH), file_name="b.xlsx", sender=TRUST_ADMIN, channel="cli")
    drain(stub_broker)
    assert [(e.kind, e.to_addrs) for e in emails(app)] == [
        ("receipt", [TRUST_ADMIN]), ("result", [TRUST_ADMIN])]
