"""Rebuilding a school's reports after its current upload changed in a closed window (e.g. the
upload they came from was deleted): new reports from the upload now current, against the pool
fixed at closing, and a new bundle for its trust."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from models import Report, School
from models.reports import SCHOOL, TRUST
from workers.app import App
from workers.closing import window_row
from workers.deletion import remove_unused
from workers.enqueue import enqueue_reports
from workers.window_data import current_uploads


class CannotRegenerate(Exception):
    pass


@dataclass(frozen=True)
class Regenerated:
    report_id: int
    upload_ids: list[int]
    trust_report_id: int | None
    withdrawn: list[int]


def regenerate(app: App, key: str, number: int, dfe: str) -> Regenerated:
    collection = app.collections.get(key)
    if collection is None:
        raise CannotRegenerate(f"There is no collection '{key}'.")
    with app.sessions.begin() as session:
        window = window_row(session, key, number)
        if window is None or window.state == "open":
            raise CannotRegenerate(f"{collection.name} window {number} has not closed yet; its "
                                   "reports are made when it closes.")
        school = session.scalar(select(School).where(School.dfe == dfe))
        if school is None:
            raise CannotRegenerate(f"School {dfe} is not in the registry.")
        uploads = current_uploads(session, collection, number, school.id).get(school.id, [])
        if not uploads:
            raise CannotRegenerate(f"{school.name} has no successful upload in {collection.name} "
                                   f"window {number}, so there is nothing to report.")
        old = list(session.scalars(select(Report).where(
            Report.kind == SCHOOL, Report.school_id == school.id, Report.collection_key == key,
            Report.window_number == number, Report.status != "withdrawn")))
        for report in old:
            report.status = "withdrawn"
        new = Report(kind=SCHOOL, collection_key=key, window_number=number, school_id=school.id,
                     upload_ids=[u.id for u in uploads], status="pending", files=[])
        trust = None
        if school.trust_id is not None and not _bundle_to_come(session, key, number, school.trust_id):
            trust = Report(kind=TRUST, collection_key=key, window_number=number,
                           trust_id=school.trust_id, upload_ids=[], status="waiting", files=[])
        session.add_all([r for r in (new, trust) if r is not None])
        session.flush()
        result = Regenerated(new.id, new.upload_ids, trust.id if trust else None,
                             [r.id for r in old])
        stale = [f["copy"] for r in old for f in r.files if f.get("copy")]
    remove_unused(app, stale)
    enqueue_reports(app, [result.report_id])  # the bundle follows once the report is made
    return result


def _bundle_to_come(session, key: str, number: int, trust_id: int) -> bool:
    """A bundle not yet made will include the new report anyway."""
    return session.scalar(select(Report.id).where(
        Report.kind == TRUST, Report.collection_key == key, Report.window_number == number,
        Report.trust_id == trust_id, Report.status.in_(("waiting", "pending"))).limit(1)) is not None
