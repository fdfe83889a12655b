"""Emails about reports and deadlines. Written to the outbox in the caller's transaction, never sent here."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from config.collections import Collection, in_london
from config.settings import Settings
from models import Contact, OutgoingEmail, Report, School, Trust
from workers.answers import _bodies, message_id

PDF, ZIP = "application/pdf", "application/zip"


def school_contacts(session: Session, school_id: int) -> list[str]:
    return sorted(set(session.scalars(select(Contact.email).where(Contact.school_id == school_id))))


def trust_admins(session: Session, trust_id: int) -> list[str]:
    return sorted(set(session.scalars(select(Contact.email).where(Contact.trust_id == trust_id))))


def _queue(session: Session, settings: Settings, kind: str, key: str, to: list[str], subject: str,
           paragraphs: list[str], lines: list[str], attachments: list[dict],
           upload_id: int | None = None) -> OutgoingEmail | None:
    """None when nobody is registered to receive it: reports go only to registered contacts."""
    if not to:
        return None
    text, html = _bodies(paragraphs, lines)
    email = OutgoingEmail(kind=kind, upload_id=upload_id, to_addrs=to, cc_addrs=[],
                          subject=subject[:300], text_body=text, html_body=html,
                          attachments=attachments, message_id=message_id(settings, kind, key))
    session.add(email)
    session.flush()
    return email


def _window_line(collection: Collection, number: int) -> str:
    closes = in_london(collection.window(number).closes)
    return f"{collection.name}, window {number} (closed {closes:%d/%m/%Y at %H:%M})"


def queue_school_reports(session: Session, settings: Settings, report: Report,
                         collection: Collection) -> OutgoingEmail | None:
    school = session.get(School, report.school_id)
    summary = report.summary or {}
    paragraphs = [f"Your reports for {_window_line(collection, report.window_number)} are attached: "
                  "the Summary report and the Pupils report for "
                  f"{school.name} ({school.dfe}).",
                  f"They are made from {', '.join(summary.get('uploads', [])) or 'your upload'}."]
    if school.report_password:
        paragraphs.append("The PDFs are protected with your school's report password.")
    paragraphs.append("Headline figures (this school; all participating schools; national):")
    return _queue(session, settings, "reports", str(report.id),
                  school_contacts(session, school.id),
                  f"Reports: {collection.name} window {report.window_number}, {school.name}",
                  paragraphs, summary.get("lines", []), report.files,
                  upload_id=report.upload_ids[0] if report.upload_ids else None)


def queue_trust_bundle(session: Session, settings: Settings, report: Report,
                       collection: Collection) -> OutgoingEmail | None:
    trust = session.get(Trust, report.trust_id)
    summary = report.summary or {}
    paragraphs = [f"The {trust.name} bundle for {_window_line(collection, report.window_number)} is "
                  "attached: a trust summary with a row per school, and each school's reports in "
                  "a zip.",
                  f"{summary.get('reported', 0)} of {summary.get('schools', 0)} school(s) have "
                  "reports in this window."]
    missing = summary.get("missing", [])
    if missing:
        paragraphs.append("These schools had no successful upload in this window:")
    return _queue(session, settings, "trust-reports", str(report.id),
                  trust_admins(session, trust.id),
                  f"Trust bundle: {collection.name} window {report.window_number}, {trust.name}",
                  paragraphs, missing, report.files)


def queue_school_reminder(session: Session, settings: Settings, school: School,
                          collection: Collection, number: int) -> OutgoingEmail | None:
    closes = in_london(collection.window(number).closes)
    return _queue(session, settings, "reminder", f"{collection.key}.{number}.school.{school.id}",
                  school_contacts(session, school.id),
                  f"Reminder: {collection.name} window {number} closes {closes:%d/%m/%Y at %H:%M}",
                  [f"We have no successful upload from {school.name} ({school.dfe}) for "
                   f"{collection.name}, window {number}, which closes on "
                   f"{closes:%d/%m/%Y at %H:%M}.",
                   "The last successful file received before the deadline is the one used for "
                   "your reports. Send your file by replying with it attached, or through your "
                   "usual channel; ask for a template with the subject TEMPLATE "
                   f"{collection.key}."], [], [])


def queue_trust_reminder(session: Session, settings: Settings, trust: Trust, missing: list[School],
                         collection: Collection, number: int) -> OutgoingEmail | None:
    closes = in_london(collection.window(number).closes)
    return _queue(session, settings, "trust-reminder", f"{collection.key}.{number}.trust.{trust.id}",
                  trust_admins(session, trust.id),
                  f"Reminder: {len(missing)} {trust.name} school(s) still to send "
                  f"{collection.name} window {number}",
                  [f"{collection.name}, window {number}, closes on {closes:%d/%m/%Y at %H:%M}. "
                   f"These {trust.name} schools have no successful upload yet:"],
                  [f"{s.name} ({s.dfe})" for s in missing], [])
