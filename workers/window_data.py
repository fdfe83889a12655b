"""What a closing window's reports are made from: each school's current uploads as plain pupils.

Reading only; the measures in ``reports/`` never see the database.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from sqlalchemy import ARRAY, ColumnElement, String, any_, literal, select
from sqlalchemy.orm import Session

from config.collections import Collection, in_london
from models import PupilResult, School, Upload, UploadStatus
from reports.figures import Pupil

KS1_PRIOR = ("ta_reading", "ta_writing", "ta_maths")


def upload_lines(uploads: list[Upload]) -> list[str]:
    """How every report page names the upload(s) it was made from."""
    return [f"Upload #{u.id}: {u.file_name}, received {in_london(u.received_at):%d/%m/%Y %H:%M}"
            for u in uploads]


@dataclass(frozen=True)
class SchoolPupils:
    school_id: int
    upload_ids: list[int]
    pupils: list[Pupil]


def current_uploads(session: Session, collection: Collection, window: int,
                    school_id: int | None = None) -> dict[int, list[Upload]]:
    """The current (Successful) uploads of the window by school: one per stream."""
    query = select(Upload).where(*_current(collection, window))
    if school_id is not None:
        query = query.where(Upload.school_id == school_id)
    by_school: dict[int, list[Upload]] = defaultdict(list)
    for upload in session.scalars(query.order_by(Upload.school_id, Upload.stream)):
        by_school[upload.school_id].append(upload)
    return dict(by_school)


def _current(collection: Collection, window: int) -> tuple[ColumnElement[bool], ...]:
    """The conditions of a window's current uploads: Successful and placed at a school."""
    return (Upload.collection_key == collection.key, Upload.window_number == window,
            Upload.status == UploadStatus.SUCCESSFUL, Upload.school_id.is_not(None))


def _result_rows(upload_ids: list[int]):
    return (select(PupilResult.upload_id, PupilResult.upn, PupilResult.forename,
                   PupilResult.surname, PupilResult.results)
            .where(PupilResult.upload_id.in_(upload_ids))
            .order_by(PupilResult.upload_id, PupilResult.row))


def _merged(rows) -> dict[str, tuple[str, str, dict]]:
    """UPN -> (forename, surname, results), later uploads filling what earlier ones left blank."""
    merged: dict[str, tuple[str, str, dict]] = {}
    for row in rows:
        _, _, results = merged.setdefault(row.upn, (row.forename, row.surname, {}))
        for key, value in row.results.items():
            if value is not None or key not in results:
                results[key] = value
    return merged


def _pupils(rows, priors: dict[str, dict]) -> list[Pupil]:
    return [Pupil(upn, forename, surname, results, priors.get(upn))
            for upn, (forename, surname, results) in _merged(rows).items()]


PRIOR_BATCH = 1000  # UPNs looked up at a time (ks1_priors)


def ks1_priors(session: Session, upns: Iterable[str]) -> dict[str, dict]:
    """KS2 pupils' KS1 teacher assessments, where the service holds them: a current KS1 template
    upload or a CTF's KS1 part for the same UPN (the latest received wins). Never guessed.

    Looked up ``PRIOR_BATCH`` UPNs at a time: for a whole chunk of schools (4,500 UPNs)
    PostgreSQL's planner prefers reading every pupil row in the table to 4,500 index lookups, and
    the table holds every pupil of the year, so each chunk of a national window cost more than the
    last. Only the three assessments are read out of each row's results, by the database."""
    results = PupilResult.results
    query = (select(PupilResult.upn, Upload.format,
                    *(results[key].as_string() for key in KS1_PRIOR),
                    *(results[("ks1", key)].as_string() for key in KS1_PRIOR))
             .join(Upload, Upload.id == PupilResult.upload_id)
             .where(Upload.status == UploadStatus.SUCCESSFUL,
                    Upload.format.in_(("ks1-template", "ctf-xml")))
             .order_by(Upload.received_at))  # the latest received wins
    priors: dict[str, dict] = {}
    upns = sorted(set(upns))  # each UPN in one batch, so each batch's order is enough
    for start in range(0, len(upns), PRIOR_BATCH):
        batch = _one_of(session, PupilResult.upn, upns[start:start + PRIOR_BATCH])
        for upn, fmt, *values in session.execute(query.where(batch)):
            values = values[len(KS1_PRIOR):] if fmt == "ctf-xml" else values[:len(KS1_PRIOR)]
            if any(values):
                priors[upn] = dict(zip(KS1_PRIOR, values))
    return priors


def _one_of(session: Session, column, values: list[str]) -> ColumnElement[bool]:
    """``column IN values``; on PostgreSQL as ``= ANY`` of one array, since a thousand separate
    parameters cost the driver more to send than the database takes to answer."""
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(literal(values, ARRAY(String)))
    return column.in_(values)


def window_pupils(session: Session, collection: Collection, window: int, kind: str,
                  chunk: int = 100) -> Iterator[SchoolPupils]:
    """Each reporting school's current uploads and pupils, in school id order, read a chunk of
    schools at a time (found by the last school id seen), so nothing about a national window's
    16,000 schools is ever in memory at once."""
    current = _current(collection, window)
    after = 0  # ids start at 1
    while True:
        schools = (select(Upload.school_id).where(*current, Upload.school_id > after)
                   .group_by(Upload.school_id).order_by(Upload.school_id).limit(chunk))
        part: dict[int, list[int]] = defaultdict(list)
        for school_id, upload_id in session.execute(
                select(Upload.school_id, Upload.id).where(*current, Upload.school_id.in_(schools))
                .order_by(Upload.school_id, Upload.id)):
            part[school_id].append(upload_id)
        if not part:
            return
        for school_id, pupils in pupils_by_school(session, part, kind).items():
            yield SchoolPupils(school_id, part[school_id], pupils)
        after = max(part)


def pupils_by_school(session: Session, uploads: dict[int, list[int]],
                     kind: str) -> dict[int, list[Pupil]]:
    """Pupils for several schools (or reports), keyed as ``uploads`` is, in two queries (results,
    then KS1 priors) rather than two per school."""
    by_upload: dict[int, list] = defaultdict(list)
    for row in session.execute(_result_rows([u for ids in uploads.values() for u in ids])):
        by_upload[row.upload_id].append(row)
    priors: dict[str, dict] = {}
    if kind == "ks2":
        priors = ks1_priors(session, (row.upn for rows in by_upload.values() for row in rows))
    return {school_id: _pupils([row for u in ids for row in by_upload.pop(u, [])], priors)
            for school_id, ids in uploads.items()}


def expected_schools(session: Session, collection: Collection) -> list[School]:
    """Schools the collection expects to hear from (by phase), for reminders and trust tables."""
    return [s for s in session.scalars(select(School).order_by(School.name))
            if collection.expects(s.phase)]
