"""Every format goes through the same pipeline: detected from content, validated, made current."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from conftest import ACORN, BEECH, contact_of
from helpers import valid_ctf, valid_ks2, valid_ks4
from intake.receive import receive
from models import PupilResult, School, Upload, UploadStatus
from models.base import utcnow
from workers import pipeline
from workers.confirmation import confirm_upload


def processed(app, dfe, data, name="file", minutes_ago=1):
    upload_id = receive(app, data, file_name=name, sender=contact_of(dfe), channel="cli",
                        received_at=utcnow() - timedelta(minutes=minutes_ago)).upload_ids[0]
    pipeline.process_upload(app, upload_id)
    with app.sessions() as session:
        return session.get(Upload, upload_id)


@pytest.mark.parametrize("builder, collection, name", [
    (valid_ks2, "ks2-demo", f"{ACORN}_KS2_all_subjects"),
    (valid_ctf, "ctf-demo", "results"),
], ids=["ks2-csv", "ctf-xml"])
def test_a_valid_file_of_each_format_is_detected_from_content_and_becomes_current(
        app, stub_broker, builder, collection, name):
    upload = processed(app, ACORN, builder(ACORN), name=name)  # no extension: content decides
    assert (upload.status, upload.collection_key, upload.pupil_count) == \
        (UploadStatus.SUCCESSFUL, collection, 24), (upload.errors, upload.reason)


def test_a_ks2_portal_file_takes_its_school_from_its_name_and_needs_one(app, stub_broker):
    unnamed = processed(app, ACORN, valid_ks2(ACORN), name="results.csv")
    assert unnamed.status == UploadStatus.ERROR
    assert [e["rule"] for e in unnamed.errors] == ["dfe-missing"]
    other_school = processed(app, ACORN, valid_ks2(ACORN, change=1), name=f"{BEECH}_KS2.csv")
    assert [e["rule"] for e in other_school.errors] == ["dfe-not-permitted"]


def test_gcse_and_non_gcse_templates_are_separate_streams_each_waiting_for_confirmation(app, stub_broker):
    from workers.validators import ks4
    gcse = processed(app, BEECH, valid_ks4(BEECH, ks4.GCSE), minutes_ago=3)
    other = processed(app, BEECH, valid_ks4(BEECH, ks4.NON_GCSE), minutes_ago=2)
    assert (gcse.status, other.status) == (UploadStatus.AWAITING, UploadStatus.AWAITING), \
        (gcse.errors, other.errors)
    assert (gcse.stream, other.stream) == (ks4.GCSE, ks4.NON_GCSE)
    confirm_upload(app, gcse.id, contact_of(BEECH))
    confirm_upload(app, other.id, contact_of(BEECH))
    newer = processed(app, BEECH, valid_ks4(BEECH, ks4.GCSE, change=1), minutes_ago=1)
    confirm_upload(app, newer.id, contact_of(BEECH))
    with app.sessions() as session:
        status = {u.id: u.status for u in session.scalars(select(Upload))}
    assert status == {gcse.id: UploadStatus.OVERWRITTEN, other.id: UploadStatus.SUCCESSFUL,
                      newer.id: UploadStatus.SUCCESSFUL}


def test_a_ctf_imports_only_the_parts_its_school_chose(app, stub_broker):
    with app.sessions.begin() as session:
        session.scalar(select(School).where(School.dfe == ACORN)).ctf_parts = ["phonics"]
    upload = processed(app, ACORN, valid_ctf(ACORN))
    with app.sessions() as session:
        results = session.scalars(select(PupilResult.results).where(PupilResult.upload_id == upload.id)).all()
    assert results and all("mtc" not in r for r in results)
    assert upload.status == UploadStatus.SUCCESSFUL


def test_a_ctf_with_a_doctype_is_refused_by_the_pipeline_with_a_reason(app, stub_broker):
    data = valid_ctf(ACORN).replace(b"<CTfile>", b"<!DOCTYPE CTfile [<!ENTITY x 'y'>]><CTfile>", 1)
    upload = processed(app, ACORN, data)
    assert upload.status == UploadStatus.ERROR and "DOCTYPE" in (upload.reason or "") + str(upload.errors)
