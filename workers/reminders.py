"""Reminders before a deadline: each school with no successful upload in the window, and each
trust's administrators with the list of their schools still missing. Once per window each."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from config.collections import Collection
from models import Reminder, School, Trust, WindowRow
from workers.app import App
from workers.report_mail import queue_school_reminder, queue_trust_reminder
from workers.window_data import current_uploads, expected_schools


def windows_to_remind(app: App, now: datetime) -> list[tuple[Collection, int]]:
    if app.settings.reminder_days <= 0:
        return []
    ahead = timedelta(days=app.settings.reminder_days)
    with app.sessions() as session:
        rows = session.execute(select(WindowRow.collection_key, WindowRow.number).where(
            WindowRow.state == "open", WindowRow.closes > now, WindowRow.closes <= now + ahead))
        return [(app.collections[key], number) for key, number in rows if key in app.collections]


def send_reminders(app: App, collection: Collection, number: int) -> list[int]:
    """Returns the outbox ids to send. A reminder row per target makes a second run a no-op."""
    outbox_ids: list[int] = []
    with app.sessions() as session:
        submitted = set(current_uploads(session, collection, number))
        missing = [(s.id, s.trust_id) for s in expected_schools(session, collection)
                   if s.id not in submitted]
        done = set(session.scalars(select(Reminder.target).where(
            Reminder.collection_key == collection.key, Reminder.window_number == number)))
    by_trust: dict[int, list[int]] = {}
    for school_id, trust_id in missing:
        if trust_id is not None:
            by_trust.setdefault(trust_id, []).append(school_id)
        if f"school:{school_id}" in done:  # every tick until the deadline: skip, don't collide
            continue
        outbox_ids += _once(app, collection, number, f"school:{school_id}",
                            lambda s, sid=school_id: queue_school_reminder(
                                s, app.settings, s.get(School, sid), collection, number))
    for trust_id, school_ids in by_trust.items():
        if f"trust:{trust_id}" in done:
            continue
        outbox_ids += _once(app, collection, number, f"trust:{trust_id}",
                            lambda s, tid=trust_id, ids=school_ids: queue_trust_reminder(
                                s, app.settings, s.get(Trust, tid), [s.get(School, i) for i in ids],
                                collection, number))
    return outbox_ids


def _once(app: App, collection: Collection, number: int, target: str, queue) -> list[int]:
    try:
        with app.sessions.begin() as session:
            session.add(Reminder(collection_key=collection.key, window_number=number, target=target))
            session.flush()  # a second scheduler's row collides here, before any email is written
            email = queue(session)
            return [email.id] if email is not None else []
    except IntegrityError:
        return []
