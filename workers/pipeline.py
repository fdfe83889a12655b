"""Validate an upload and record the outcome: the domain step behind the ``validate_upload`` actor.

Safe to run twice for the same upload (at-least-once delivery): it returns early once the upload
has left Processing, and the final write re-checks that under the lock.
"""
from __future__ import annotations

import json

from sqlalchemy import bindparam, func, insert, or_, select, update
from sqlalchemy.orm import Session, joinedload

from config.collections import in_london
from intake import store
from models import (Contact, Pupil, PupilResult, School, Submission, Upload, UploadStatus,
                    WindowRow)
from models.audit import audit
from models.partners import SENDER_PREFIX, Partner, PartnerSchool
from models.base import utcnow
from workers import answers
from workers.app import App
from workers.check import Checked, check_file
from workers.supersede import settle_current
from workers.validators.result import ValidationContext


# The statements every upload runs, built once: built per call, constructing and keying them for
# the compiled cache costs about as much again as running them.
_TO_CHECK = select(  # what checking needs; the row is read whole, locked, later
    Upload.status, Upload.uploaded_by, Upload.received_at, Upload.stored_path, Upload.file_name,
    Upload.submission_id).where(Upload.id == bindparam("upload_id"))
_SIBLINGS = select(func.count()).select_from(Upload).where(
    Upload.submission_id == bindparam("submission_id"))
_SCHOOL_LOCKED = select(School).where(School.dfe == bindparam("dfe")).with_for_update()
_PARTNER_SCHOOLS = (select(School.dfe).join(PartnerSchool, PartnerSchool.school_id == School.id)
                    .join(Partner, Partner.id == PartnerSchool.partner_id)
                    .where(Partner.name == bindparam("name"), PartnerSchool.status == "connected"))
_MINE = select(Contact).where(Contact.email == bindparam("sender"))
_CONTACT_SCHOOLS = select(School.dfe).where(or_(
    School.id.in_(_MINE.with_only_columns(Contact.school_id)),
    School.trust_id.in_(_MINE.with_only_columns(Contact.trust_id))))
_PARTNER = select(Partner.id).where(Partner.name == bindparam("name"))
_CONTACT = select(Contact.id).where(Contact.email == bindparam("sender")).limit(1)
_ROSTER = (select(Pupil.upn).join(School, School.id == Pupil.school_id)
           .where(School.dfe == bindparam("dfe")))
_CLOSED_WINDOWS = select(WindowRow.number).where(
    WindowRow.collection_key == bindparam("collection_key"), WindowRow.state != "open")


def process_upload(app: App, upload_id: int) -> list[int] | None:
    """Validate, persist, supersede, answer. Returns the outbox ids the caller should send, or
    None for an upload done before (by a job run again, or another worker given the message)."""
    with app.sessions() as session:
        upload = session.execute(_TO_CHECK, {"upload_id": upload_id}).one_or_none()
        if upload is None or upload.status != UploadStatus.PROCESSING:
            return None
        sender, received_at, path = upload.uploaded_by, upload.received_at, upload.stored_path
        file_name = upload.file_name
        permitted = permitted_schools(session, sender)
        in_bulk = session.scalar(_SIBLINGS, {"submission_id": upload.submission_id}) > 1
        # A school's own sender nearly always sends its own file: its roster is read now, in
        # this transaction, rather than in one of its own once the file names the school.
        rosters = {dfe: _roster(session, dfe) for dfe in permitted} if len(permitted) == 1 else {}
    data = store.read(path) if path else b""
    checked = check_file(data, collections=app.collections, when=received_at,
                         limits=app.settings.limits, file_name=file_name,
                         context=ValidationContext(
                             may_submit_for=permitted.__contains__,
                             roster_for=lambda dfe: rosters[dfe] if dfe in rosters else roster(app, dfe),
                             ctf_parts_for=lambda dfe: ctf_parts(app, dfe)))
    with app.sessions.begin() as session:
        school = _school_of(session, checked)  # locked first, always: no deadlocks
        upload = session.get(Upload, upload_id, with_for_update={"of": Upload},
                             options=[joinedload(Upload.submission)])  # its Message-ID: the reply's
        if upload is None or upload.status != UploadStatus.PROCESSING:
            return None
        email = _record_outcome(app, session, upload, checked, school, in_bulk)
        submission_id = upload.submission_id
    bulk = answer_bulk_if_complete(app, submission_id) if in_bulk else []
    return ([email.id] if email else []) + bulk


