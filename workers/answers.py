"""The service's answers to a sender: a receipt, then a result. Written to the outbox, never sent here.

Each is added to the caller's session so it commits with the state change it reports (invariant 5).
"""
from __future__ import annotations

from html import escape

from sqlalchemy import bindparam, func, or_, select
from sqlalchemy.orm import Session

from config.collections import in_london
from config.settings import Settings
from models import (Contact, InboundMessage, OutgoingEmail, School, Submission, Upload,
                    UploadStatus)
from models.partners import SENDER_PREFIX
from workers.validators.findings import Finding

FOOTER = ("The last successful file received in a window is the one used for your reports; "
          "a new file replaces the whole previous submission, so it must include every pupil.")


def message_id(settings: Settings, kind: str, upload_id: int | str) -> str:
    """Deterministic, so a relay that sends twice sends the same message (receivers deduplicate)."""
    domain = settings.mail_from.rsplit("@", 1)[-1]
    return f"<ers.{kind}.{upload_id}@{domain}>"


def _school_line(session: Session, upload: Upload) -> str:
    school = session.get(School, upload.school_id) if upload.school_id else None
    return f"{school.name} ({school.dfe})" if school else "school not identified"


# Built once (every result is copied): a school's contacts, and its trust's (none when trust_id is
# NULL, as NULL equals nothing).
_CONTACTS = select(Contact.email).where(or_(Contact.school_id == bindparam("school_id"),
                                            Contact.trust_id == bindparam("trust_id")))


def _copy_to(session: Session, upload: Upload) -> list[str]:
    """The other side: a trust admin's upload is copied to the school, a school's to its trust."""
    if upload.school_id is None:
        return []
    school = session.get(School, upload.school_id)
    found = session.scalars(_CONTACTS, {"school_id": school.id, "trust_id": school.trust_id})
    return sorted(set(found) - {upload.uploaded_by})


def _bodies(paragraphs: list[str], lines: list[str], reference: str | None = None,
            table: str | None = None) -> tuple[str, str]:
    """The same answer as plain text and as HTML."""
    text = "\n\n".join(paragraphs)
    html = "".join(f"<p>{escape(p)}</p>" for p in paragraphs)
    if lines:
        text += "\n\n" + "\n".join(f"- {line}" for line in lines)
        html += "<ul>" + "".join(f"<li>{escape(line)}</li>" for line in lines) + "</ul>"
    if table:
        text += "\n\n" + table
        html += f"<pre>{escape(table)}</pre>"
    if reference:
        text += f"\n\nUpload reference: {reference}"
        html += f"<p>Upload reference: {escape(reference)}</p>"
    return text + "\n", f"<html><body>{html}</body></html>"


def _add(session: Session, settings: Settings, upload: Upload, kind: str, subject: str,
         paragraphs: list[str], lines: list[str], cc: list[str] | None = None,
         to: list[str] | None = None, key: str | None = None,
         message_key: str | None = None) -> OutgoingEmail | None:
    """None when there is nobody to write to: an SFTP partner is answered with result files, so
    its files' answers go to the school's contacts, and a receipt to nobody."""
    to = [a for a in (to or [upload.uploaded_by]) if not a.startswith(SENDER_PREFIX)]
    cc = cc or []
    if not to:
        to, cc = cc, []
    if not to:
        return None
    text, html = _bodies(paragraphs, lines, reference=key or f"#{upload.id}")
    email = OutgoingEmail(kind=kind, upload_id=upload.id, to_addrs=to,
                          cc_addrs=cc, subject=subject, text_body=text, html_body=html,
                          attachments=[], in_reply_to=upload.submission.message_id,
                          message_id=message_id(settings, kind, message_key or upload.id))
    session.add(email)
    session.flush()
    return email


def queue_reply(session: Session, settings: Settings, inbound: InboundMessage, paragraphs: list[str],
                lines: list[str] = (), table: str | None = None,
                attachments: list[dict] = ()) -> OutgoingEmail:
    """The answer to an email that was not an upload (a command, or nothing usable attached)."""
    text, html = _bodies(paragraphs, list(lines), table=table)
    subject = inbound.subject if inbound.subject.lower().startswith("re:") else f"Re: {inbound.subject}"
    email = OutgoingEmail(kind="reply", upload_id=None, to_addrs=[inbound.sender], cc_addrs=[],
                          subject=subject[:300], text_body=text, html_body=html,
                          attachments=list(attachments), in_reply_to=inbound.message_id,
                          message_id=message_id(settings, "reply", inbound.id))
    session.add(email)
    session.flush()
    return email


