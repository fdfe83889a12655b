"""One school's reports for a closed window: measures, two PDFs on disk, an email in the outbox.

Idempotent like every job: the report row is loaded by id and only a ``pending`` one is made;
the figures are drawn against the pool fixed when the window was claimed.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field, replace
from datetime import datetime
from itertools import groupby
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from config.collections import Collection, in_london
from models import Report, School, Trust, Upload
from models.audit import audit
from models.reports import SCHOOL
from models.base import utcnow
from reports.analysis import analyse, format_value, national_for, pool_from_json, trust_values
from reports.figures import Analysis, Pool, ReportHeader
from reports.pdf import pupils_pdf, summary_pdf
from workers.answers import stored_attachment
from workers.app import App
from workers.closing import finish_if_done, kind_of, lock_window, trusts_ready, window_row
from workers.report_mail import PDF, ZIP, queue_school_reports, queue_trust_bundle
from workers.window_data import pupils_by_school, upload_lines

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


@dataclass(frozen=True)
class Job:
    """What one school's report is drawn from, read before drawing so no transaction is held."""
    report: Report
    collection: Collection
    dfe: str
    header: ReportHeader
    pupils: list
    pool: Pool
    password: str | None


@dataclass(frozen=True)
class Drawn:
    """A drawn report (its files and summary) or the error that stopped it."""
    report_id: int
    files: list[dict]
    summary: dict | None
    error: str | None


def make_school_reports(app: App, report_ids: list[int], now: datetime | None = None) -> Made:
    """Several schools' reports in one job: read in a handful of queries, draw each, then settle
    them in one transaction per window. A national window has 16,000 schools, and a query per
    school and step was a third of the work. Idempotent: only ``pending`` rows are made."""
    with app.sessions() as session:
        jobs = read_jobs(app, session, report_ids)
    drawn = [draw(app, job) for job in jobs]
    made = Made()
    for (key, number), group in groupby(sorted(zip(jobs, drawn), key=_window_of), key=_window_of):
        settled = settle(app, key, number, [outcome for _, outcome in group], now or utcnow())
        made.outbox_ids += settled.outbox_ids
        made.trust_reports += settled.trust_reports
    return made


def _window_of(pair: tuple[Job, Drawn]) -> tuple[str, int]:
    return pair[0].report.collection_key, pair[0].report.window_number


def read_jobs(app: App, session: Session, report_ids: list[int]) -> list[Job]:
    rows = session.execute(
        select(Report, School, Trust).join(School, School.id == Report.school_id)
        .outerjoin(Trust, Trust.id == School.trust_id)
        .where(Report.id.in_(report_ids), Report.status == "pending").order_by(Report.id)).all()
    if not rows:
        return []  # done already (a redelivered message)
    uploads = {u.id: u for u in session.scalars(select(Upload).where(
        Upload.id.in_({u for report, _, _ in rows for u in report.upload_ids})))}
    kinds = {report.id: kind_of(app.collections[report.collection_key]) for report, _, _ in rows}
    pupils: dict[int, list] = {}
    for kind in set(kinds.values()):
        pupils |= pupils_by_school(session, {report.id: report.upload_ids for report, _, _ in rows
                                             if kinds[report.id] == kind}, kind)
    pools: dict[tuple[str, int], Pool] = {}
    jobs = []
    for report, school, trust in rows:
        collection = app.collections[report.collection_key]
        where = (report.collection_key, report.window_number)
        if where not in pools:
            pools[where] = pool_from_json(window_row(session, *where).pool)
        mine = sorted((uploads[u] for u in report.upload_ids), key=lambda u: u.stream)
        header = ReportHeader(school.name, school.dfe, trust.name if trust else None,
                              collection.key, collection.name, report.window_number,
                              in_london(collection.window(report.window_number).closes),
                              upload_lines(mine), in_london(report.created_at))
        jobs.append(Job(report, collection, school.dfe, header, pupils[report.id], pools[where],
                        school.report_password))
    return jobs


def draw(app: App, job: Job) -> Drawn:
    """The two PDFs on disk and the trust table's summary; an error is kept, never raised, so one
    school's bad data cannot hold up the window."""
    kind = kind_of(job.collection)
    try:
        analysis = analyse(kind, job.pupils, job.pool, national_for(kind, job.collection.year))
        files = write_files(app, job.report, job.dfe, job.collection, [
            ("summary", summary_pdf(job.header, analysis, password=job.password)),
            ("pupils", pupils_pdf(job.header, analysis, password=job.password))])
        summary = {"pupils": len(job.pupils), "uploads": job.header.uploads,
                   "values": trust_values(analysis), "lines": headline_lines(analysis)}
        return Drawn(job.report.id, files, summary, None)
    except Exception as exc:  # noqa: BLE001 - a failed report must not hold up the window
        log.exception("report %s for %s failed", job.report.id, job.dfe,
                      extra={"report_id": job.report.id, "school": job.dfe})
        return Drawn(job.report.id, [], None, f"{type(exc).__name__}: {exc}")


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


def settle(app: App, collection_key: str, number: int, drawn: list[Drawn],
           now: datetime) -> Made:
    """Record drawn reports of one window and release or hold them, in one transaction."""
    made = Made()
    collection = app.collections[collection_key]
    with app.sessions.begin() as session:
        lock_window(session, collection_key, number)
        outcomes = {d.report_id: d for d in drawn}
        reports = session.scalars(select(Report).where(Report.id.in_(outcomes))
                                  .order_by(Report.id).with_for_update()).all()
        schools = {s.id: s for s in session.scalars(select(School).where(
            School.id.in_({r.school_id for r in reports if r.school_id is not None})))}
        for report in reports:
            if report.status != "pending":
                continue  # another worker finished it while this one was drawing
            outcome = outcomes[report.id]
            report.files, report.summary, report.error = outcome.files, outcome.summary, outcome.error
            report.made_at = now
            if outcome.error is not None:
                report.status = "failed"
            elif released_now(collection, number, now):
                made.outbox_ids += release(session, app, report, collection, now)
            else:
                report.status = "held"
            audit(session, "scheduler", "report", report.id, report.status, error=outcome.error)
        session.flush()
        # only these schools' trusts can have become ready
        for trust_id in sorted({s.trust_id for s in schools.values() if s.trust_id is not None}):
            made.trust_reports += trusts_ready(session, collection_key, number, trust_id)
        finish_if_done(session, collection_key, number)
    return made


def release(session, app: App, report: Report, collection: Collection, now: datetime) -> list[int]:
    """Put a made report's email in the outbox; returns the outbox ids to send."""
    queue = queue_school_reports if report.kind == SCHOOL else queue_trust_bundle
    email = queue(session, app.settings, report, collection)
    report.status, report.released_at = "released", now
    return [email.id] if email is not None else []