def answer_bulk_if_complete(app: App, submission_id: int) -> list[int]:
    """Queue a bulk submission's one combined answer once none of its files is still processing.

    Run after the caller's own outcome is committed, in a transaction of its own holding no
    other locks: the conditional update lets exactly one of several finishing siblings win,
    and the last to commit always sees every sibling done.
    """
    with app.sessions.begin() as session:
        processing = select(Upload.id).where(Upload.submission_id == submission_id,
                                             Upload.status == UploadStatus.PROCESSING).exists()
        siblings = select(func.count()).select_from(Upload).where(
            Upload.submission_id == submission_id).scalar_subquery()
        claimed = session.execute(update(Submission).where(
            Submission.id == submission_id, Submission.answered_at.is_(None), ~processing,
            siblings > 1).values(answered_at=utcnow()))
        if claimed.rowcount != 1:
            return []
        submission = session.get(Submission, submission_id)
        email = answers.queue_bulk_result(session, app.settings, submission)
        return [email.id] if email else []


def give_up(app: App, upload_id: int, reason: str) -> list[int] | None:
    """Record an upload that could not be checked (e.g. over its time limit) as an Upload error;
    None, as ``process_upload`` says, for one done before."""
    with app.sessions.begin() as session:
        upload = session.get(Upload, upload_id, with_for_update=True)
        if upload is None or upload.status != UploadStatus.PROCESSING:
            return None
        upload.status, upload.reason, upload.validated_at = UploadStatus.ERROR, reason, utcnow()
        audit(session, "worker", "upload", upload.id, "gave up", reason=reason)
        email = answers.queue_result(session, app.settings, upload)
        submission_id = upload.submission_id
    return ([email.id] if email else []) + answer_bulk_if_complete(app, submission_id)


def _school_of(session: Session, checked: Checked) -> School | None:
    """The file's school, locked (as ``lock_school`` does) before any of its upload rows."""
    dfe = checked.result.school if checked.result else None
    return session.scalar(_SCHOOL_LOCKED, {"dfe": dfe}) if dfe else None


def permitted_schools(session: Session, sender: str) -> set[str]:
    """DfE numbers the sender may submit for: their own schools and every school of their trusts;
    for an SFTP partner, the schools linked to it."""
    if sender.startswith(SENDER_PREFIX):
        return set(session.scalars(_PARTNER_SCHOOLS, {"name": sender.removeprefix(SENDER_PREFIX)}))
    return set(session.scalars(_CONTACT_SCHOOLS, {"sender": sender}))


def is_known_sender(session: Session, sender: str) -> bool:
    """A registered contact, or a registered SFTP partner (authenticated by SSH)."""
    if sender.startswith(SENDER_PREFIX):
        return session.scalar(_PARTNER, {"name": sender.removeprefix(SENDER_PREFIX)}) is not None
    return session.scalar(_CONTACT, {"sender": sender}) is not None


def roster(app: App, dfe: str) -> set[str] | None:
    """UPNs on the school's template, or None when no roster is held for it."""
    with app.sessions() as session:
        return _roster(session, dfe)


def _roster(session: Session, dfe: str) -> set[str] | None:
    upns = set(session.scalars(_ROSTER, {"dfe": dfe}))
    return upns or None


def ctf_parts(app: App, dfe: str) -> frozenset[str] | None:
    """The CTF parts the school chose to import; None means all of them."""
    with app.sessions() as session:
        parts = session.scalar(select(School.ctf_parts).where(School.dfe == dfe))
    return frozenset(parts) if parts else None


def closed_windows(session: Session, collection_key: str) -> frozenset[int]:
    return frozenset(session.scalars(_CLOSED_WINDOWS, {"collection_key": collection_key}))


