"""Closing a window exactly once: claim it, fix the pooled figures, write one job per school and
trust, and mark it closed when every job is done (invariant 4).

The claim is a conditional update (``open -> closing``) whose transaction also writes the pooled
figures and every report row, so a second scheduler racing the first finds nothing to claim and
no job can exist twice. Jobs are only handed to the broker after that commit.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from config.collections import Collection
from models import Report, School, Upload, UploadStatus, WindowRow
from models.audit import audit
from models.base import utcnow
from models.reports import SCHOOL, TRUST
from reports.analysis import kind_for_format, pool_for, pool_to_json
from workers.app import App
from workers.window_data import window_schools


@dataclass(frozen=True)
class Claimed:
    collection_key: str
    window_number: int
    school_reports: list[int]
    trust_reports: list[int]   # waiting until their schools are done
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
        schools = window_schools(session, collection, number, kind)
        pool = pool_for(kind, [s.pupils for s in schools])
        window = session.scalar(select(WindowRow).where(WindowRow.collection_key == collection.key,
                                                        WindowRow.number == number))
        window.pool = pool_to_json(pool)
        school_reports = [Report(kind=SCHOOL, collection_key=collection.key, window_number=number,
                                 school_id=s.school_id, upload_ids=[u.id for u in s.uploads],
                                 status="pending", files=[]) for s in schools]
        reporting = {s.school_id for s in schools}
        trust_ids = sorted({school.trust_id for school in session.scalars(select(School))
                            if school.trust_id is not None
                            and (school.id in reporting or collection.expects(school.phase))})
        trust_reports = [Report(kind=TRUST, collection_key=collection.key, window_number=number,
                                trust_id=trust_id, upload_ids=[], status="waiting", files=[])
                         for trust_id in trust_ids]
        session.add_all(school_reports + trust_reports)
        session.flush()
        audit(session, by, "window", window.id, "closing", collection=collection.key,
              window=number, schools=len(schools), pupils=pool.pupils)
        result = Claimed(collection.key, number, [r.id for r in school_reports],
                         [r.id for r in trust_reports], trusts_ready(session, collection.key, number),
                         len(schools), pool.pupils)
        finish_if_done(session, collection.key, number)  # a window nobody submitted to
    return result


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
        busy = session.scalar(select(func.count()).select_from(Report).join(
            School, School.id == Report.school_id).where(
            Report.kind == SCHOOL, Report.collection_key == collection_key,
            Report.window_number == window, Report.status == "pending",
            School.trust_id == report.trust_id))
        if busy == 0 and session.execute(
                update(Report).where(Report.id == report.id, Report.status == "waiting")
                .values(status="pending")).rowcount == 1:
            ready.append(report.id)
    return ready


def finish_if_done(session: Session, collection_key: str, window: int) -> bool:
    """Mark the window closed once no job is left (conditional, so it happens once)."""
    left = session.scalar(select(func.count()).select_from(Report).where(
        Report.collection_key == collection_key, Report.window_number == window,
        Report.status.in_(("pending", "waiting"))))
    if left:
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
            f"{claimed.schools} school(s) with {claimed.pupils} pupil(s), "
            f"{len(claimed.school_reports)} school report job(s), "
            f"{len(claimed.trust_reports)} trust bundle job(s)")
