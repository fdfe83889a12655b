"""One school's reports for a closed window: measures, two PDFs on disk, an email in the outbox.

Idempotent like every job: the report row is loaded by id and only a ``pending`` one is made;
the figures are drawn against the pool fixed when the window was claimed.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

from sqlalchemy import select

from config.collections import Collection, in_london
from models import Report, School, Trust, Upload
from models.audit import audit
from models.reports import SCHOOL
from models.base import utcnow
from reports.analysis import analyse, format_value, national_for, pool_from_json, trust_values
from reports.figures import Analysis, ReportHeader
from reports.pdf import pupils_pdf, summary_pdf
from workers.answers import stored_attachment
from workers.app import App
from workers.closing import finish_if_done, kind_of, lock_window, trusts_ready, window_row
from workers.report_mail import PDF, ZIP, queue_school_reports, queue_trust_bundle
from workers.window_data import SchoolData, pupils_of

log = logging.getLogger(__name__)


@dataclass
class Made:
    """What a job leaves for the broker: emails to send and trust bundles now ready."""
    outbox_ids: list[int] = field(default_factory=list)
    trust_reports: list[int] = field(default_factory=list)


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-")[:60] or "report"


def report_folder(app: App, report: Report, owner: str) -> Path:
    return (app.settings.reports_dir / report.collection_key / f"window-{report.window_number}"
            / owner / f"report-{report.id}")


def released_now(collection: Collection, number: int, now: datetime) -> bool:
    """Reports go out at once unless the collection embargoes them until "reports available by"."""
    return not collection.embargo or now >= collection.window(number).reports_by


def headline_lines(analysis: Analysis) -> list[str]:
    lines = []
    for row in analysis.headline:
        national = (f"{format_value(replace(row.school, value=row.national.value))} "
                    f"({row.national.year})" if row.national else "–")
        participating = format_value(row.participating) if row.participating else "–"
        lines.append(f"{row.school.label}: {format_value(row.school)}; {participating}; {national}")
    return lines


def make_school_report(app: App, report_id: int, now: datetime | None = None) -> Made:
    with app.sessions() as session:
        report = session.get(Report, report_id)
        if report is None or report.status != "pending":
            return Made()  # done already (a redelivered message)
        collection = app.collections[report.collection_key]
        school = session.get(School, report.school_id)
        trust = session.get(Trust, school.trust_id) if school.trust_id else None
        window = window_row(session, report.collection_key, report.window_number)
        uploads = list(session.scalars(select(Upload).where(Upload.id.in_(report.upload_ids))
                                       .order_by(Upload.stream)))
        kind = kind_of(collection)
        data = SchoolData(school.id, uploads, pupils_of(session, uploads, kind))
        header = ReportHeader(school.name, school.dfe, trust.name if trust else None,
                              collection.key, collection.name, report.window_number,
                              in_london(collection.window(report.window_number).closes),
                              data.upload_lines, in_london(report.created_at))
        password, pool_json = school.report_password, window.pool
    try:
        analysis = analyse(kind, data.pupils, pool_from_json(pool_json),
                           national_for(kind, collection.year))
        files = write_files(app, report, school.dfe, collection, [
            ("summary", summary_pdf(header, analysis, password=password)),
            ("pupils", pupils_pdf(header, analysis, password=password))])
        summary = {"pupils": len(data.pupils), "uploads": data.upload_lines,
                   "values": trust_values(analysis), "lines": headline_lines(analysis)}
        error = None
    except Exception as exc:  # noqa: BLE001 - a failed report must not hold up the window
        log.exception("report %s for %s failed", report_id, school.dfe)
        files, summary, error = [], None, f"{type(exc).__name__}: {exc}"
    return settle(app, report_id, collection, files, summary, error, now or utcnow())


def write_files(app: App, report: Report, owner: str, collection: Collection,
                documents: list[tuple[str, bytes]]) -> list[dict]:
    """The operator's copy under reports/, and the attachment under its hash for the relay."""
    folder = report_folder(app, report, owner)
    folder.mkdir(parents=True, exist_ok=True)
    files = []
    for what, content in documents:
        suffix = "zip" if what == "bundle" else "pdf"
        name = f"{slug(collection.key)}-window-{report.window_number}-{owner}-{what}.{suffix}"
        (folder / name).write_bytes(content)
        attachment = stored_attachment(app.settings, name, content, ZIP if suffix == "zip" else PDF)
        files.append({**attachment, "copy": str(folder / name)})
    return files


def settle(app: App, report_id: int, collection: Collection, files: list[dict],
           summary: dict | None, error: str | None, now: datetime) -> Made:
    made = Made()
    with app.sessions.begin() as session:
        report = session.get(Report, report_id)
        lock_window(session, report.collection_key, report.window_number)
        session.refresh(report, with_for_update=True)
        if report.status != "pending":
            return made  # another worker finished it while this one was drawing
        report.files, report.summary, report.error, report.made_at = files, summary, error, now
        if error is not None:
            report.status = "failed"
        elif released_now(collection, report.window_number, now):
            made.outbox_ids += release(session, app, report, collection, now)
        else:
            report.status = "held"
        audit(session, "scheduler", "report", report.id, report.status, error=error)
        session.flush()
        if report.kind == SCHOOL:  # only this school's trust can have become ready
            trust_id = session.get(School, report.school_id).trust_id
            if trust_id is not None:
                made.trust_reports = trusts_ready(session, report.collection_key,
                                                  report.window_number, trust_id)
        finish_if_done(session, report.collection_key, report.window_number)
    return made


def release(session, app: App, report: Report, collection: Collection, now: datetime) -> list[int]:
    """Put a made report's email in the outbox; returns the outbox ids to send."""
    queue = queue_school_reports if report.kind == SCHOOL else queue_trust_bundle
    email = queue(session, app.settings, report, collection)
    report.status, report.released_at = "released", now
    return [email.id] if email is not None else []
