"""What a closing window reads: KS1 priors for KS2 pupils, on SQLite and on PostgreSQL, whose
JSON operators pick the three assessments out of each row."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from conftest import build_app
from models import PupilResult, Submission, Upload, UploadStatus
from workers.window_data import ks1_priors

T0 = datetime(2026, 6, 1, 9, 0, tzinfo=timezone.utc)


@pytest.fixture(params=["sqlite", "postgresql"])
def app(request, tmp_path):
    url = request.getfixturevalue("pg_url") if request.param == "postgresql" else None
    built = build_app(tmp_path / "data", database_url=url)
    yield built
    built.engine.dispose()


def held(app, fmt: str, minutes: int, pupils: dict[str, dict], status=UploadStatus.SUCCESSFUL):
    """An upload of ``fmt`` received ``minutes`` after T0 holding these UPNs' results."""
    with app.sessions.begin() as session:
        submission = Submission(channel="cli", sender="a@b", received_at=T0, file_name="f",
                                content_hash="0" * 64, size=1)
        session.add(submission)
        session.flush()
        upload = Upload(submission_id=submission.id, file_name="f", content_hash="0" * 64, size=1,
                        uploaded_by="a@b", received_at=T0 + timedelta(minutes=minutes),
                        status=status, format=fmt)
        session.add(upload)
        session.flush()
        session.add_all(PupilResult(upload_id=upload.id, row=n, upn=upn, forename="A",
                                    surname="B", results=results)
                        for n, (upn, results) in enumerate(pupils.items(), start=2))


def test_ks1_priors_come_from_a_template_or_a_ctfs_ks1_part_the_latest_received_winning(app):
    ta = {"ta_reading": "EXS", "ta_writing": "WTS", "ta_maths": "GDS", "phonics": 32}
    held(app, "ks1-template", 0, {"A1": ta, "B1": ta, "N1": {"ta_reading": None, "phonics": 3}})
    held(app, "ctf-xml", 5, {"B1": {"ks1": {"year": 2023, "ta_reading": "PK4", "ta_maths": "EXS"},
                                    "ks2": {"year": 2027}},
                             "C1": {"ks2": {"year": 2027}}})
    held(app, "ks1-template", 9, {"A1": {**ta, "ta_reading": "GDS"}}, status=UploadStatus.ERROR)
    held(app, "ks2-csv", 9, {"A1": {"ta_reading": "GDS", "ta_writing": "GDS", "ta_maths": "GDS"}})
    held(app, "ks2-csv", 9, {"Z9": {}})

    with app.sessions() as session:
        priors = ks1_priors(session, session.scalars(select(PupilResult.upn)))
        ks2_pupils = session.scalars(select(PupilResult.upn).join(Upload)
                                     .where(Upload.format == "ks2-csv")).all()
        assert ks1_priors(session, ks2_pupils) == {"A1": priors["A1"]}  # only the KS2 pupils'
        assert ks1_priors(session, []) == {}
    assert priors == {
        "A1": {"ta_reading": "EXS", "ta_writing": "WTS", "ta_maths": "GDS"},
        "B1": {"ta_reading": "PK4", "ta_writing": None, "ta_maths": "EXS"},  # the later CTF
    }


def test_pupil_rows_are_written_the_same_by_copy_on_postgresql_and_by_insert_on_sqlite(app):
    from workers.pipeline import RESULT_COLUMNS, insert_results
    from workers.validators.result import PupilRecord
    pupils = [PupilRecord(2, "A801200115001", "Zoë", "O'Brien, Jr", "F", date(2014, 10, 1), 6,
                          {"read_score": 104, "ta_writing": "EXS", "note": "tab\there\nand \\ back",
                           "blank": None}),
              PupilRecord(3, "B801200115002", "Ali", "Khan", None, None, None, {})]
    held(app, "ks2-csv", 0, {})
    with app.sessions.begin() as session:
        upload_id = session.scalar(select(Upload.id))
        insert_results(session, upload_id, pupils)
    with app.sessions() as session:
        written = session.execute(select(*(getattr(PupilResult, c) for c in RESULT_COLUMNS))
                                  .order_by(PupilResult.row)).all()
    assert [tuple(row) for row in written] == [
        (upload_id, p.row, p.upn, p.forename, p.surname, p.gender, p.dob, p.nc_year, p.results)
        for p in pupils]


def test_ks1_priors_are_looked_up_a_batch_of_upns_at_a_time_with_the_latest_still_winning(
        app, monkeypatch):
    import workers.window_data as window_data
    monkeypatch.setattr(window_data, "PRIOR_BATCH", 1)
    early, late = {"ta_reading": "WTS"}, {"ta_reading": "GDS"}
    held(app, "ks1-template", 0, {"A1": early, "B1": early})
    held(app, "ks1-template", 5, {"A1": late})
    with app.sessions() as session:
        assert ks1_priors(session, ["B1", "A1", "A1"]) == {
            "A1": {"ta_reading": "GDS", "ta_writing": None, "ta_maths": None},
            "B1": {"ta_reading": "WTS", "ta_writing": None, "ta_maths": None}}

