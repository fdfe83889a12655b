"""One scheduler tick: reminders before deadlines, closing due windows, releasing embargoed
reports, and re-sending report jobs a crash left behind. Safe to run in several processes."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import or_, select

from config.collections import Collection, in_london
from models import Report, WindowRow
from models.reports import SCHOOL
from models.audit_chain import seal_for_scheduler
from models.base import utcnow
from workers import retention
from workers.app import App
from workers.closing import Claimed, claim_window, describe, still_processing, window_row
from workers.enqueue import enqueue_email, enqueue_report_batches, enqueue_reports
from workers.reminders import send_reminders, windows_to_remind
from workers.school_reports import release

STRANDED_AFTER = timedelta(minutes=10)


@dataclass
class Tick:
    lines: list[str] = field(default_factory=list)
    claimed: list[Claimed] = field(default_factory=list)


class CannotClose(Exception):
    pass


def tick(app: App, now: datetime | None = None, by: str = "scheduler") -> Tick:
    now = now or utcnow()
    result = Tick()
    for collection, number in windows_to_remind(app, now):
        sent = send_reminders(app, collection, number)
        if sent:
            enqueue_email(app, outbox_ids=sent)
            result.lines.append(f"{collection.key} window {number}: {len(sent)} reminder(s) sent")
    for collection, number in due_windows(app, now):
        waiting = _still_checking(app, collection, number, now)
        if waiting:
            result.lines.append(waiting)
            continue
        claimed = start_closing(app, collection, number, by, now)
        if claimed is not None:
            result.claimed.append(claimed)
            result.lines.append(describe(claimed))
    released = release_due(app, now)
    if released:
        result.lines.append(f"{released} embargoed report(s) released")
    stranded = redrive_stranded(app, now)
    if stranded:
        result.lines.append(f"{stranded} report job(s) sent again")
    result.lines += retention.run(app, now)
    sealed = seal_for_scheduler(app)  # last, so this tick's own events are chained too
    if sealed:
        result.lines.append(sealed)
    return result


def due_windows(app: App, now: datetime) -> list[tuple[Collection, int]]:
    with app.sessions() as session:
        rows = session.execute(select(WindowRow.collection_key, WindowRow.number).where(
            WindowRow.state == "open", WindowRow.closes <= now).order_by(WindowRow.closes))
        return [(app.collections[key], number) for key, number in rows if key in app.collections]


def _still_checking(app: App, collection: Collection, number: int, now: datetime) -> str | None:
    """A file received just before the deadline is still being checked: wait for it, up to the grace."""
    with app.sessions() as session:
        busy = still_processing(session, collection, number)
    grace_ends = collection.window(number).closes + timedelta(seconds=app.settings.close_grace_seconds)
    if busy and now < grace_ends:
        return (f"{collection.key} window {number}: waiting for {busy} file(s) still being checked "
                f"(until {in_london(grace_ends):%H:%M:%S} at the latest)")
    return None


def start_closing(app: App, collection: Collection, number: int, by: str,
                  now: datetime) -> Claimed | None:
    claimed = claim_window(app, collection, number, by, now)
    if claimed is not None:
        enqueue_report_batches(app, Report.collection_key == collection.key,  # its school reports
                               Report.window_number == number, Report.kind == SCHOOL,
                               Report.enqueued_at.is_(None))
        enqueue_reports(app, trust_reports=claimed.ready_trusts)
    return claimed


def close_by_hand(app: App, key: str, number: int, by: str, now: datetime | None = None) -> Claimed:
    """``ers close-window``: the same claim as the scheduler, whether or not the deadline passed."""
    collection = app.collections.get(key)
    if collection is None:
        raise CannotClose(f"There is no collection '{key}'. Known collections: "
                          f"{', '.join(sorted(app.collections))}.")
    if number not in {w.number for w in collection.windows}:
        raise CannotClose(f"{collection.name} has windows "
                          f"{', '.join(str(w.number) for w in collection.windows)}, not {number}.")
    with app.sessions() as session:
        window = window_row(session, key, number)
        state = window.state if window else "open"
    if state != "open":
        raise CannotClose(f"{collection.name} window {number} is already {state}.")
    claimed = start_closing(app, collection, number, by, now or utcnow())
    if claimed is None:
        raise CannotClose(f"{collection.name} window {number} was claimed by another scheduler.")
    return claimed


def release_due(app: App, now: datetime) -> int:
    """Embargoed reports whose "reports available by" time has come go to the outbox."""
    outbox_ids: list[int] = []
    released = 0
    with app.sessions.begin() as session:
        for report in session.scalars(select(Report).where(Report.status == "held")
                                      .with_for_update(skip_locked=True)):
            collection = app.collections.get(report.collection_key)
            if collection is not None and now >= collection.window(report.window_number).reports_by:
                outbox_ids += release(session, app, report, collection, now)
                released += 1
    if outbox_ids:
        enqueue_email(app, outbox_ids=outbox_ids)
    return released


def redrive_stranded(app: App, now: datetime) -> int:
    """Report jobs committed but never handed over (or lost with a broker): send them again."""
    return enqueue_report_batches(app, or_(Report.enqueued_at.is_(None),
                                           Report.enqueued_at < now - STRANDED_AFTER))