def queue_receipt(session: Session, settings: Settings, uploads: list[Upload]) -> OutgoingEmail:
    first = uploads[0]
    received = f"{in_london(first.received_at):%d/%m/%Y at %H:%M:%S}"
    if len(uploads) == 1:
        return _add(session, settings, first, "receipt", f"Received: {first.file_name}", [
            f"We received {first.file_name} ({first.size:,} bytes) from {first.uploaded_by} "
            f"on {received}.",
            "It is being checked now; you will get the result in a separate message.",
        ], [])
    return _add(session, settings, first, "receipt", f"Received {len(uploads)} files", [
        f"We received {len(uploads)} files from {first.uploaded_by} on {received}:",
    ], [f"#{u.id} {u.file_name} ({u.size:,} bytes)" for u in uploads] + [
        "Each file is being checked now; you will get one answer with a line per school, and "
        "each school's contacts get their own school's result."],
        key=", ".join(f"#{u.id}" for u in uploads))


def _in_bulk(session: Session, upload: Upload) -> bool:
    return session.scalar(select(func.count()).select_from(Upload).where(
        Upload.submission_id == upload.submission_id)) > 1


def queue_bulk_result(session: Session, settings: Settings, submission: Submission) -> OutgoingEmail:
    """One answer to the trust administrator with a line per school, once every file is done."""
    uploads = sorted(submission.uploads, key=lambda u: u.id)
    lines = []
    for upload in uploads:
        status = UploadStatus(upload.status).label
        detail = (f"{upload.pupil_count} pupils" if upload.status in (
            UploadStatus.SUCCESSFUL, UploadStatus.OVERWRITTEN, UploadStatus.AWAITING)
            else upload.reason or "; ".join(_line(e) for e in upload.errors[:3])
            + (f"; and {len(upload.errors) - 3} more" if len(upload.errors) > 3 else ""))
        if upload.status == UploadStatus.AWAITING:
            detail += f"; to use it, confirm it: reply CONFIRM {upload.id}"
        lines.append(f"{_school_line(session, upload)}: {upload.file_name} (#{upload.id}): "
                     f"{status}. {detail}")
    good = sum(u.status in (UploadStatus.SUCCESSFUL, UploadStatus.AWAITING) for u in uploads)
    return _add(session, settings, uploads[0], "bulk", f"Results of your {len(uploads)} files: "
                f"{good} accepted, {len(uploads) - good} need attention",
                [f"Each of the {len(uploads)} files you sent has been checked:"], lines + [FOOTER],
                key=", ".join(f"#{u.id}" for u in uploads), message_key=f"s{submission.id}")