def _record_outcome(app: App, session: Session, upload: Upload, checked: Checked,
                    school: School | None, in_bulk: bool):
    upload.validated_at = utcnow()
    upload.format = checked.format
    collection = checked.collection
    reason = checked.reason
    if reason is None and collection is None:
        reason = f"No collection is open for {checked.format} files."
    window = None
    if reason is None:
        with session.no_autoflush:  # the upload's changes go in one UPDATE, not one per read
            closed = closed_windows(session, collection.key)
        window = collection.window_for(upload.received_at, closed)
        if window is None:
            reason = collection.refusal(upload.received_at)
    if reason is not None:
        upload.status = UploadStatus.ERROR
        upload.reason = reason
        if collection is not None:
            upload.collection_key = collection.key
        audit(session, "worker", "upload", upload.id, "refused", reason=reason)
        return answers.queue_result(session, app.settings, upload, in_bulk=in_bulk)

    result = checked.result
    upload.stream = collection.stream_for(checked.format)
    upload.collection_key = collection.key
    upload.window_number = window.number
    upload.school_id = school.id if school else None
    upload.errors = [f.as_dict() for f in result.errors]
    upload.warnings = [f.as_dict() for f in result.warnings]
    if not result.valid or school is None:
        upload.status = UploadStatus.ERROR
        audit(session, "worker", "upload", upload.id, "invalid", errors=len(result.errors))
        return answers.queue_result(session, app.settings, upload, in_bulk=in_bulk)

    upload.pupil_count = len(result.pupils)
    insert_results(session, upload.id, result.pupils)
    reports_by = f"{in_london(window.reports_by):%A %d %B %Y}"
    if collection.requires_confirmation:
        upload.status = UploadStatus.AWAITING
        audit(session, "worker", "upload", upload.id, "validated", status=upload.status,
              pupils=upload.pupil_count, window=window.number)
        return answers.queue_result(session, app.settings, upload, collection_name=collection.name,
                                    reports_by=reports_by, in_bulk=in_bulk)
    return make_current(app, session, upload, collection.name, reports_by, actor="worker",
                        in_bulk=in_bulk)


RESULT_COLUMNS = ("upload_id", "row", "upn", "forename", "surname", "gender", "dob", "nc_year",
                  "results")


def insert_results(session: Session, upload_id: int, pupils: list) -> None:
    """A valid upload's pupil rows, written in one go.

    250 ORM objects cost a KS4 upload a third of its CPU, and even an executemany is 250
    statements for PostgreSQL to plan and run; COPY streams the rows as one (3 ms less of the
    worker's CPU and 2 ms less of PostgreSQL's per KS4 upload). The embedded SQLite takes the
    executemany.
    """
    rows = [(upload_id, p.row, p.upn, p.forename, p.surname, p.gender, p.dob, p.nc_year)
            for p in pupils]
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        if rows:
            session.execute(insert(PupilResult), [dict(zip(RESULT_COLUMNS, (*row, p.results)))
                                                  for row, p in zip(rows, pupils)])
        return
    cursor = connection.connection.driver_connection.cursor()
    with cursor.copy(f"COPY pupil_results ({', '.join(RESULT_COLUMNS)}) FROM STDIN") as copy:
        for row, p in zip(rows, pupils):
            copy.write_row((*row, json.dumps(p.results)))


def make_current(app: App, session: Session, upload: Upload, collection_name: str,
                 reports_by: str, actor: str, kind: str = "result", in_bulk: bool | None = None):
    """Let a valid upload compete for current (latest received wins) and queue the result email."""
    with session.no_autoflush:
        before = _current(session, upload)
    upload.status = UploadStatus.OVERWRITTEN  # settle_current decides which one is current
    session.flush()
    winner = settle_current(session, upload.school_id, upload.collection_key, upload.window_number,
                            upload.stream)
    audit(session, actor, "upload", upload.id, "validated" if actor == "worker" else "confirmed",
          status=upload.status, pupils=upload.pupil_count, window=upload.window_number)
    if before is not None and before.status == UploadStatus.OVERWRITTEN:
        audit(session, actor, "upload", before.id, "overwritten", by=winner.id)
    return answers.queue_result(session, app.settings, upload,
                                replaced=before if winner is upload else None,
                                collection_name=collection_name, reports_by=reports_by, kind=kind,
                                in_bulk=in_bulk)


def _current(session: Session, upload: Upload) -> Upload | None:
    return session.scalar(select(Upload).where(
        Upload.school_id == upload.school_id, Upload.collection_key == upload.collection_key,
        Upload.window_number == upload.window_number, Upload.stream == upload.stream,
        Upload.status == UploadStatus.SUCCESSFUL))
