"""Closing a window exactly once: claim it, fix the pooled figures, write one job per school and
trust, and mark it closed when every job is done (invariant 4).

The claim is a conditional update (``open -> closing``) whose transaction also writes the pooled
figures and every report row, so a second scheduler racing the first finds nothing to claim and
no job can exist twice. Jobs are only handed to the broker after that commit.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, func, insert, or_, select, text, update
from sqlalchemy.orm import Session

from config.collections import Collection
from models import Report, School, Upload, UploadStatus, WindowRow
from models.audit import audit
from models.base import utcnow
from models.reports import SCHOOL, TRUST
from reports.analysis import kind_for_format, pool_for, pool_to_json
from workers.app import App
from workers.window_data import window_pupils


@dataclass(frozen=True)
class Claimed:
    """What a claim wrote: a report per school pooled (``schools``) and a bundle per trust told.
    Counts, not ids: a national window has 16,000 school reports, which
    ``scheduler.start_closing`` hands over a batch at a time after the commit."""
    collection_key: str
    window_number: int
    trust_reports: int         # waiting until their schools are done
    ready_trusts: list[int]    # trusts with no school report to wait for
    schools: int
    pupils: int


def kind_of(collection: Collection) -> str:
    return kind_for_format(collection.formats[0])


def still_processing(session: Session, collection: Collection, window: int) -> int:
    """Files received before the deadline that workers are still checking: a window waits for them.

    Until checked, a file's collection is not known, so any file received in time counts."""
    return session.scalar(select(func.count()).select_from(Upload).where(
        Upload.status == UploadStatus.PROCESSING,
        Upload.received_at <= collection.window(window).closes,
        or_(Upload.collection_key.is_(None), Upload.collection_key == collection.key)))


def claim_window(app: App, collection: Collection, number: int, by: str,
                 now: datetime | None = None) -> Claimed | None:
    """Claim and fan out the window; None when someone else already claimed it."""
    now = now or utcnow()
    kind = kind_of(collection)
    with app.sessions.begin() as session:
        claimed = session.execute(
            update(WindowRow).where(WindowRow.collection_key == collection.key,
                                    WindowRow.number == number, WindowRow.state == "open")
            .values(state="closing", closing_at=now)).rowcount
        if claimed != 1:
            return None
        added: list[dict] = []  # school report rows, written a batch at a time

        def each_school():  # the pool takes one school's pupils at a time
            for school in window_pupils(session, collection, number, kind):
                added.append({"kind": SCHOOL, "school_id": school.school_id,
                              "upload_ids": school.upload_ids, "status": "pending"})
                if len(added) == REPORT_BATCH:
                    _add_reports(session, added, collection.key, number)
                    added.clear()
                yield school.pupils

        pool = pool_for(kind, each_school())
        _add_reports(session, added, collection.key, number)
        window = session.scalar(select(WindowRow).where(WindowRow.collection_key == collection.key,
                                                        WindowRow.number == number))
        window.pool = pool_to_json(pool)
        trust_reports = _add_reports(session, [
            {"kind": TRUST, "trust_id": trust_id, "upload_ids": [], "status": "waiting"}
            for trust_id in session.scalars(_trusts_told(collection, number))],
            collection.key, number)
        audit(session, by, "window", window.id, "closing", collection=collection.key,
              window=number, schools=pool.schools, pupils=pool.pupils)
        result = Claimed(collection.key, number, trust_reports,
                         trusts_ready(session, collection.key, number), pool.schools, pool.pupils)
        finish_if_done(session, collection.key, number)  # a window nobody submitted to
    refresh_statistics(app, "reports")
    return result


def refresh_statistics(app: App, table: str) -> None:
    """PostgreSQL plans from table statistics; a claim writes a national window's report rows in
    one go, long before autovacuum notices, and every job's lookups would be planned for an
    empty table (a scan per finished report, quadratic over the window)."""
    if app.engine.dialect.name == "postgresql":
        with app.engine.begin() as connection:
            connection.execute(text(f"ANALYZE {table}"))