def queue_result(session: Session, settings: Settings, upload: Upload,
                 replaced: Upload | None = None, collection_name: str | None = None,
                 reports_by: str | None = None, kind: str = "result",
                 in_bulk: bool | None = None) -> OutgoingEmail | None:
    """The outcome of an upload; ``kind`` is "confirmed" for the answer to a confirmation.

    In a bulk submission the uploader gets one combined answer instead, so this one goes to the
    school's own contacts (None when it has none). ``in_bulk`` is looked up unless the caller
    knows it.
    """
    school = _school_line(session, upload)
    cc = _copy_to(session, upload)
    to = None
    if kind == "result" and (_in_bulk(session, upload) if in_bulk is None else in_bulk):
        if not cc:
            return None
        to, cc = cc, []
    warnings = [_line(w) for w in upload.warnings]
    if upload.status == UploadStatus.AWAITING:
        return _add(session, settings, upload, "result",
                    f"Please confirm your submission: {upload.file_name}", [
                        f"{upload.file_name} for {school} passed every check: {upload.pupil_count} "
                        f"pupils for {collection_name}, window {upload.window_number}.",
                        "Before it can be used, please read the terms and conditions of this "
                        "service and confirm the submission. Until you confirm, we will not "
                        "process your data or provide reports from it.",
                        f"To confirm, reply with the subject CONFIRM {upload.id}, or ask the "
                        f"operator to run: ers confirm {upload.id} --as {upload.uploaded_by}",
                    ] + (["Please note:"] if warnings else []), warnings, cc, to=to)
    if upload.status in (UploadStatus.SUCCESSFUL, UploadStatus.OVERWRITTEN):
        paragraphs = [f"File uploaded successfully: {upload.file_name} for {school}.",
                      f"{upload.pupil_count} pupils were processed for {collection_name}, "
                      f"window {upload.window_number}."]
        if upload.status == UploadStatus.OVERWRITTEN:
            paragraphs.append("A file received later for the same window is already in place, so "
                              "this file has been recorded as Overwritten and will not be used.")
        elif replaced is not None:
            paragraphs.append(f"It replaces upload #{replaced.id} ({replaced.file_name}, received "
                              f"{in_london(replaced.received_at):%d/%m/%Y %H:%M}), now Overwritten.")
        if reports_by:
            paragraphs.append(f"Reports will be available by {reports_by}.")
        paragraphs.append(FOOTER)
        if warnings:
            paragraphs.append("Please note:")
        return _add(session, settings, upload, kind,
                    f"File uploaded successfully: {upload.file_name}", paragraphs, warnings, cc, to=to)
    if upload.reason:
        paragraphs = [f"File upload error: {upload.file_name} could not be used.", upload.reason]
        lines: list[str] = []
    else:
        paragraphs = [f"File upload error: {upload.file_name} for {school} contains errors and "
                      "will not be used to generate a report.",
                      "Please check and correct the validation errors below, then send the "
                      "corrected file again. Row numbers are the rows of your spreadsheet."]
        lines = [_line(e) for e in upload.errors]
        if warnings:
            lines += [f"Warning: {w}" for w in warnings]
    email = _add(session, settings, upload, "result", f"File upload error: {upload.file_name}",
                 paragraphs, lines, cc, to=to)
    if email is not None and not upload.reason:
        email.attachments = _errors_attachment(settings, upload)
        if email.attachments:
            email.text_body = email.text_body.replace(
                "Row numbers are", "The attached workbook marks every cell to correct. Row numbers are")
    return email


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _errors_attachment(settings: Settings, upload: Upload) -> list[dict]:
    """The school's workbook with each invalid cell marked (or, for CSV and CTF, a list of errors),
    stored under its hash like every other file so the relay can attach it later."""
    from intake import store
    from reports.error_workbook import answer_attachment

    data = store.read(upload.stored_path) if upload.stored_path else None
    made = answer_attachment(upload.file_name, upload.format, data, upload.errors, upload.warnings)
    return [] if made is None else [stored_attachment(settings, *made)]


def stored_attachment(settings: Settings, name: str, content: bytes,
                      content_type: str = XLSX) -> dict:
    """An attachment stored under its hash like every other file, for the relay to attach later."""
    from intake import store
    return {"name": name, "path": str(store.put(settings.store_dir, content)[1]),
            "content_type": content_type}


def queue_looked_at(session: Session, settings: Settings, upload: Upload) -> OutgoingEmail | None:
    """A file whose checking failed on every attempt: the sender hears it is in hand, and need not
    send it again (the failure is ours until shown otherwise)."""
    return _add(session, settings, upload, "looked-at", f"Being looked at: {upload.file_name}", [
        f"We could not finish checking {upload.file_name}: something went wrong on our side while "
        "checking it. The service team has been told and is looking at it.",
        "You do not need to send the file again. It stays in your upload history as Processing, "
        "and you will get its result by email as soon as it has been checked.",
    ], [], _copy_to(session, upload))


def queue_deleted(session: Session, settings: Settings, upload: Upload,
                  now_current: Upload | None) -> OutgoingEmail:
    paragraphs = [f"Upload #{upload.id} ({upload.file_name}) was deleted by {upload.deleted_by}. "
                  "The file has been removed; the upload stays in the history as Deleted, and any "
                  "reports made from it are withdrawn."]
    if now_current is not None:
        paragraphs.append(f"Upload #{now_current.id} ({now_current.file_name}) is now the file used "
                          "for this window.")
    else:
        paragraphs.append("No other successful file is held for this window.")
    return _add(session, settings, upload, "deleted", f"Deleted: {upload.file_name}", paragraphs,
                [], _copy_to(session, upload))


def _line(finding: dict) -> str:
    return Finding(**finding).line()