REPORT_BATCH = 1000  # report rows per insert


def _add_reports(session: Session, rows: list[dict], collection_key: str, window: int) -> int:
    """Insert report rows with plain statements (no ORM objects), at most ``REPORT_BATCH`` at a
    time; how many."""
    now = utcnow()
    for start in range(0, len(rows), REPORT_BATCH):
        session.execute(insert(Report), [
            {"collection_key": collection_key, "window_number": window, "school_id": None,
             "trust_id": None, "files": [], "created_at": now, **row}
            for row in rows[start:start + REPORT_BATCH]])
    return len(rows)


def _trusts_told(collection: Collection, window: int) -> Select:
    """The trusts a window's bundle goes to: those with a school that reported in it, or one the
    collection expects to hear from (so a trust learns which of its schools sent nothing)."""
    query = select(School.trust_id).where(School.trust_id.is_not(None))
    if collection.phases:  # otherwise every school is expected (Collection.expects, in SQL)
        reported = select(Report.school_id).where(Report.kind == SCHOOL,
                                                  Report.collection_key == collection.key,
                                                  Report.window_number == window)
        query = query.where(or_(School.id.in_(reported), School.phase.is_(None),
                                School.phase.in_(collection.phases)))
    return query.distinct().order_by(School.trust_id)


def trusts_ready(session: Session, collection_key: str, window: int,
                 trust_id: int | None = None) -> list[int]:
    """Trust bundles (all, or this trust's) whose schools' reports are all made: each moved
    waiting -> pending once."""
    query = select(Report).where(Report.kind == TRUST, Report.collection_key == collection_key,
                                 Report.window_number == window, Report.status == "waiting")
    if trust_id is not None:
        query = query.where(Report.trust_id == trust_id)
    ready = []
    for report in session.scalars(query):
        busy = session.scalar(select(Report.id).where(
            Report.school_id.in_(select(School.id).where(School.trust_id == report.trust_id)),
            Report.kind == SCHOOL, Report.collection_key == collection_key,
            Report.window_number == window, Report.status == "pending").limit(1))
        if busy is None and session.execute(
                update(Report).where(Report.id == report.id, Report.status == "waiting")
                .values(status="pending")).rowcount == 1:
            ready.append(report.id)
    return ready


def finish_if_done(session: Session, collection_key: str, window: int) -> bool:
    """Mark the window closed once no job is left (conditional, so it happens once)."""
    left = session.scalar(select(Report.id).where(
        Report.collection_key == collection_key, Report.window_number == window,
        Report.status.in_(("pending", "waiting"))).limit(1))
    if left is not None:
        return False
    return session.execute(
        update(WindowRow).where(WindowRow.collection_key == collection_key,
                                WindowRow.number == window, WindowRow.state == "closing")
        .values(state="closed", closed_at=utcnow())).rowcount == 1


def lock_window(session: Session, collection_key: str, number: int) -> None:
    """Serialise the jobs finishing in one window (a row lock on PostgreSQL; SQLite already holds
    the write lock): without it, the last two to finish at once would each see the other still
    pending, and neither would start the trust's bundle or close the window."""
    session.execute(select(WindowRow.id).where(WindowRow.collection_key == collection_key,
                                               WindowRow.number == number).with_for_update())


def window_row(session: Session, collection_key: str, number: int) -> WindowRow | None:
    return session.scalar(select(WindowRow).where(WindowRow.collection_key == collection_key,
                                                  WindowRow.number == number))


def describe(claimed: Claimed) -> str:
    return (f"{claimed.collection_key} window {claimed.window_number}: claimed; "
            f"{claimed.schools} school(s) with {claimed.pupils} pupil(s), a report job each, "
            f"{claimed.trust_reports} trust bundle job(s)")
